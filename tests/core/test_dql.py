"""The DQL compiler: Dataloop's JSON queries as Django querysets, on SQLite and PostgreSQL."""

import dataclasses
import datetime
import functools
import json
import random
import re
import time
from types import MappingProxyType

import pytest
from django.db.models import Q

from annotator.core.dql import (
    DATASETS,
    ITEMS,
    RESOURCES,
    CompiledQuery,
    Glob,
    JoinSpec,
    compile_query,
    page_of,
    paginate,
)
from annotator.core.errors import BadRequest
from annotator.datasets.models import Dataset, Item
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------------
def make_dataset(project=None, name="data", **fields) -> Dataset:
    return Dataset.objects.create(project=project or ProjectFactory(), name=name, **fields)


def make_item(dataset: Dataset, filename: str, metadata=None, **fields) -> Item:
    directory, _, name = filename.rpartition("/")
    return Item.objects.create(
        dataset=dataset, filename=filename, name=name, dir=directory or "/", metadata=metadata or {}, **fields
    )


@pytest.fixture
def dataset():
    return make_dataset()


def run(body, queryset=None, resource=ITEMS) -> list[str]:
    """Filenames (or dataset names) of the rows `body` selects, in the query's order."""
    compiled = compile_query(body, resource)
    if queryset is None:
        queryset = Item.objects.all() if resource is ITEMS else Dataset.objects.all()
    attribute = "filename" if resource is ITEMS else "name"
    return [getattr(row, attribute) for row in compiled.apply(queryset)]


def where(filter_) -> set[str]:
    return set(run({"resource": "items", "filter": filter_}))


def rejected(body, resource=ITEMS) -> str:
    with pytest.raises(BadRequest) as caught:
        compile_query(body, resource)
    assert caught.value.status_code == 400
    return str(caught.value.detail)


@pytest.fixture
def scored(dataset):
    """Items whose metadata.user.score holds values of every JSON type."""
    values = {
        "/int3.png": 3,
        "/int10.png": 10,
        "/float3.5.png": 3.5,
        "/float3.0.png": 3.0,
        "/neg.png": -1,
        "/str10.png": "10",
        "/str3.png": "3",
        "/strtrue.png": "true",
        "/true.png": True,
        "/false.png": False,
        "/null.png": None,
        "/list.png": [10],
        "/object.png": {"a": 10},
    }
    for filename, value in values.items():
        make_item(dataset, filename, {"user": {"score": value}})
    make_item(dataset, "/missing.png", {"user": {}})
    make_item(dataset, "/empty.png", {})
    return dataset


# --- JSON values compare by type on both backends ------------------------------------------------
def test_json_number_comparisons_are_numeric_and_ignore_other_types(scored):
    # given scores of every JSON type, when comparing with a number, then only numbers compare, numerically
    assert where({"metadata.user.score": {"$gt": 3}}) == {"/int10.png", "/float3.5.png"}
    assert where({"metadata.user.score": {"$gte": 3}}) == {"/int3.png", "/int10.png", "/float3.5.png", "/float3.0.png"}
    assert where({"metadata.user.score": {"$lt": 3.5}}) == {"/int3.png", "/float3.0.png", "/neg.png"}
    assert where({"metadata.user.score": {"$lte": -1}}) == {"/neg.png"}


def test_json_number_equality_matches_int_and_float_but_not_strings_or_booleans(scored):
    assert where({"metadata.user.score": 3}) == {"/int3.png", "/float3.0.png"}
    assert where({"metadata.user.score": {"$eq": 1}}) == set()  # true is not 1
    assert where({"metadata.user.score": {"$in": [10, 3.5]}}) == {"/int10.png", "/float3.5.png"}


def test_json_string_comparisons_are_textual_and_ignore_numbers(scored):
    assert where({"metadata.user.score": "10"}) == {"/str10.png"}
    assert where({"metadata.user.score": "true"}) == {"/strtrue.png"}  # not the boolean
    # "3" > "10" as strings; the number 10 never takes part
    assert where({"metadata.user.score": {"$gt": "2"}}) == {"/str3.png", "/strtrue.png"}
    assert where({"metadata.user.score": {"$lt": "2"}}) == {"/str10.png"}
    assert where({"metadata.user.score": {"$in": ["3", "x"]}}) == {"/str3.png"}


def test_json_booleans_match_only_booleans(scored):
    # neither the string "true" nor the number 1 is true
    assert where({"metadata.user.score": True}) == {"/true.png"}
    assert where({"metadata.user.score": {"$eq": False}}) == {"/false.png"}
    assert where({"metadata.user.score": {"$in": [True, False]}}) == {"/true.png", "/false.png"}
    assert where({"metadata.user.score": {"$in": [False, "3"]}}) == {"/false.png", "/str3.png"}


def test_json_null_and_missing_follow_mongodb(scored):
    # $eq null: null or missing; $ne null: present and not null; $exists: present, null included
    assert where({"metadata.user.score": None}) == {"/null.png", "/missing.png", "/empty.png"}
    all_scored = {item.filename for item in Item.objects.all()}
    assert where({"metadata.user.score": {"$ne": None}}) == all_scored - {"/null.png", "/missing.png", "/empty.png"}
    assert where({"metadata.user.score": {"$exists": False}}) == {"/missing.png", "/empty.png"}
    assert where({"metadata.user.score": {"$exists": True}}) == all_scored - {"/missing.png", "/empty.png"}


