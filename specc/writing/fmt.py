"""A spec's text -> the same spec in one canonical layout (``specc fmt``).

The layout: sections in the order model, inputs, constants, defaults, blocks,
layers, compile; inside a layer ``type`` (or ``block``), ``name``, ``inputs``, then the arguments in the order of
Keras's constructor signature; tables inline while their line stays under
``WIDTH`` characters; numbers as Python writes them (``1e-05``, ``0.5``).
TOML comments stay with the key, header or table they were written at, and
the ``#:schema`` line stays first. The data never changes: the result reads
back equal to the input, or nothing is written.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.vocab import registry
from specc.checking import spec as models
from specc.errors import SpecError
from specc.reading.load import parse_text

WIDTH = 120
INDENT = "    "
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
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
        result = _json(data) + "\n"
    else:
        result = _Toml(_comments(text)).render(data)
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


# ---- JSON ----------------------------------------------------------------------------

def _json(value: Any, path: KeyPath = (), prefix: int = 0) -> str:
    """Containers on one line when they fit in WIDTH (after ``prefix`` characters), else one
    entry per line; the top level and the lists of inputs and layers are always spread out."""
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    indent = 2 * len(path)
    spread = _is_spec(path) or (path[-1] in ("inputs", "layers") and _is_spec(path[:-1]))
    if not isinstance(value, (dict, list)) or not value or (
            not spread and indent + prefix + len(compact) + 1 <= WIDTH):
        return compact
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            items.append(inner + key + _json(v, path + (k,), len(key)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [inner + _json(v, path + (n,)) for n, v in enumerate(value)]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


# ---- TOML comments -------------------------------------------------------------------

KeyPath = tuple[str | int, ...]


@dataclass
class _Comments:
    schema: str | None          # the "#:schema" line
    header: list[str]           # comments at the top of the file, before a blank line
    leading: dict[KeyPath, list[str]]    # lines just above a key or a table header
    inline: dict[KeyPath, tuple[str, str]]  # (spaces, comment) after a value or header
    trailing: dict[KeyPath, list[str]]   # under a table's last key; () is the end of the file
    verbatim: dict[KeyPath, str]  # arrays that hold comments, kept as written
    _above: set[KeyPath] | None = None  # every path with a comment somewhere below it

    def inside(self, path: KeyPath) -> bool:
        """Whether any comment sits below ``path`` (such a table cannot be inline)."""
        if self._above is None:
            self._above = {p[:n] for table in (self.leading, self.inline, self.trailing,
                                               self.verbatim) for p in table for n in range(len(p))}
        return path in self._above


def _comments(text: str) -> _Comments:
    import tomlkit

    found = _Comments(None, [], {}, {}, {}, {})
    walker = _CommentWalker(found)
    walker.walk(tomlkit.parse(text), (), root=True)
    return found


class _CommentWalker:
    """Walks tomlkit's tree in file order and files each comment under a path.

    Comments wait in ``pending`` ("" marks a blank line) until the key or table
    header they precede claims them; at a table's end, those right under its
    last key stay with the table, those after a blank line go to the next header.
    """

    def __init__(self, found: _Comments):
        self.found = found
        self.pending: list[str] = []
        self.seen_key = False
        self.aot_count: dict[KeyPath, int] = {}

    def lead(self, path: KeyPath) -> None:
        """The waiting comments go above the key or header at ``path``."""
        lines, self.pending = self.pending, []
        while lines and lines[0] == "":
            lines.pop(0)
        while lines and lines[-1] == "":
            lines.pop()
        if lines:
            self.found.leading.setdefault(path, []).extend(lines)

    def first_key(self, path: KeyPath) -> None:
        """The comments above the first key or header: the file's header, then its own."""
        if self.seen_key:
            return
        self.seen_key = True
        lines, self.pending = self.pending, []
        while lines and lines[0] == "":
            lines.pop(0)
        if lines and lines[0].startswith("#:schema"):
            self.found.schema = lines.pop(0)
        if "" in lines:  # a blank line sets the file's header apart from the first key
            cut = len(lines) - lines[::-1].index("")
            self.pending = lines[cut:]
            lines = lines[:cut]
            while lines and lines[0] == "":
                lines.pop(0)
            self.found.header = lines[:-1]
        else:
            self.pending = lines

    def inline_of(self, path: KeyPath, item) -> None:
        trivia = getattr(item, "trivia", None)
        if trivia is not None and trivia.comment:
            self.found.inline[path] = (trivia.comment_ws or "  ", trivia.comment)

    def walk(self, container, path: KeyPath, root: bool = False, table: bool = True) -> None:
        import tomlkit
        from tomlkit import items

        # A document is a container; a table holds one.
        body = container.body if isinstance(container, tomlkit.TOMLDocument) else container.value.body
        for key, item in body:
            if key is None:
                if isinstance(item, items.Comment):
                    self.pending.append(item.trivia.comment)
                elif isinstance(item, items.Whitespace) and "\n" in item.s:
                    if not self.pending or self.pending[-1] != "":
                        self.pending.append("")
                continue
            here = path + (key.key,)
            self.first_key(here)
            if isinstance(item, items.AoT):
                for element in item.body:
                    n = self.aot_count.get(here, 0)
                    self.aot_count[here] = n + 1
                    self.header(here + (n,), element)
            elif isinstance(item, items.Table):
                if key.is_dotted():
                    # a.b = 1 may become a table or an inline one: its comments go above either.
                    self.lead(here)
                    self.walk(item, here, table=False)
                elif item.is_super_table():
                    self.walk(item, here, table=False)
                else:
                    self.header(here, item)
            else:
                self.lead(here)
                self.inline_of(here, item)
                if isinstance(item, items.Array) and _has_comment(item):
                    self.found.verbatim[here] = item.as_string()
        if root:
            self.first_key(())
            self.lead(())  # the end of the file
            self.found.trailing[()] = self.found.leading.pop((), [])
        elif table:
            # Right under the last key (no blank line): the table's; the rest waits.
            cut = self.pending.index("") if "" in self.pending else len(self.pending)
            mine, self.pending = self.pending[:cut], self.pending[cut:]
            if mine:
                self.found.trailing.setdefault(path, []).extend(mine)

    def header(self, path: KeyPath, table) -> None:
        self.lead(path)
        self.inline_of(path, table)
        self.walk(table, path)


