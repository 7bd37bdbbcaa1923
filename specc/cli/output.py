"""What the commands print besides their results: problems, as lines or JSON.

rich is imported on first use: it costs more than the rest of ``specc --version``,
and validate prints plain lines.
"""

from __future__ import annotations

import json

from specc.errors import SpecError


class _LazyConsole:
    """A rich Console made on first use."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    def __getattr__(self, name):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out = _LazyConsole(highlight=False, soft_wrap=True)
err = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def report(exc: SpecError, fmt: str = "text") -> None:
    """Every problem of exc: one line each on stderr and a count, or a JSON list on stdout."""
    if fmt == "json":
        out.print_json(json.dumps([p.as_dict() for p in exc.problems]))
        return
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    err.print(f"{plural(len(exc.problems), 'problem')} found", style="bold red")
