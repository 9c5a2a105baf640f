"""Institutions (the tenant: a training provider) and their qualifications (courses)."""
