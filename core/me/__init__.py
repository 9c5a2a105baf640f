"""A learner's own record (issue 21): who they are on each register, their sessions, marks and apologies."""