def test_json_ne_and_nin_match_missing_paths_and_other_types(scored):
    all_scored = {item.filename for item in Item.objects.all()}
    assert where({"metadata.user.score": {"$ne": 3}}) == all_scored - {"/int3.png", "/float3.0.png"}
    assert where({"metadata.user.score": {"$nin": ["10", 10, True]}}) == all_scored - {
        "/str10.png",
        "/int10.png",
        "/true.png",
    }
    # null in $nin excludes null and missing too
    assert where({"metadata.user.score": {"$nin": [None]}}) == all_scored - {"/null.png", "/missing.png", "/empty.png"}


def test_json_paths_are_exact_and_keys_named_like_lookups_are_plain_keys(dataset):
    # given keys that Django would read as lookups in a "metadata__user__contains" string
    make_item(dataset, "/a.png", {"user": {"contains": "x", "gt": 1, "nested": {"deep-key_1": "v"}}})
    make_item(dataset, "/b.png", {"user": {"contains": ["x"], "gt": 0}, "contains": "x"})
    # then
    assert where({"metadata.user.contains": "x"}) == {"/a.png"}
    assert where({"metadata.user.gt": {"$gt": 0}}) == {"/a.png"}
    assert where({"metadata.user.nested.deep-key_1": "v"}) == {"/a.png"}
    assert where({"metadata.contains": "x"}) == {"/b.png"}


def test_numeric_path_segments_index_arrays(dataset):
    make_item(dataset, "/a.png", {"system": {"refs": [{"id": "t1", "type": "task"}, {"id": "t2"}]}})
    make_item(dataset, "/b.png", {"system": {"refs": [{"id": "t2"}]}})
    assert where({"metadata.system.refs.0.id": "t2"}) == {"/b.png"}
    assert where({"metadata.system.refs.1.id": {"$exists": True}}) == {"/a.png"}


# --- columns ----------------------------------------------------------------------------------------
@pytest.fixture
def files(dataset):
    make_item(dataset, "/a/1.png", {"user": {"split": "train"}}, annotations_count=0)
    make_item(dataset, "/a/2.png", {"user": {"split": "val"}}, annotations_count=2, annotated=True)
    make_item(dataset, "/a/b/3.jpg", {"user": {"split": "train"}}, annotations_count=5, annotated=True)
    make_item(dataset, "/c/4.png", {}, hidden=True, description="a cat")
    Item.objects.create(dataset=dataset, type="dir", filename="/a", name="a", dir="/")
    return dataset


def test_string_column_operators(files):
    assert where({"name": "1.png"}) == {"/a/1.png"}
    assert where({"name": {"$ne": "1.png"}}) == {"/a/2.png", "/a/b/3.jpg", "/c/4.png", "/a"}
    assert where({"name": {"$gt": "2.png"}}) == {"/a/b/3.jpg", "/c/4.png", "/a"}
    assert where({"name": {"$gte": "2.png", "$lt": "4.png"}}) == {"/a/2.png", "/a/b/3.jpg"}
    assert where({"name": {"$lte": "1.png"}}) == {"/a/1.png"}
    assert where({"dir": {"$in": ["/a/b", "/c"]}}) == {"/a/b/3.jpg", "/c/4.png"}
    assert where({"dir": {"$nin": ["/a", "/"]}}) == {"/a/b/3.jpg", "/c/4.png"}
    assert where({"description": "a cat"}) == {"/c/4.png"}
    assert where({"type": "dir"}) == {"/a"}
    assert where({"name": {"$exists": True}}) == where({})
    assert where({"name": {"$exists": False}}) == set()
    assert where({"name": None}) == set()


def test_boolean_and_number_columns(files):
    assert where({"hidden": False, "type": "file"}) == {"/a/1.png", "/a/2.png", "/a/b/3.jpg"}
    assert where({"hidden": {"$ne": False}}) == {"/c/4.png"}
    assert where({"annotated": {"$in": [True]}}) == {"/a/2.png", "/a/b/3.jpg"}
    assert where({"annotationsCount": {"$gt": 1}}) == {"/a/2.png", "/a/b/3.jpg"}
    assert where({"annotationsCount": {"$lte": 2.0, "$gte": 1}}) == {"/a/2.png"}
    assert where({"annotationsCount": {"$in": [0, 5]}, "type": "file"}) == {"/a/1.png", "/a/b/3.jpg", "/c/4.png"}
    assert where({"annotationsCount": {"$nin": [0]}}) == {"/a/2.png", "/a/b/3.jpg"}


def test_id_and_dataset_id_filters(files):
    other = make_dataset(name="other")
    make_item(other, "/a/1.png")
    first = Item.objects.get(dataset=files, filename="/a/1.png")
    assert where({"id": first.id}) == {"/a/1.png"}
    assert set(run({"filter": {"datasetId": other.id}})) == {"/a/1.png"}
    assert len(run({"filter": {"datasetId": files.id}})) == 5


def test_datetime_columns_compare_as_datetimes(dataset):
    for day in (1, 2, 3):
        item = make_item(dataset, f"/{day}.png")
        Item.objects.filter(pk=item.pk).update(created_at=datetime.datetime(2024, 1, day, 12, tzinfo=datetime.UTC))
    assert where({"createdAt": {"$gt": "2024-01-02T00:00:00.000Z"}}) == {"/2.png", "/3.png"}
    assert where({"createdAt": {"$lt": "2024-01-02T12:00:00+00:00"}}) == {"/1.png"}
    assert where({"createdAt": {"$lte": "2024-01-02T12:00:00Z", "$gte": "2024-01-02"}}) == {"/2.png"}
    assert where({"createdAt": "2024-01-03T13:00:00+01:00"}) == {"/3.png"}
    assert where({"updatedAt": {"$gt": "2000-01-01"}}) == {"/1.png", "/2.png", "/3.png"}


