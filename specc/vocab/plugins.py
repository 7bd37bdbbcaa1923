"""Plugins: penalties registered from Python, for ``{ custom = "name", ... }`` in a spec,
and the user's own Layer classes, registered with keras.saving.register_keras_serializable
and written in a spec by their registered names (``type = "demo>TransformerBlock"``).

A spec can only *name* a penalty or a layer class; the code behind the name comes
from a module the user imports (``--plugin mypkg.layers``), an installed package's
entry point (groups ``specc.regularizers`` and ``specc.layers``), or
``@specc.register_regularizer`` in their own script. Nothing named in a spec or a
model file is ever imported. No TensorFlow import of its own: Keras's table of
registered classes is read only once a plugin was given (the plugin imported Keras).
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from typing import Callable

from specc.errors import SpecError, suggest

ENTRY_POINT_GROUP = "specc.regularizers"
LAYER_ENTRY_POINT_GROUP = "specc.layers"
# Packages whose registered classes are not the user's (keras-hub's models and
# internal layers, specc's own regularizers).
FRAMEWORKS = frozenset({"keras", "keras_hub", "keras_nlp", "keras_cv", "tensorflow",
                        "tf_keras", "specc"})

_REGISTRY: dict[str, Callable] = {}
# The top-level packages of the modules given as plugins (--plugin, plugins=[...], entry
# points): only their layer classes join the registry. Keras's registry also holds the
# classes of every library the process imported (tensorflow_text's tokenizers, which
# keras_hub imports), and those are no plugin of the user's.
_PLUGIN_ROOTS: set[str] = set()
_entry_points_loaded = False


def _same(a: Callable, b: Callable) -> bool:
    # Re-importing a plugin module (importlib.reload, or once through an
    # entry point and once by --plugin) makes a new function object for the
    # same definition; that is not a conflict.
    return a is b or (
        getattr(a, "__module__", None) == getattr(b, "__module__", object())
        and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", object())
    )


def _register(name: str, fn: Callable) -> Callable:
    if not isinstance(name, str) or not name:
        raise ValueError(f"regularizer name must be a non-empty string, got {name!r}")
    if not callable(fn):
        raise ValueError(f"regularizer '{name}' must be callable, got {type(fn).__name__}")
    old = _REGISTRY.get(name)
    if old is not None and not _same(old, fn):
        raise ValueError(
            f"regularizer '{name}' is already registered to "
            f"{old.__module__}.{old.__qualname__}"
        )
    _REGISTRY[name] = fn
    return fn


def register_regularizer(name: str) -> Callable[[Callable], Callable]:
    """Decorator: make ``fn(w, **params)`` usable as ``{ custom = name }``.

    >>> @register_regularizer("doc_penalty")
    ... def doc_penalty(w, factor=0.01):
    ...     import keras
    ...     return factor * keras.ops.sum(keras.ops.abs(w))
    >>> get_regularizer("doc_penalty") is doc_penalty
    True
    """

    def decorator(fn: Callable) -> Callable:
        return _register(name, fn)

    return decorator


def get_regularizer(name: str) -> Callable:
    """The function registered under ``name``; SpecError if there is none.

    >>> get_regularizer("no_such_penalty")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    specc.errors.SpecError: ...unknown custom regularizer 'no_such_penalty'...
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: unhashable name from bad data
        pass
    if not _entry_points_loaded:
        # keras.models.load_model reaches here without the command line's --plugin
        # step: installed packages' penalties count as registered there too.
        load_entry_points()
        return get_regularizer(name)
    names = registered_regularizers()
    if names:
        known = "registered: " + ", ".join(names)
    else:
        known = "none are registered (import one with --plugin MODULE)"
    raise SpecError(
        f"unknown custom regularizer '{name}'; {known}", suggestion=suggest(name, names)
    )


def registered_regularizers() -> list[str]:
    """Sorted names of every registered penalty.

    >>> "doc_penalty" in registered_regularizers()
    True
    """
    return sorted(_REGISTRY)


@cache
def entry_points(group: str) -> tuple:
    """The installed entry points of a group, looked up once per process: the lookup reads
    every installed package's metadata (10 ms), and a process that loads plugins again and
    again (the fuzzer, a language server) would pay it each time. importlib.metadata is
    imported only here: it costs more than the rest of ``specc --version``."""
    from importlib.metadata import entry_points as installed

    return tuple(installed(group=group))


def load_entry_points() -> list[str]:
    """Register the penalties installed packages advertise; return their names.

    Each entry point in group ``specc.regularizers`` names a penalty and
    points at its function, e.g. in pyproject.toml::

        [project.entry-points."specc.regularizers"]
        my_penalty = "mypkg.penalties:my_penalty"

    >>> isinstance(load_entry_points(), list)
    True
    """
    global _entry_points_loaded
    _entry_points_loaded = True
    names = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            _register(ep.name, ep.load())
        except Exception as e:  # a broken plugin must not look like a crash in specc
            raise SpecError(
                f"cannot load regularizer entry point '{ep.name}' ({ep.value}): {_reason(e)}"
            ) from e
        names.append(ep.name)
    return names


