"""python manage.py import <dataset id> <file> --format coco --user me@example.com

The same import as the dataset page and `POST /datasets/{id}/import`, run in this process
with a progress bar. All or nothing: if any entry is rejected, the report lists them and the
dataset is left as it was (exit status 1).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.core.errors import ApiError
from annotator.exchange.cli import TerminalProgress, acting_user
from annotator.exchange.formats import FORMAT_MODULES
from annotator.exchange.importing import MISSING_LABEL_MODES, ImportRejected, import_from_path

SHOWN = 50


class Command(BaseCommand):
    help = "Import images and/or annotations into a dataset from a file in one of the exchange formats."

    def add_arguments(self, parser):
        parser.add_argument("dataset_id")
        parser.add_argument("file", help="a zip, or a single annotation file")
        parser.add_argument("--format", required=True, choices=sorted(FORMAT_MODULES))
        parser.add_argument("--user", required=True, help="email of the user to act as (their role applies)")
        parser.add_argument("--missing-labels", default="add", choices=MISSING_LABEL_MODES)

    def handle(self, *args, dataset_id, file, format, user, missing_labels, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file} is not a file.")
        progress = TerminalProgress(f"import {format}")
        done = False
        try:
            report = import_from_path(
                user=acting_user(user),
                dataset_id=dataset_id,
                format_name=format,
                path=path,
                filename=path.name,
                missing_labels=missing_labels,
                progress=progress,
            )
            done = True
        except ImportRejected as exc:
            for rejected in exc.report["rejected"][:SHOWN]:
                self.stderr.write(f"rejected {rejected['entry']}: {rejected['reason']}")
            raise CommandError(str(exc)) from exc
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from exc
        finally:
            progress.close(done=done)
        for skipped in report["skipped"][:SHOWN]:
            self.stderr.write(f"skipped {skipped['entry']}: {skipped['reason']}")
        self.stdout.write(
            f"{report['itemsCreated']} items created, {report['itemsMatched']} matched, "
            f"{report['annotationsImported']} annotations imported, labels added: "
            f"{', '.join(report['labelsAdded']) or 'none'}, {report['skippedCount']} skipped"
        )
