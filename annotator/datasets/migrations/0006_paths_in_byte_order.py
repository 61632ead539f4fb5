"""Item paths (`filename`, `dir`) compare in byte order on PostgreSQL: the "C" collation.

Under any other collation a btree cannot serve a prefix match (`/dir/**` globs, a folder's
subtree), so a second index, (dataset, filename varchar_pattern_ops), kept beside the unique
(dataset, filename) one, was upkeep on every insert. In byte order the unique index and
(dataset, dir, filename) serve prefixes themselves, their comparisons skip the locale, and
paths sort as they do on SQLite (whose default collation is byte order) and in MongoDB,
Dataloop's store: "/B.png" before "/a.png" whatever the server's locale.

The models do not declare the collation (SQLite has no collation named "C"): a later
AlterField of either column would reset it, and must set it again here, as 0005 does
for the pattern twins.
"""

from django.db import migrations

COLUMNS = ("filename", "dir")


def to_byte_order(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        alter = ", ".join(f'ALTER COLUMN {column} TYPE varchar(1024) COLLATE "C"' for column in COLUMNS)
        schema_editor.execute(f"ALTER TABLE datasets_item {alter}")
        schema_editor.execute("DROP INDEX IF EXISTS item_filename_prefix")


def to_database_order(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        alter = ", ".join(f'ALTER COLUMN {column} TYPE varchar(1024) COLLATE "default"' for column in COLUMNS)
        schema_editor.execute(f"ALTER TABLE datasets_item {alter}")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS item_filename_prefix ON datasets_item (dataset_id, filename varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("datasets", "0005_fewer_item_indexes")]
    operations = [migrations.RunPython(to_byte_order, to_database_order)]
