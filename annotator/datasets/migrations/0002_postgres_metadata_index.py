"""PostgreSQL-only indexes for DQL (SQLite has neither kind).

- GIN (jsonb_path_ops) on item metadata serves containment (@>), which is how DQL
  equality on metadata paths runs on PostgreSQL.
- (dataset, filename varchar_pattern_ops) serves the `/dir/**` prefix filters (LIKE 'x%')
  whatever the database collation.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS item_metadata_gin ON datasets_item USING gin (metadata jsonb_path_ops)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS item_filename_prefix "
            "ON datasets_item (dataset_id, filename varchar_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS item_metadata_gin")
        schema_editor.execute("DROP INDEX IF EXISTS item_filename_prefix")


class Migration(migrations.Migration):
    dependencies = [("datasets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
