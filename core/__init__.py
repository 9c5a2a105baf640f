"""The domain: models and services shared by web/ and tasks/. Imports neither Flask nor Celery."""
