"""python manage.py restore project.tar [--as-name "New name"]

Loads an archive written by `backup`, all or nothing; refuses a damaged one (see core/backup.py).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from annotator.core.backup import BackupError, restore_file


class Command(BaseCommand):
    help = "Restore a project from an archive written by `manage.py backup`; ids are kept."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the archive file")
        parser.add_argument("--as-name", help="give the restored project this name")

    def handle(self, *args, archive, as_name, **options):
        try:
            result = restore_file(Path(archive), as_name=as_name, progress=sys.stderr.isatty())
        except BackupError as exc:
            raise CommandError(f"Nothing was restored: {exc}") from exc
        except DatabaseError as exc:
            raise CommandError(f"Nothing was restored: the database refused a row ({exc}).") from exc
        rows = sum(result.counts.values())
        self.stdout.write(
            f"Restored project {result.project_id} ({result.project_name!r}): {rows} rows, "
            f"{result.users_created} new users, {result.binaries_written} binaries written"
        )
