"""The paths of ``[model] tuples``: which arrays of a model's ``outputs`` and ``inputs``
structures are Python tuples (TOML and JSON have arrays only).

A path starts at ``outputs`` or ``inputs`` and goes down the structure as written: ``.KEY``
for a table's key made of letters, digits, ``_`` and ``-``, ``["KEY"]`` (a JSON string)
for any other key, ``[N]`` for the item N of an array.

>>> parse_path('outputs.c["c 1"][0]')
('outputs', 'c', 'c 1', 0)
>>> format_path(("outputs", "c", "c 1", 0))
'outputs.c["c 1"][0]'
>>> list(arrays({"a": ["x", "y"], "b": "z"}))
[('a',)]
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

ROOTS = ("inputs", "outputs")
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# An index of at most 18 digits: as many as a --set index takes (reading/overrides.py).
_INDEX = re.compile(r"\[(0|[1-9][0-9]{0,17})\]")
_DECODER = json.JSONDecoder()


def format_path(parts: tuple) -> str:
    """A path as [model] tuples writes it: the root, then each key or index."""
    text = str(parts[0])
    for part in parts[1:]:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE.fullmatch(part):
            text += f".{part}"
        else:
            quoted = json.dumps(part, ensure_ascii=False)
            try:
                quoted.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: \\u escapes only
                quoted = json.dumps(part)
            text += f"[{quoted}]"
    return text


def parse_path(text: str) -> tuple | None:
    """The parts of a path (its root first), or None when ``text`` is not one."""
    root = next((r for r in ROOTS if text == r or text.startswith((f"{r}.", f"{r}["))), None)
    if root is None:
        return None
    parts: list[Any] = [root]
    at = len(root)
    while at < len(text):
        if text[at] == ".":
            bare = _BARE.match(text, at + 1)
            if bare is None:
                return None
            parts.append(bare.group())
            at = bare.end()
        elif text.startswith('["', at):
            try:
                key, end = _DECODER.raw_decode(text, at + 1)
            except ValueError:
                return None
            if not text.startswith("]", end):
                return None
            parts.append(key)
            at = end + 1
        else:
            index = _INDEX.match(text, at)
            if index is None:
                return None
            parts.append(int(index.group(1)))
            at = index.end()
    return tuple(parts)


def arrays(structure: Any, at: tuple = ()) -> Iterator[tuple]:
    """The path of every array in a structure of names (lists and tables, nested), each
    before the arrays inside it."""
    if isinstance(structure, list):
        yield at
        for n, value in enumerate(structure):
            yield from arrays(value, (*at, n))
    elif isinstance(structure, dict):
        for key, value in structure.items():
            yield from arrays(value, (*at, key))
