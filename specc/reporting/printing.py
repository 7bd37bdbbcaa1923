"""A Summary as text or as JSON data: what `specc summary` prints.

>>> print(summary_text(summarize(load("specs/tutorial_custom.toml"))))  # doctest: +SKIP
Model: custom
Layer        Type        Output shape  Params
input_layer  InputLayer  (None, 784)        0
...
"""

from __future__ import annotations

from specc.reporting.rules_base import is_multi
from specc.reporting.shapes import LayerShape, Summary

UNKNOWN = "?"


def shape_text(shape) -> str:
    """``(None, 28, 28, 16)`` as Keras prints it; several tensors side by side; ``?`` unknown."""
    if shape is None:
        return UNKNOWN
    if is_multi(shape):
        return ", ".join(shape_text(s) for s in shape)
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def params_text(count: int | None) -> str:
    """``1,234``, or ``?`` for a count specc cannot work out."""
    return UNKNOWN if count is None else f"{count:,}"


def _note(row: LayerShape) -> str:
    if row.reason:
        return row.reason
    if row.shares:
        return f"calls '{row.shares}' again (its weights)"
    if row.non_trainable and row.non_trainable == row.params:
        return "not trainable"
    return ""


def summary_text(summary: Summary) -> str:
    """The rows as aligned columns, then the totals (marked partial when a layer is unknown)."""
    head = ["Layer", "Type", "Output shape", "Params"]
    if not summary.sequential:
        head.append("Inputs")
    rows = []
    for row in summary.layers:
        cells = [row.name, row.type, shape_text(row.output_shape), params_text(row.params)]
        if not summary.sequential:
            cells.append(", ".join(row.inputs))
        rows.append((cells, _note(row)))
    if any(note for _, note in rows):
        head.append("Note")
        rows = [(cells + ([""] * (len(head) - 1 - len(cells))) + [note], "") for cells, note in rows]
    table = [head] + [cells for cells, _ in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    right = head.index("Params")
    lines = [f"Model: {summary.name or '(unnamed)'}"]
    for cells in table:
        parts = [c.rjust(w) if i == right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        lines.append("  ".join(parts).rstrip())
    partial = ""
    if summary.partial:
        count = len(summary.unknown)
        partial = f" (partial: {count} layer{'s' if count != 1 else ''} unknown)"
    lines += [
        f"Total params: {summary.total:,}{partial}",
        f"Trainable params: {summary.trainable:,}{partial}",
        f"Non-trainable params: {summary.non_trainable:,}{partial}",
    ]
    return "\n".join(lines)


def _row_json(row: LayerShape) -> dict:
    data = {
        "name": row.name, "type": row.type, "inputs": list(row.inputs),
        "output_shape": _shape_json(row.output_shape), "params": row.params,
        "trainable": row.trainable, "non_trainable": row.non_trainable,
    }
    if row.reason:
        data["unknown"] = row.reason
    if row.shares:
        data["shares"] = row.shares
    if row.layers:
        data["layers"] = [_row_json(r) for r in row.layers]
    return data


def _shape_json(shape):
    if shape is None:
        return None
    if is_multi(shape):
        return [list(s) for s in shape]
    return list(shape)


def summary_json(summary: Summary) -> dict:
    """Plain data for tools: every row, and the totals with the names of unknown layers."""
    return {
        "name": summary.name,
        "layers": [_row_json(r) for r in summary.layers],
        "total": summary.total, "trainable": summary.trainable,
        "non_trainable": summary.non_trainable,
        "partial": summary.partial, "unknown": list(summary.unknown),
    }
