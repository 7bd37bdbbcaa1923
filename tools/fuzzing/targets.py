"""What the fuzzer feeds specc, and how: one runner per target, over plain payloads.

A payload is JSON-serializable (text, data, base64 bytes, an HDF5 file's recipe,
a command line and its files), so a finding is saved, minimized and replayed as
data. A runner raises ``Finding`` (or lets any exception but ``SpecError`` out)
when specc breaks its promise: a result or a clean ``SpecError``, exit code 0
or 1 from the command line (2 for a usage error), never exit 3 or a traceback.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from specc.checking.validate import validate_document
from specc.reading.load import parse_text

INTERNAL_LINE = re.compile(r"specc: internal error: (.*?); please report it")
# A Python warning raised in specc's own code (or in the source it parses) and printed
# on stderr: a line the user was never meant to see.
WARNING_LINE = re.compile(r"^(?:<unknown>|<string>|\S*/specc/\S*):\d+: (\w*Warning): ", re.M)


class NotMade(Exception):
    """The payload could not be written as a file (a mutated recipe): no input, no finding."""


class Finding(Exception):
    """specc broke its promise: ``key`` says how and where (the same for one bug)."""

    def __init__(self, key: str, details: str):
        super().__init__(key)
        self.key, self.details = key, details


# ---- library targets: the stage a command calls, in this process ----------------

def run_text(payload: dict) -> None:
    validate_document(parse_text(payload["text"], payload["format"]))


def run_data(payload: dict) -> None:
    validate_document(parse_text(json.dumps(payload["data"], allow_nan=True), "json"))


def run_config(payload: dict) -> None:
    from specc.exporting.export import export_config

    export_config(payload["data"])


def run_file(payload: dict) -> None:
    """A model file (.keras, .h5, .json) through export, as ``specc export`` reads it."""
    from specc.exporting.export import export_any_file

    with workdir() as where:
        path = materialize(where, payload["name"], payload["file"])
        export_any_file(path)


# ---- the command line, in this process ---------------------------------------------

def run_cli(payload: dict) -> None:
    """``specc ARGV`` over the payload's files: exit 3 or a traceback is a finding."""
    from specc.cli.main import main

    plugged = "--plugin" in payload["argv"]
    if plugged:  # the fuzzer's own plugin module (fuzzing/plugin.py), on sys.path
        from fuzzing import plugin

        plugin.ready()
    try:
        _run_cli(payload, main)
    finally:
        if plugged:
            plugin.forget()


def _run_cli(payload: dict, main) -> None:
    with workdir() as where:
        for name, file in payload["files"].items():
            materialize(where, name, file)
        argv = [arg.replace("{dir}", str(where)) for arg in payload["argv"]]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
            # Every warning, every time (a process shows each once): replays and
            # minimizing see it again. Deprecations are hidden, as Python hides them.
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", DeprecationWarning)
            code = main(argv)
    printed = out.getvalue() + err.getvalue()
    warned = WARNING_LINE.search(err.getvalue())
    if code == 3 or code not in (0, 1, 2) or "Traceback (most recent call last)" in printed \
            or warned:
        found = INTERNAL_LINE.search(printed)
        key = found.group(1) if found else (f"a {warned.group(1)} printed" if warned else
                                            f"exit {code} with a traceback")
        raise Finding(key, printed[-20_000:])


def run_catalog_cache(payload: dict) -> None:
    """A newer Keras's cached catalog (specc/vocab/next_keras.py), as the user's cache
    directory may hold it: read and checked, a catalog or None, never an exception."""
    import hashlib

    from specc.vocab import next_keras

    with workdir() as where:
        path = Path(where) / "catalog-keras-3.99.0.json"
        data = payload["text"].encode("utf-8", "surrogatepass")
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest() if payload["hash"] else "0" * 64
        Path(f"{path}.sha256").write_text(digest)
        found = next_keras._read(path, "3.99.0")
        if found is not None and not next_keras.well_formed(found, "3.99.0"):
            raise Finding("a cached catalog read back ill-formed", json.dumps(found)[:3000])


