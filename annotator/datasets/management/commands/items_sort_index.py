"""python manage.py items_sort_index metadata.user.score [...]: index DQL sorts on metadata keys.

See annotator/datasets/sort_indexes.py. `--drop` removes the indexes named, `--list` shows them.
"""

from django.core.management.base import BaseCommand, CommandError

from annotator.datasets.sort_indexes import sort_index_create, sort_index_drop, sort_indexes


class Command(BaseCommand):
    help = "Create (or --drop) PostgreSQL indexes for sorting items by metadata keys, e.g. metadata.user.score."

    def add_arguments(self, parser):
        parser.add_argument("fields", nargs="*", help="DQL field names, e.g. metadata.user.score")
        parser.add_argument("--drop", action="store_true", help="drop the indexes of the fields named")
        parser.add_argument("--list", action="store_true", help="list the fields that have an index")

    def handle(self, *args, fields: list[str], drop: bool, list: bool, **options):
        if list:
            for field, name in sorted(sort_indexes().items()):
                self.stdout.write(f"{field}\t{name}")
            return
        if not fields:
            raise CommandError("Name at least one field, e.g. metadata.user.score, or use --list.")
        for field in fields:
            if drop:
                self.stdout.write(f"{field}: {'dropped' if sort_index_drop(field) else 'had no index'}")
            else:
                self.stdout.write(f"{field}: {sort_index_create(field)}")
