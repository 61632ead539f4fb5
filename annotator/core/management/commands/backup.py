"""python manage.py backup --project <id or name> --out project.tar

One archive with every row of the project and every binary its items use (see core/backup.py).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.core.backup import BackupError, backup_to_file, find_project


class Command(BaseCommand):
    help = "Write a whole project (its database rows and binaries) to one archive file."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="the project's id or name")
        parser.add_argument("--out", required=True, help="the archive to write (a .tar)")

    def handle(self, *args, project, out, **options):
        try:
            result = backup_to_file(find_project(project), Path(out), progress=sys.stderr.isatty())
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(result.counts.values())
        self.stdout.write(f"{out}: project {result.project_id}, {rows} rows, {result.binaries} binaries")
