"""totalItemsCount is remembered per query, and stays exact through every kind of item write."""

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.datasets import services
from annotator.datasets.manifests import register
from annotator.datasets.models import Dataset, Item
from tests.conftest import command_finished
from tests.images import png

TRAIN = {"metadata.user.split": "train"}


def total(api, dataset, filter_, **body) -> int:
    response = api.post(
        f"/api/v1/datasets/{dataset.id}/query", {"filter": filter_, "pageSize": 1, **body}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()["totalItemsCount"]


def assert_exact(api, dataset) -> None:
    """Both remembered counts (a filter and everything) equal a fresh COUNT."""
    items = Item.objects.filter(dataset=dataset)
    assert total(api, dataset, TRAIN) == items.filter(metadata__user__split="train").count()
    assert total(api, dataset, {}) == items.count()


class _NoProgress:
    def update(self, percent: float, *, force: bool = False) -> None:
        pass


def test_a_repeated_query_is_counted_once(upload, client_for, members, dataset):
    # given
    api = client_for(members["annotator"])
    upload(members["owner"], dataset, "/a.png", metadata=json.dumps({"user": {"split": "train"}}))
    assert total(api, dataset, TRAIN) == 1

    # when: the same filter, another page and another sort
    with CaptureQueriesContext(connection) as queries:
        again = total(api, dataset, TRAIN, page=3, sort={"metadata.user.n": "descending"})

    # then
    assert again == 1
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_counts_stay_exact_through_every_item_write(upload, client_for, members, dataset):
    owner = members["owner"]
    api = client_for(owner)
    assert_exact(api, dataset)
    versions = [Dataset.objects.get(pk=dataset.pk).items_version]

    def step() -> None:
        assert_exact(api, dataset)
        versions.append(Dataset.objects.get(pk=dataset.pk).items_version)
        assert versions[-1] > versions[-2]

    # upload (with a new folder)
    one = upload(owner, dataset, "/f/one.png", metadata=json.dumps({"user": {"split": "train"}})).json()
    step()
    # overwrite replaces the user metadata
    upload(owner, dataset, "/f/one.png", png(color=(1, 2, 3)), mode="overwrite")
    step()
    # patch
    api.patch(f"/api/v1/items/{one['id']}", {"metadata": {"user": {"split": "train"}}}, format="json")
    step()
    # hide
    api.patch(f"/api/v1/items/{one['id']}", {"hidden": True}, format="json")
    assert total(api, dataset, {"hidden": True}) == 1
    api.patch(f"/api/v1/items/{one['id']}", {"hidden": False}, format="json")
    assert total(api, dataset, {"hidden": True}) == 0
    step()
    # bulk update by query
    body = {"filter": {"type": "file"}, "update": {"metadata": {"user": {"split": "val"}}}}
    assert api.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json").status_code == 200
    step()
    # manifest
    lines = [
        (n, json.dumps({"url": f"https://e.com/{n}.jpg", "path": f"/m/{n}.jpg", "metadata": {"user": {"split": s}}}), n)
        for n, s in enumerate(["train", "val"], start=1)
    ]
    register(dataset=dataset, user=owner, lines=lines, progress=_NoProgress(), total_bytes=2)
    step()
    # delete one item, then a folder by query
    api.delete(f"/api/v1/items/{one['id']}")
    step()
    body = {"filter": {"filename": "/m"}, "delete": True}
    assert api.post(f"/api/v1/datasets/{dataset.id}/query", body, format="json").json() == {"deleted": 3}
    step()
    # a folder made for a move
    two = upload(owner, dataset, "/two.png").json()
    step()
    api.patch(f"/api/v1/items/{two['id']}?system=true", {"filename": "/moved/two.png"}, format="json")
    step()
    # bulk upload
    files = [io.BytesIO(png(color=(n, 9, 9))) for n in range(2)]
    for n, handle in enumerate(files):
        handle.name = f"bulk{n}.png"
    api.post(f"/api/v1/datasets/{dataset.id}/items", {"file": files, "path": "/bulk"}, format="multipart")
    step()


@pytest.mark.django_db(transaction=True)
def test_cloning_into_a_dataset_keeps_its_count_exact(client_for, members, project, celery_worker):
    # given: a target whose count is remembered
    owner = members["owner"]
    api = client_for(owner)
    source = services.dataset_create(user=owner, project_id=project.id, name="Source")
    target = services.dataset_create(user=owner, project_id=project.id, name="Target")
    for n in range(3):
        image = io.BytesIO(png(color=(n, 1, 1)))
        services.item_upload(user=owner, dataset_id=source.id, path=f"/s/{n}.png", fileobj=image)
    assert total(api, target, {}) == 0

    # when
    body = {"name": "x", "targetDatasetId": target.id, "filter": {"filter": {"type": "file"}, "resource": "items"}}
    command_finished(api, api.post(f"/api/v1/datasets/{source.id}/clone", body, format="json").json()["id"])

    # then
    assert total(api, target, {}) == Item.objects.filter(dataset=target).count() == 4


# --- sort indexes ------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_sort_index_serves_metadata_sorts_both_ways(members, dataset):
    from django.core.management import CommandError, call_command

    from annotator.core.dql import ITEMS, compile_query
    from annotator.datasets.sort_indexes import index_name

    if connection.vendor != "postgresql":
        with pytest.raises(CommandError):
            call_command("items_sort_index", "metadata.user.score", stdout=io.StringIO())
        return
    # given
    out = io.StringIO()
    call_command("items_sort_index", "metadata.user.score", "metadata.rank", stdout=out)
    call_command("items_sort_index", "--list", stdout=out)
    assert f"metadata.user.score\t{index_name('metadata.user.score')}" in out.getvalue()
    try:
        for direction in ("ascending", "descending"):
            for field in ("metadata.user.score", "metadata.rank"):
                # when
                body = {"filter": {"type": "file"}, "sort": {field: direction}, "page": 2, "pageSize": 10}
                compiled = compile_query(body, ITEMS)
                sql, params = compiled.apply(Item.objects.filter(dataset=dataset))[20:31].query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute("SET enable_seqscan = off")  # the table is tiny: make the planner show its hand
                    cursor.execute("SET enable_sort = off")
                    cursor.execute(f"EXPLAIN {sql}", params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    cursor.execute("RESET ALL")
                # then
                assert index_name(field) in plan, plan
                assert "Sort" not in plan.replace("Sort Key", ""), plan
    finally:
        call_command("items_sort_index", "--drop", "metadata.user.score", "metadata.rank", stdout=out)
    assert "dropped" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("items_sort_index", "name", stdout=out)  # a column: migrations index those


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"filename": "/shard/**"}, "sort": {"filename": "ascending"}},  # a glob's fixed prefix
        {"filter": {"filename": "/shard/**/*.png"}, "sort": {"filename": "descending"}},
        {"filter": {"dir": "/shard"}, "sort": {"filename": "descending"}},
    ],
)
def test_path_prefixes_and_path_sorts_are_served_by_the_path_indexes(dataset, body):
    """Paths compare in byte order on PostgreSQL (datasets/0006), so the unique path index and
    (dataset, dir, filename) serve prefixes and sorts without a pattern-ops twin."""
    from annotator.core.dql import ITEMS, compile_query

    compiled = compile_query({**body, "page": 0, "pageSize": 10}, ITEMS)
    sql, params = compiled.apply(Item.objects.filter(dataset=dataset))[:10].query.sql_with_params()
    if connection.vendor != "postgresql":
        assert list(Item.objects.raw(sql, params)) == []  # the query runs; SQLite has byte order already
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # the table is tiny: make the planner show its hand
        cursor.execute("SET enable_bitmapscan = off")
        cursor.execute("SET enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET ALL")
    assert "item_path_unique_in_dataset" in plan or "item_dataset_dir_filename" in plan, plan
    assert "Index Cond" in plan and "'/shard" in plan.partition("Index Cond")[2], plan  # the prefix bounds the scan
    # At most an incremental sort of equal paths by the id tie-breaker: never a sort of all rows.
    assert not [line for line in plan.splitlines() if line.strip(" ->").startswith("Sort  (")], plan
    assert "Presorted Key: filename" in plan or "Sort" not in plan, plan


