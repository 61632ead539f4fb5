"""The label tree: validating, merging and normalising Dataloop's `roots`.

The stored form is the API form:

    [{"value": {"tag": "Vehicle", "displayLabel": "Vehicle", "color": "#1f77b4", "attributes": [],
                "displayData": {"hotkey": "1"}, "hotkey": "1", "icon": null},
      "children": [{"value": {"tag": "Car", ...}, "children": []}]}]

`value.tag` is the short tag; a label's full tag joins its ancestors' tags with dots
(`Vehicle.Car`), and that is what annotations name. On input a tag may be dotted
anywhere: it is a path below the node it is given in, and missing parents are created.

`hotkey` and `icon` live in `value` and are mirrored into `displayData`: dtlpy's Label
entity keeps only tag, displayLabel, color, attributes and displayData, so a PUT from the
SDK brings them back only through displayData. On input `value.hotkey` wins over
`displayData.hotkey` (likewise for icon).

Hotkeys are unique within an ontology. A label without one keeps its previous key if that
is still free, else takes the first free key of 1-9 then a-z in tree order, or none (null)
once all 35 are taken. Asking for a key that another label keeps is a 409: keys are never
swapped behind the caller's back (a PUT of the whole tree may permute them freely).
"""

import colorsys
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from annotator.core.errors import BadRequest, Conflict

HOTKEY_POOL = "123456789abcdefghijklmnopqrstuvwxyz"
HOTKEY_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
MIRRORED_IN_DISPLAY_DATA = ("hotkey", "icon")
TAG_SEGMENT_MAX = 100
TAG_MAX = 500
DEPTH_MAX = 16
LABELS_MAX = 5000
DISPLAY_LABEL_MAX = 200
ICON_MAX = 2048
LABEL_ATTRIBUTES_MAX = 100
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Well-separated colours handed out first (Tableau 10, then Kelly's), in order.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280",
    "#008856", "#e68fac", "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300",
)  # fmt: skip

# Modes of applying label entries to a tree.
ADD = "add"  # new labels only; an existing tag is a 409
UPDATE = "update"  # existing labels only; an unknown tag is a 400
UPSERT = "upsert"  # either


@dataclass
class Node:
    """A label while a request is applied: the fields known so far, not yet defaulted."""

    tag: str
    fields: dict[str, Any] = field(default_factory=dict)
    children: dict[str, "Node"] = field(default_factory=dict)
    # The hotkey was asked for (or kept from the stored tree): a clash is the caller's error.
    hotkey_fixed: bool = False
    # The stored value of the same full tag before a PUT, to keep colour and hotkey stable.
    previous: dict[str, Any] | None = None


def _bad(label: str, message: str, field_name: str | None = None) -> BadRequest:
    details = {"label": label}
    if field_name:
        details["field"] = field_name
    return BadRequest(message, details=details)


def split_tag(tag: Any, *, where: str) -> list[str]:
    """The segments of a (possibly dotted) tag, or a 400 naming `where`."""
    if not isinstance(tag, str) or not tag.strip():
        raise BadRequest(f"{where}: a label needs a non-empty tag.", details={"field": f"{where}.tag"})
    tag = tag.strip()
    if _CONTROL.search(tag):
        raise _bad(tag, f"Label {tag!r}: a tag may not contain control characters.", "tag")
    if tag.startswith(".") or tag.endswith("."):
        raise _bad(tag, f"Label {tag!r}: a tag may not start or end with a dot.", "tag")
    segments = [segment.strip() for segment in tag.split(".")]
    if not all(segments):
        raise _bad(tag, f"Label {tag!r}: a dotted tag may not have empty parts.", "tag")
    if any(len(segment) > TAG_SEGMENT_MAX for segment in segments):
        raise _bad(tag, f"Label {tag!r}: each part of a tag has at most {TAG_SEGMENT_MAX} characters.", "tag")
    return segments


def clean_hotkey(value: Any, *, label: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) != 1 or value.lower() not in HOTKEY_CHARS:
        raise _bad(label, f"Label {label!r}: a hotkey is one character, 0-9 or a-z; got {value!r}.", "hotkey")
    return value.lower()


