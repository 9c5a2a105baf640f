"""Learners' apologies in advance (issue 21): sent for future sessions, decided by a facilitator or an admin;
an approved apology becomes EXCUSED marks through the marking service."""
