"""A spec layer -> one Keras layer object: look up the class, pass the arguments."""

from __future__ import annotations

from typing import Any

from specc.vocab import registry
from specc.vocab.names import to_snake_case
from specc.checking.spec import Nested, Op


def make_layer(layer: Any, name: str | None):
    """One Keras layer object from a spec layer (nested layers included)."""
    if isinstance(layer, Nested):
        from specc.building.wiring import assemble  # a nested model is made of layers: recursion

        return assemble(layer.spec, name or layer.name)
    if isinstance(layer, Op):
        import importlib

        info = registry.OPS[layer.type.removeprefix("ops.")]
        cls = getattr(importlib.import_module(info["module"]), info["class"])
        return cls(**(layer.model_extra or {}), name=name)
    cls_name = registry.canonical_layer(layer.type)
    data = layer.model_dump(exclude_unset=True, by_alias=True)
    args = {
        arg: _value(cls_name, arg, value)
        for arg, value in data.items() if arg not in ("type", "name", "inputs", "call")
    }
    name = name or data.get("name")
    return layer_class(cls_name)(**args, **({"name": name} if name else {}))


def layer_class(name: str):
    """The Keras class of a registry layer (a few live outside keras.layers)."""
    import importlib

    import keras

    found = getattr(keras.layers, name, None)
    return found or getattr(importlib.import_module(registry.LAYERS[name]["module"]), name)


def _value(layer: str, arg: str, value: Any) -> Any:
    """Turn a spec value into what the Keras constructor takes."""
    import keras

    from specc.building.regularizers import to_keras

    if value is None:
        return None
    kind = registry.arg_kind(layer, arg, registry.LAYERS[layer]["args"][arg])
    if kind == "regularizer":
        return to_keras(value)
    if kind in ("initializer", "constraint"):
        # Instantiate from the registry ourselves: Keras's own string lookup
        # fails for some names ("constant").
        if isinstance(value, str):
            value = {"type": value}
        module = keras.initializers if kind == "initializer" else keras.constraints
        table, names = registry.OBJECTS[kind]
        cls = names.get(value["type"], value["type"])
        assert cls in table  # validated: only registry names reach here
        return getattr(module, cls)(**{k: v for k, v in value.items() if k != "type"})
    if kind == "layer":
        from specc.checking.spec import parse_layer

        inner = parse_layer(value)
        if isinstance(inner, Nested):
            return make_layer(inner, inner.name)
        # Keras would number an unnamed wrapped layer per process (lstm_7): name it as a fresh one.
        return make_layer(inner, inner.name or to_snake_case(registry.canonical_layer(inner.type)))
    if kind in ("ints", "shape", "nested_ints", "axis") and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value
