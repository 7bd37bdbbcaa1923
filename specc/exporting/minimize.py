"""The exported spec data made minimal: what specc would infer anyway is left out (default
names, default wiring, ":0" tensor indexes, the model kind, one dtype policy on every layer).

Plain data in, new plain data out: export types the result once, after these steps
(export.py), and nothing here changes the data it is given.
"""

from __future__ import annotations

from typing import Any, Iterator

from specc.checking.graph import leaves
from specc.vocab import registry
from specc.vocab.names import implied_names, keras_names, split_ref
from specc.vocab.values import NONE_WORD


def _is_nested(entry: Any) -> bool:
    """A model used as a layer: {type = "Model", spec = {...}}."""
    return isinstance(entry, dict) and isinstance(entry.get("spec"), dict)


def _is_keras_layer(entry: Any) -> bool:
    """A layer of a registry class (not a shared call, an operation or a nested model)."""
    return (isinstance(entry, dict) and "apply" not in entry and not _is_nested(entry)
            and isinstance(entry.get("type"), str) and not entry["type"].startswith("ops."))


def _with_nested(data: dict, change) -> dict:
    """``data`` with ``change`` applied to the specs of models used as layers, directly
    or wrapped (TimeDistributed(model))."""
    def layer(entry):
        if _is_nested(entry):
            return {**entry, "spec": change(entry["spec"])}
        if isinstance(entry, dict) and _is_nested(entry.get("layer")):
            return {**entry, "layer": {**entry["layer"], "spec": change(entry["layer"]["spec"])}}
        return entry

    return {**data, "layers": [layer(e) for e in data["layers"]]}


def _without(entry: dict, key: str) -> dict:
    return {k: v for k, v in entry.items() if k != key}


def _output_count(entry: Any, by_name: dict[str, Any]) -> int | None:
    """How many tensors a call of this layer returns (None: only Keras knows), as
    checking.graph.output_count counts them on a typed layer: absent arguments are
    Keras's defaults, as export leaves out exactly those."""
    if not isinstance(entry, dict):
        return None
    if "apply" in entry:
        target = by_name.get(entry["apply"])
        return None if not isinstance(target, dict) or "apply" in target \
            else _output_count(target, {})
    kind = entry.get("type")
    if not isinstance(kind, str):
        return None
    if kind.startswith("ops."):
        return None if kind.removeprefix("ops.") in registry.LIST_OPS else 1
    if _is_nested(entry):
        outputs = (entry["spec"].get("model") or {}).get("outputs")
        return 1 if outputs is None else sum(1 for _ in leaves(outputs))
    cls = registry.canonical_layer(kind)
    if cls in registry.MANY_OUTPUTS:
        refs = entry.get("inputs")
        return len(refs) if isinstance(refs, list) and len(refs) > 1 else 1
    if (entry.get("call") or {}).get("return_attention_scores") is True:
        return 2
    wrapped = entry.get("layer")
    if cls == "Bidirectional" and isinstance(wrapped, dict):
        inner = wrapped.get("type")
        states = registry.RECURRENT_STATES.get(
            registry.canonical_layer(inner) if isinstance(inner, str) else None, 0)
        merged = 2 if entry.get("merge_mode", "concat") == NONE_WORD else 1
        return merged + (2 * states if wrapped.get("return_state", False) is True else 0)
    if cls == "TimeDistributed" and isinstance(wrapped, dict):
        return _output_count(wrapped, {})
    if entry.get("return_state", False) is True and cls in registry.RECURRENT_STATES:
        return 1 + registry.RECURRENT_STATES[cls]
    return 1


def drop_zero_indexes(data: dict) -> dict:
    """"dense:0" is "dense" where a call returns one tensor (export writes every index)."""
    _, names = keras_names(data)
    by_name = dict(zip(names, data["layers"]))

    def strip(value):
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        target, index = split_ref(value)
        if index == 0 and (target not in by_name or _output_count(by_name[target], by_name) == 1):
            return target
        return value

    layers = [{**e, "inputs": strip(e["inputs"])} if isinstance(e, dict) and e.get("inputs")
              is not None else e for e in data["layers"]]
    model = data.get("model") or {}
    if model.get("outputs") is not None:
        data = {**data, "model": {**model, "outputs": strip(model["outputs"])}}
    return _with_nested({**data, "layers": layers}, drop_zero_indexes)


