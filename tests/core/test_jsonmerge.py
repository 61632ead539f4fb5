"""deep_merge: JSON Merge Patch (RFC 7386) for sparse metadata updates."""

import copy

from annotator.core.jsonmerge import deep_merge


def test_objects_merge_recursively_and_other_keys_survive():
    target = {"user": {"a": 1, "nested": {"x": 1, "y": 2}}, "system": {"size": 5}}
    merged = deep_merge(target, {"user": {"b": 2, "nested": {"y": 3}}})
    assert merged == {"user": {"a": 1, "b": 2, "nested": {"x": 1, "y": 3}}, "system": {"size": 5}}


def test_null_deletes_a_key_at_any_depth_and_missing_keys_are_fine():
    target = {"user": {"a": 1, "nested": {"x": 1, "y": 2}}, "gone": True}
    merged = deep_merge(target, {"gone": None, "user": {"nested": {"x": None}, "never-there": None}})
    assert merged == {"user": {"a": 1, "nested": {"y": 2}}}


def test_scalars_and_lists_replace_whole_values():
    target = {"tags": ["a", "b"], "score": {"v": 1}, "name": "old"}
    merged = deep_merge(target, {"tags": ["c"], "score": 7, "name": {"first": "new"}})
    assert merged == {"tags": ["c"], "score": 7, "name": {"first": "new"}}


def test_nulls_inside_a_new_object_are_dropped():
    assert deep_merge({}, {"user": {"k": None, "v": 1}}) == {"user": {"v": 1}}


def test_inputs_are_not_modified_and_the_result_shares_nothing_with_them():
    # given
    target = {"user": {"tags": ["a"], "keep": {"deep": [1]}}}
    diff = {"user": {"new": {"list": [1, 2]}}}
    target_before, diff_before = copy.deepcopy(target), copy.deepcopy(diff)
    # when
    merged = deep_merge(target, diff)
    merged["user"]["tags"].append("b")
    merged["user"]["keep"]["deep"].append(2)
    merged["user"]["new"]["list"].append(3)
    # then
    assert target == target_before and diff == diff_before


def test_empty_diff_is_a_copy_of_the_target():
    target = {"user": {"a": 1}}
    merged = deep_merge(target, {})
    assert merged == target and merged is not target and merged["user"] is not target["user"]