def test_empty_filter_and_missing_filter_match_everything(files):
    assert len(where({})) == 5
    assert len(run({"resource": "items"})) == 5
    assert len(run({})) == 5


def test_a_plain_list_means_in(files):
    assert where({"filename": ["/a/1.png", "/a/2.png", "/nope"]}) == {"/a/1.png", "/a/2.png"}


def test_lists_up_to_the_limit_work(files):
    # 10,000 values in all, and 1,000 conditions, stay within both backends' parameter limits
    names = [f"{n}.png" for n in range(5_000)]
    splits = [f"s{n}" for n in range(4_998)] + ["val", "train"]
    assert where({"name": {"$in": names}, "metadata.user.split": {"$in": splits}}) == {"/a/1.png", "/a/2.png"}
    conditions = [{"metadata.user.split": f"s{n}"} for n in range(999)] + [{"metadata.user.split": "val"}]
    assert where({"$or": conditions}) == {"/a/2.png"}
    # and as many ANDed keys, and globs in one list
    keys = {f"metadata.user.k{n}": {"$exists": False} for n in range(999)}
    assert where({**keys, "name": "1.png"}) == {"/a/1.png"}
    assert where({"name": {"$in": [f"{n}*.png" for n in range(1, 990)]}, "dir": "/a"}) == {"/a/1.png", "/a/2.png"}


def test_empty_in_matches_nothing_and_empty_nin_everything(files):
    assert where({"name": {"$in": []}}) == set()
    assert where({"metadata.user.split": {"$in": []}}) == set()
    assert len(where({"name": {"$nin": []}})) == 5
    assert len(where({"metadata.user.split": {"$nin": []}})) == 5


# --- $and / $or ---------------------------------------------------------------------------------------
def test_and_and_or_side_by_side_combine_with_and(files):
    # given the SDK's shape: $and beside $or
    filter_ = {
        "$and": [{"hidden": False}, {"type": "file"}],
        "$or": [{"filename": "/a/1.png"}, {"filename": "/a/b/3.jpg"}, {"filename": "/c/4.png"}],
    }
    # then /c/4.png is in the $or but hidden, so $and drops it
    assert where(filter_) == {"/a/1.png", "/a/b/3.jpg"}


def test_nested_and_or(files):
    filter_ = {
        "$or": [
            {"$and": [{"metadata.user.split": "train"}, {"annotationsCount": {"$gt": 0}}]},
            {"$and": [{"hidden": True}, {"$or": [{"name": "4.png"}, {"name": "nope"}]}]},
        ]
    }
    assert where(filter_) == {"/a/b/3.jpg", "/c/4.png"}


def test_several_keys_and_several_operators_in_one_object_combine_with_and(files):
    assert where({"metadata.user.split": "train", "annotationsCount": {"$gte": 0, "$lt": 5}}) == {"/a/1.png"}


def test_empty_and_matches_everything(files):
    assert len(where({"$and": []})) == 5


def test_an_empty_branch_of_or_matches_everything(files):
    assert len(where({"$or": [{"name": "nope"}, {}]})) == 5
    assert len(where({"$or": [{"$and": []}, {"name": "nope"}]})) == 5


def test_the_documented_sdk_query_runs(files):
    # given the query shape from API-COMPAT.md, minus the join
    Item.objects.filter(filename="/a/1.png").update(metadata={"user": {"split": "train", "score": 4}})
    body = {
        "resource": "items",
        "filter": {
            "$and": [{"hidden": False}, {"type": "file"}, {"metadata.user.split": "train"}],
            "$or": [{"filename": "/a/1.png"}, {"filename": "/a/2.png"}],
        },
        "sort": {"createdAt": "descending", "id": "descending"},
        "page": 0,
        "pageSize": 1000,
        "context": {"projects": ["p"]},
        "systemSpace": False,
    }
    body["filter"]["$and"].append({"metadata.user.score": {"$gt": 3}})
    # then
    assert run(body) == ["/a/1.png"]


# --- globs ----------------------------------------------------------------------------------------------
@pytest.fixture
def tree(dataset):
    for filename in [
        "/dir/a.png",
        "/dir/b.jpg",
        "/dir/sub/c.png",
        "/dir/sub/deep/d.png",
        "/dirty.png",
        "/other/dir/e.png",
        "/Dir/f.png",
        "/x/a.b.png",
        "/x/aXb.png",
        "/x/[1].png",
        "/x/1.png",
        "/x/a+b(1)$^.png",
    ]:
        make_item(dataset, filename, {"user": {"path": filename}})
    return dataset


def test_double_star_matches_any_depth_and_is_a_prefix(tree):
    expected = {"/dir/a.png", "/dir/b.jpg", "/dir/sub/c.png", "/dir/sub/deep/d.png"}
    assert where({"filename": "/dir/**"}) == expected
    # case-sensitive on both backends (SQLite's LIKE is not): /Dir is another folder
    assert where({"filename": "/Dir/**"}) == {"/Dir/f.png"}
    assert where({"filename": "/dir/**/*.png"}) == {"/dir/sub/c.png", "/dir/sub/deep/d.png"}
    assert where({"filename": "**/d.png"}) == {"/dir/sub/deep/d.png"}


