"""What a layer class says of itself through ``inspect``: its call()'s arguments, and for
a plugin's class (the user's own, registered with keras.saving.register_keras_serializable)
the whole registry entry, from its constructor's signature and annotations.

tools/gen_catalog.py describes Keras's and keras-hub's classes with the same call rules.
No TensorFlow here: the class is given, already imported by whoever registered it.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from typing import Any

# Layer's own constructor arguments that a **kwargs passes on (keras/src/layers/layer.py).
BASE_ARGS = {"trainable": {"default": None, "config_default": True}, "dtype": {"default": None}}
# Keys every spec layer table uses for itself (and its expansion's): an argument of
# one of these names could not be written.
LAYER_KEYS = frozenset({"type", "name", "inputs", "call", "apply", "block", "repeat", "if",
                        "spec", "defaults"})
# Annotation -> kind (vocab/kinds.py).
_SCALAR_KINDS = {int: "int", float: "float", bool: "bool", str: "str"}


def call_args(cls) -> list[str]:
    """The names of call()'s arguments, in order: what an ``inputs`` table is keyed by."""
    params = inspect.signature(cls.call).parameters.values()
    return [p.name for p in params
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def call_options(cls) -> dict:
    """The arguments of call() that take a constant rather than a tensor (``training`` and
    the boolean switches), with their defaults: a spec writes them in a ``call`` table."""
    return {p.name: None if p.default is p.empty else jsonable(p.default)
            for p in inspect.signature(cls.call).parameters.values()
            if p.name == "training" or isinstance(p.default, bool)}


def jsonable(value: Any) -> Any:
    """A default as the catalog records it: JSON data (a tuple as a list), else None."""
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return value


def annotation_kind(annotation: Any) -> str | None:
    """The kind an annotation says (``int`` -> "int", ``list[int]`` -> "ints",
    ``float | None`` -> "float"); None when it says none that specc types.

    >>> annotation_kind(int), annotation_kind(list[int]), annotation_kind(typing.Optional[float])
    ('int', 'ints', 'float')
    >>> annotation_kind(dict) is None
    True
    """
    if annotation in _SCALAR_KINDS:
        return _SCALAR_KINDS[annotation]
    origin, parts = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = {annotation_kind(p) for p in parts if p is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin in (list, tuple) and parts:
        items = {p for p in parts if p is not Ellipsis}
        if items == {int}:
            return "ints"
        if items <= {int, float}:
            return "numbers"
    return None


def _signature(function) -> inspect.Signature:
    try:  # string annotations (from __future__ import annotations) read as types
        return inspect.signature(function, eval_str=True)
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate says nothing
        return inspect.signature(function)


def refusal(cls) -> str | None:
    """Why a plugin's Layer class cannot be written as a spec layer (None: it can)."""
    init = cls.__init__
    if init.__qualname__ == "Layer.__init__":
        return None
    params = list(_signature(init).parameters.values())[1:]
    if any(p.kind is p.POSITIONAL_ONLY and p.default is p.empty for p in params):
        return "its constructor has positional-only arguments, which a spec cannot name"
    clash = sorted(p.name for p in params if p.name in LAYER_KEYS - {"name"})
    if clash:
        return (f"its constructor takes '{clash[0]}', a key every spec layer uses for "
                "itself")
    return None


def describe_plugin(cls) -> dict:
    """The registry entry of a plugin's Layer class, from the class alone: its
    constructor's arguments (required ones, JSON defaults, annotated kinds), Layer's
    own trainable and dtype where a ``**kwargs`` passes them on, and its call()'s."""
    init = cls.__init__
    own = not (init.__qualname__ == "Layer.__init__"
               and init.__module__.split(".")[0] == "keras")
    params = list(_signature(init).parameters.values())[1:] if own else []
    takes_kwargs = not own or any(p.kind is p.VAR_KEYWORD for p in params)
    args: dict[str, dict] = {}
    for p in params:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        entry: dict = {"required": True} if p.default is p.empty else {
            "default": jsonable(p.default)}
        kind = annotation_kind(p.annotation) if p.annotation is not p.empty else None
        if kind is not None:
            entry["kind"] = kind
        args[p.name] = entry
    if takes_kwargs:
        for name, entry in BASE_ARGS.items():
            args.setdefault(name, dict(entry))
    return {"module": cls.__module__, "plugin": cls.__module__, "class": cls.__name__,
            "args": args, "order": list(args), "config_only": [],
            "takes_name": takes_kwargs or "name" in args,
            "call": call_args(cls), "call_options": call_options(cls)}
