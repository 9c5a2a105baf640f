"""The tamper-evident audit trail: audit_events hash-chained per institution (chain.py), its verification
(verify.py), the nightly check that mails admins on a break (nightly.py) and the head a submission records."""