def load_plugins(modules: list[str] | None) -> list[str]:
    """Register the regularizers and layer classes of installed plugins and of each module
    named (a command's --plugin, the API's plugins=[...]); the layer types added."""
    load_entry_points()
    given = not _layer_entry_points_loaded and bool(load_layer_entry_points())
    for module in modules or []:
        load_plugin_module(module)
        _PLUGIN_ROOTS.add(module.split(".")[0])
        given = True
    return register_layer_classes() if given else []


PLUGIN_HINT = ("a layer class outside Keras and keras-hub is known only from the module that "
               "registers it: pass it with --plugin MODULE")


def plugin_hint(name: str) -> str | None:
    """What to say of an unknown registered name ("package>Class") whose package no
    plugin gave: how a layer class of the user's becomes known (None for any other name).

    >>> plugin_hint("demo>TransformerBlock") == PLUGIN_HINT, plugin_hint("Dens")
    (True, None)
    """
    if not isinstance(name, str) or ">" not in name:
        return None
    from specc.vocab.registry import LAYERS, PACKAGES

    package = name.partition(">")[0]
    if package in PACKAGES or any(key.partition(">")[0] == package
                                  for key, info in LAYERS.items() if "plugin" in info):
        return None
    return PLUGIN_HINT


_layer_entry_points_loaded = False


def load_installed_layers() -> list[str]:
    """Once per process: the layer classes of installed packages' entry points (group
    ``specc.layers``), registered; the layer types added."""
    if _layer_entry_points_loaded:
        return []
    return register_layer_classes() if load_layer_entry_points() else []


def load_layer_entry_points() -> list[str]:
    """Import the modules installed packages advertise in group ``specc.layers``
    (their layer classes register themselves); the entry points' names. E.g.::

        [project.entry-points."specc.layers"]
        mypkg = "mypkg.layers"
    """
    global _layer_entry_points_loaded
    _layer_entry_points_loaded = True
    names = []
    for ep in entry_points(group=LAYER_ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as e:  # a broken plugin must not look like a crash in specc
            raise SpecError(
                f"cannot load layer entry point '{ep.name}' ({ep.value}): {_reason(e)}") from e
        _PLUGIN_ROOTS.add(ep.module.split(".")[0])
        names.append(ep.name)
    return names


def register_layer_classes() -> list[str]:
    """Add to the registry every Layer class registered with Keras
    (keras.saving.register_keras_serializable) by a plugin's own package (_PLUGIN_ROOTS),
    outside Keras, keras-hub and specc, whose registered name the registry lacks or holds
    for another plugin class; the names added. Keras is read only where a plugin imported
    it."""
    keras = sys.modules.get("keras")
    if keras is None:
        return []
    # Here, not at the top: "import specc" imports this module, and reads no catalog.
    from specc.vocab import registry
    from specc.vocab.introspect import describe_plugin, refusal

    layer = keras.layers.Layer
    found = {}
    for name, obj in list(keras.saving.get_custom_objects().items()):
        root = str(getattr(obj, "__module__", "")).split(".")[0]
        if not (isinstance(name, str) and isinstance(obj, type) and issubclass(obj, layer)) \
                or root in FRAMEWORKS or root not in _PLUGIN_ROOTS:
            continue
        if (name in registry.LAYERS and registry.plugin_of(name) is None) \
                or name in registry.REFUSED or name in registry.LAYER_ALIASES:
            continue  # Keras's and keras-hub's own names stay theirs
        try:
            refused = refusal(obj)
            entry = describe_plugin(obj)
        except Exception as e:  # noqa: BLE001 - a signature inspect cannot read
            raise SpecError(f"cannot read the arguments of layer class '{name}' "
                            f"({obj.__module__}.{obj.__qualname__}): {_reason(e)}") from e
        if refused is not None:  # named, it is refused with the reason, as Lambda is
            registry.REFUSED[name] = refused
            continue
        if registry.LAYERS.get(name) != entry:
            found[name] = entry
    if found:
        registry.add_layers(found)
    return sorted(found)


def plugin_modules() -> list[str]:
    """The modules the registry's plugin layer classes come from."""
    from specc.vocab import registry

    return sorted({info["plugin"] for info in registry.LAYERS.values() if "plugin" in info})


def load_plugin_module(module_name: str):
    """Import the module the user named with ``--plugin``; return it.

    Importing runs its ``@register_regularizer`` decorators.

    >>> load_plugin_module("json").__name__
    'json'
    """
    try:
        return importlib.import_module(module_name)
    except Exception as e:  # ImportError, or whatever the module raises while importing
        raise SpecError(f"cannot import plugin '{module_name}': {_reason(e)}") from e


def _reason(e: BaseException) -> str:
    # "No module named 'x'" says enough; other errors need their type.
    if isinstance(e, ImportError) and str(e):
        return str(e)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
