"""Keras config -> Spec: take each layer's config, drop what equals the default.

A ``.keras`` file is read as data (its ``config.json``); nothing it names is
imported or called. Every class is looked up in specc's registry, and whatever
the registry does not know is refused, all offenders listed at once.

The steps, each its own module: models.py (inputs, layers, wiring.py's calls),
layers.py (one layer's arguments), compile_section.py, then the spec data is made
minimal (minimize.py), typed once and its wiring checked; weights.py reads the weights.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from specc.checking.graph import wiring_problems
from specc.checking.spec import Spec
from specc.collector import paused
from specc.errors import Problem, SpecError
from specc.exporting.compile_section import compile_section
from specc.exporting.versions import writer_of, written_by
from specc.exporting.config_shape import config_problems
from specc.exporting.minimize import drop_zero_indexes, dtype_policy, minimize
from specc.exporting.models import model_data
from specc.exporting.wiring import TUPLES, mark_tuples
from specc.reading.archive import CONFIG, DEFAULT_MAX_CONFIG_BYTES, open_archive, read_member
from specc.reading.load import format_path


def export_any_file(path, *, compile: bool = True,
                    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> Spec:
    """The Spec of a model file: a ``.keras`` file, or a Keras 2 ``.h5``/``.hdf5``/``.json``
    one (by its suffix), each read as data; ``max_config_bytes`` bounds a ``.keras`` file's
    config.json, a ``.json`` file and each ``.h5`` attribute read."""
    import os

    from specc.exporting import keras2  # it builds on this module

    if os.fspath(path).lower().endswith(keras2.SUFFIXES):
        return keras2.export_file(path, compile=compile, max_config_bytes=max_config_bytes)
    return export_file(path, compile=compile, max_config_bytes=max_config_bytes)


def export_file(path, *, compile: bool = True,
                max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> Spec:
    """Read a ``.keras`` file's architecture as data and turn it into a Spec.

    Only a regular file is read, and its config.json only when it is at most
    ``max_config_bytes`` long once decompressed (see specc/reading/archive.py).
    ``compile=False`` leaves the compile settings out (the architecture alone).
    """
    file = str(path)
    with open_archive(path) as archive:
        raw = read_member(archive, CONFIG, max_config_bytes, file)
        try:  # which Keras wrote it (exporting/versions.py); a file may lack it
            writer = writer_of(read_member(archive, "metadata.json", 2**16, file))
        except SpecError:
            writer = None
    try:
        config = json.loads(raw, object_hook=unshared)  # plain data already
    except json.JSONDecodeError as exc:
        raise SpecError(f"cannot read Keras model: config.json is not JSON ({exc.msg}, line "
                        f"{exc.lineno} column {exc.colno})", file=file) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else (
            "an integer has more than 4300 digits" if "digits" in str(exc) else _reason(exc))
        raise SpecError(f"cannot read Keras model: config.json {reason}", file=file) from None
    with paused(), written_by(writer):
        return _export_config(config, file, compile, is_plain=True)


def plain(value: Any) -> Any:
    """Tuples become lists, as they would after a trip through JSON; the ids a saved file
    gives objects shared between layers (an LSTM and its cell) are left out. Export
    works on such data only, as the catalog is JSON, so ``==`` compares a config value
    with a default."""
    return json.loads(json.dumps(value), object_hook=unshared)


def unshared(obj: dict) -> dict:
    """A JSON object without its shared-object id (``json.loads``'s object_hook)."""
    obj.pop("shared_object_id", None)
    obj.pop(TUPLES, None)  # only export() of a live model says where tuples are
    return obj


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def export(model, *, compile: bool = True) -> Spec:
    """The Spec of a live ``keras.Model``; ``build(export(m))`` rebuilds ``m``, with the
    tuples of its input and output structures (a saved file has lists there)."""
    import keras

    from specc.building.startup import tensorflow_only_if_imported

    tensorflow_only_if_imported(keras)  # on JAX, serializing imports no TensorFlow
    raw = keras.saving.serialize_keras_object(model)
    config = plain(raw)
    mark_tuples(raw, config)  # JSON has no tuples: say where they were
    with paused():
        return _export_config(config, None, compile, is_plain=True)


def export_config(config: dict, file: str | None = None, *, compile: bool = True) -> Spec:
    """The Spec of a serialized Keras model: JSON data, as ``config.json`` of a
    ``.keras`` file holds it (lists, not tuples)."""
    with paused():  # linear time on big models (see specc/collector.py)
        return _export_config(config, file, compile)


def _export_config(config: dict, file: str | None, compile: bool, is_plain: bool = False) -> Spec:
    try:
        config = config if is_plain else plain(config)
    except (ValueError, RecursionError):  # 4300-digit integers, nesting
        problems = config_problems(config) or [Problem("cannot be written as JSON")]
    else:
        problems = config_problems(config)
    if problems:
        raise SpecError(Problem(f"config.json: {p.message}", p.path, file) for p in problems)
    try:
        data = model_data(config, problems, "")
        if compile and config.get("compile_config"):
            data["compile"] = compile_section(config["compile_config"], problems)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        # A shape config_problems does not know yet: still one line, never a traceback.
        raise SpecError(f"config.json is not a model config specc can read "
                        f"({type(exc).__name__}: {_reason(exc)})", file=file) from None
    if problems:
        raise SpecError(Problem(p.message, p.path, file or p.file) for p in problems)
    # All minimal on plain data, then typed once: nothing edits the Spec after.
    data = dtype_policy(minimize(drop_zero_indexes(data)))
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:  # a bug in specc, or a Keras config specc cannot express
        first = {}  # a union reports one error per branch: keep one per layer
        for e in exc.errors():
            first.setdefault(e["loc"][:2], e)
        raise SpecError(Problem(f"the exported spec does not validate: {e['msg']}",
                                format_path(e["loc"][:2]), file) for e in first.values()) from None
    issues = wiring_problems(spec)
    if issues:
        raise SpecError(Problem(f"the exported spec is not wired right: {message}",
                                format_path(at), file) for at, message, _ in issues)
    return spec
