"""The exported Spec made minimal: what specc would infer anyway is left out (default
names, default wiring, ":0" tensor indexes, the model kind, one dtype policy on every layer)."""

from __future__ import annotations

from pydantic import BaseModel

from specc.checking.graph import layer_names, names_implied
from specc.checking.spec import Nested, Spec


def _unset(model, field: str) -> None:
    setattr(model, field, None)
    model.model_fields_set.discard(field)


def _rename_ref(spec: Spec, old: str, new: str) -> None:
    def swap(value):
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return new if value == old else value

    for layer in spec.layers:
        if layer.inputs is not None:
            layer.inputs = swap(layer.inputs)


def drop_zero_indexes(spec: Spec) -> None:
    """"dense:0" is "dense" where a call returns one tensor (export writes every index)."""
    from specc.checking.graph import output_count
    from specc.vocab.names import split_ref

    by_name = dict(zip(layer_names(spec), spec.layers))

    def strip(value):
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        target, index = split_ref(value)
        if index == 0 and (target not in by_name or output_count(by_name[target], by_name) == 1):
            return target
        return value

    for layer in spec.layers:
        if layer.inputs is not None:
            layer.inputs = strip(layer.inputs)
    if spec.model.outputs is not None:
        spec.model.outputs = strip(spec.model.outputs)
    for nested in _nested_specs(spec):
        drop_zero_indexes(nested)


def _nested_specs(spec: Spec) -> list[Spec]:
    """The specs of models used as layers, directly or wrapped (TimeDistributed(model))."""
    return [inner.spec for layer in spec.layers for inner in (layer, _field(layer, "layer"))
            if isinstance(inner, Nested)]


def _field(model: BaseModel, name: str):
    # A pydantic model keeps its fields in __dict__; getattr of a field it does not
    # have raises inside pydantic, and export asks each layer several times.
    return vars(model).get(name)


def layer_objects(spec: Spec):
    """Every layer that takes a dtype: the spec's, those of nested models, wrapped ones
    (Bidirectional's LSTM), all made under the dtype policy of the spec's [build]."""
    for layer in spec.layers:
        if isinstance(layer, Nested):
            yield from layer_objects(layer.spec)
        stack = [layer]
        while stack:
            item = stack.pop()
            if "dtype" in type(item).model_fields:
                yield item
            stack.extend(inner for inner in (_field(item, "layer"), _field(item, "backward_layer"))
                         if isinstance(inner, BaseModel))


def dtype_policy(spec: Spec) -> None:
    """Every layer under one dtype policy other than float32 (a model built under
    [build] dtype_policy): say it once in [build] rather than on each layer."""
    from specc.checking.spec import BuildSection
    from specc.vocab.registry import DTYPE_POLICIES

    layers = list(layer_objects(spec))
    policies = {layer.dtype for layer in layers}
    if len(policies) != 1:
        return
    policy = policies.pop()
    if policy in (None, "float32") or policy not in DTYPE_POLICIES:
        return
    for layer in layers:
        _unset(layer, "dtype")
    spec.build = BuildSection(dtype_policy=policy)


def minimize(spec: Spec) -> None:
    """Leave out what specc would infer anyway: default names, default wiring, the kind."""
    from specc.checking.graph import input_names, resolve

    # Export writes the kind of each model it reads, which decides it then.
    sequential = spec.model.kind == "sequential" if spec.model.kind else resolve(spec).sequential
    wanted = layer_names(spec)
    for layer, implied in zip(spec.layers, names_implied(spec)):
        if implied:
            _unset(layer, "name")
    # Keras numbers default input names per process (input_layer_10): not worth keeping.
    if len(spec.inputs) == 1 and spec.inputs[0].name == "input_layer":
        _rename_ref(spec, spec.inputs[0].name, "input_layer")
        _unset(spec.inputs[0], "name")
        wanted = layer_names(spec)
    previous = input_names(spec)[0] if len(spec.inputs) == 1 else None
    for name, layer in zip(wanted, spec.layers):
        if layer.inputs == [previous] and previous is not None:
            _unset(layer, "inputs")
        previous = name
    if spec.model.outputs == [wanted[-1]]:
        _unset(spec.model, "outputs")
    kind = spec.model.kind
    _unset(spec.model, "kind")
    if resolve(spec).sequential != sequential:
        spec.model.kind = kind
    for nested in _nested_specs(spec):
        minimize(nested)

