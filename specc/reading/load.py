"""Read a TOML or JSON spec and remember where every key and value sits in the text.

tomllib and json return plain data without positions, so after they accept the
text a small scanner walks it again, only to record (line, column) per path.
The scanner trusts that the text is valid and is lenient about everything else.
"""

from __future__ import annotations

import bisect
import datetime
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from specc.errors import SpecError, format_path  # noqa: F401  (format_path: read from here too)
from specc.files import open_regular

Path = tuple[str | int, ...]
Pos = tuple[int, int]

_TOML_ERROR = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.S)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_SCALAR = re.compile(r"[^,\]}\n#]*")
_JSON_WS = " \t\r\n"
# Tables and lists nested deeper than this are refused as soon as a file is
# read. A spec nests about three levels per nested model and one per wrapper.
MAX_DEPTH = 64
# A spec of 64 MiB is about a million layers; anything larger is refused unread.
MAX_SPEC_BYTES = 64 * 2**20


@dataclass
class Document:
    data: dict
    file: str
    keys: dict[Path, Pos] = field(default_factory=dict)
    values: dict[Path, Pos] = field(default_factory=dict)
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
        scanner = _TomlScanner(text)
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
        scanner = _JsonScanner(text)
    else:
        raise SpecError(f"unsupported spec format '{fmt}': expected toml or json", file=file)
    scanner.run()
    return Document(data, file, scanner.keys, scanner.values, text)


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


class _Scanner:
    def __init__(self, text: str):
        self.text, self.i = text, 0
        self.keys: dict[Path, Pos] = {}
        self.values: dict[Path, Pos] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self) -> Pos:
        line = bisect.bisect_right(self._starts, self.i)
        return line, self.i - self._starts[line - 1] + 1

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def walk(self, path: Path) -> None:
        """Scan the value at path, and every array and table inside it.

        An explicit stack, not recursion: the nesting depth comes from the text.
        """
        stack: list[list] = []  # [closing character, path, entries so far, is a table]
        self.begin(path, stack)
        while stack:
            self.skip(newlines=True)
            c = self.peek()
            if c == ",":
                self.i += 1
                continue
            frame = stack[-1]
            if c in (frame[0], ""):
                self.i += 1
                stack.pop()
                continue
            frame[2] += 1
            self.begin(self.member(frame[1]) if frame[3] else (*frame[1], frame[2] - 1), stack)

    def begin(self, path: Path, stack: list[list]) -> None:
        """Note where the value at path starts; open an array or table, or scan a scalar."""
        self.values[path] = self.pos()
        c = self.peek()
        if c in ("[", "{"):
            self.i += 1
            stack.append(["]" if c == "[" else "}", path, 0, c == "{"])
        elif c in ("\"", "'"):
            self.string()
        else:
            self.scalar()


class _TomlScanner(_Scanner):
    def run(self) -> None:
        table: Path = ()
        elements: dict[Path, int] = {}  # array-of-tables path -> elements so far
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.text):
                return
            if self.peek() != "[":
                self.walk(self.member(table))
                continue
            start, is_array = self.pos(), self.peek(2) == "[["
            self.i += 2 if is_array else 1
            parts = self.key()
            table = ()
            for n, (name, where) in enumerate(parts):
                table += (name,)
                last = n == len(parts) - 1
                if last and is_array:
                    elements[table] = elements.get(table, 0) + 1
                # An array of tables stays at its first header; each element at its own.
                self.note(table, start if last else where, first=not last or is_array)
                if table in elements:
                    table += (elements[table] - 1,)
            if is_array:
                self.note(table, start)
            self.skip()
            self.i += 2 if is_array else 1

    def note(self, path: Path, where: Pos, first: bool = False) -> None:
        if first:
            self.keys.setdefault(path, where)
            self.values.setdefault(path, where)
        else:
            self.keys[path] = self.values[path] = where

    def skip(self, newlines: bool = False) -> None:
        """Skip blanks and comments (and line ends too when newlines)."""
        while self.i < len(self.text):
            c = self.text[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end
            else:
                return

    def key(self) -> list[tuple[str, Pos]]:
        parts = []
        while True:
            self.skip()
            where, start = self.pos(), self.i
            if self.peek() in ("\"", "'"):
                self.string()
                name = tomllib.loads("k = " + self.text[start : self.i])["k"]
            else:
                match = _BARE_KEY.match(self.text, self.i)
                self.i = match.end() if match else self.i + 1
                name = self.text[start : self.i]
            parts.append((name, where))
            self.skip()
            if self.peek() != ".":
                return parts
            self.i += 1

    def member(self, table: Path) -> Path:
        """Read ``key =`` (dotted keys included) and return the path of its value."""
        path = table
        for name, where in self.key():
            path += (name,)
            # Tables made implicitly by a dotted key sit at their part of the key.
            self.note(path, where, first=True)
        self.keys[path] = where
        self.i += 1  # the "="
        self.skip()
        return path

    def scalar(self) -> None:
        # Numbers, booleans and dates (which may contain a space) end at one of these.
        self.i = max(_TOML_SCALAR.match(self.text, self.i).end(), self.i + 1)

    def string(self) -> None:
        quote = self.peek()
        delim = quote * 3 if self.peek(3) == quote * 3 else quote
        self.i += len(delim)
        while self.i < len(self.text):
            if quote == '"' and self.peek() == "\\":
                self.i += 2
            elif self.text.startswith(delim, self.i):
                self.i += len(delim)
                # A multi-line string may end with up to two more quotes of content.
                for _ in range(2 if len(delim) == 3 else 0):
                    self.i += self.peek() == quote
                return
            else:
                self.i += 1


class _JsonScanner(_Scanner):
    def run(self) -> None:
        self.skip()
        self.walk(())
        del self.values[()]  # the root has no position worth reporting

    def skip(self, newlines: bool = True) -> None:
        while self.i < len(self.text) and self.text[self.i] in _JSON_WS:
            self.i += 1

    def string(self) -> str:
        value, self.i = json.decoder.scanstring(self.text, self.i + 1)
        return value

    def scalar(self) -> None:
        while self.i < len(self.text) and self.text[self.i] not in ",]}" + _JSON_WS:
            self.i += 1

    def member(self, path: Path) -> Path:
        where = self.pos()
        path += (self.string(),)
        self.keys[path] = where
        self.skip()
        self.i += 1  # the ":"
        self.skip()
        return path