def test_single_star_stays_within_one_segment(tree):
    assert where({"filename": "/dir/*"}) == {"/dir/a.png", "/dir/b.jpg"}
    assert where({"filename": "/dir/*.png"}) == {"/dir/a.png"}
    assert where({"filename": "/*/*/c.png"}) == {"/dir/sub/c.png"}
    assert where({"filename": "/dir*"}) == {"/dirty.png"}
    assert where({"name": "*.jpg"}) == {"/dir/b.jpg"}


def test_glob_literals_are_not_regex(tree):
    # "." is not "any character", "[1]" is not a character class, and +()$^ are plain
    assert where({"filename": "/x/a.b*"}) == {"/x/a.b.png"}
    assert where({"filename": "/x/[1]*"}) == {"/x/[1].png"}
    assert where({"filename": "/x/a+b(1)$^*"}) == {"/x/a+b(1)$^.png"}
    assert where({"filename": "/x/a.b.png"}) == {"/x/a.b.png"}
    assert where({"filename": "/x/[1].png"}) == {"/x/[1].png"}


def test_globs_in_lists_and_negations(tree):
    assert where({"filename": {"$in": ["/x/1.png", "/dir/sub/**"]}}) == {
        "/x/1.png",
        "/dir/sub/c.png",
        "/dir/sub/deep/d.png",
    }
    assert where({"filename": {"$ne": "/x/**"}}) == where({}) - where({"filename": "/x/**"})
    assert where({"filename": {"$nin": ["/x/**", "/dir/**"]}}) == {"/dirty.png", "/other/dir/e.png", "/Dir/f.png"}


def test_globs_apply_to_metadata_strings(tree):
    assert where({"metadata.user.path": "/dir/*"}) == {"/dir/a.png", "/dir/b.jpg"}
    assert where({"metadata.user.path": "/dir/**"}) == where({"filename": "/dir/**"})
    assert where({"metadata.user.path": {"$in": ["/x/[1]*", "/Dir/*"]}}) == {"/x/[1].png", "/Dir/f.png"}


def test_match_is_a_case_insensitive_substring_or_glob(tree):
    assert where({"filename": {"$match": "DIR/SUB"}}) == {"/dir/sub/c.png", "/dir/sub/deep/d.png"}
    assert where({"name": {"$match": "A.b"}}) == {"/x/a.b.png"}
    assert where({"filename": {"$match": "/DIR/*"}}) == {"/dir/a.png", "/dir/b.jpg", "/Dir/f.png"}
    assert where({"metadata.user.path": {"$match": "*/E.PNG"}}) == set()
    assert where({"metadata.user.path": {"$match": "**/E.PNG"}}) == {"/other/dir/e.png"}


def test_a_pathological_glob_stays_fast(dataset):
    # given names that make a backtracking regex engine explore every split point
    for index in range(20):
        make_item(dataset, f"/{index}/" + "a" * 250, {"user": {"s": "a/" * 120}})
    # when
    started = time.monotonic()
    matched = where({"$or": [{"name": "*a*a*a*a*a*a*a*a*b"}, {"metadata.user.s": {"$match": "**a*a**a*a*a**b*a"}}]})
    # then (the naive translation takes minutes per row on SQLite)
    assert matched == set()
    assert time.monotonic() - started < 5


def _reference_glob(glob: Glob, text: str) -> bool:
    """Glob semantics by dynamic programming, to check the regex translations against."""
    tokens: list[str] = []
    for index, literal in enumerate(glob.literals):
        tokens += list(literal)
        if index < len(glob.wildcards):
            tokens.append("**" if glob.wildcards[index] else "*")

    @functools.cache
    def matches(i: int, j: int) -> bool:
        if i == len(tokens):
            return j == len(text)
        token = tokens[i]
        if token in ("*", "**"):
            return matches(i + 1, j) or (j < len(text) and (token == "**" or text[j] != "/") and matches(i, j + 1))
        return j < len(text) and text[j] == token and matches(i + 1, j + 1)

    return matches(0, 0)


def test_both_glob_translations_agree_with_a_reference_matcher():
    generator = random.Random(20240601)
    for _ in range(20000):
        pattern = "".join(generator.choice("ab/**.[") for _ in range(generator.randint(0, 9)))
        text = "".join(generator.choice("ab/.[") for _ in range(generator.randint(0, 10)))
        glob = Glob.parse(pattern)
        expected = _reference_glob(glob, text)
        assert (re.search(glob.regex(atomic=True), text) is not None) == expected, (pattern, text)
        assert (re.search(glob.regex(atomic=False), text) is not None) == expected, (pattern, text)


# --- sort ------------------------------------------------------------------------------------------------
def test_sort_by_several_keys_in_the_given_order(dataset):
    make_item(dataset, "/1.png", {"user": {"group": "b", "rank": 2}})
    make_item(dataset, "/2.png", {"user": {"group": "a", "rank": 10}})
    make_item(dataset, "/3.png", {"user": {"group": "b", "rank": 1}})
    make_item(dataset, "/4.png", {"user": {"group": "a", "rank": 9}})
    # when group ascending then rank descending (numerically: 10 before 9)
    ordered = run({"sort": {"metadata.user.group": "ascending", "metadata.user.rank": "descending"}})
    # then
    assert ordered == ["/2.png", "/4.png", "/1.png", "/3.png"]
    # and the key order matters
    ordered = run({"sort": {"metadata.user.rank": "ascending", "metadata.user.group": "ascending"}})
    assert ordered == ["/3.png", "/1.png", "/4.png", "/2.png"]