def _clean_fields(raw: dict[str, Any], *, label: str) -> dict[str, Any]:
    """The label fields given in `raw`, validated; absent or null fields are left out."""
    out: dict[str, Any] = {}
    display_label = raw.get("displayLabel")
    if display_label is not None:
        if not isinstance(display_label, str) or len(display_label) > DISPLAY_LABEL_MAX:
            raise _bad(
                label,
                f"Label {label!r}: displayLabel is text of at most {DISPLAY_LABEL_MAX} characters.",
                "displayLabel",
            )
        if display_label.strip():
            out["displayLabel"] = display_label.strip()
    color = raw.get("color")
    if color is not None:
        if not isinstance(color, str) or not COLOR_RE.match(color):
            raise _bad(label, f"Label {label!r}: color must look like '#rrggbb'; got {color!r}.", "color")
        out["color"] = color.lower()
    attributes = raw.get("attributes")
    if attributes is not None:
        if (
            not isinstance(attributes, list)
            or len(attributes) > LABEL_ATTRIBUTES_MAX
            or not all(isinstance(a, str) and 0 < len(a) <= 200 for a in attributes)
        ):
            raise _bad(label, f"Label {label!r}: attributes must be a list of names (text).", "attributes")
        out["attributes"] = list(attributes)
    display_data = raw.get("displayData")
    if display_data is not None:
        if not isinstance(display_data, dict):
            raise _bad(label, f"Label {label!r}: displayData must be an object.", "displayData")
        out["displayData"] = {k: v for k, v in display_data.items() if k not in MIRRORED_IN_DISPLAY_DATA}
    mirrored = display_data if isinstance(display_data, dict) else {}
    hotkey = raw.get("hotkey") if raw.get("hotkey") not in (None, "") else mirrored.get("hotkey")
    if (hotkey := clean_hotkey(hotkey, label=label)) is not None:
        out["hotkey"] = hotkey
    icon = raw.get("icon") if raw.get("icon") not in (None, "") else mirrored.get("icon")
    if icon not in (None, ""):
        if not isinstance(icon, str) or len(icon) > ICON_MAX or _CONTROL.search(icon):
            raise _bad(label, f"Label {label!r}: icon is a URL or icon name of at most {ICON_MAX} characters.", "icon")
        out["icon"] = icon
    return out


# --- building trees -------------------------------------------------------------------------------
def tree_load(roots: list[dict[str, Any]]) -> Node:
    """The stored tree, as nodes whose every field (and hotkey) is kept."""
    top = Node(tag="")

    def load(parent: Node, entry: dict[str, Any]) -> None:
        value = dict(entry.get("value") or {})
        tag = value.pop("tag")
        display_data = value.get("displayData") or {}
        value["displayData"] = {k: v for k, v in display_data.items() if k not in MIRRORED_IN_DISPLAY_DATA}
        fields = {k: v for k, v in value.items() if v is not None}
        node = Node(tag=tag, fields=fields, hotkey_fixed=bool(fields.get("hotkey")))
        parent.children[tag] = node
        for child in entry.get("children") or []:
            load(node, child)

    for entry in roots:
        load(top, entry)
    return top


def tree_apply(tree: Node, entries: Any, *, mode: str, field_name: str) -> None:
    """Apply label entries (flat `labelsNode` items or `roots` nodes) to `tree`, in place.

    An entry is `{"tag", ...fields, "children"?}` or `{"value": {"tag", ...}, "children"?}`;
    its tag, dotted or not, is a path below the node it is given in. Only the fields an
    entry names change an existing label.
    """
    if not isinstance(entries, list):
        raise BadRequest(f"{field_name} must be a list of labels.", details={"field": field_name})
    given: set[str] = set()
    created: set[str] = set()

    def apply(parent: Node, parent_path: str, entry: Any, where: str) -> None:
        if not isinstance(entry, dict):
            raise BadRequest(f"{where}: a label must be an object.", details={"field": where})
        raw = entry["value"] if isinstance(entry.get("value"), dict) else entry
        node, path = parent, parent_path
        segments = split_tag(raw.get("tag"), where=where)
        for index, segment in enumerate(segments):
            path = f"{path}.{segment}" if path else segment
            child = node.children.get(segment)
            if child is None:
                if mode == UPDATE:
                    raise _bad(path, f"Label {path!r} does not exist; send upsert: true to add it.", "tag")
                child = node.children[segment] = Node(tag=segment)
                created.add(path)
            elif index == len(segments) - 1 and mode == ADD and path not in created:
                raise Conflict(f"Label {path!r} already exists.", details={"label": path})
            node = child
        if path in given:
            raise _bad(path, f"Label {path!r} is given twice.", "tag")
        given.add(path)
        fields = _clean_fields(raw, label=path)
        node.fields.update(fields)
        if "hotkey" in fields:
            node.hotkey_fixed = True
        children = entry.get("children")
        if children is not None:
            if not isinstance(children, list):
                raise _bad(path, f"Label {path!r}: children must be a list.", "children")
            for index, child_entry in enumerate(children):
                apply(node, path, child_entry, f"{where}.children[{index}]")

    for index, entry in enumerate(entries):
        apply(tree, "", entry, f"{field_name}[{index}]")


