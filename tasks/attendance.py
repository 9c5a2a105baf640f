"""Celery tasks for attendance."""
