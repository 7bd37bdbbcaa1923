"""Spec layers wired into a keras.Sequential or a functional keras.Model, in the
order of the spec's wiring graph."""

from __future__ import annotations

from typing import Any

from specc.building import budget
from specc.building.complaints import KERAS_COMPLAINTS, guarded
from specc.building.layers import make_layer
from specc.vocab import registry
from specc.errors import SpecError
from specc.checking.graph import Graph, Node, graph as resolve
from specc.checking.spec import Apply, Op, Spec
from specc.vocab.names import split_ref
from specc.vocab.tuples import parse_path


def assemble(spec: Spec, name: str | None):
    """The Keras model of a spec (or of a nested model's spec), its layers not yet compiled."""
    wiring = resolve(spec)
    return _sequential(spec, wiring, name) if wiring.sequential else _functional(spec, wiring, name)


def _input(spec_input, name: str | None):
    import keras

    return keras.Input(
        shape=tuple(spec_input.shape), dtype=spec_input.dtype, sparse=spec_input.sparse,
        ragged=spec_input.ragged, batch_size=spec_input.batch_size, name=name,
        optional=spec_input.optional,
    )


def _sequential(spec: Spec, wiring: Graph, name: str | None):
    import keras

    # Name the input explicitly: Keras's own default depends on what was built before.
    layers = [_input(spec.inputs[0], wiring.inputs[0])]
    for node in wiring.nodes:
        layers.append(guarded(node, lambda: make_layer(node.layer, node.name)))
    # All layers at once: Sequential rebuilds itself after every add(), which
    # is quadratic in the number of layers.
    try:
        return keras.Sequential(layers, name=name)
    except KERAS_COMPLAINTS as exc:
        refused = exc
    # Keras refused one of them: call them one by one to say which.
    tensor = _input(spec.inputs[0], wiring.inputs[0])
    for node, layer in zip(wiring.nodes, layers[1:]):
        tensor = guarded(node, lambda: layer(tensor))
    raise refused


def _functional(spec: Spec, wiring: Graph, name: str | None):
    import keras

    tensors: dict[str, Any] = {
        name: _input(i, name) for name, i in zip(wiring.inputs, spec.inputs)
    }
    objects: dict[str, Any] = {}
    for node in wiring.nodes:
        if isinstance(node.layer, Apply):
            layer = objects[node.layer.apply]
        else:
            layer = objects[node.name] = guarded(node, lambda: make_layer(node.layer, node.name))
        tensors[node.name] = guarded(node, lambda: _call(layer, node, tensors))
    inputs = [tensors[n] for n in wiring.inputs]
    tuples = {parse_path(path) for path in spec.model.tuples or []}
    out = _structure(wiring.outputs, lambda ref: _tensor(tensors, ref), tuples, ("outputs",))
    if isinstance(out, list) and len(out) == 1 and isinstance(wiring.outputs[0], str) \
            and spec.model.outputs_form != "list":
        out = out[0]  # one output; [[a, b]] stays a list of a list, a tuple stays a tuple
    if spec.model.inputs is not None:
        ins = _structure(spec.model.inputs, tensors.__getitem__, tuples, ("inputs",))
    elif spec.model.inputs_form == "dict":
        ins = dict(zip(wiring.inputs, inputs))
    else:
        ins = inputs[0] if len(inputs) == 1 and spec.model.inputs_form != "list" else inputs
    return keras.Model(ins, out, name=name)


def _structure(names: Any, tensor, tuples: set, at: tuple):
    """A structure of names (lists and tables, nested) with each name's tensor in its place;
    the lists at the paths of ``tuples`` (model.tuples) are tuples."""
    if isinstance(names, dict):
        return {k: _structure(v, tensor, tuples, (*at, k)) for k, v in names.items()}
    if isinstance(names, list):
        items = [_structure(v, tensor, tuples, (*at, n)) for n, v in enumerate(names)]
        return tuple(items) if at in tuples else items
    return tensor(names)


def _tensor(tensors: dict, ref: str):
    name, index = split_ref(ref)
    value = tensors[name]
    if index is None:
        return value
    if not isinstance(value, (list, tuple)):  # validate catches what the spec says; this, the rest
        raise SpecError(f"'{name}' is one tensor: write '{name}', not '{ref}'")
    if index >= len(value):
        raise SpecError(f"'{name}' has {len(value)} outputs: '{name}:0' to '{name}:{len(value) - 1}'")
    return value[index]


def _operand(tensors: dict, ref: Any):
    if isinstance(ref, list):
        return [_operand(tensors, r) for r in ref]
    return _tensor(tensors, ref) if isinstance(ref, str) else ref


def _call(layer, node: Node, tensors: dict):
    import keras

    if isinstance(node.inputs, dict):
        kwargs = {
            key: _tensor(tensors, ref) if isinstance(ref, str) else [_tensor(tensors, r) for r in ref]
            for key, ref in node.inputs.items()
        }
        constants = getattr(node.layer, "call", None) or {}
        if isinstance(layer, keras.Model):
            return layer(kwargs, **constants)  # a nested model's table is the dict it takes
        # The leading arguments that follow call()'s order go by position, as users write
        # lstm(x, initial_state=...): Keras orders model.layers by how calls name them.
        args = []
        # The registry's name of its class: keras-hub's and plugins' are "package>Class".
        cls = registry.canonical_layer(getattr(node.layer, "type", None) or "") \
            or type(layer).__name__
        for key in registry.LAYERS.get(cls, {}).get("call", []):
            if key not in kwargs or next(iter(kwargs)) != key:
                break
            args.append(kwargs.pop(key))
        return layer(*args, **kwargs, **constants)
    args = [_operand(tensors, ref) for ref in node.inputs]
    if isinstance(node.layer, Op):
        budget.check_constant_operation(layer, args)
        if node.layer.key is not None:
            return layer(*args, _index(node.layer.key))
        return layer(*args)  # operations take tensors positionally, like keras.ops
    constants = getattr(node.layer, "call", None) or {}
    return layer(args[0] if len(args) == 1 else args, **constants)


def _index(key: list) -> tuple:
    """An ops.GetItem key: [":", ":2"] -> (slice(None), slice(None, 2))."""
    def axis(item):
        if item == "...":
            return Ellipsis
        if isinstance(item, str):
            return slice(*(int(p) if p else None for p in item.split(":")))
        return item  # an integer, or None: a new axis

    return tuple(axis(item) for item in key)
