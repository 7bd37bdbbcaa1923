"""specc.shapes against Keras: every output shape and parameter count of every spec
in specs/ and in the valid corpus is what the built Keras model says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import ROOT, spec_files
from specc.shapes import summarize
from specc.validate import load

VALID = ROOT / "tests" / "corpus" / "valid"
FILES = spec_files() + sorted(p for p in VALID.rglob("*") if p.suffix in (".toml", ".json"))
ids = [p.relative_to(ROOT).as_posix() for p in FILES]


def _size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _shapes(tensors):
    found = [tuple(t.shape) for t in (tensors if isinstance(tensors, (list, tuple)) else [tensors])]
    return found[0] if len(found) == 1 else tuple(found)


def keras_rows(model) -> dict[str, tuple]:
    """Every call in a built model by the name specc gives it: output shape(s) and
    (parameters, non-trainable) of the layer or operation it calls."""
    rows = {}
    for tensor in model.inputs:
        name = tensor._keras_history.operation.name
        rows[name] = (tuple(tensor.shape), (0, 0))
    operations = model.layers if not hasattr(model, "operations") else model.operations
    for op in operations:
        if type(op).__name__ == "InputLayer":
            continue
        weights = getattr(op, "weights", [])  # operations (x + y) have none
        count = (op.count_params() if weights else 0, _size(getattr(op, "non_trainable_weights", [])))
        rows[op.name] = (_shapes(op._inbound_nodes[-1].output_tensors) if len(op._inbound_nodes) == 1
                         else None, count)
        rows[op.name + "#calls"] = [_shapes(n.output_tensors) for n in op._inbound_nodes]
    return rows


def compare(spec, model) -> None:
    summary = summarize(spec)
    assert not summary.partial, [(r.name, r.reason) for r in summary.layers if r.reason]
    rows = keras_rows(model)
    calls: dict[str, int] = {}
    for row in summary.layers:
        if row.shares:
            # A shared layer's later calls: its k-th call in order, no weights of its own.
            k = calls[row.shares] = calls.get(row.shares, 0) + 1
            assert row.output_shape == rows[row.shares + "#calls"][k], row.name
            assert row.params == 0
            continue
        shape, (params, frozen) = rows[row.name]
        if shape is None:  # called again later: this row is its first call
            shape = rows[row.name + "#calls"][0]
        assert (row.name, row.output_shape) == (row.name, shape)
        assert (row.name, row.params, row.non_trainable) == (row.name, params, frozen)
    assert (summary.total, summary.trainable, summary.non_trainable) == (
        model.count_params(), _size(model.trainable_weights), _size(model.non_trainable_weights))


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_agrees_with_keras(path: Path):
    keras = pytest.importorskip("keras")
    from specc.build import build

    import specc
    from test_corpus import corpus_penalty

    specc.register_regularizer("my_penalty")(corpus_penalty)  # regularizer_custom.toml's
    keras.backend.clear_session()
    spec = load(path)
    compare(spec, build(spec, compile=False))
