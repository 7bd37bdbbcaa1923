"""The one error type every stage raises, and the did-you-mean helper."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Iterable

# How many (name, choice) pairs did-you-mean may still compare. Each suggestion
# compares a name with every choice, so a document with thousands of unknown
# names among thousands of choices would take quadratic time: past the budget,
# problems are reported without a suggestion.
_COMPARISONS_LEFT: ContextVar[list[int] | None] = ContextVar("comparisons_left", default=None)


# Control characters written as escapes (\n, \x1b) when a problem is printed.
_CONTROL = {c: repr(chr(c))[1:-1] for c in [*range(32), 127]}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, printed as ``FILE:LINE:COL: path: message``.

    >>> str(Problem("unknown layer type 'Dence'", path="layers[0].type",
    ...             file="a.toml", line=3, column=8, suggestion="Dense"))
    "a.toml:3:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?"
    """

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    suggestion: str | None = None
    # The --set argument a value came from; it stands where a line and column would.
    override: str | None = None
    # The path as data (("layers", 3, "units")), for the caller that knows the file to
    # place a problem found by a stage that does not (specc/reading/places.py).
    at: tuple | None = field(default=None, compare=False, repr=False)

    @classmethod
    def at_path(cls, path: tuple, message: str, **details) -> "Problem":
        """A problem about the value at a data path, not yet placed in a file.

        >>> str(Problem.at_path(("layers", 0), "too big"))
        '<spec>: layers[0]: too big'
        """
        return cls(message, path=format_path(path), at=tuple(path), **details)

    def location(self) -> str:
        parts = [self.file or "<spec>"]
        if self.override:
            return f"{parts[0]}: {self.override}" if self.file else self.override
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        # A problem that is about no file (an unknown name on the command line) has no place.
        text = f"{self.location()}: " if self.file or self.line is not None or self.path \
            or self.override else ""
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.suggestion:
            text += f". Did you mean '{self.suggestion}'?"
        # One problem, one line: a key or value from the input may hold line breaks.
        return text.translate(_CONTROL)

    def as_dict(self) -> dict:
        found = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "suggestion": self.suggestion,
        }
        if self.override:  # only problems with a --set value have one
            found["override"] = self.override
        return found


@dataclass
class SpecError(Exception):
    """Raised by every stage for bad input; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __init__(self, problems: Problem | str | Iterable[Problem], **where):
        if isinstance(problems, str):
            problems = [Problem(problems, **where)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def with_file(self, file: str) -> "SpecError":
        return SpecError(replace(p, file=p.file or file) for p in self.problems)


def format_path(path: tuple) -> str:
    """A data path as text: ``format_path(("layers", 3, "units")) == "layers[3].units"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def suggest(name: object, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``name``, or None when nothing is close.

    >>> suggest("Dence", ["Dense", "Dropout"])
    'Dense'
    """
    import difflib  # only when something is wrong: it costs ~5 ms to import

    if not isinstance(name, str):
        return None
    left = _COMPARISONS_LEFT.get()
    if left is not None:
        count = len(choices) if hasattr(choices, "__len__") else 0
        if left[0] < count:
            return None
        left[0] -= count
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return match[0] if match else None


@contextmanager
def limited_suggestions(comparisons: int = 500_000):
    """Within this block, suggest() stops after ``comparisons`` name comparisons in all
    (about a second), which keeps checking a document linear in its size."""
    token = _COMPARISONS_LEFT.set([comparisons])
    try:
        yield
    finally:
        _COMPARISONS_LEFT.reset(token)
