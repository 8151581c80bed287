"""The Celery application that runs the engine's events."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devops.settings")

app = Celery("devops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
