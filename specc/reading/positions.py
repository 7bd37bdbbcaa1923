"""Where every key and value of a valid TOML or JSON text sits: (line, column) per path.

tomllib and json return plain data without positions, so after they accept the
text a small scanner walks it again, only to record (line, column) per path.
The scanner trusts that the text is valid and is lenient about everything else.
It runs on first use: positions only place problems, a valid spec needs none,
and the scan costs as much as parsing.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections.abc import Mapping

Path = tuple[str | int, ...]
Pos = tuple[int, int]

# Values nested deeper have no position: no problem is placed below the depth limit
# (reading/load.py MAX_DEPTH, 64), and a path per value of a 6 MB document nested 150
# deep took 800 MB and seconds to make.
DEEPEST = 80

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_SCALAR = re.compile(r"[^,\]}\n#]*")
_JSON_WS = " \t\r\n"
_JSON_BLANKS = re.compile(r"[ \t\r\n]*")


class Positions:
    """The positions of the keys and of the values of ``text``, scanned on first use.

    >>> found = Positions('[[layers]]\\ntype = "Dense"\\n', "toml")
    >>> found.keys[("layers", 0, "type")], found.values[("layers", 0, "type")]
    ((2, 1), (2, 8))
    """

    def __init__(self, text: str, fmt: str):
        self._scanner = (_TomlScanner if fmt == "toml" else _JsonScanner)(text)
        self.keys: Mapping[Path, Pos] = _Lazy(self._scanner, "keys")
        self.values: Mapping[Path, Pos] = _Lazy(self._scanner, "values")


class _Lazy(Mapping):
    """The keys' or the values' positions of one scanner, which runs on first use."""

    def __init__(self, scanner: _Scanner, which: str):
        self._scanner, self._which = scanner, which

    def _found(self) -> dict[Path, Pos]:
        return self._scanner.scanned()[self._which]

    def __getitem__(self, path: Path) -> Pos:
        return self._found()[path]

    def __contains__(self, path: object) -> bool:
        return path in self._found()

    def __iter__(self):
        return iter(self._found())

    def __len__(self) -> int:
        return len(self._found())


class _Scanner:
    def __init__(self, text: str):
        self.text, self.i = text, 0
        self.keys: dict[Path, Pos] = {}
        self.values: dict[Path, Pos] = {}
        self._done = False

    def scanned(self) -> dict[str, dict[Path, Pos]]:
        """The positions of the keys and of the values, the text scanned once."""
        if not self._done:
            self._done = True
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
            self.run()
        return {"keys": self.keys, "values": self.values}

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
            if frame[3]:
                self.begin(self.member(frame[1]), stack)
            else:
                self.begin(_inside(frame[1], frame[2] - 1), stack)

    def begin(self, path: Path | None, stack: list[list]) -> None:
        """Note where the value at path starts (None: too deep to note); open an array or
        table, or scan a scalar."""
        if path is not None:
            self.values[path] = self.pos()
        c = self.peek()
        if c in ("[", "{"):
            self.i += 1
            stack.append(["]" if c == "[" else "}", path, 0, c == "{"])
        elif c in ("\"", "'"):
            self.string()
        else:
            self.scalar()


def _inside(path: Path | None, key: str | int) -> Path | None:
    """The path of a member, or None below DEEPEST (and below a path that is None)."""
    return None if path is None or len(path) >= DEEPEST else (*path, key)


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

    def member(self, table: Path | None) -> Path | None:
        """Read ``key =`` (dotted keys included) and return the path of its value."""
        path = table
        for name, where in self.key():
            path = _inside(path, name)
            if path is not None:
                # Tables made implicitly by a dotted key sit at their part of the key.
                self.note(path, where, first=True)
        if path is not None:
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
        self.i = _JSON_BLANKS.match(self.text, self.i).end()

    def string(self) -> str:
        value, self.i = json.decoder.scanstring(self.text, self.i + 1)
        return value

    def scalar(self) -> None:
        while self.i < len(self.text) and self.text[self.i] not in ",]}" + _JSON_WS:
            self.i += 1

    def member(self, path: Path | None) -> Path | None:
        where = self.pos()
        path = _inside(path, self.string())
        if path is not None:
            self.keys[path] = where
        self.skip()
        self.i += 1  # the ":"
        self.skip()
        return path
