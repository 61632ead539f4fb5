"""orjson on both ends of the API: responses read exactly as DRF's encoder wrote them, and
JSON columns read back exactly what was stored."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer as DrfRenderer

from annotator.core.json import JsonText
from annotator.core.parsers import JSON_MAX_DEPTH, json_loads_bounded
from annotator.core.renderers import JSONRenderer
from annotator.datasets import services as datasets
from annotator.datasets.models import Item
from tests.images import png

VALUES = {
    "text": "naïve café ✓",
    "numbers": [0, -1, 1.5, 2**63 - 1],
    "nested": {"a": [{"b": None, "c": True}]},
    "when": datetime(2026, 11, 27, 4, 22, 25, 123456, tzinfo=UTC),
    "whole second": datetime(2026, 11, 27, 4, 22, 25, tzinfo=UTC),
    "decimal": Decimal("1.25"),
    "lazy": gettext_lazy("Not found."),
    "tuple": (1, 2),
    "separators": "line\u2028paragraph\u2029end",
}


def test_responses_match_drfs_encoder_byte_for_byte():
    assert JSONRenderer().render(VALUES) == DrfRenderer().render(VALUES)
    assert b'"2026-11-27T04:22:25.123456Z"' in JSONRenderer().render(VALUES)


def test_integers_past_64_bits_and_indented_answers_fall_back_to_drf():
    assert json.loads(JSONRenderer().render({"big": 2**70})) == {"big": 2**70}
    indented = JSONRenderer().render({"a": 1}, accepted_media_type="application/json; indent=2")
    assert indented == b'{\n  "a": 1\n}'
    assert JSONRenderer().render(None) == b""


def test_json_text_goes_into_a_response_as_it_is_and_through_drfs_fallbacks():
    text = JsonText("[[1.5, 2], [3, 4e2]]")
    assert JSONRenderer().render({"coordinates": text}) == b'{"coordinates":[[1.5, 2], [3, 4e2]]}'
    # A body orjson cannot write (an integer past 64 bits), or an indented one, goes through DRF.
    fallen_back = JSONRenderer().render({"coordinates": text, "big": 2**70})
    assert json.loads(fallen_back) == {"coordinates": [[1.5, 2], [3, 400.0]], "big": 2**70}
    indented = JSONRenderer().render({"coordinates": text}, accepted_media_type="application/json; indent=2")
    assert json.loads(indented) == {"coordinates": [[1.5, 2], [3, 400.0]]}


def test_the_api_answers_through_the_orjson_renderer(members, client_for, project):
    response = client_for(members["owner"]).get(f"/api/v1/projects/{project.id}")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.json()["id"] == project.id


@pytest.mark.parametrize(
    "user_metadata",
    [
        {"split": "train", "score": 0.25, "tags": ["a", "b"], "flag": False, "empty": {}},
        {"big": 2**70, "negative big": -(2**65), "long float": 0.12345678901234567891},
        {"unicode": "汉字 \u200f mark", "escaped quote": 'say "hi"'},
    ],
)
def test_json_columns_read_back_what_was_stored(members, project, client_for, user_metadata):
    dataset = datasets.dataset_create(user=members["owner"], project_id=project.id, name="Codecs")
    payload = {"file": io.BytesIO(png()), "path": "/one.png", "metadata": json.dumps({"user": user_metadata})}
    payload["file"].name = "one.png"
    response = client_for(members["owner"]).post(f"/api/v1/datasets/{dataset.id}/items", payload, format="multipart")
    assert response.status_code == 201, response.content
    stored = Item.objects.get(pk=response.json()["id"]).metadata["user"]
    assert stored == user_metadata
    # PostgreSQL's jsonb orders keys its own way: compare the types key by key.
    assert {key: type(value) for key, value in stored.items()} == {
        key: type(value) for key, value in user_metadata.items()
    }


@pytest.mark.parametrize("inner", ["[]", "{}"])
def test_bodies_nest_to_the_limit_and_no_deeper(inner):
    def nested(depth: int) -> str:  # alternating objects and lists, `depth` containers deep
        text = inner
        for level in range(depth - 1):
            text = f'{{"k": {text}, "flat": [1, 2]}}' if level % 2 else f"[0, {text}, {{}}]"
        return text

    assert json_loads_bounded(nested(JSON_MAX_DEPTH)) is not None
    with pytest.raises(ParseError, match=f"nested more than {JSON_MAX_DEPTH} levels"):
        json_loads_bounded(nested(JSON_MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "text",
    [
        r'{"user": {"name": "a\u0000b"}}',  # a value
        r'{"user": {"a\u0000": 1}}',  # a key
        r'[1, [{"deep": ["x", "\u0000"]}]]',  # inside lists
        rb'{"user": "\u0000"}',  # a body read as bytes
        '{"user": "a\\u0000"}'.encode("utf-16"),  # bytes in UTF-16, which json.loads reads too
    ],
)
def test_nul_characters_are_refused_wherever_they_are(text):
    with pytest.raises(ParseError, match="NUL"):
        json_loads_bounded(text)


def test_an_escaped_backslash_before_u0000_is_not_a_nul():
    assert json_loads_bounded(r'{"path": "C:\\u0000.txt"}') == {"path": "C:\\u0000.txt"}


def test_a_nul_in_a_metadata_patch_is_a_400_and_changes_nothing(members, project, client_for):
    dataset = datasets.dataset_create(user=members["owner"], project_id=project.id, name="Nul")
    item = datasets.item_upload(
        user=members["owner"],
        dataset_id=dataset.id,
        fileobj=io.BytesIO(png()),
        path="/a.png",
        metadata={"user": {"k": 1}},
    )[0]
    body = r'{"metadata": {"user": {"k": "x\u0000y"}}}'

    response = client_for(members["owner"]).patch(f"/api/v1/items/{item.id}", body, content_type="application/json")

    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
    assert Item.objects.get(pk=item.id).metadata["user"] == {"k": 1}
