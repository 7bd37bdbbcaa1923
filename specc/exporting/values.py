"""Keras config values as plain data: JSON shapes, None as the spec's word.

Export works on plain JSON data only (``plain`` first, as the catalog is JSON), so
``==`` compares a config value with a default: no tuples, no shared-object ids.
"""

from __future__ import annotations

import json
from typing import Any

from specc.checking.spec import NONE_WORD


def plain(value: Any) -> Any:
    """Tuples become lists, as they would after a trip through JSON; the ids a saved file
    gives objects shared between layers (an LSTM and its cell) are left out."""
    return json.loads(json.dumps(value), object_hook=unshared)


def unshared(obj: dict) -> dict:
    """A JSON object without its shared-object id (``json.loads``'s object_hook)."""
    obj.pop("shared_object_id", None)
    return obj


def none(value: Any) -> Any:
    return NONE_WORD if value is None else value


def nones(value: Any) -> Any:
    """A value with every None, however deep, written as the spec's "None"."""
    if isinstance(value, list):
        return [nones(v) for v in value]
    if isinstance(value, dict):
        return {k: nones(v) for k, v in value.items()}
    return none(value)
