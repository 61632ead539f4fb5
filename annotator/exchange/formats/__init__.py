"""The exchange formats, one module each (see base.py for the interface)."""

from importlib import import_module

from annotator.exchange.formats.base import Format

FORMAT_MODULES = {
    "dataloop": "annotator.exchange.formats.dataloop",
    "coco": "annotator.exchange.formats.coco",
    "yolo": "annotator.exchange.formats.yolo",
    "voc": "annotator.exchange.formats.voc",
    "masks": "annotator.exchange.formats.masks",
}


def get_format(name: str) -> Format:
    """The format called `name` (KeyError for an unknown one)."""
    return import_module(FORMAT_MODULES[name]).FORMAT
