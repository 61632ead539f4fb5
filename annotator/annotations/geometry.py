"""Checking and normalising each annotation type's coordinates (shared/API-COMPAT.md).

The rule for shapes that leave the image: **coordinates are clamped to the image**,
`0 <= x <= width` and `0 <= y <= height`, as the studio does while drawing; a shape that
clamping leaves with no extent (a box of zero width or height, a polygon ring with fewer
than 3 distinct points) is refused. An ellipse's centre must lie inside the image. When the
item's size is unknown (a link item), nothing is clamped. Every number must be finite.

Self-intersecting polygon rings are accepted as drawn: a ring is filled by the even-odd
rule, as Canvas 2D and COCO's polygon rasteriser do, so the stored shape means one thing.

Each checker returns the coordinates as stored and served, with numbers as floats and `z`
kept (0 when absent) for the types that carry it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.conf import settings

from annotator.core.errors import BadRequest

BOX, SEGMENT, POLYLINE, BINARY, POINT, ELLIPSE, CLASS, NOTE = (
    "box",
    "segment",
    "polyline",
    "binary",
    "point",
    "ellipse",
    "class",
    "note",
)
TYPES = (BOX, SEGMENT, POLYLINE, BINARY, POINT, ELLIPSE, CLASS, NOTE)


# Strict frames (imports) let a point overhang the image by rounding only (YOLO's six
# decimals, VOC's integer pixels); the point is then clamped like any other.
STRICT_TOLERANCE = 0.5


_NUMBERS = (int, float)  # exact types: a bool is not a coordinate


class Frame:
    """The image a shape must fit: clamps points into [0, width] x [0, height] when known.
    A strict frame (imports) refuses a point outside instead: the file and the image disagree."""

    def __init__(self, width: int | None, height: int | None, where: str, *, strict: bool = False):
        self.width = width if width else None
        self.height = height if height else None
        self.where = where
        self.strict = strict

    def bad(self, message: str) -> BadRequest:
        return BadRequest(f"{self.where}: {message}", code="invalid_geometry", details={"field": self.where})

    def number(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.bad(f"{name} must be a finite number, got {value!r}.")
        return float(value)

    def point(self, raw: Any, name: str | Callable[[], str]) -> dict[str, float]:
        """A checked point; `name` (or a function making it, since most points are fine and
        imports check millions) says where it is in error messages."""
        x = y = z = None
        if type(raw) is dict:
            x, y, z = raw.get("x"), raw.get("y"), raw.get("z", 0)
        if not (type(x) in _NUMBERS and type(y) in _NUMBERS and type(z) in _NUMBERS and math.isfinite(x + y + z)):
            name = name() if callable(name) else name
            if not isinstance(raw, dict):
                raise self.bad(f"{name} must be an object {{x, y}}.")
            x, y = self.number(raw.get("x"), f"{name}.x"), self.number(raw.get("y"), f"{name}.y")
            z = self.number(raw.get("z", 0), f"{name}.z")
        x, y, z = float(x), float(y), float(z)
        if self.width is not None and self.height is not None:
            if self.strict and not (
                -STRICT_TOLERANCE <= x <= self.width + STRICT_TOLERANCE
                and -STRICT_TOLERANCE <= y <= self.height + STRICT_TOLERANCE
            ):
                name = name() if callable(name) else name
                raise self.bad(f"{name} ({x:g}, {y:g}) is outside the {self.width}x{self.height} image.")
            x, y = min(max(x, 0.0), float(self.width)), min(max(y, 0.0), float(self.height))
        return {"x": x, "y": y, "z": z}

    def inside(self, point: dict[str, float]) -> bool:
        if self.width is None or self.height is None:
            return True
        return 0 <= point["x"] <= self.width and 0 <= point["y"] <= self.height


def _box(raw: Any, frame: Frame) -> list:
    """[top-left, bottom-right] and, for a rotated box, its angle in degrees as a third element.

    A rotated box turns about its centre, so its corners are not clamped: its centre must lie
    inside the image instead.
    """
    if not isinstance(raw, list) or len(raw) not in (2, 3):
        raise frame.bad("a box is [{x, y}, {x, y}]: top-left and bottom-right, and optionally an angle.")
    angle = frame.number(raw[2], "coordinates[2] (angle)") % 360 if len(raw) == 3 else 0.0
    target = frame if not angle else Frame(None, None, frame.where)
    first, second = target.point(raw[0], "coordinates[0]"), target.point(raw[1], "coordinates[1]")
    left, right = sorted((first["x"], second["x"]))
    top, bottom = sorted((first["y"], second["y"]))
    if right - left <= 0 or bottom - top <= 0:
        raise frame.bad("the box has no area inside the image.")
    box: list = [{"x": left, "y": top, "z": first["z"]}, {"x": right, "y": bottom, "z": second["z"]}]
    if angle:
        if not frame.inside({"x": (left + right) / 2, "y": (top + bottom) / 2}):
            raise frame.bad("the rotated box's centre lies outside the image.")
        box.append(angle)
    return box


NOTE_STATUSES = ("issue", "open", "closed")


def _note(raw: Any, frame: Frame) -> dict[str, Any]:
    """dtlpy's note: {"box": [...], "note": {messages, status, creator, assignee, createTime}}.

    The thread itself is written by the review service; what a client sends for it is kept
    only as far as it is well-formed.
    """
    if isinstance(raw, list):
        raw = {"box": raw}
    if not isinstance(raw, dict):
        raise frame.bad("a note is {box: [{x, y}, {x, y}], note: {messages, status}}.")
    box = _box(raw.get("box"), frame)
    note = raw.get("note") or {}
    if not isinstance(note, dict):
        raise frame.bad("note must be an object {messages, status}.")
    status = note.get("status", "issue")
    if status not in NOTE_STATUSES:
        raise frame.bad(f"note.status must be one of {', '.join(NOTE_STATUSES)}.")
    messages = note.get("messages") or []
    if not isinstance(messages, list) or len(messages) > 1000:
        raise frame.bad("note.messages must be a list of at most 1000 messages.")
    thread = []
    for i, message in enumerate(messages):
        body = message.get("body") if isinstance(message, dict) else None
        if not isinstance(body, str) or len(body) > settings.NOTE_MESSAGE_MAX:
            raise frame.bad(f"note.messages[{i}].body must be text of at most {settings.NOTE_MESSAGE_MAX} characters.")
        thread.append(
            {
                "id": str(message.get("id") or i),
                "creator": message.get("creator") if isinstance(message.get("creator"), str) else None,
                "time": message.get("time") if isinstance(message.get("time"), int) else None,
                "body": body,
            }
        )
    keep = {k: note[k] for k in ("creator", "assignee", "createTime") if isinstance(note.get(k), str | int)}
    return {"box": box, "note": {**keep, "status": status, "messages": thread}}


def _rings(raw: Any, frame: Frame, *, minimum: int, kind: str) -> list[list[dict[str, float]]]:
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):
        raw = [raw]  # a single ring given without the outer list
    if not isinstance(raw, list) or not raw:
        raise frame.bad(f"a {kind} is a list of rings: [[{{x, y}}, ...], ...].")
    if len(raw) > settings.ANNOTATION_MAX_RINGS:
        raise frame.bad(f"a {kind} has at most {settings.ANNOTATION_MAX_RINGS} rings.")
    rings = []
    total = 0
    for r, ring in enumerate(raw):
        if not isinstance(ring, list):
            raise frame.bad(f"coordinates[{r}] must be a list of points.")
        total += len(ring)
        if total > settings.ANNOTATION_MAX_POINTS:
            raise frame.bad(f"a {kind} has at most {settings.ANNOTATION_MAX_POINTS} points.")
        points = [frame.point(p, lambda r=r, i=i: f"coordinates[{r}][{i}]") for i, p in enumerate(ring)]
        distinct = {(p["x"], p["y"]) for p in points}
        if len(distinct) < minimum:
            raise frame.bad(f"ring {r} of the {kind} needs at least {minimum} distinct points inside the image.")
        rings.append(points)
    return rings


def _segment(raw: Any, frame: Frame) -> list[list[dict[str, float]]]:
    return _rings(raw, frame, minimum=3, kind="polygon")


def _polyline(raw: Any, frame: Frame) -> list[list[dict[str, float]]]:
    return _rings(raw, frame, minimum=2, kind="polyline")


def _point(raw: Any, frame: Frame) -> dict[str, float]:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    return frame.point(raw, "coordinates")


def _ellipse(raw: Any, frame: Frame) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise frame.bad("an ellipse is {center: {x, y}, rx, ry, angle}.")
    center = raw.get("center")
    if not isinstance(center, dict):
        raise frame.bad("an ellipse needs center: {x, y}.")
    unclamped = {
        "x": frame.number(center.get("x"), "center.x"),
        "y": frame.number(center.get("y"), "center.y"),
        "z": frame.number(center.get("z", 0), "center.z"),
    }
    if not frame.inside(unclamped):
        raise frame.bad("the ellipse's center lies outside the image.")
    rx, ry = frame.number(raw.get("rx"), "rx"), frame.number(raw.get("ry"), "ry")
    if rx <= 0 or ry <= 0:
        raise frame.bad("rx and ry must be greater than 0.")
    angle = frame.number(raw.get("angle", 0), "angle")
    return {"center": unclamped, "rx": rx, "ry": ry, "angle": angle}


def _none(raw: Any, frame: Frame) -> list:
    return []


CHECKERS: dict[str, Callable[[Any, Frame], Any]] = {
    BOX: _box,
    NOTE: _note,
    SEGMENT: _segment,
    POLYLINE: _polyline,
    POINT: _point,
    ELLIPSE: _ellipse,
    CLASS: _none,
}


def clean_coordinates(
    kind: str, raw: Any, *, width: int | None, height: int | None, where: str, strict: bool = False
) -> Any:
    """The stored form of `raw` for annotation type `kind` (not `binary`: see masks.py);
    `strict` refuses points outside the image rather than clamping them."""
    return CHECKERS[kind](raw, Frame(width, height, where, strict=strict))


def bounds(kind: str, coordinates: Any) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of stored coordinates, or None for a classification."""
    if kind == NOTE:
        coordinates = coordinates["box"]
    if kind in (BOX, NOTE):
        return coordinates[0]["x"], coordinates[0]["y"], coordinates[1]["x"], coordinates[1]["y"]
    if kind in (SEGMENT, POLYLINE):
        xs = [p["x"] for ring in coordinates for p in ring]
        ys = [p["y"] for ring in coordinates for p in ring]
        return min(xs), min(ys), max(xs), max(ys)
    if kind == POINT:
        return coordinates["x"], coordinates["y"], coordinates["x"], coordinates["y"]
    if kind == ELLIPSE:
        c, r = coordinates["center"], max(coordinates["rx"], coordinates["ry"])
        return c["x"] - r, c["y"] - r, c["x"] + r, c["y"] + r
    if kind == BINARY and coordinates.get("bbox"):
        left, top, right, bottom = coordinates["bbox"]
        return left, top, right + 1, bottom + 1
    return None