def _has_comment(array) -> bool:
    from tomlkit import items

    for item in array._iter_items():  # tomlkit keeps an array's comments among its items
        if isinstance(item, items.Comment):
            return True
        if isinstance(item, items.Array) and _has_comment(item):
            return True
    return False


# ---- TOML ----------------------------------------------------------------------------

class _Toml:
    def __init__(self, comments: _Comments):
        self.c = comments
        self.lines: list[str] = []

    def render(self, data: dict) -> str:
        if self.c.schema:
            self.lines.append(self.c.schema)
        if self.c.header:
            self.lines += self.c.header
            self.lines.append("")
        self.table((), data, header=None)
        if self.c.trailing.get(()):
            self.blank()
            self.lines += self.c.trailing[()]
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "" and self.lines != [self.c.schema]:
            self.lines.append("")

    def table(self, path: KeyPath, data: dict, header: str | None) -> None:
        later, plain = [], []
        for key, value in data.items():
            here = path + (key,)
            if self.is_table(here, value):
                later.append((here, value, f"[{_dotted(here)}]"))
            elif self.is_array_of_tables(here, value):
                later += [(here + (n,), v, f"[[{_dotted(here)}]]") for n, v in enumerate(value)]
            else:
                plain.append((here, key, value))
        # A table of tables alone needs no header of its own ([layers.spec] before
        # [[layers.spec.inputs]]), unless a comment sits on it.
        bare = later and not plain and not self.c.leading.get(path) and not self.c.inline.get(path)
        if header is not None and not bare:
            self.blank()
            self.lines += self.c.leading.get(path, [])
            self.lines.append(header + self.inline(path))
        for here, key, value in plain:
            self.lines += self.c.leading.get(here, [])
            prefix = f"{_key(key)} = "
            self.lines.append(prefix + self.value(here, value, len(prefix)) + self.inline(here))
        self.lines += self.c.trailing.get(path, []) if path else []
        for here, value, sub_header in later:
            self.table(here, value, sub_header)

    def inline(self, path: KeyPath) -> str:
        spaces, comment = self.c.inline.get(path, ("", ""))
        return spaces + comment

    def is_table(self, path: KeyPath, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if _is_spec(path[:-1]) or path[-1] == "spec" or self.c.inside(path):
            return True  # [model], [compile], a nested model, a table holding comments
        line = f"{_key(path[-1])} = {self.value(path, value, 0)}{self.inline(path)}"
        return len(line) > WIDTH

    def is_array_of_tables(self, path: KeyPath, value: Any) -> bool:
        return (_is_spec(path[:-1]) and path[-1] in ("inputs", "layers") and path not in self.c.verbatim
                and isinstance(value, list) and bool(value)
                and all(isinstance(v, dict) for v in value))

    def value(self, path: KeyPath, value: Any, column: int) -> str:
        if path in self.c.verbatim:
            return self.c.verbatim[path]
        text = inline_toml(value)
        if not isinstance(value, list) or column + len(text) <= WIDTH or len(value) < 2:
            return text
        return "[\n" + "".join(f"{INDENT}{inline_toml(v)},\n" for v in value) + "]"


def inline_toml(value: Any) -> str:
    """A value as TOML writes it on one line.

    >>> inline_toml({"l2": 0.01, "shape": ["None", 3]})
    '{ l2 = 0.01, shape = ["None", 3] }'
    """
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {inline_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    return _scalar(value)


def _is_spec(path: KeyPath) -> bool:
    """A spec's top level, or a nested model's spec."""
    return not path or path[-1] == "spec"


def _dotted(path: KeyPath) -> str:
    return ".".join(_key(k) for k in path if isinstance(k, str))


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _scalar(value: Any) -> str:
    import tomlkit

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return tomlkit.string(value, multiline="\n" in value).as_string()
    return tomlkit.item(value).as_string()  # dates: not in a valid spec, kept as TOML writes them
