"""Spec data -> spec data with [defaults]: each argument that every layer of a type
gives with the same value, said once (what ``specc export --factor`` writes).

The result expands back to the same flat spec: [defaults.TYPE] reaches every
layer of TYPE, wrapped layers included, so only arguments shared by all of
them move, and only for types with at least two layers.
"""

from __future__ import annotations

import json
from typing import Any

from specc import registry
from specc.expand import escaped

# Keys of a layer table that are not constructor arguments.
_NOT_ARGUMENTS = ("type", "name", "inputs", "call")


def factor_defaults(data: dict) -> dict:
    """``data`` with the arguments shared by every layer of a type moved to [defaults].

    >>> factor_defaults({"inputs": [{"shape": [4]}], "layers": [
    ...     {"type": "Dense", "units": 4, "use_bias": False},
    ...     {"type": "Dense", "units": 2, "use_bias": False}]})["defaults"]
    {'Dense': {'use_bias': False}}
    """
    by_type: dict[str, list[dict]] = {}
    for layer in _layers(data.get("layers") or []):
        cls = registry.canonical_layer(layer["type"])
        if cls is not None:
            by_type.setdefault(cls, []).append(layer)
    defaults: dict[str, dict] = {}
    for cls, layers in by_type.items():
        if len(layers) < 2:
            continue
        shared = {key: value for key, value in layers[0].items() if key not in _NOT_ARGUMENTS
                  and all(key in other and _same(other[key], value) for other in layers[1:])}
        if shared:
            defaults[cls] = shared
            for layer in layers:
                for key in shared:
                    del layer[key]
    if not defaults:
        return data
    ordered = {k: v for k, v in data.items() if k != "layers"}
    return {**ordered, "defaults": defaults, "layers": data["layers"]}


def _layers(entries: list) -> list[dict]:
    """Every layer table a [defaults.TYPE] reaches: the spec's layers and the ones they wrap."""
    found, stack = [], [e for e in reversed(entries)]
    while stack:
        layer = stack.pop()
        if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
            continue
        found.append(layer)
        stack.extend(layer[k] for k in ("backward_layer", "layer") if isinstance(layer.get(k), dict))
    return found


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python; a spec tells them apart.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def dumps_factored(spec, fmt: str = "toml", schema: str | None = None) -> str:
    """A Spec as text with its shared arguments in [defaults]."""
    from specc.dump import dumps_data, to_data

    return dumps_data(factor_defaults(escaped(to_data(spec))), fmt, schema)
