"""Concurrent label edits queue on the ontology row instead of losing one another."""

import threading

import pytest
from django.db import connection

from annotator.ontologies import services
from annotator.ontologies.models import Ontology
from annotator.ontologies.selectors import ontology_labels_flat
from tests.factories import ProjectFactory

WRITERS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_label_upserts_all_land_with_unique_hotkeys():
    # given
    project = ProjectFactory()
    ontology = services.ontology_create(user=project.creator, project_ids=[project.id])
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def add(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.ontology_labels_upsert(
                user=project.creator, ontology_id=ontology.id, labels=[{"tag": f"label{index}"}], upsert=True
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=add, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert errors == []
    flat = dict(ontology_labels_flat(Ontology.objects.get(pk=ontology.pk)))
    assert sorted(flat) == sorted(f"label{index}" for index in range(WRITERS))
    assert sorted(value["hotkey"] for value in flat.values()) == [str(n) for n in range(1, WRITERS + 1)]
