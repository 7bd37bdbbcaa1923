"""The canonical order of a spec's keys, the one order everything specc writes uses
(``specc fmt``, ``specc export``, ``specc expand``, ``specc.dumps``).

Sections in the order model, inputs, constants, defaults, blocks, layers, compile;
inside a layer ``type`` (or ``block``), ``name``, ``inputs``, then the arguments in
the order of Keras's constructor signature; initializers, constraints and
optimizers likewise. Tables of the user's own keys (outputs, losses per output,
a layer's call inputs) stay as written: their order can mean something.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from specc.checking import spec as models
from specc.checking.paths import class_of
from specc.vocab import registry

_REGULARIZER_ORDER = ["custom", "expr", "orthogonal", "mode", "l1", "l2"]
# Argument kinds whose values are tables with an order of their own.
_ORDERED_KINDS = ("regularizer", "initializer", "constraint", "layer")


def canonical(data: dict) -> dict:
    """The spec's data with every table's keys in the canonical order."""
    return _ordered(data, "spec")


def _fields(model) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _key_order(kind: str | None, table: dict) -> list[str]:
    if kind is None:
        return []  # user data (outputs, losses per output): as written
    if kind == "spec":
        # What specc/expanding/expand.py reads (constants, defaults, blocks) comes before the layers.
        fields = _fields(models.SourceSpec)
        expanded = [k for k in fields if k not in _fields(models.Spec)]
        at = fields.index("layers")
        return [k for k in fields[:at] if k not in expanded] + expanded + ["layers", "compile"]
    if kind == "block":
        return _fields(models.Block)
    if kind == "model":
        return _fields(models.ModelSection)
    if kind == "input":
        return _fields(models.InputSpec)
    if kind == "compile":
        return _fields(models.CompileSpec)
    if kind == "build":
        return _fields(models.BuildSection)
    if kind == "regularizer":
        return _REGULARIZER_ORDER
    if kind == "layer":
        return _layer_order(registry.canonical_layer(str(table.get("type"))))
    if kind.startswith("defaults."):  # [defaults.Dense]: that layer's arguments
        return _layer_order(kind.removeprefix("defaults."))
    if kind in ("initializer", "constraint", "optimizer"):
        cls = class_of(kind, table)
        return ["type", *(registry.OBJECTS[kind][0][cls]["order"] if cls else [])]
    return []  # user data (outputs, losses per output): as written


def _child_kind(kind: str | None, table: dict, key: str) -> str | None:
    """What the value under ``key`` of a table of this kind is."""
    if kind is None:
        return None
    if kind == "spec":
        return {"model": "model", "inputs": "input", "layers": "layer", "compile": "compile",
                "build": "build", "blocks": "blocks", "defaults": "defaults"}.get(key)
    if kind == "defaults":  # a layer type's table, or one argument of every layer
        cls = registry.canonical_layer(key)
        if cls is not None:
            return f"defaults.{cls}"
        kind = registry.arg_kind("*", key, {})  # the same for every layer that has it
        return kind if kind in ("regularizer", "initializer", "constraint") else None
    if kind.startswith("defaults."):
        return _argument_kinds(kind.removeprefix("defaults.")).get(key)
    if kind == "blocks":
        return "block"
    if kind == "block":
        return "layer" if key == "layers" else None
    if kind == "compile":
        return "optimizer" if key == "optimizer" else None
    if kind == "layer":
        if key == "spec":
            return "spec"
        cls = registry.canonical_layer(str(table.get("type")))
        return _argument_kinds(cls).get(key) if cls else None
    return None


# Per layer class, once: a spec of thousands of layers has a few classes.
@cache
def _layer_order(cls: str | None) -> list[str]:
    args = registry.arg_order(cls) if cls else []
    return ["type", "apply", "block", "name", "inputs", *args, "call", "spec"]


@cache
def _argument_kinds(cls: str) -> dict[str, str]:
    """The arguments of a layer class whose values are ordered tables, with their kind."""
    kinds = {arg: registry.arg_kind(cls, arg, info) for arg, info in registry.layer_args(cls).items()}
    return {arg: kind for arg, kind in kinds.items() if kind in _ORDERED_KINDS}


registry.watch(_layer_order.cache_clear)
registry.watch(_argument_kinds.cache_clear)


def _ordered(value: Any, kind: str | None) -> Any:
    if isinstance(value, list):
        return [_ordered(v, kind) for v in value]
    if not isinstance(value, dict):
        return value
    preferred = [k for k in _key_order(kind, value) if k in value]
    keys = preferred + [k for k in value if k not in preferred]
    return {k: _ordered(value[k], _child_kind(kind, value, k)) for k in keys}
