"""The label tree's pure functions: parsing, defaults, colours, hotkeys and flattening."""

import pytest

from annotator.core.errors import BadRequest, Conflict
from annotator.ontologies import labels


def build(entries, *, mode=labels.UPSERT, stored=None):
    tree = labels.tree_load(stored or [])
    labels.tree_apply(tree, entries, mode=mode, field_name="labelsNode")
    return labels.tree_dump(tree)


def test_flat_and_nested_entries_make_one_tree():
    roots = build([{"tag": "a.b.c"}, {"value": {"tag": "a"}, "children": [{"value": {"tag": "d"}}]}])
    assert [tag for tag, _value in labels.flatten(roots)] == ["a", "a.b", "a.b.c", "a.d"]
    assert roots[0]["value"]["tag"] == "a" and roots[0]["children"][0]["children"][0]["value"]["tag"] == "c"


def test_defaults_fill_every_field():
    (root,) = build([{"tag": " Car "}])
    assert root == {
        "value": {
            "tag": "Car",
            "displayLabel": "Car",
            "color": labels.PALETTE[0],
            "attributes": [],
            "displayData": {"hotkey": "1"},
            "hotkey": "1",
            "icon": None,
        },
        "children": [],
    }


def test_default_colours_stay_distinct_past_the_palette():
    roots = build([{"tag": f"l{index}"} for index in range(80)] + [{"tag": "given", "color": "#1F77B4"}])
    colours = [value["color"] for tag, value in labels.flatten(roots) if tag != "given"]
    assert len(set(colours)) == 80 and labels.PALETTE[0] not in colours  # the given colour is skipped
    assert all(labels.COLOR_RE.match(colour) for colour in colours)


def test_stored_trees_round_trip_unchanged():
    roots = build([{"tag": "a", "hotkey": "q", "icon": "https://example.com/a.svg"}, {"tag": "a.b"}])
    assert build([], stored=roots) == roots


def test_modes():
    stored = build([{"tag": "a"}])
    assert [t for t, _ in labels.flatten(build([{"tag": "b"}], stored=stored, mode=labels.ADD))] == ["a", "b"]
    with pytest.raises(Conflict):
        build([{"tag": "a"}], stored=stored, mode=labels.ADD)
    with pytest.raises(BadRequest):
        build([{"tag": "b"}], stored=stored, mode=labels.UPDATE)
    assert (
        build([{"tag": "a", "color": "#000000"}], stored=stored, mode=labels.UPDATE)[0]["value"]["color"] == "#000000"
    )


@pytest.mark.parametrize(
    "entries",
    [
        [{"tag": ".".join(["x" * 100] * 6)}],  # 605 characters
        [{"tag": ".".join(["q"] * 17)}],
        [{"tag": f"l{index}"} for index in range(labels.LABELS_MAX + 1)],
    ],
)
def test_limits(entries):
    with pytest.raises(BadRequest):
        build(entries)


def test_hotkey_clash_names_both_labels():
    with pytest.raises(Conflict) as caught:
        build([{"tag": "a", "hotkey": "x"}, {"tag": "b", "displayData": {"hotkey": "X"}}])
    assert "'a'" in str(caught.value.detail) and "'b'" in str(caught.value.detail)
