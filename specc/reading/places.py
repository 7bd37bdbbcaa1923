"""Problems placed in the text: a data path -> FILE:LINE:COL, or the --set argument.

Every stage reports what is wrong at a data path; the one that holds the
document (checking, for its own problems; the command line, for the build's)
places them here, where the document's positions are looked up.
"""

from __future__ import annotations

import bisect
import re
from contextlib import contextmanager
from dataclasses import replace

from specc.errors import Problem, SpecError, format_path
from specc.reading.load import Document


def place(doc: Document, path: tuple, message: str, *, key: bool = False,
          at_parent: bool = False, suggestion: str | None = None) -> Problem:
    """A problem about the value at ``path`` (its key with ``key``; the table holding
    it with ``at_parent``), at its line and column in the document's file."""
    at = path[:-1] if at_parent else path
    override = doc.override(path)
    if override:  # the value came from the command line, not from the file
        return Problem(message, path=format_path(path), file=doc.file, suggestion=suggestion,
                       override=override)
    line, column = doc.locate(at, key=key)
    if line is None and not at:
        line, column = 1, 1  # the top level of the file
    shown, note = doc.origin(path)  # a block instance or [defaults]: where it was written
    return Problem(message + note, path=format_path(shown), file=doc.file, line=line,
                   column=column, suggestion=suggestion)


def place_all(doc: Document | None, problems: list[Problem]) -> list[Problem]:
    """Problems found by a stage that knows only their data path (``Problem.at``),
    placed in the document's file; the others get its file name."""
    if doc is None:
        return problems
    return [place(doc, p.at, p.message, suggestion=p.suggestion)
            if p.at and not (p.line or p.override) else replace(p, file=p.file or doc.file)
            for p in problems]


@contextmanager
def placed_in(doc: Document):
    """Within this block, the problems of a SpecError are placed in doc's file.

    >>> with placed_in(Document({"model": {}}, "a.toml", values={("model",): (1, 1)})):
    ...     raise SpecError(Problem.at_path(("model",), "too big"))
    Traceback (most recent call last):
    specc.errors.SpecError: a.toml:1:1: model: too big
    """
    try:
        yield
    except SpecError as exc:
        raise SpecError(place_all(doc, exc.problems)) from None


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Each problem once, in the order of the file."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0))


def inside_string(text: str, line: int, column: int, offset: int) -> tuple[int, int]:
    """Line and column of the offset-th character (1-based) of the string literal at line:column.

    Escapes and TOML's multi-line forms make the decoded text shorter than its source.

    >>> inside_string('a = "x\\\\ty"', 1, 5, 3)
    (1, 9)
    """
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    i = starts[line - 1] + column - 1
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    i += 3 if triple else 1
    if triple and text.startswith("\n", i):
        i += 1  # TOML drops a newline right after the opening quotes
    elif triple and text.startswith("\r\n", i):
        i += 2
    for _ in range(offset - 1):
        if i >= len(text):
            break
        if quote == '"' and text[i] == "\\":
            nxt = text[i + 1 : i + 2]
            if triple and nxt in (" ", "\t", "\r", "\n"):
                # A line-ending backslash swallows the blanks and line breaks after it.
                i += 1
                while i < len(text) and text[i] in " \t\r\n":
                    i += 1
                i += 1
                continue
            i += {"u": 6, "U": 10}.get(nxt, 2)
            if nxt == "u" and 0xD800 <= int(text[i - 4 : i], 16) < 0xDC00 \
                    and text.startswith("\\u", i):
                i += 6  # a JSON surrogate pair decodes to one character
        elif text.startswith("\r\n", i):
            i += 2
        else:
            i += 1
    line = bisect.bisect_right(starts, i)
    return line, i - starts[line - 1] + 1
