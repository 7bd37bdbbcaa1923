"""Two models -> what changed between them (``specc diff``).

Each side is a TOML or JSON spec or a ``.keras`` file, read as data (a
``.keras`` file through export, never loaded). Both go through one normal
form, what Keras would make of them: canonical class names, every layer's
Keras name and inputs, arguments without the ones equal to Keras's defaults,
regularizers, initializers and optimizers in one shape. So a spec and the
``.keras`` built from it compare equal.

The normal form is specc/reporting/diff_form.py (arguments: diff_args.py), the
matching of layers and the list of changes diff_match.py; this module reads
both sides and shows the changes as a table or as JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any

from specc.errors import SpecError
from specc.checking.spec import Spec
from specc.checking.validate import load
from specc.exporting.export import export_file
from specc.vocab.values import none_to_word
from specc.writing.layout import inline_toml
from specc.reporting.diff_args import DEFAULT
from specc.reporting.diff_form import normal_form
from specc.reporting.diff_match import Change, Diff, compare, with_params
from specc.reporting.printing import params_text


def read_model(path) -> Spec:
    """A spec file (checked as ``specc validate`` does) or a ``.keras`` file (exported as data)."""
    file = os.fspath(path)
    if file.lower().endswith(".keras"):
        return export_file(file)
    if os.path.splitext(file)[1].lower() not in (".toml", ".json"):
        raise SpecError("unsupported model format: expected .toml, .json or .keras", file=file)
    return load(file)


def diff_models(a, b) -> Diff:
    """Compare two models, each a spec file or a ``.keras`` file (or a Spec).

    >>> diff_models("specs/cnn.toml", "cnn.keras").same  # doctest: +SKIP
    True
    """
    specs = [x if isinstance(x, Spec) else read_model(x) for x in (a, b)]
    left, right = (normal_form(s) for s in specs)
    changes = compare(left, right)
    names = [x if isinstance(x, (str, os.PathLike)) else "<spec>" for x in (a, b)]
    changes, totals = with_params(left, right, changes)
    return Diff(os.fspath(names[0]), os.fspath(names[1]), changes, totals)


def shown(value: Any, unset: str = "(default)") -> str:
    """A value as a spec writes it (``[3, 3]``, ``{ l2 = 0.01 }``, ``"relu"``)."""
    if value is DEFAULT:
        return unset
    return inline_toml(none_to_word(value))


def describe(change: Change) -> str:
    """The change in words: ``units: 64 -> 32``, ``rate = 0.5``."""
    if change.kind == "renamed":
        return f"{change.a} -> {change.b}"
    if change.kind in ("added", "removed") or (change.key is None and change.kind == "input"):
        side = change.b if change.a is DEFAULT else change.a
        return ", ".join(f"{k} = {shown(v)}" for k, v in side.items())
    unset = "(none)" if change.kind == "compile" else "(default)"
    return f"{change.key}: {shown(change.a, unset)} -> {shown(change.b, unset)}"


def write_json(result: Diff) -> str:
    """The diff as JSON text (``specc diff --format json``)."""
    return json.dumps(result.as_dict(), indent=2) + "\n"


def diff_table(result: Diff):
    """The changes as a rich table, with parameter counts when specc can count them."""
    from rich.table import Table
    from rich.text import Text  # names and values are text, not markup: "[bold]x" is a valid name

    table = Table(title=Text(f"{result.a} -> {result.b}"), title_justify="left")
    for column in ("Change", "Layer", "Type"):
        table.add_column(column, no_wrap=True)
    table.add_column("What", overflow="fold")
    counted = result.params is not None
    if counted:
        table.add_column("Params", justify="right", no_wrap=True)
    shown_layers = set()
    for change in result.changes:
        row = [change.kind, change.layer or "", change.type or "", describe(change)]
        if counted:  # once per layer, on its first row
            first = change.params and (change.kind, change.layer) not in shown_layers
            row.append(_count_change(change) if first else "")
            if change.kind not in ("added", "removed"):
                shown_layers |= {(kind, change.layer) for kind in ("renamed", "argument", "wiring")}
        table.add_row(*map(Text, row))
    count = len(result.changes)
    caption = f"{count} change{'s' if count != 1 else ''}"
    if result.params:
        a, b = (params_text(result.params[side]) for side in "ab")
        caption += f"; total params {a if a == b else f'{a} -> {b}'}"
    table.caption = caption
    table.caption_justify = "left"
    return table


def _count_change(change: Change) -> str:
    a, b = (params_text(n) for n in change.params)
    if change.kind in ("added", "removed"):
        return b if change.kind == "added" else a
    return a if a == b else f"{a} -> {b}"
