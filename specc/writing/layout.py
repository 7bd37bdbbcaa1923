"""Plain data as text in specc's canonical layout: TOML with its comments put back, or JSON.

Tables stay inline while their line fits in ``WIDTH`` characters; numbers are
written as Python writes them (``1e-05``, ``0.5``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from specc.vocab.values import NONE_WORD
from specc.writing.comments import Comments, KeyPath

WIDTH = 120
INDENT = "    "
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def json_text(value: Any, path: KeyPath = (), prefix: int = 0) -> str:
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
            items.append(inner + key + json_text(v, path + (k,), len(key)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [inner + json_text(v, path + (n,)) for n, v in enumerate(value)]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def toml_text(data: dict, comments: Comments) -> str:
    """The TOML text of a spec's data, each comment where ``comments`` places it."""
    return _Toml(comments).render(data)


class _Toml:
    def __init__(self, comments: Comments):
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
        # [[layers.spec.inputs]]), unless a comment sits on it; an entry of an array of
        # tables always does: its [[header]] is what makes the entry.
        bare = (later and not plain and not self.c.leading.get(path) and not self.c.inline.get(path)
                and not (header or "").startswith("[["))
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
    return key if _BARE_KEY.fullmatch(key) else _string(key, multiline=False)


def _scalar(value: Any) -> str:
    if value is None:  # JSON's null (a JSON spec expanded to TOML): TOML has none
        return f'"{NONE_WORD}"'
    if isinstance(value, str):  # a line break makes a multi-line string
        # but not "\r\n": TOML reads a line break in one as "\n", which would lose the "\r"
        return _string(value, multiline="\n" in value and "\r\n" not in value)
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
    import tomlkit

    return tomlkit.item(value).as_string()  # dates: not in a valid spec, kept as TOML writes them


def _string(text: str, multiline: bool) -> str:
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # what tomlkit writes, without its cost per string (most strings)
    import tomlkit

    return tomlkit.string(text, multiline=multiline).as_string()
