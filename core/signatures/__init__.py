"""Signatures on registers: sign-offs (sign_offs.py), learners' own signatures (learners.py), and reading them
(reads.py). Rows are written once and never changed."""
