"""Output shapes and parameter counts of a spec's layers, without TensorFlow.

Each layer type has a small rule: from its arguments and the shapes it is
called on, the shape it returns and the weights it makes (shape and whether
it trains). The rules follow Keras's own ``compute_output_shape`` and
``build`` methods; they live in specc/reporting/rules*.py, one table per
family of layers, and this module walks the model with them. A layer no rule
covers, or whose shape depends on a dimension that is unknown before run time,
is reported as unknown with the reason; its count is then missing from the
totals, which say so.

>>> from specc.checking.validate import load
>>> [(l.name, l.output_shape, l.params) for l in infer(load("specs/tutorial_dropout.toml"))][:2]
[('input_layer', (None, 784), 0), ('dense', (None, 64), 50240)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from specc.vocab import registry
from specc.checking.graph import Graph, graph as resolve, leaves
from specc.vocab.names import split_ref
from specc.checking.spec import Apply, Nested, Op, Spec
from specc.reporting.rules import layer_output
from specc.reporting.rules_base import Shape, Unknown, Weights, is_multi


@dataclass(frozen=True)
class LayerShape:
    """One row of a summary: a layer (or model input) with its output and weights."""

    name: str
    type: str
    inputs: tuple[str, ...]
    output_shape: Shape | tuple[Shape, ...] | None  # several tensors: a tuple of shapes
    params: int | None                              # None when unknown
    non_trainable: int | None = 0
    reason: str | None = None                       # why the shape or count is unknown
    shares: str | None = None                       # a shared call: the layer it calls again
    layers: tuple["LayerShape", ...] = ()           # a nested model's own rows

    @property
    def trainable(self) -> int | None:
        return None if self.params is None else self.params - (self.non_trainable or 0)


@dataclass(frozen=True)
class Summary:
    """A model's rows and its parameter totals (partial when a layer is unknown)."""

    name: str | None
    layers: tuple[LayerShape, ...]
    total: int
    trainable: int
    non_trainable: int
    partial: bool = False
    unknown: tuple[str, ...] = field(default=())  # the layers whose count is missing
    sequential: bool = True


def infer(spec: Spec) -> list[LayerShape]:
    """Every input and layer of a valid spec with its output shape and parameters.

    >>> from specc.checking.validate import load
    >>> infer(load("specs/tutorial_dropout.toml"))[1]  # doctest: +ELLIPSIS
    LayerShape(name='dense', type='Dense', inputs=('input_layer',), output_shape=(None, 64), params=50240, ...)
    """
    return list(summarize(spec).layers)


def summarize(spec: Spec, name: str | None = None) -> Summary:
    """The rows of ``infer`` with the model's totals, as Keras's model.summary() gives them."""
    wiring = resolve(spec)
    return _totals(name or spec.model.name, _rows(spec, wiring), wiring.sequential)


def _totals(name: str | None, rows: list[LayerShape], sequential: bool) -> Summary:
    known = [r for r in rows if r.params is not None]
    unknown = tuple(r.name for r in rows if r.params is None)
    total = sum(r.params for r in known)
    frozen = sum(r.non_trainable or 0 for r in known)
    return Summary(name, tuple(rows), total, total - frozen, frozen, bool(unknown), unknown,
                   sequential)


def _rows(spec: Spec, wiring: Graph) -> list[LayerShape]:
    tensors: dict[str, Any] = {}  # name -> Shape, tuple of Shapes, or None (unknown)
    rows = []
    for name, spec_input in zip(wiring.inputs, spec.inputs):
        shape = (spec_input.batch_size, *spec_input.shape)
        tensors[name] = shape
        rows.append(LayerShape(name, "InputLayer", (), shape, 0))
    by_name = {node.name: node.layer for node in wiring.nodes}
    for node in wiring.nodes:
        refs = node.refs()
        row = _row(node.name, node.layer, node.inputs, refs, tensors, by_name)
        tensors[node.name] = row.output_shape
        rows.append(row)
    return rows


def _row(name, layer, inputs, refs, tensors, by_name) -> LayerShape:
    refs = tuple(refs)
    missing = [r for r in refs if tensor_shape(tensors, r) is None]
    shares = layer.apply if isinstance(layer, Apply) else None
    target = by_name[shares] if shares else layer
    kind = _kind(target)
    if missing:
        return LayerShape(name, kind, refs, None, None if not shares else 0, None,
                          f"the shape of its input '{missing[0]}' is unknown", shares)
    try:
        if isinstance(target, Nested):
            shape, nested = nested_summary(target, name)
            return LayerShape(name, kind, refs, shape, 0 if shares else
                              (None if nested.partial else nested.total),
                              0 if shares else nested.non_trainable,
                              "a layer inside it is unknown" if nested.partial else None,
                              shares, nested.layers)
        shape, weights = layer_output(target, _operands(inputs, tensors))
        params, frozen = _count(weights, getattr(target, "trainable", None) is False)
    except Unknown as exc:
        return LayerShape(name, kind, refs, None, 0 if shares else None, None, str(exc), shares)
    if shares:  # the weights are counted once, on the layer's first call
        return LayerShape(name, kind, refs, shape, 0, 0, None, shares)
    return LayerShape(name, kind, refs, shape, params, frozen)


def _kind(layer) -> str:
    if isinstance(layer, (Nested, Op)):
        return layer.type
    return registry.canonical_layer(layer.type) or layer.type


def nested_summary(layer: Nested, name: str | None = None) -> tuple[Any, Summary]:
    """A nested model's output shape and its summary (partial when a layer inside it is
    unknown); raises Unknown when the output's shape is."""
    nested = summarize(layer.spec, layer.name or name)
    return _nested_output(layer.spec, nested), nested


def _nested_output(spec: Spec, nested: Summary):
    wiring = resolve(spec)
    shapes = {r.name: r.output_shape for r in nested.layers}
    found = [tensor_shape(shapes, ref) for _, ref in leaves(wiring.outputs)]
    if any(s is None for s in found):
        raise Unknown("an output of the nested model is unknown")
    return found[0] if len(found) == 1 else tuple(found)


def tensor_shape(tensors: dict, ref):
    """The shape ``ref`` ("dense", "lstm:1" or a number) names among ``tensors`` (layer name
    -> its output shape or shapes); None when unknown, () for a number (a scalar operand)."""
    if not isinstance(ref, str):
        return ()  # a number: a scalar operand
    name, index = split_ref(ref)
    value = tensors.get(name)
    if value is None or index is None:
        return value
    return value[index] if is_multi(value) and index < len(value) else None


def _operands(inputs, tensors):
    """The shapes a layer is called on: one shape, a list, or a dict by call argument."""
    def shape(ref):
        return [tensor_shape(tensors, r) for r in ref] if isinstance(ref, list) \
            else tensor_shape(tensors, ref)

    if isinstance(inputs, dict):
        return {k: shape(v) for k, v in inputs.items()}
    return [shape(r) for r in inputs]


def _count(weights: Weights, frozen: bool) -> tuple[int, int]:
    total = non_trainable = 0
    for shape, trainable in weights:
        if any(d is None for d in shape):
            raise Unknown("a weight's shape depends on a dimension unknown before run time")
        n = math.prod(shape)
        total += n
        if frozen or not trainable:
            non_trainable += n
    return total, non_trainable
