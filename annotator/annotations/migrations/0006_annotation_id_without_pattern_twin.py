from django.db import migrations

from annotator.core.pattern_indexes import without_pattern_twins


class Migration(migrations.Migration):
    dependencies = [("annotations", "0005_history_item_key_without_constraint")]
    operations = [without_pattern_twins(("annotations_annotation", "id"))]
