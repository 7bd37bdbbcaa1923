"""A spec's text -> the same spec in one canonical layout (``specc fmt``).

The layout: sections in the order model, inputs, constants, defaults, blocks,
layers, compile; inside a layer ``type`` (or ``block``), ``name``, ``inputs``, then the arguments in the order of
Keras's constructor signature; tables inline while their line stays under
``WIDTH`` characters (specc/writing/layout.py); numbers as Python writes them (``1e-05``, ``0.5``).
TOML comments stay with the key, header or table they were written at, and
the ``#:schema`` line stays first. The data never changes: the result reads
back equal to the input, or nothing is written.
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.checking import spec as models
from specc.errors import SpecError
from specc.reading.load import parse_text
from specc.vocab import registry
from specc.writing.comments import find_comments
from specc.writing.layout import json_text, toml_text

_REGULARIZER_ORDER = ["custom", "expr", "orthogonal", "mode", "l1", "l2"]


@dataclass(frozen=True)
class Formatted:
    """One file before and after formatting."""

    path: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """The change as a unified diff (empty when there is none)."""
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=self.path, tofile=self.path))


def format_text(text: str, fmt: str = "toml", file: str = "<string>") -> str:
    """The spec ``text`` in the canonical layout; raises SpecError when it does not validate.

    >>> print(format_text('[[layers]]\\nunits = 2\\ntype = "Dense"\\n[[inputs]]\\nshape = [ 4 ]\\n'), end="")
    [[inputs]]
    shape = [4]
    <BLANKLINE>
    [[layers]]
    type = "Dense"
    units = 2
    """
    from specc.checking.validate import validate_document

    document = parse_text(text, fmt, file)
    validate_document(document)
    data = canonical(document.data)
    if fmt == "json":
        result = json_text(data) + "\n"
    else:
        result = toml_text(data, find_comments(text))
    if (json.loads(result) if fmt == "json" else tomllib.loads(result)) != document.data:
        # A bug here must never cost a user a spec.
        raise SpecError("internal error: the formatted spec would not read back the same; "
                        "the file is left as it is", file=file)
    return result


def format_file(path, write: bool = True) -> Formatted:
    """Format one spec file; with ``write``, replace it (atomically, same mode) when it changes.

    >>> format_file("specs/cnn.toml", write=False).changed
    False
    """
    from specc.files import write_atomically
    from specc.reading.load import load_document

    file = os.fspath(path)
    before = load_document(file).text  # read as every spec is read
    after = format_text(before, os.path.splitext(file)[1].lower()[1:], file)
    result = Formatted(file, before, after)
    if write and result.changed:
        target = Path(file).resolve()  # a symbolic link keeps pointing at the spec
        mode = stat.S_IMODE(target.stat().st_mode)
        write_atomically(target, lambda tmp: Path(tmp).write_text(after, encoding="utf-8"))
        os.chmod(target, mode)  # the file's own mode, not a new file's
    return result


# ---- the canonical order of keys ---------------------------------------------------

def canonical(data: dict) -> dict:
    """The spec's data with every table's keys in the canonical order."""
    return _ordered(data, "spec")


def _fields(model) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _key_order(kind: str | None, table: dict) -> list[str]:
    if kind == "spec":
        # What specc/expanding/expand.py reads (constants, defaults, blocks) comes before the layers.
        fields = _fields(models.SourceSpec)
        expanded = [k for k in fields if k not in _fields(models.Spec)]
        at = fields.index("layers")
        return [k for k in fields[:at] if k not in expanded] + expanded + ["layers", "compile"]
    if kind == "block":
        return _fields(models.Block)
    if kind == "model":
        return _fields(models.ModelSection)
    if kind == "input":
        return _fields(models.InputSpec)
    if kind == "compile":
        return _fields(models.CompileSpec)
    if kind == "build":
        return _fields(models.BuildSection)
    if kind == "regularizer":
        return _REGULARIZER_ORDER
    if kind == "layer":
        cls = registry.canonical_layer(str(table.get("type")))
        args = registry.arg_order(cls) if cls else []
        return ["type", "apply", "block", "name", "inputs", *args, "call", "spec"]
    objects = {"initializer": (registry.INITIALIZERS, registry.INITIALIZER_NAMES),
               "constraint": (registry.CONSTRAINTS, registry.CONSTRAINT_NAMES),
               "optimizer": (registry.OPTIMIZERS, {})}.get(kind or "")
    if objects:
        classes, names = objects
        cls = table.get("type")
        cls = cls if cls in classes else names.get(cls)
        return ["type", *(classes[cls]["order"] if cls else [])]
    return []  # user data (outputs, losses per output): as written


def _child_kind(kind: str | None, table: dict, key: str) -> str | None:
    """What the value under ``key`` of a table of this kind is."""
    if kind == "spec":
        return {"model": "model", "inputs": "input", "layers": "layer",
                "compile": "compile", "build": "build", "blocks": "blocks"}.get(key)
    if kind == "blocks":
        return "block"
    if kind == "block":
        return "layer" if key == "layers" else None
    if kind == "compile":
        return "optimizer" if key == "optimizer" else None
    if kind == "layer":
        if key == "spec":
            return "spec"
        cls = registry.canonical_layer(str(table.get("type")))
        info = registry.layer_args(cls).get(key) if cls else None
        if info is None:
            return None
        arg = registry.arg_kind(cls, key, info)
        return arg if arg in ("regularizer", "initializer", "constraint", "layer") else None
    return None


def _ordered(value: Any, kind: str | None) -> Any:
    if isinstance(value, list):
        return [_ordered(v, kind) for v in value]
    if not isinstance(value, dict):
        return value
    preferred = [k for k in _key_order(kind, value) if k in value]
    keys = preferred + [k for k in value if k not in preferred]
    return {k: _ordered(value[k], _child_kind(kind, value, k)) for k in keys}