RUNNERS = {"text": run_text, "data": run_data, "config": run_config, "file": run_file,
           "cli": run_cli, "catalog_cache": run_catalog_cache}


# ---- files -------------------------------------------------------------------------

_WORK: list[Path] = []


class workdir:
    """One scratch folder for the whole run, emptied after each input."""

    def __enter__(self) -> Path:
        if not _WORK:
            _WORK.append(Path(tempfile.mkdtemp(prefix="specc-fuzz-")))
        return _WORK[0]

    def __exit__(self, *exc) -> None:
        for entry in _WORK[0].iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def materialize(where: Path, name: str, file: dict) -> Path:
    """Write one payload file: ``{"text": ...}``, ``{"b64": ...}`` or ``{"h5": recipe}``."""
    try:
        return _write(where / name, file)
    except Exception as exc:  # noqa: BLE001 - the fuzzer's own failure, before specc runs
        raise NotMade(exc) from None


def _write(path: Path, file: dict) -> Path:
    if "text" in file:
        path.write_text(file["text"], errors="surrogatepass")
    elif "b64" in file:
        path.write_bytes(base64.b64decode(file["b64"]))
    else:
        write_h5(path, file["h5"])
    return path


def write_h5(path: Path, recipe: dict) -> None:
    """A Keras 2 .h5 file as h5py writes it: attributes, and datasets by shape (their
    values are never written: a declared 30000 x 30000 kernel costs nothing)."""
    import h5py

    with h5py.File(path, "w") as h5:
        for key, value in recipe.get("attrs", {}).items():
            h5.attrs[str(key)] = value if isinstance(value, (str, int, float)) else json.dumps(value)
        for group_path, group in recipe.get("groups", {}).items():
            node = h5.require_group(str(group_path) or "/")
            for key, value in (group.get("attrs") or {}).items():
                node.attrs[str(key)] = [str(v).encode() for v in value] \
                    if isinstance(value, list) else str(value)
            for name, (shape, dtype) in (group.get("datasets") or {}).items():
                shape = tuple(int(d) for d in shape)
                # h5py's chunk guess runs for ever on absurd shapes: up to 2**40 values.
                if len(shape) > 8 or not all(0 <= d <= 2**32 for d in shape) \
                        or math.prod(shape) > 2**40:
                    raise ValueError(f"shape {shape} is beyond what the fuzzer writes")
                node.create_dataset(str(name), shape=shape, dtype=str(dtype),
                                    chunks=True if shape and all(shape) else None,
                                    compression="gzip" if shape and all(shape) else None)


def h5_recipe(path: Path) -> dict:
    """The recipe of a real .h5 file, for write_h5 (the seeds of the Keras 2 targets)."""
    import h5py

    recipe: dict = {"attrs": {}, "groups": {}}
    with h5py.File(path, "r") as h5:
        for key, value in h5.attrs.items():
            recipe["attrs"][key] = value.decode() if isinstance(value, bytes) else str(value)

        def visit(name, node):
            if isinstance(node, h5py.Group):
                recipe["groups"][name] = {
                    "attrs": {k: [x.decode() if isinstance(x, bytes) else str(x) for x in v]
                              if hasattr(v, "__len__") and not isinstance(v, (str, bytes))
                              else str(v) for k, v in node.attrs.items()},
                    "datasets": {k: [list(d.shape), str(d.dtype)] for k, d in node.items()
                                 if isinstance(d, h5py.Dataset)}}
        h5.visititems(visit)
    return recipe


def key_of(exc: BaseException) -> str:
    """``TypeError in expanding/instances.py:186``: the exception and where specc raised it."""
    from specc.cli.main import where

    return f"{type(exc).__name__} in {where(exc)}"


def decoded_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


def environment() -> None:
    """What the command line sees in the fuzzer: tracebacks shown (a finding's details)."""
    os.environ["SPECC_DEBUG"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
