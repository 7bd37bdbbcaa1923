"""A model in normal form, what Keras would make of a spec: canonical class names,
every layer's Keras name and inputs, shared calls named as export names them,
and each layer's arguments through specc.reporting.diff_args. A spec and the
``.keras`` built from it have the same normal form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specc.vocab import registry
from specc.checking.graph import resolve
from specc.checking.spec import INPUT_FLAGS, Apply, Nested, Op, Spec
from specc.writing.dump import to_data
from specc.reporting.diff_args import arguments, normal_compile
from specc.vocab.values import word_to_none
from specc.reporting.rules_base import is_multi
from specc.reporting.shapes import summarize, tensor_shape


@dataclass
class Layer:
    """A layer in normal form: its Keras class, name, arguments and inputs."""

    name: str
    type: str
    args: dict[str, Any]
    inputs: Any  # list of names, or a table of call argument -> name(s)
    call: dict = field(default_factory=dict)
    model: "Model | None" = None  # a nested model


@dataclass
class Model:
    """A model in normal form, with each layer's parameter count where specc can count it."""

    name: str
    inputs: list[dict]
    layers: list[Layer]
    outputs: Any
    forms: dict  # inputs (the structure the model takes), inputs_form, outputs_form, tuples
    compile: dict | None
    params: dict[str, int | None] = field(default_factory=dict)  # per layer, from specc.reporting.shapes
    total: int | None = None  # None: a layer could not be counted


def normal_form(spec: Spec, name: str | None = None) -> Model:
    """What Keras would make of a spec, as plain data that compares equal across formats."""
    spec = _under_policy(spec)
    graph = resolve(spec)
    data = to_data(spec)
    summary = _summary(spec)
    rows = summary.layers if summary else ()
    shapes = {row.name: row.output_shape for row in rows}
    inputs = []
    for entry, input_name in zip(data["inputs"], graph.inputs):
        shown = {"name": input_name, "shape": [word_to_none(d) for d in entry["shape"]]}
        if entry.get("dtype", "float32") != "float32":
            shown["dtype"] = entry["dtype"]
        for flag in INPUT_FLAGS:
            if entry.get(flag):
                shown[flag] = True
        if entry.get("batch_size") is not None:
            shown["batch_size"] = entry["batch_size"]
        inputs.append(shown)
    layers = [_layer(node.name, spec.layers[node.index], data["layers"][node.index], node.inputs,
                     shapes) for node in graph.nodes]
    outputs = graph.outputs
    layers, outputs = _call_names(layers, outputs)
    model = spec.model
    default_name = "sequential" if graph.sequential else "functional"
    forms = {k: getattr(model, k) for k in ("inputs", "inputs_form", "outputs_form", "tuples")
             if getattr(model, k)}
    return Model(name or model.name or default_name, inputs, layers, outputs, forms,
                 normal_compile(data.get("compile")) if spec.compile is not None else None,
                 {row.name: row.params for row in rows},
                 summary.total if summary and not summary.partial else None)


def _under_policy(spec: Spec) -> Spec:
    """The spec with [build] dtype_policy written on each layer that sets no dtype of its
    own, as Keras saves a model built under it (and export reads it back)."""
    from specc.exporting.minimize import layer_objects

    policy = spec.build.dtype_policy if spec.build else None
    if policy is None:
        return spec
    spec = spec.model_copy(deep=True)
    for layer in layer_objects(spec):
        # Hashing sets its dtype itself, whatever the policy.
        mode = {"output_mode": getattr(layer, "output_mode", None) or "int"}
        if "dtype" not in layer.model_fields_set \
                and registry.own_dtype(registry.canonical_layer(layer.type) or "", mode) is None:
            layer.dtype = policy
    spec.build = None
    return spec


def _layer(name: str, layer: Any, data: dict, inputs: Any, shapes: dict) -> Layer:
    if isinstance(layer, Apply):
        return Layer(name, "apply", {"apply": layer.apply}, inputs)
    if isinstance(layer, Nested):
        return Layer(name, "Model", {}, inputs, model=normal_form(layer.spec, name))
    # A functional model records training=False on every call that takes it.
    call = {k: v for k, v in (data.get("call") or {}).items() if (k, v) != ("training", False)}
    extra = {k: v for k, v in data.items() if k not in ("type", "name", "inputs", "call")}
    if isinstance(layer, Op):
        return Layer(name, layer.type, {k: word_to_none(v) for k, v in extra.items()}, inputs, call)
    cls = registry.canonical_layer(layer.type)
    axes = word_to_none(extra.get("attention_axes"))
    if "attention_axes" in registry.layer_args(cls) and axes is None:
        # Keras attends over every axis of the query but the first and last.
        rank = _rank(shapes, inputs.get("query") if isinstance(inputs, dict) else inputs[0])
        if rank:
            extra["attention_axes"] = registry.attention_axes(rank)
    return Layer(name, cls, arguments(cls, extra), inputs, call)


def _rank(shapes: dict, ref: Any) -> int | None:
    """The rank (with the batch axis) of a tensor, when specc.reporting.shapes knows it."""
    if not isinstance(ref, str):
        return None
    shape = tensor_shape(shapes, ref)
    if not shape or is_multi(shape):
        return None
    return len(shape)


def _call_names(layers: list[Layer], outputs: Any) -> tuple[list[Layer], Any]:
    """Shared calls renamed <layer>_call_<n>, as export names them, in both models alike."""
    renames: dict[str, str] = {}
    counts: dict[str, int] = {}
    for layer in layers:
        if layer.type == "apply":
            target = layer.args["apply"]
            counts[target] = counts.get(target, 0) + 1
            renames[layer.name] = f"{target}_call_{counts[target]}"
    if not renames:
        return layers, outputs
    for layer in layers:
        layer.name = renames.get(layer.name, layer.name)
        layer.inputs = rename_refs(layer.inputs, renames)
    return layers, rename_refs(outputs, renames)


def rename_refs(refs: Any, names: dict[str, str]) -> Any:
    """Layer references (a name, "name:1", lists and tables of them) under new names."""
    if isinstance(refs, list):
        return [rename_refs(r, names) for r in refs]
    if isinstance(refs, dict):
        return {k: rename_refs(v, names) for k, v in refs.items()}
    if isinstance(refs, str):
        base, colon, index = refs.partition(":")
        return names.get(base, base) + colon + index
    return refs


def _summary(spec: Spec):
    try:
        return summarize(spec)
    except Exception:  # a shape rule's bug must not cost the comparison: counts unknown
        return None
