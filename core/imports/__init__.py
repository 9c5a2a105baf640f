"""Trainee CSV imports: pure rules (rules.py) and the upload/validate/commit service (service.py)."""
