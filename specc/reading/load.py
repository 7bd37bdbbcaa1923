"""Read a TOML or JSON spec and remember where every key and value sits in the text.

tomllib and json return plain data without positions; the positions of the
keys and values (specc/reading/positions.py) are found when a problem needs one.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from specc.errors import SpecError, format_path  # noqa: F401  (format_path: read from here too)
from specc.files import open_regular
from specc.reading.positions import Path, Pos, Positions

_TOML_ERROR = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.S)
# Tables and lists nested deeper than this are refused as soon as a file is
# read. A spec nests about three levels per nested model and one per wrapper.
MAX_DEPTH = 64
# A spec of 64 MiB is about a million layers; anything larger is refused unread.
MAX_SPEC_BYTES = 64 * 2**20


@dataclass
class Document:
    data: dict
    file: str
    keys: Mapping[Path, Pos] = field(default_factory=dict)
    values: Mapping[Path, Pos] = field(default_factory=dict)
    text: str = ""  # the source, for positions inside a string value
    # Paths set by --set overrides (specc/reading/overrides.py) -> the argument that set them.
    overrides: dict[Path, str] = field(default_factory=dict)

    def override(self, path: Path) -> str | None:
        """The --set argument that set the value at path or at one of its parents."""
        path = tuple(path)
        for end in range(len(path), 0, -1):
            if path[:end] in self.overrides:
                return self.overrides[path[:end]]
        return None

    def locate(self, path: Path, key: bool = False) -> tuple[int | None, int | None]:
        """Position of the value at path (or of its key when key=True).

        Array elements and the root have no key, so key=True falls back to the
        value position first, then to the nearest indexed ancestor's value.
        """
        path = tuple(path)
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), 0, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return None, None

    def origin(self, path: Path) -> tuple[Path, str]:
        """The path in the text that the value at path was written at, and a note on
        how it got there (a block instance; see specc/expanding/expand.py). Here: path itself."""
        return tuple(path), ""


def load_document(path: str | os.PathLike) -> Document:
    file = os.fspath(path)
    suffix = os.path.splitext(file)[1].lower()
    if suffix not in (".toml", ".json"):
        shown = f"'{suffix}'" if suffix else "(no suffix)"
        raise SpecError(f"unsupported spec format {shown}: expected .toml or .json", file=file)
    raw = read_regular_file(file, MAX_SPEC_BYTES, "spec")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(
            f"cannot read spec: not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})",
            file=file,
        ) from None
    return parse_text(text, suffix[1:], file)


def read_regular_file(file: str, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; a FIFO, a device
    (/dev/zero) or a link to one is refused without reading it."""
    with open_regular(file, what) as handle:
        try:
            raw = handle.read(limit + 1)
        except OSError as e:
            raise SpecError(f"cannot read {what}: {e.strerror or e}", file=file) from None
    if len(raw) > limit:
        raise SpecError(f"cannot read {what}: larger than the limit of {limit:,} bytes", file=file)
    return raw


def parse_text(text: str, fmt: str, file: str = "<string>") -> Document:
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise _toml_error(str(e), text, file) from None
        except (ValueError, RecursionError, MemoryError) as e:
            raise _parser_limit(e, "TOML", file) from None
    elif fmt == "json":
        # An editor shows the BOM as nothing, so columns are counted without it.
        text = text.removeprefix("\ufeff")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"invalid JSON: {e.msg}", file=file, line=e.lineno, column=e.colno) from None
        except (ValueError, RecursionError, MemoryError) as e:
            raise _parser_limit(e, "JSON", file) from None
        if not isinstance(data, dict):
            line, column = _line_col(text, len(text) - len(text.lstrip()))
            raise SpecError("expected a JSON object at the top level", file=file, line=line, column=column)
    else:
        raise SpecError(f"unsupported spec format '{fmt}': expected toml or json", file=file)
    found = Positions(text, fmt)
    return Document(data, file, found.keys, found.values, text)


def _plain_scalars(values: list) -> bool:
    """True for a list of strings, floats, booleans and 64-bit integers only."""
    kinds = set(map(type, values))
    if not kinds <= {str, float, bool, int, type(None)}:
        return False
    return int not in kinds or all(-(2 ** 63) <= v < 2 ** 64 for v in values if type(v) is int)


def _entries(value: dict | list):
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


def _parser_limit(error: Exception, fmt: str, file: str) -> SpecError:
    """A limit of tomllib or json (Python's 4300-digit integers, nesting) as a message."""
    if isinstance(error, RecursionError):
        reason = "nested too deeply"
    elif isinstance(error, MemoryError):
        reason = "too large to read"
    elif "digits" in str(error):
        reason = "an integer has more than 4300 digits"
    else:
        reason = str(error)
    return SpecError(f"invalid {fmt}: {reason}", file=file)


def plain_data_problems(data: Any, max_depth: int = MAX_DEPTH) -> list[tuple[Path, str]]:
    """Limits on parsed data that no later stage should meet: tables and lists
    nested more than MAX_DEPTH deep, integers beyond 64 bits, TOML dates and times.

    The walk is iterative, and the first value too deep stops it: later stages
    (JSON Schema, pydantic) walk the data recursively.
    """
    problems: list[tuple[Path, str]] = []
    if not isinstance(data, (dict, list)):
        return problems
    # One iterator per open container: memory grows with the depth, not the size.
    path: list = []  # the keys of the open containers below the root
    stack = [_entries(data)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            if stack:
                path.pop()
            continue
        key, value = entry
        if isinstance(value, (dict, list)):
            path.append(key)
            if len(path) >= max_depth:
                return [(tuple(path), f"tables and lists nested more than {max_depth} deep")]
            if isinstance(value, list) and _plain_scalars(value):
                path.pop()  # nothing inside to check: skip the walk, item by item, of a long list
                continue
            stack.append(_entries(value))
        elif isinstance(value, int) and not isinstance(value, bool) \
                and not -(2 ** 63) <= value < 2 ** 64:
            problems.append(((*path, key), "integer out of range: expected at most 64 bits"))
        elif isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
            problems.append(((*path, key), "dates and times are not spec values; "
                             "expected a number, a string, true or false"))
    return problems


def _toml_error(message: str, text: str, file: str) -> SpecError:
    # Python 3.11's TOMLDecodeError only carries its position inside the message.
    match = _TOML_ERROR.match(message)
    if not match:
        return SpecError(f"invalid TOML: {message}", file=file)
    reason, line, column = match.groups()
    if line is None:
        # "end of document": point just past the last real content.
        line, column = _line_col(text, len(text.rstrip()))
    return SpecError(f"invalid TOML: {reason}", file=file, line=int(line), column=int(column))


def _line_col(text: str, pos: int) -> Pos:
    line = text.count("\n", 0, pos)
    return line + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
