"""A typed spec layer -> one Keras layer object: look up the class, pass the arguments.

The typed layer already holds typed values (a wrapped layer is a typed layer,
an initializer a typed table): they are read as they are, never dumped to
data and validated again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from specc.vocab import registry
from specc.vocab.names import default_name
from specc.checking.spec import Nested, Op

# Fields of every typed layer that are not constructor arguments.
_NOT_ARGUMENTS = frozenset(("type", "name", "inputs", "call"))


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
    kinds = _kinds(cls_name)
    given = layer.model_fields_set
    # In the order the fields are declared, as model_dump gives them.
    args = {
        arg: _value(kinds[arg], value)
        for arg, value in layer.__dict__.items() if arg in given and arg not in _NOT_ARGUMENTS
    }
    name = name or layer.name
    if not registry.LAYERS[cls_name].get("takes_name", True):
        name = None  # a plugin's class whose constructor takes no name (nor **kwargs)
    return layer_class(cls_name)(**args, **({"name": name} if name else {}))


@cache
def layer_class(name: str):
    """The Keras class of a registry layer (a few live outside keras.layers; keras-hub's
    come from keras_hub.layers, the package its catalog names)."""
    import importlib

    import keras

    if registry.plugin_of(name) is not None:  # the class the user's plugin registered
        return keras.saving.get_registered_object(name)
    package = registry.package_of(name)
    if package is not None:
        return getattr(import_package(package).layers, registry.class_name(name))
    found = getattr(keras.layers, name, None)
    return found or getattr(importlib.import_module(registry.LAYERS[name]["module"]), name)


def import_package(package: str):
    """A layer package of the registry (keras_hub): never a name read from a spec."""
    import importlib

    from specc.errors import SpecError

    assert package in registry.PACKAGES
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise SpecError(f"this spec uses {package} layers, and {package} cannot be imported "
                        f"({exc}): pip install 'specc[hub]' (or {registry.PACKAGES[package]})"
                        ) from None


def packages_used(spec) -> list[str]:
    """The layer packages outside Keras a spec's layers come from (nested models and
    wrapped layers included), in the order of first use."""
    found: dict[str, None] = {}
    stack = list(spec.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, Nested):
            stack.extend(layer.spec.layers)
            continue
        if isinstance(layer, Op) or not hasattr(layer, "type"):
            continue
        name = registry.canonical_layer(layer.type)
        if name is None:
            continue
        if registry.package_of(name):
            found[registry.package_of(name)] = None
        stack.extend(v for v in layer.__dict__.values() if isinstance(v, BaseModel)
                     and hasattr(v, "type"))
    return list(found)


@cache
def _kinds(layer: str) -> dict[str, str]:
    """The kind of each constructor argument of a registry layer class."""
    return {arg: registry.arg_kind(layer, arg, info)
            for arg, info in registry.LAYERS[layer]["args"].items()}


registry.watch(layer_class.cache_clear)
registry.watch(_kinds.cache_clear)


def _value(kind: str, value: Any) -> Any:
    """Turn a typed spec value into what the Keras constructor takes."""
    if value is None:
        return None
    if kind == "regularizer":
        from specc.building.regularizers import to_keras

        # The vocabulary's forms read a regularizer as the spec writes it.
        return to_keras(value.model_dump(exclude_unset=True)
                        if isinstance(value, BaseModel) else value)
    if kind in ("initializer", "constraint"):
        return _keras_object(kind, value)
    if kind == "layer":
        if isinstance(value, Nested):
            return make_layer(value, value.name)
        # Keras would number an unnamed wrapped layer per process (lstm_7): name it as a fresh one.
        return make_layer(value, value.name or default_name(value.type))
    if kind in ("ints", "shape", "nested_ints", "axis") and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _keras_object(kind: str, value: Any):
    """An initializer or constraint: a Keras name, or a typed {type = "Class", ...} table.

    Instantiated from the registry here: Keras's own string lookup fails for
    some names ("constant").
    """
    import keras

    module = keras.initializers if kind == "initializer" else keras.constraints
    table, names = registry.OBJECTS[kind]
    if isinstance(value, str):
        type_name, args = value, {}
    else:
        given = value.model_fields_set
        type_name = value.type
        args = {k: v for k, v in value.__dict__.items() if k in given and k != "type"}
    cls = names.get(type_name, type_name)
    assert cls in table  # validated: only registry names reach here
    return getattr(module, cls)(**args)