def test_sort_by_columns_with_id_as_the_tiebreaker(dataset):
    items = [make_item(dataset, f"/{name}", annotations_count=count) for name, count in [("b", 1), ("a", 1), ("c", 0)]]
    # ties on annotationsCount fall back to id in the same direction as the last key
    assert run({"sort": {"annotationsCount": "descending"}}) == ["/a", "/b", "/c"]
    assert run({"sort": {"annotationsCount": "ascending"}}) == ["/c", "/b", "/a"]
    assert run({"sort": {"name": "descending"}}) == ["/c", "/b", "/a"]
    assert run({}) == [item.filename for item in items]  # no sort: id ascending
    assert run({"sort": {"id": "descending"}}) == [item.filename for item in reversed(items)]
    compiled = compile_query({"sort": {"createdAt": "descending"}}, ITEMS)
    assert [str(order.expression.name) for order in compiled.ordering] == ["created_at", "id"]
    assert all(order.descending for order in compiled.ordering)


def test_missing_metadata_sorts_first_ascending_and_last_descending(dataset):
    make_item(dataset, "/1.png", {"user": {"rank": 2}})
    make_item(dataset, "/2.png", {})
    make_item(dataset, "/3.png", {"user": {"rank": 1}})
    assert run({"sort": {"metadata.user.rank": "ascending"}}) == ["/2.png", "/3.png", "/1.png"]
    assert run({"sort": {"metadata.user.rank": "descending"}}) == ["/1.png", "/3.png", "/2.png"]


# --- paging ------------------------------------------------------------------------------------------------
@pytest.fixture
def many(dataset):
    return [make_item(dataset, f"/{index:02d}.png", {"user": {"n": index}}) for index in range(23)]


def test_keyset_paging_with_id_gt_returns_every_item_exactly_once(many, dataset, django_assert_num_queries):
    # given the SDK's iteration: page 0 each time, id ascending, {"id": {"$gt": lastId}}
    seen: list[str] = []
    last_id = None
    pages = 0
    while True:
        filter_ = {"$and": [{"hidden": False}, {"type": "file"}]}
        if last_id:
            filter_["$and"].append({"id": {"$gt": last_id}})
        compiled = compile_query(
            {"resource": "items", "filter": filter_, "sort": {"id": "ascending"}, "page": 0, "pageSize": 5}, ITEMS
        )
        with django_assert_num_queries(2):
            page = paginate(compiled.apply(Item.objects.filter(dataset=dataset)), compiled)
        pages += 1
        seen += [item.id for item in page.items]
        if not page.has_next:
            break
        last_id = page.items[-1].id
    # then
    assert seen == [item.id for item in many]
    assert pages == 5


def test_keyset_paging_descending_with_id_lt(many, dataset):
    seen: list[str] = []
    last_id = None
    while True:
        filter_ = {"id": {"$lt": last_id}} if last_id else {}
        compiled = compile_query({"filter": filter_, "sort": {"createdAt": "descending"}, "pageSize": 7}, ITEMS)
        page = paginate(compiled.apply(Item.objects.filter(dataset=dataset)), compiled)
        seen += [item.id for item in page.items]
        if not page.has_next:
            break
        last_id = page.items[-1].id
    assert seen == [item.id for item in reversed(many)]


def test_id_gt_with_id_sort_compiles_to_a_plain_column_range():
    # index-friendly: no function around the id column
    compiled = compile_query({"filter": {"id": {"$gt": "0" * 24}}, "sort": {"id": "ascending"}}, ITEMS)
    sql = str(compiled.apply(Item.objects.all()).query)
    assert '"datasets_item"."id" > ' in sql
    assert sql.endswith('ORDER BY "datasets_item"."id" ASC')


def test_offset_paging_counts_and_pages(many, dataset):
    def page_number(number: int):
        compiled = compile_query({"page": number, "pageSize": 10, "sort": {"metadata.user.n": "descending"}}, ITEMS)
        return paginate(compiled.apply(Item.objects.filter(dataset=dataset)), compiled)

    first, last, beyond = page_number(0), page_number(2), page_number(3)
    assert [item.filename for item in first.items] == [f"/{n:02d}.png" for n in range(22, 12, -1)]
    assert (first.total_count, first.total_pages, first.has_next) == (23, 3, True)
    assert [item.filename for item in last.items] == ["/02.png", "/01.png", "/00.png"]
    assert last.has_next is False
    assert (beyond.items, beyond.total_count, beyond.has_next) == ([], 23, False)


def test_page_size_defaults_to_1000(many):
    compiled = compile_query({}, ITEMS)
    assert (compiled.page, compiled.page_size, compiled.offset) == (0, 1000, 0)


def test_page_is_dataloops_paged_response(many, dataset, django_assert_num_queries):
    compiled = compile_query({"pageSize": 20, "page": 1}, ITEMS)
    with django_assert_num_queries(2):
        page = paginate(compiled.apply(Item.objects.filter(dataset=dataset)), compiled)
        body = page.to_json(lambda item: {"id": item.id, "filename": item.filename})
    assert body == {
        "items": [{"id": many[n].id, "filename": many[n].filename} for n in (20, 21, 22)],
        "totalItemsCount": 23,
        "totalPagesCount": 2,
        "hasNextPage": False,
    }