def _dtype_layers(data: dict) -> Iterator[dict]:
    """Every layer that takes a dtype: the spec's, those of nested models, wrapped ones
    (Bidirectional's LSTM), all made under the dtype policy of the spec's [build]."""
    for entry in data["layers"]:
        if _is_nested(entry):
            yield from _dtype_layers(entry["spec"])
        stack = [entry]
        while stack:
            item = stack.pop()
            cls = registry.canonical_layer(item["type"]) if _is_keras_layer(item) else None
            if cls is not None and "dtype" in registry.layer_args(cls):
                yield item
            stack.extend(inner for inner in (item.get("layer"), item.get("backward_layer"))
                         if isinstance(inner, dict))


def dtype_policy(data: dict) -> dict:
    """Every layer under one dtype policy other than float32 (a model built under
    [build] dtype_policy): say it once in [build] rather than on each layer."""
    policies = {layer.get("dtype") for layer in _dtype_layers(data)}
    if len(policies) != 1:
        return data
    policy = policies.pop()
    if policy in (None, "float32") or policy not in registry.DTYPE_POLICIES:
        return data

    def without_dtype(spec: dict) -> dict:
        def layer(entry):
            entry = _without(entry, "dtype") if _is_keras_layer(entry) else entry
            for key in ("layer", "backward_layer"):
                if isinstance(entry, dict) and isinstance(entry.get(key), dict):
                    entry = {**entry, key: layer(entry[key])}
            return entry

        # Only models used directly as layers, as _dtype_layers reads only theirs.
        return {**spec, "layers": [{**e, "spec": without_dtype(e["spec"])} if _is_nested(e)
                                   else layer(e) for e in spec["layers"]]}

    return {**without_dtype(data), "build": {"dtype_policy": policy}}


def minimize(data: dict) -> dict:
    """Leave out what specc would infer anyway: default names, default wiring, the kind.

    Names are left as they are where two things share one: the wiring check after
    export reports that, and leaving one name out would hide it.
    """
    model, inputs, layers = data.get("model") or {}, data["inputs"], data["layers"]
    input_names, names = keras_names(data)
    everything = input_names + [n for n in names if n is not None]
    if len(set(everything)) != len(everything):
        return data
    pairs = [(e.get("name"), None if "apply" in e else e.get("type")) for e in layers]
    layers = [_without(e, "name") if implied else e
              for e, implied in zip(layers, implied_names(pairs, input_names))]
    # Keras numbers default input names per process (input_layer_10): not worth keeping.
    if len(inputs) == 1 and inputs[0].get("name") == "input_layer":
        inputs = [_without(inputs[0], "name")]
    previous = input_names[0] if len(inputs) == 1 else None
    chained = []
    for name, entry in zip(names, layers):
        if previous is not None and entry.get("inputs") == [previous]:
            entry = _without(entry, "inputs")
        chained.append(entry)
        previous = name
    if model.get("outputs") == [names[-1]] and "outputs" not in model.get("tuples", []):
        model = _without(model, "outputs")
    # Export writes the kind of each model it reads. Left out, the kind is sequential
    # where checking.graph.resolve finds a chain: one input, no layer naming inputs,
    # no shared call or operation, the last layer the output, no input structure.
    implied_sequential = (len(inputs) == 1 and "outputs" not in model and "inputs" not in model
                          and "tuples" not in model
                          and not any("inputs" in e or not _is_chain_layer(e) for e in chained))
    if "kind" in model and (model["kind"] == "sequential") == implied_sequential:
        model = _without(model, "kind")
    minimal = {**data, "inputs": inputs, "layers": chained}
    # A [model] table the data did not have, or one left empty here (a nested model's
    # kind implied), would be written out as an empty table.
    minimal.pop("model", None)
    if model:
        minimal = {"model": model, **minimal}
    return _with_nested(minimal, minimize)


def _is_chain_layer(entry: dict) -> bool:
    return "apply" not in entry and not str(entry.get("type", "")).startswith("ops.")


def layer_objects(spec):
    """The typed layers of a Spec that take a dtype, as _dtype_layers finds them in spec
    data (reporting/diff_form.py writes [build]'s policy back on them, on its own copy)."""
    from pydantic import BaseModel

    from specc.checking.spec import Nested

    for layer in spec.layers:
        if isinstance(layer, Nested):
            yield from layer_objects(layer.spec)
        stack = [layer]
        while stack:
            item = stack.pop()
            if "dtype" in type(item).model_fields:
                yield item
            # vars(): getattr of a field a model lacks raises inside pydantic.
            stack.extend(inner for inner in (vars(item).get("layer"),
                                             vars(item).get("backward_layer"))
                         if isinstance(inner, BaseModel))
