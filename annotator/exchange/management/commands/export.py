"""python manage.py export <dataset id> --format coco --out export.zip --user me@example.com

The same export as the dataset page and `POST /datasets/{id}/export`, run in this process
with a progress bar; the zip is written to --out.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.core.errors import ApiError
from annotator.exchange.cli import TerminalProgress, acting_user
from annotator.exchange.exporting import clean_items_query, clean_task_status, export_to_path
from annotator.exchange.formats import FORMAT_MODULES


class Command(BaseCommand):
    help = "Export a dataset (or a DQL selection of it) to a zip in one of the exchange formats."

    def add_arguments(self, parser):
        parser.add_argument("dataset_id")
        parser.add_argument("--format", default="dataloop", choices=sorted(FORMAT_MODULES))
        parser.add_argument("--out", required=True, help="the zip file to write")
        parser.add_argument("--user", required=True, help="email of the user to act as (their role applies)")
        parser.add_argument("--filter", help='a DQL filter as JSON, e.g. \'{"dir": "/train"}\'')
        parser.add_argument("--task", help="only items with --status in this task (its id)")
        parser.add_argument("--status", help="the task status to select, e.g. approved")
        parser.add_argument("--images", action="store_true", help="put the images in the zip too")

    def handle(self, *args, dataset_id, format, out, user, filter, task, status, images, **options):
        try:
            query = clean_items_query({"filter": json.loads(filter)}) if filter else None
            task_status = clean_task_status({"taskId": task, "status": status}) if task or status else None
        except json.JSONDecodeError as exc:
            raise CommandError(f"--filter is not JSON: {exc}") from exc
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from exc
        progress = TerminalProgress(f"export {format}")
        done = False
        try:
            counts = export_to_path(
                user=acting_user(user),
                dataset_id=dataset_id,
                format_name=format,
                path=Path(out),
                query=query,
                task_status=task_status,
                include_images=images,
                progress=progress,
            )
            done = True
        except ApiError as exc:
            raise CommandError(str(exc.detail)) from exc
        finally:
            progress.close(done=done)
        self.stdout.write(f"{out}: {counts['itemsCount']} items, {counts['annotationsCount']} annotations")