def test_an_empty_result_is_one_query(dataset, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = page_of(Item.objects.filter(dataset=dataset), page=0, page_size=10)
    assert page.to_json(str) == {"items": [], "totalItemsCount": 0, "totalPagesCount": 0, "hasNextPage": False}


# --- bulk operations --------------------------------------------------------------------------------------
def test_update_delete_and_system_space_are_reported(files):
    update = {"metadata": {"user": {"k": 1, "gone": None}, "system": {"x": 2}}}
    compiled = compile_query({"filter": {"name": "1.png"}, "update": update, "systemSpace": True}, ITEMS)
    assert (compiled.update, compiled.delete, compiled.system_space) == (update, False, True)
    assert [item.filename for item in compiled.filter(Item.objects.all())] == ["/a/1.png"]
    deleting = compile_query({"filter": {"hidden": True}, "delete": True}, ITEMS)
    assert (deleting.update, deleting.delete, deleting.system_space) == (None, True, False)
    # the where clause drives a bulk delete directly
    deleting.filter(Item.objects.filter(dataset=files)).delete()
    assert not Item.objects.filter(hidden=True).exists()
    assert compile_query({"update": {}}, ITEMS).update == {}


def test_compiled_query_is_reusable_across_querysets(files):
    compiled = compile_query({"filter": {"metadata.user.split": "train"}}, ITEMS)
    assert compiled.filter(Item.objects.filter(dataset=files)).count() == 2
    assert compiled.filter(Item.objects.filter(annotated=True)).count() == 1
    assert isinstance(compiled, CompiledQuery) and isinstance(compiled.where, Q)


# --- datasets ------------------------------------------------------------------------------------------------
def test_datasets_resource(db):
    project, other_project = ProjectFactory(), ProjectFactory()
    make_dataset(project, "one", items_count=3, annotated_count=1, metadata={"user": {"tier": "gold"}})
    make_dataset(project, "two", items_count=10, annotated_count=0)
    make_dataset(other_project, "three", items_count=5)

    def names(filter_, **extra):
        return run({"resource": "datasets", "filter": filter_, **extra}, resource=DATASETS)

    assert names({"projects": project.id}) == names({"projectId": project.id}) == ["one", "two"]
    assert set(names({"projects": {"$in": [project.id, other_project.id]}})) == {"one", "two", "three"}
    assert set(names({"projects": [other_project.id]})) == {"three"}
    assert names({"itemsCount": {"$gte": 5}}, sort={"itemsCount": "descending"}) == ["two", "three"]
    assert names({"annotated": {"$gt": 0}}) == ["one"]
    assert names({"metadata.user.tier": "gold"}) == ["one"]
    assert names({"name": "t*"}, sort={"name": "ascending"}) == ["three", "two"]


def test_a_resource_can_declare_a_join(files):
    # given a spec (test-only) that lets datasets join their items
    joinable = dataclasses.replace(
        DATASETS,
        joins=MappingProxyType(
            {
                "items": JoinSpec(
                    resource=ITEMS, local="datasetId", foreign="id", base_column="id", joined_column="dataset_id"
                )
            }
        ),
    )
    make_dataset(files.project, "empty")
    body = {
        "resource": "datasets",
        "join": {
            "on": {"resource": "items", "local": "datasetId", "forigen": "id"},
            "filter": {"$and": [{"metadata.user.split": "val"}]},
        },
    }
    # then only the dataset holding a "val" item matches, once
    assert run(body, resource=joinable) == ["data"]
    body["join"]["filter"] = {"name": "nope"}
    assert run(body, resource=joinable) == []
    body["join"]["on"]["local"] = "id"
    assert "forigen" in rejected(body, resource=joinable)


def test_resource_specs_name_real_model_fields():
    for spec in RESOURCES.values():
        model_fields = {field.attname for field in spec.model._meta.concrete_fields}
        for column in spec.columns.values():
            # A related column (annotations' creator__email) names a foreign key, then a field of its model.
            relation, _, remote = column.column.partition("__")
            if remote:
                related = spec.model._meta.get_field(relation).related_model
                assert remote in {field.attname for field in related._meta.concrete_fields}
            else:
                assert column.column in model_fields
        assert set(spec.json_columns.values()) <= model_fields


# --- bad input: a 400 that names what is wrong ----------------------------------------------------------------
def _nested(levels: int) -> dict:
    node: dict = {"name": "x"}
    for _ in range(levels):
        node = {"$and": [node]}
    return node


BAD_FILTERS = [
    pytest.param({"name": {"$regex": "^a"}}, ["$regex", "name"], id="unknown-operator"),
    pytest.param({"name": {"$where": "1"}}, ["$where"], id="unknown-operator-2"),
    pytest.param({"$nor": [{"name": "a"}]}, ["$nor"], id="unknown-logical-operator"),
    pytest.param({"colour": "red"}, ["colour"], id="unknown-field"),
    pytest.param({"metadata": "x"}, ["metadata"], id="metadata-without-path"),
    pytest.param({"metadata.": "x"}, ["metadata."], id="metadata-empty-path"),
    pytest.param({"metadata.user.x') OR 1=1--": 1}, ["metadata.user.x') OR 1=1--"], id="sql-in-path"),
    pytest.param({"metadata.user__contains": "x"}, ["metadata.user__contains"], id="double-underscore"),
    pytest.param({"metadata.user.a->>b": "x"}, ["metadata.user.a->>b"], id="json-operator-in-path"),
    pytest.param({'metadata.user."x"': "x"}, ['metadata.user."x"'], id="quote-in-path"),
    pytest.param({"metadata.user..x": "x"}, ["metadata.user..x"], id="empty-segment"),
    pytest.param({"metadata.user.x y": "x"}, ["metadata.user.x y"], id="space-in-path"),
    pytest.param({"metadata." + ".".join(["k"] * 17): 1}, ["nested too deeply"], id="path-too-long"),
    pytest.param({"filename__contains": "x"}, ["filename__contains"], id="orm-lookup-as-field"),
    pytest.param({"metadata.user.score": json.loads("NaN")}, ["NaN"], id="nan"),
    pytest.param({"metadata.user.score": {"$gt": json.loads("Infinity")}}, ["Infinity", "$gt"], id="infinity"),
    pytest.param({"annotationsCount": {"$lt": json.loads("-Infinity")}}, ["Infinity"], id="minus-infinity"),
    pytest.param({"name": {"$in": ["a", json.loads("NaN")]}}, ["NaN", "$in"], id="nan-in-list"),
    pytest.param({"metadata.user.n": 2**64}, ["out of range"], id="huge-int"),
    pytest.param(_nested(11), ["nested at most 10"], id="too-deep"),
    pytest.param({"$or": [{"name": str(n)} for n in range(1001)]}, ["1000 conditions"], id="too-many-conditions"),
    pytest.param({"name": {"$in": "a"}}, ["$in", "name", "list"], id="in-not-a-list"),
    pytest.param({"name": {"$nin": {"a": 1}}}, ["$nin", "list"], id="nin-not-a-list"),
    pytest.param({"name": {"$in": [str(n) for n in range(10001)]}}, ["10001", "$in"], id="in-too-long"),
    pytest.param({"name": {"$in": [["a"]]}}, ["$in", "single value"], id="in-nested-list"),
    pytest.param({"name": {"$exists": "yes"}}, ["$exists", "name"], id="exists-not-bool"),
    pytest.param({"name": {"$gt": True}}, ["$gt", "name"], id="gt-bool"),
    pytest.param({"name": {"$lt": None}}, ["$lt"], id="lt-null"),
    pytest.param({"name": {"$eq": ["a"]}}, ["$eq", "name"], id="eq-list"),
    pytest.param({"name": {"first": "a"}}, ["name", "objects are not valid values"], id="object-value"),
    pytest.param({"name": {}}, ["name", "empty"], id="empty-operator-object"),
    pytest.param({"hidden": "false"}, ["hidden", "boolean"], id="string-for-boolean"),
    pytest.param({"hidden": {"$gt": False}}, ["$gt", "hidden"], id="gt-on-boolean"),
    pytest.param({"annotationsCount": "3"}, ["annotationsCount", "number"], id="string-for-number"),
    pytest.param({"annotationsCount": {"$lt": 2.5}}, ["annotationsCount", "whole number"], id="fraction-for-int"),
    pytest.param({"name": 3}, ["name", "string"], id="number-for-string"),
    pytest.param({"createdAt": {"$gt": "yesterday"}}, ["createdAt", "yesterday"], id="bad-datetime"),
    pytest.param({"createdAt": {"$gt": "2024-13-45"}}, ["createdAt"], id="impossible-datetime"),
    pytest.param({"hidden": {"$match": "x"}}, ["$match", "hidden"], id="match-on-boolean"),
    pytest.param({"name": {"$match": 3}}, ["$match", "string"], id="match-number"),
    pytest.param(
        {"metadata.system.refs": {"$match": {"id": "t", "colour": "red"}}},
        ["$match", "metadata.system.refs", "colour"],
        id="element-match-unknown-key",
    ),
    pytest.param({"name": "a\x00b"}, ["NUL"], id="nul-character"),
    pytest.param({"name": "\ud800"}, ["Unicode"], id="lone-surrogate"),
    pytest.param({"name": "*a" * 40}, ["wildcards"], id="too-many-wildcards"),
    pytest.param({"$or": []}, ["$or"], id="empty-or"),
    pytest.param({"$and": {"name": "a"}}, ["$and", "list"], id="and-not-a-list"),
    pytest.param({"$and": ["name"]}, ["$and[0]", "object"], id="and-item-not-an-object"),
]


@pytest.mark.parametrize(("filter_", "expected"), BAD_FILTERS)
def test_bad_filters_are_rejected_with_a_message_naming_the_problem(filter_, expected):
    message = rejected({"resource": "items", "filter": filter_})
    for text in expected:
        assert text in message


def test_nesting_up_to_the_limit_is_fine(dataset):
    make_item(dataset, "/x")
    assert run({"filter": _nested(10)}) == ["/x"]


BAD_BODIES = [
    pytest.param([], ["JSON object"], id="not-an-object"),
    pytest.param({"resource": "datasets"}, ["items", "datasets"], id="wrong-resource"),
    pytest.param({"resource": "annotations"}, ["annotations"], id="unknown-resource"),
    pytest.param({"resource": "items", "limit": 5, "$where": 1}, ["'$where'", "'limit'"], id="unknown-top-level-keys"),
    pytest.param({"references": {}}, ["references"], id="references-not-supported"),
    pytest.param({"filter": []}, ["filter must be an object"], id="filter-not-object"),
    pytest.param({"sort": {"name": "up"}}, ["name", "up", "ascending"], id="bad-sort-direction"),
    pytest.param({"sort": {"name": 1}}, ["name", "descending"], id="numeric-sort-direction"),
    pytest.param({"sort": {"colour": "ascending"}}, ["colour"], id="sort-unknown-field"),
    pytest.param({"sort": {"metadata.a;b": "ascending"}}, ["metadata.a;b"], id="sort-bad-path"),
    pytest.param({"sort": ["name"]}, ["sort"], id="sort-not-object"),
    pytest.param({"pageSize": 0}, ["pageSize", "between 1 and 1000"], id="page-size-zero"),
    pytest.param({"pageSize": 1001}, ["pageSize", "between 1 and 1000"], id="page-size-too-big"),
    pytest.param({"pageSize": "10"}, ["pageSize", "integer"], id="page-size-string"),
    pytest.param({"page": -1}, ["page"], id="negative-page"),
    pytest.param({"page": 1.5}, ["page", "integer"], id="fractional-page"),
    pytest.param({"page": True}, ["page", "integer"], id="boolean-page"),
    pytest.param({"delete": "yes"}, ["delete"], id="delete-not-bool"),
    pytest.param({"systemSpace": 1}, ["systemSpace"], id="system-space-not-bool"),
    pytest.param({"context": "p"}, ["context"], id="context-not-object"),
    pytest.param(
        {"update": {"metadata": {"user": {"k": 1}}}, "delete": True}, ["update or delete"], id="update+delete"
    ),
    pytest.param({"update": {"name": "x"}}, ["update", "'name'"], id="update-a-column"),
    pytest.param({"update": {"metadata": {"other": {}}}}, ["'other'"], id="update-other-metadata"),
    pytest.param({"update": {"metadata": {"system": {"k": 1}}}}, ["systemSpace"], id="update-system-without-flag"),
    pytest.param(
        {"update": {"metadata": {"user": 3}}}, ["update.metadata.user", "object"], id="update-user-not-object"
    ),
    pytest.param(
        {"update": {"metadata": {"user": {"k": json.loads("NaN")}}}}, ["update.metadata.user.k", "NaN"], id="update-nan"
    ),
    pytest.param({"update": {"metadata": {"user": {"k\x00": 1}}}}, ["NUL"], id="update-nul-key"),
    pytest.param({"update": "x"}, ["update must be an object"], id="update-not-object"),
    pytest.param(
        {"join": {"on": {"resource": "annotations", "local": "id", "forigen": "id"}, "filter": {"label": "dog"}}},
        ["items join annotations on local='itemId', forigen='id' only"],
        id="join-annotations-wrong-keys",
    ),
    pytest.param({"join": {"on": {"resource": "items"}}}, ["joins on 'items'"], id="join-unknown"),
    pytest.param({"join": {"on": "annotations"}}, ["join.on"], id="join-on-not-object"),
    pytest.param({"join": {"on": {}, "where": {}}}, ["'where'"], id="join-unknown-key"),
]


@pytest.mark.parametrize(("body", "expected"), BAD_BODIES)
def test_bad_query_bodies_are_rejected_with_a_message_naming_the_problem(body, expected):
    message = rejected(body)
    for text in expected:
        assert text in message


def test_errors_carry_the_query_code_and_details():
    with pytest.raises(BadRequest) as caught:
        compile_query({"filter": {"name": {"$regex": "x"}}}, ITEMS)
    assert caught.value.get_codes() == "invalid_query"
    assert caught.value.details == {"field": "name", "operator": "$regex"}


def test_datasets_endpoint_rejects_item_queries_and_item_fields():
    assert "items" in rejected({"resource": "items"}, resource=DATASETS)
    assert "filename" in rejected({"resource": "datasets", "filter": {"filename": "x"}}, resource=DATASETS)


def test_deeply_nested_update_is_rejected():
    value: dict = {"k": 1}
    for _ in range(40):
        value = {"k": value}
    assert "nested more than 32" in rejected({"update": {"metadata": {"user": value}}})


# --- injection attempts change nothing -----------------------------------------------------------------------
INJECTIONS = [
    {"metadata.user.x') OR 1=1--": 1},
    {"metadata.user.x'; DELETE FROM datasets_item; --": 1},
    {"metadata.user__contains": "x"},
    {"filename; DROP TABLE datasets_item": "x"},
    {"name": {"$where": "1=1"}},
    {"metadata.user.$[*]": 1},
]


@pytest.mark.parametrize("filter_", INJECTIONS)
def test_injection_attempts_in_fields_are_rejected_and_leave_the_table_untouched(files, filter_):
    before = sorted(Item.objects.values_list("id", "filename", "metadata"))
    rejected({"filter": filter_, "delete": True})
    assert sorted(Item.objects.values_list("id", "filename", "metadata")) == before


def test_sql_in_values_is_just_a_value(files):
    # given values full of SQL and JSON-path syntax
    before = sorted(Item.objects.values_list("id", "filename", "metadata"))
    attacks = ["x' OR '1'='1", "'; DELETE FROM datasets_item; --", '$."user"', "%", "_", "\\", "') OR 1=1--*"]
    # when
    for attack in attacks:
        assert where({"name": attack}) == set()
        assert where({"metadata.user.split": attack}) == set()
        assert where({"metadata.user.split": {"$in": [attack]}}) == set()
        assert where({"name": {"$match": attack}}) == set()
        assert where({"metadata.user.split": {"$gt": attack}}) <= {"/a/1.png", "/a/2.png", "/a/b/3.jpg"}
    # then
    assert sorted(Item.objects.values_list("id", "filename", "metadata")) == before
    assert where({"filename": "/a/%"}) == set()  # LIKE wildcards are literal too
    assert where({"filename": "/a/_.png"}) == set()
