"""A layer's arguments and a [compile] section in normal form, for ``specc diff``:
values in the shape Keras's config gives them (``3`` -> ``[3, 3]`` in Conv2D,
regularizers, initializers and constraints as tables), and what equals Keras's
default left out, so that two ways of writing the same model compare equal.
"""

from __future__ import annotations

import re
from typing import Any

from specc.vocab import registry
from specc.vocab.values import word_to_none

DEFAULT = object()  # an argument left at Keras's default (shown as absent)
_RANK = re.compile(r"([123])D")  # Conv2D, Conv2DTranspose, ConvLSTM2D


def arguments(cls: str, given: dict) -> dict:
    """A layer's arguments in normal form: Keras's shapes of values, defaults left out."""
    own = registry.own_dtype(cls, given) or "float32"  # Hashing: int64
    args = {k: _argument(cls, k, v, own) for k, v in given.items()}
    for key, source in registry.derived_defaults(cls).items():  # Keras writes them out
        if args.get(key) is None:
            value = args.get(source) or _normal_default(cls, source, own)
            if value is not DEFAULT:
                args[key] = value
    if cls == "Bidirectional" and _is_mirror(args.get("layer"), args.get("backward_layer")):
        del args["backward_layer"]  # what Bidirectional builds itself
    order = registry.arg_order(cls)
    return {k: args[k] for k in sorted(args, key=lambda k: order.index(k) if k in order else -1)
            if args[k] != _normal_default(cls, k, own)}


def _default(cls: str, key: str, own_dtype: str = "float32") -> Any:
    info = registry.layer_args(cls)[key]
    if "required" in info:
        return DEFAULT
    if key == "dtype":
        return own_dtype
    if info.get("default") is None and key not in registry.STABLE_DEFAULTS:
        return None  # a default Keras derives from other arguments: only None means it
    from specc.exporting.layers import spec_value

    return spec_value(cls, key, info.get("config_default", info.get("default")))


def _normal_default(cls: str, key: str, own_dtype: str = "float32") -> Any:
    default = _default(cls, key, own_dtype)
    return default if default is DEFAULT else _argument(cls, key, default, own_dtype)


def _argument(cls: str, key: str, value: Any, own_dtype: str = "float32") -> Any:
    value = word_to_none(value)
    if value is None and key in registry.STABLE_DEFAULTS:
        value = _default(cls, key, own_dtype)  # activation = "None" is linear
    if value is None:
        return None
    info = registry.layer_args(cls)[key]
    kind = registry.arg_kind(cls, key, info)
    rank = _RANK.search(cls)
    if kind == "ints" and isinstance(value, int) and rank:
        return [value] * int(rank.group(1))
    if kind == "nested_ints" and rank:
        return _padding(value, int(rank.group(1)))
    if kind == "axis" and isinstance(value, int):
        return [value]
    if kind == "activation":
        return registry.ACTIVATION_ALIASES.get(value, value)
    if kind == "dtype":
        return None if value == "float32" else value
    if kind == "regularizer":
        return _regularizer(value)
    if kind in ("initializer", "constraint"):
        return _keras_object(kind, value)
    if kind == "layer" and isinstance(value, dict) and "spec" in value:
        return _wrapped_model(value)
    if kind == "layer" and isinstance(value, dict):
        inner = registry.canonical_layer(value["type"])
        out = {"type": inner, **arguments(inner, {k: v for k, v in value.items()
                                                  if k not in ("type", "name")})}
        from specc.vocab.names import default_name

        name = str(value.get("name", "")).removeprefix("forward_")
        if name and name != default_name(inner):
            out["name"] = name
        return out
    return value


def _wrapped_model(value: dict) -> dict:
    """A whole model inside a wrapper (TimeDistributed), in the normal form of a nested
    model, as plain data."""
    from dataclasses import asdict

    from specc.checking.spec import Spec
    from specc.reporting.diff_form import normal_form  # which reads these arguments

    return {"type": "Model", "model": asdict(normal_form(Spec.model_validate(value["spec"]),
                                                         value.get("name")))}


def _padding(value: Any, rank: int) -> Any:
    """Keras's (before, after) pairs: 1 -> [1, 1] in 1D, [[1, 1], [1, 1]] in 2D."""
    if rank == 1:
        return [value, value] if isinstance(value, int) else value
    if isinstance(value, int):
        return [[value, value]] * rank
    return [[v, v] if isinstance(v, int) else v for v in value]


def _regularizer(value: Any) -> Any:
    if isinstance(value, str):
        return {value: registry.DEFAULT_FACTOR}
    value = dict(value)
    if "l1" in value and "l2" in value:  # L1L2 with a zero part is the other one alone
        if value["l2"] == 0:
            del value["l2"]
        elif value["l1"] == 0:
            del value["l1"]
    if "orthogonal" in value and value.get("mode") == "rows":
        del value["mode"]
    return value


def _keras_object(kind: str, value: Any) -> dict:
    table, names = ((registry.INITIALIZERS, registry.INITIALIZER_NAMES) if kind == "initializer"
                    else (registry.CONSTRAINTS, registry.CONSTRAINT_NAMES))
    if isinstance(value, str):
        value = {"type": value}
    cls = value["type"] if value["type"] in table else names[value["type"]]
    defaults = table[cls]["args"]
    args = {k: v for k, v in value.items() if k != "type" and v != defaults.get(k, DEFAULT)}
    return {"type": cls, **args}


def _is_mirror(forward: Any, backward: Any) -> bool:
    if not isinstance(forward, dict) or not isinstance(backward, dict):
        return False
    flipped = {**forward, "go_backwards": not forward.get("go_backwards", False)}
    flipped.pop("name", None)
    backward = {k: v for k, v in backward.items() if k != "name"}
    cls = forward["type"]
    return arguments(cls, {k: v for k, v in flipped.items() if k != "type"}) == \
        {k: v for k, v in backward.items() if k != "type"} and backward.get("type") == cls


def normal_compile(data: dict) -> dict:
    """A [compile] section in normal form: Keras's defaults left out, the optimizer a table."""
    from specc.exporting.compile_section import minimal_compile

    out = minimal_compile(data)
    optimizer = out.get("optimizer", "rmsprop")
    by_name = {cls.lower(): cls for cls in registry.OPTIMIZERS}
    if isinstance(optimizer, str):
        optimizer = {"type": by_name[optimizer]}
    defaults = registry.OPTIMIZERS[optimizer["type"]]["args"]
    out["optimizer"] = {k: v for k, v in word_to_none(optimizer).items()
                        if k == "type" or v != defaults.get(k, DEFAULT)}
    return out