def test_whether_a_blob_is_still_used_is_answered_by_the_partial_blob_index(dataset):
    """item_blob leaves link items (no bytes) out, yet serves the question every release asks."""
    sql, params = Item.objects.filter(blob_id="ab" * 32).values("pk")[:1].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # the table is tiny: make the planner show its hand
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET ALL")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "item_blob" in plan, plan


def test_paths_sort_in_byte_order(upload, members, dataset):
    for path in ("/a.png", "/B.png", "/é.png", "/_.png", "/Z/x.png"):
        upload(members["owner"], dataset, path)

    names = list(
        Item.objects.filter(dataset=dataset, type="file").order_by("filename").values_list("filename", flat=True)
    )

    assert names == sorted(names, key=lambda name: name.encode())
    assert names == ["/B.png", "/Z/x.png", "/_.png", "/a.png", "/é.png"]
    if connection.vendor == "postgresql":  # whatever the server's locale (a C.UTF-8 one sorts so too)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_name = 'datasets_item' AND column_name IN ('filename', 'dir') ORDER BY 1"
            )
            assert cursor.fetchall() == [("dir", "C"), ("filename", "C")]


@pytest.mark.parametrize(
    "filter_",
    [{"annotated": True}, {"annotationsCount": {"$gte": 2}}, {"updatedAt": {"$gt": "2000-01-01T00:00:00.000Z"}}],
)
def test_filters_on_what_annotations_change_are_counted_afresh(upload, client_for, members, project, filter_):
    """Saving annotations does not bump items_version (it would queue every save in the dataset
    on the dataset's row), so filters on the fields those saves change are never remembered."""
    from annotator.annotations.services import annotations_create

    # given: two items, and the filter's count taken once
    owner = members["owner"]
    dataset = services.dataset_create(user=owner, project_id=project.id, name="Labelled", labels=[{"tag": "cat"}])
    api = client_for(owner)
    first = upload(owner, dataset, "/a.png").json()["id"]
    upload(owner, dataset, "/b.png", data=png(color=(1, 2, 3)))
    before = total(api, dataset, filter_)
    version = Dataset.objects.get(pk=dataset.pk).items_version
    box = {"type": "box", "label": "cat", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}

    # when: annotations land on one item
    annotations_create(user=owner, item_id=first, annotations=[box, box])

    # then: the version stayed, and the count follows the rows
    assert Dataset.objects.get(pk=dataset.pk).items_version == version
    expected = {"annotated": 1, "annotationsCount": 1, "updatedAt": 2}[next(iter(filter_))]
    assert total(api, dataset, filter_) == expected
    assert before == (2 if "updatedAt" in filter_ else 0)
