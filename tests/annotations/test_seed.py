"""The demo seed: annotations of every type, created once."""

import pytest
from django.core.management import call_command

from annotator.annotations.geometry import TYPES
from annotator.annotations.models import Annotation

pytestmark = pytest.mark.django_db


def test_the_demo_has_annotations_of_every_type_and_seeding_twice_adds_none(media_root, capsys):
    call_command("seed_demo")
    first = Annotation.objects.count()

    call_command("seed_demo")

    assert Annotation.objects.count() == first
    assert set(Annotation.objects.values_list("type", flat=True)) == set(TYPES)
    assert Annotation.objects.filter(metadata__system__status="issue").count() == 1
    assert "owner@example.com" in capsys.readouterr().out
    from annotator.tasks.models import Task

    work, review = Task.objects.order_by("id")
    assert (work.type, work.allocation, work.task_items.count()) == ("annotation", "pulling", 15)
    assert (review.type, review.parent_id) == ("qa", work.id)
