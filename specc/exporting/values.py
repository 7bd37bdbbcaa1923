"""Keras config values as plain data: JSON shapes, comparison, None as the spec's word."""

from __future__ import annotations

import json
from typing import Any

from specc.checking.spec import NONE_WORD


def plain(value: Any) -> Any:
    """Tuples become lists, as they would after a trip through JSON; the ids a saved file
    gives objects shared between layers (an LSTM and its cell) are left out."""
    def unshared(obj: dict) -> dict:
        obj.pop("shared_object_id", None)
        return obj

    return json.loads(json.dumps(value), object_hook=unshared)


def same(a: Any, b: Any) -> bool:
    # Both sides are plain JSON data already (export_config takes JSON data,
    # the catalog is JSON): a JSON round trip per comparison took half of export,
    # so only objects that differ are compared again without their shared ids.
    return a == b or (isinstance(a, dict) and isinstance(b, dict) and plain(a) == plain(b))


def none(value: Any) -> Any:
    return NONE_WORD if value is None else value


def nones(value: Any) -> Any:
    """A value with every None, however deep, written as the spec's "None"."""
    if isinstance(value, list):
        return [nones(v) for v in value]
    if isinstance(value, dict):
        return {k: nones(v) for k, v in value.items()}
    return none(value)
