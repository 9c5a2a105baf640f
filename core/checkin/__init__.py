"""Self check-in: rotating codes (codes.py), opening and closing check-in on a session, a learner checking in,
the anti-sharing rules (rules.py) and the unmarked-at-close job."""
