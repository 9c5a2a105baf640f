"""Celery tasks for registers."""
