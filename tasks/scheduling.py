"""Celery tasks for scheduling."""
