"""The command-line words the fast paths of specc/cli/main.py take without typer.

Only the plainest forms are taken: positional words, ``--long VALUE``,
``--long=VALUE``, ``-s VALUE`` and flags, every word printable text the output
encoding can print (so printing it is what click's echo prints). Anything else
(help, ``--``, an unknown option, a missing value, ``-sVALUE``) gives None, and
typer, the one description of the command line, parses it and reports usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path


def parse(args: list[str], options: dict[str, str],
          flags: dict[str, str] | None = None) -> tuple[list[str], dict[str, list]] | None:
    """The positional words of ``args`` and the values of each option, in order, by the
    name ``options`` (spelling -> name, each taking a value) or ``flags`` (spelling ->
    name, each taking none: its values are True) gives it; None when typer must parse."""
    flags = flags or {}
    words, values = [], {}
    rest = iter(args)
    for word in rest:
        if not plain(word):
            return None
        if not word.startswith("-"):
            words.append(word)
            continue
        # click reads "-o=x" as the value "=x" of -o: only long options take "=VALUE".
        spelling, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if spelling in flags and not equals:
            values.setdefault(flags[spelling], []).append(True)
            continue
        if spelling not in options:
            return None
        if not equals:
            value = next(rest, "")
            if value.startswith("-") or not plain(value):
                return None
        if not value:
            return None
        values.setdefault(options[spelling], []).append(value)
    return words, values


def one_path(args: list[str], options: dict[str, str], flags: dict[str, str] | None = None,
             ) -> tuple[Path, dict[str, list]] | None:
    """``parse`` for a command of one path (export's model, build's spec): the path and
    the values of each option; None when typer must parse."""
    parsed = parse(args, options, flags)
    if parsed is None or len(parsed[0]) != 1:
        return None
    return Path(parsed[0][0]), parsed[1]


def last(values: dict[str, list], name: str, default=None):
    """The value of an option given last, as click keeps it (``default`` when not given)."""
    return values[name][-1] if name in values else default


def plain(word: str) -> bool:
    """Whether ``word`` is printable text that the output encoding can print."""
    try:
        word.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return word.isprintable() and word != ""
