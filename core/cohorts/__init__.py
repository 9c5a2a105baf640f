"""Cohorts: public and corporate, organizations and agreements."""