def tree_attach_previous(tree: Node, previous: dict[str, dict[str, Any]]) -> None:
    """Remember each label's stored value (by full tag), so that colours and hotkeys survive a PUT."""
    for path, node in walk(tree):
        node.previous = previous.get(path)


def walk(tree: Node) -> Iterator[tuple[str, Node]]:
    """(full tag, node) in tree order (depth first, siblings in order)."""

    def visit(node: Node, prefix: str) -> Iterator[tuple[str, Node]]:
        for child in node.children.values():
            path = f"{prefix}.{child.tag}" if prefix else child.tag
            yield path, child
            yield from visit(child, path)

    return visit(tree, "")


def _generated_colors() -> Iterator[str]:
    """Endless distinct-looking colours after the palette: golden-ratio steps of hue."""
    hue = 0.11
    while True:
        hue = (hue + 0.618033988749895) % 1.0
        for saturation, value in ((0.65, 0.9), (0.9, 0.6), (0.45, 0.75)):
            r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
            yield f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _assign_hotkeys(order: list[tuple[str, Node]]) -> None:
    owner: dict[str, str] = {}
    for path, node in order:
        key = node.fields.get("hotkey") if node.hotkey_fixed else None
        if key:
            if key in owner:
                raise Conflict(
                    f"Hotkey {key!r} is already used by label {owner[key]!r}; choose another for {path!r}.",
                    details={"label": path, "field": "hotkey", "usedBy": owner[key]},
                )
            owner[key] = path
    # Previous keys first, so that a label added above others does not take their keys.
    unassigned = []
    for path, node in order:
        if node.hotkey_fixed and node.fields.get("hotkey"):
            continue
        previous = (node.previous or {}).get("hotkey")
        if previous and previous not in owner:
            node.fields["hotkey"], owner[previous] = previous, path
        else:
            unassigned.append((path, node))
    free = (key for key in HOTKEY_POOL if key not in owner)
    for path, node in unassigned:
        key = next(free, None)
        node.fields["hotkey"] = key
        if key:
            owner[key] = path


def _assign_colors(order: list[tuple[str, Node]]) -> None:
    # Previous colours first, so that a new label is not handed the colour another keeps.
    for _path, node in order:
        if not node.fields.get("color") and (node.previous or {}).get("color"):
            node.fields["color"] = node.previous["color"]
    used = {node.fields["color"] for _path, node in order if node.fields.get("color")}
    fresh = (color for color in itertools.chain(PALETTE, _generated_colors()) if color not in used)
    for _path, node in order:
        if not node.fields.get("color"):
            node.fields["color"] = next(fresh)


def tree_dump(tree: Node) -> list[dict[str, Any]]:
    """The tree as stored and served, with defaults filled in and hotkeys made unique."""
    order = list(walk(tree))
    if len(order) > LABELS_MAX:
        raise BadRequest(f"An ontology has at most {LABELS_MAX} labels.", details={"field": "roots"})
    for path, _node in order:
        if len(path) > TAG_MAX or path.count(".") >= DEPTH_MAX:
            raise _bad(path, f"Label {path!r}: at most {DEPTH_MAX} levels and {TAG_MAX} characters.", "tag")
    _assign_hotkeys(order)
    _assign_colors(order)

    def dump(node: Node) -> dict[str, Any]:
        fields = node.fields
        display_data = dict(fields.get("displayData") or {})
        for key in MIRRORED_IN_DISPLAY_DATA:
            if fields.get(key):
                display_data[key] = fields[key]
        value = {
            "tag": node.tag,
            "displayLabel": fields.get("displayLabel") or node.tag,
            "color": fields["color"],
            "attributes": list(fields.get("attributes") or []),
            "displayData": display_data,
            "hotkey": fields.get("hotkey"),
            "icon": fields.get("icon"),
        }
        return {"value": value, "children": [dump(child) for child in node.children.values()]}

    return [dump(child) for child in tree.children.values()]


# --- reading stored trees -------------------------------------------------------------------------
def flatten(roots: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(full dotted tag, value) for every label of stored `roots`, in tree order."""
    out: list[tuple[str, dict[str, Any]]] = []

    def visit(entries: list[dict[str, Any]], prefix: str) -> None:
        for entry in entries:
            value = entry["value"]
            path = f"{prefix}.{value['tag']}" if prefix else value["tag"]
            out.append((path, value))
            visit(entry.get("children") or [], path)

    visit(roots, "")
    return out
