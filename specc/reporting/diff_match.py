"""Two models in normal form -> the list of changes from one to the other.

Layers are matched by type and arguments in graph order (a sequence
alignment), so an inserted layer, which renames the default-named layers after
it, shows as one addition and some renames rather than a change to every layer.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace
from typing import Any

from specc.reporting.diff_args import DEFAULT
from specc.reporting.diff_form import Layer, Model, rename_refs


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed, renamed, argument, wiring, model, input
    or compile; ``a`` and ``b`` are the values on each side (absent: Keras's default)."""

    kind: str
    layer: str | None = None  # the layer's name in B (in A for a removed one)
    type: str | None = None
    key: str | None = None    # the argument, or the field of the model, input or compile
    a: Any = DEFAULT
    b: Any = DEFAULT
    params: tuple[int | None, int | None] | None = None  # the layer's parameters in A and B

    def as_dict(self) -> dict:
        out = {"change": self.kind}
        for name in ("layer", "type", "key"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("a", "b"):
            if getattr(self, name) is not DEFAULT:
                out[name] = getattr(self, name)
        if self.params is not None:
            out["params"] = list(self.params)
        return out


@dataclass
class Diff:
    """What changed from model ``a`` to model ``b``."""

    a: str
    b: str
    changes: list[Change]
    params: dict | None = None  # {"a": total, "b": total}; a total is None when partial

    @property
    def same(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "same": self.same,
                "changes": [c.as_dict() for c in self.changes], "params": self.params}


def compare(a: Model, b: Model, prefix: str = "") -> list[Change]:
    """The changes from ``a`` to ``b``, in the order of B's layers."""
    changes: list[Change] = []
    if a.name != b.name and not prefix:
        changes.append(Change("model", key="name", a=a.name, b=b.name))
    renamed = _match_inputs(a, b, changes, prefix)
    pairs = _match_layers(a.layers, b.layers)
    renamed.update({x.name: y.name for x, y in pairs if x is not None and y is not None})
    for x, y in pairs:
        if y is None:
            changes.append(Change("removed", prefix + x.name, x.type, a=_shown_layer(x)))
        elif x is None:
            changes.append(Change("added", prefix + y.name, y.type, b=_shown_layer(y)))
        else:
            changes += _layer_changes(x, y, renamed, prefix)
    if rename_refs(a.outputs, renamed) != b.outputs:
        changes.append(Change("model", key=prefix + "outputs", a=a.outputs, b=b.outputs))
    for key in sorted(set(a.forms) | set(b.forms)):
        if a.forms.get(key) != b.forms.get(key):
            changes.append(Change("model", key=prefix + key, a=a.forms.get(key, DEFAULT),
                                  b=b.forms.get(key, DEFAULT)))
    if not prefix:
        changes += _compile_changes(a.compile, b.compile)
    return changes


def _match_inputs(a: Model, b: Model, changes: list[Change], prefix: str) -> dict[str, str]:
    """Inputs pair up by position; their names go into the renames used for wiring."""
    renamed = {}
    for n in range(max(len(a.inputs), len(b.inputs))):
        x = a.inputs[n] if n < len(a.inputs) else None
        y = b.inputs[n] if n < len(b.inputs) else None
        if x is None:
            changes.append(Change("input", prefix + y["name"], b=y))
        elif y is None:
            changes.append(Change("input", prefix + x["name"], a=x))
        else:
            renamed[x["name"]] = y["name"]
            for key in dict.fromkeys([*x, *y]):
                if x.get(key) != y.get(key):
                    changes.append(Change("input", prefix + y["name"], key=key,
                                          a=x.get(key, DEFAULT), b=y.get(key, DEFAULT)))
    return renamed


def _signature(layer: Layer) -> str:
    return json.dumps([layer.type, layer.args, layer.call, _shape_of(layer.model)],
                      sort_keys=True, default=str)


def _shape_of(model: Model | None) -> Any:
    if model is None:
        return None
    return [[l.type, l.args] for l in model.layers]


def _match_layers(a: list[Layer], b: list[Layer]):
    """Pairs (x, y) in reading order: (x, None) removed, (None, y) added."""
    matcher = difflib.SequenceMatcher(None, [_signature(l) for l in a],
                                      [_signature(l) for l in b], autojunk=False)
    pairs: list[tuple[Layer | None, Layer | None]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs += list(zip(a[i1:i2], b[j1:j2]))
            continue
        left, right = list(a[i1:i2]), list(b[j1:j2])
        partner: dict[int, Layer] = {}
        # A changed layer keeps its name, or at least its type, in the same stretch.
        for same in (lambda x, y: x.name == y.name and x.type == y.type,
                     lambda x, y: x.type == y.type):
            for y in right:
                if id(y) in partner:
                    continue
                x = next((x for x in left if same(x, y) and x not in partner.values()), None)
                if x is not None:
                    partner[id(y)] = x
        used = {id(x) for x in partner.values()}
        pairs += [(x, None) for x in left if id(x) not in used]
        pairs += [(partner.get(id(y)), y) for y in right]
    # A layer that moved (and maybe changed) left one removal and one addition: pair them.
    for same in (lambda x, y: _signature(x) == _signature(y),
                 lambda x, y: x.name == y.name and x.type == y.type):
        for j, (_, y) in enumerate(pairs):
            if pairs[j][0] is not None or y is None:
                continue
            i = next((i for i, (x, z) in enumerate(pairs)
                      if x is not None and z is None and same(x, y)), None)
            if i is not None:
                pairs[j], pairs[i] = (pairs[i][0], y), (None, None)
    return [pair for pair in pairs if pair != (None, None)]


def _layer_changes(x: Layer, y: Layer, renamed: dict[str, str], prefix: str) -> list[Change]:
    changes = []
    if x.name != y.name:
        changes.append(Change("renamed", prefix + y.name, y.type, a=x.name, b=y.name))
    for key in dict.fromkeys([*x.args, *y.args]):
        old, new = x.args.get(key, DEFAULT), y.args.get(key, DEFAULT)
        if old != new:
            changes.append(Change("argument", prefix + y.name, y.type, key, old, new))
    if x.call != y.call:
        changes.append(Change("argument", prefix + y.name, y.type, "call", x.call, y.call))
    if rename_refs(x.inputs, renamed) != y.inputs:
        changes.append(Change("wiring", prefix + y.name, y.type, "inputs", x.inputs, y.inputs))
    if x.model is not None and y.model is not None:
        changes += compare(x.model, y.model, prefix=f"{prefix}{y.name}/")
    return changes


def _shown_layer(layer: Layer) -> dict:
    shown = {"inputs": layer.inputs, **layer.args}
    if layer.call:
        shown["call"] = layer.call
    if layer.model is not None:
        shown["layers"] = len(layer.model.layers)
    return shown


def _compile_changes(a: dict | None, b: dict | None) -> list[Change]:
    a, b = a or {}, b or {}  # not compiled: no optimizer, no loss
    return [Change("compile", key=key, a=a.get(key, DEFAULT), b=b.get(key, DEFAULT))
            for key in dict.fromkeys([*a, *b]) if a.get(key) != b.get(key)]


def with_params(a: Model, b: Model, changes: list[Change]) -> tuple[list[Change], dict]:
    """Each changed layer's parameter counts and the totals, from specc's shape rules (no Keras)."""
    old_name = {c.b: c.a for c in changes if c.kind == "renamed"}
    counted = []
    for change in changes:
        name = change.layer
        if change.kind in ("added", "removed", "renamed", "argument", "wiring") \
                and "/" not in name and change.type != "apply":
            in_a = None if change.kind == "added" else a.params.get(old_name.get(name, name))
            in_b = None if change.kind == "removed" else b.params.get(name)
            change = replace(change, params=(in_a, in_b))
        counted.append(change)
    return counted, {"a": a.total, "b": b.total}
