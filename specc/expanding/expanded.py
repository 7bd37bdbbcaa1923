"""The result of expansion, and its problems placed where they were written.

Positions are not copied: an ``Expanded`` document maps each path of the flat
data back to the path it came from in the text (a line of a block definition,
of ``[defaults]``), and remembers through which block uses it came, so that a
problem is reported where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specc.errors import Problem
from specc.reading.load import Document, Path, format_path

INDEX = "i"  # the repeat index in expressions


@dataclass(frozen=True)
class Use:
    """One block instance on the way from the text to a flat layer."""

    path: Path        # the block use in the source
    instance: str     # the instance's name
    block: str
    index: int | None  # the repeat index, for a repeated use


@dataclass(frozen=True)
class Origin:
    path: Path
    uses: tuple[Use, ...] = ()


@dataclass
class Expanded(Document):
    """A flat spec whose paths are reported at the places of the source they came from."""

    source: Document | None = None
    origins: dict[Path, Origin] = field(default_factory=dict)

    def origin(self, path: Path) -> tuple[Path, str]:
        path = tuple(path)
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found is not None:
                return found.path + path[end:], note(self.source, found.uses)
        return path, ""

    def locate(self, path: Path, key: bool = False) -> tuple[int | None, int | None]:
        return self.source.locate(self.origin(path)[0], key)

    def override(self, path: Path) -> str | None:
        return self.source.override(self.origin(path)[0])


def note(doc: Document, uses: tuple[Use, ...]) -> str:
    """Where an instance was used: " (in 'conv2_block1', block 'residual' used at 40:5 ...)"."""
    if not uses:
        return ""
    parts = []
    for use in reversed(uses):
        line, _ = doc.locate(use.path)
        index = f", {INDEX} = {use.index}" if use.index is not None else ""
        at = f"line {line}, " if line is not None else ""
        parts.append(f"'{use.instance}' (block '{use.block}' used at {at}"
                     f"{format_path(use.path)}{index})")
    return " [in " + ", in ".join(parts) + "]"


class Failed(Exception):
    """The entry at hand cannot be expanded; its problem is recorded already."""


class Reporter:
    """The problems of one expansion, each at its line and column of the source."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []

    def problem(self, path: Path, message: str, uses: tuple[Use, ...] = (), *,
                key: bool = False, suggestion: str | None = None, offset: int = 0) -> None:
        line, column = self.doc.locate(path, key=key)
        if offset and column is not None:
            column += offset
        if line is None:
            line, column = 1, 1
        self.problems.append(Problem(message + note(self.doc, uses), format_path(path),
                                     self.doc.file, line, column, suggestion))

    def fail(self, *args, **kwargs):
        """Record a problem and give up the entry at hand (raises Failed)."""
        self.problem(*args, **kwargs)
        raise Failed()


def show(value: Any) -> str:
    """A value as a message names it: 'relu', a table, a list, 3."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    return repr(value)
