"""People: staff accounts (users), password resets, learners and their enrolments."""
