import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")

app = Celery("annotator")
app.config_from_object("django.conf:settings", namespace="CELERY")
# In this codebase "task" means an annotation task, so Celery tasks live in jobs.py.
app.autodiscover_tasks(related_name="jobs")
