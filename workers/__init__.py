"""The Celery worker and beat processes: `celery -A workers.celery_app worker|beat`."""
