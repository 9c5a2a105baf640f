"""Register documents: the attendance register of a session as a PDF, built in the background."""
