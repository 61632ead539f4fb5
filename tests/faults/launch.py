"""`python -m tests.faults.launch <manage.py command> ...`: manage.py, but on the test run's
SQLite file (FAULTS_SQLITE_PATH) when there is no DATABASE_URL, so a server process started by
a fault test sees the rows the test committed."""

import os
import sys

from django.conf import settings
from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
if os.environ.get("FAULTS_SQLITE_PATH"):
    settings.DATABASES["default"]["NAME"] = os.environ["FAULTS_SQLITE_PATH"]
execute_from_command_line([sys.argv[0], *sys.argv[1:]])
