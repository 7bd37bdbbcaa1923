"""Shared paths and helpers for the tests of specs, the tutorial and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TensorFlow's C++ start-up chatter would drown pytest's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SCHEMA = ROOT / "schemas" / "specc.schema.json"


def spec_files() -> list[Path]:
    return sorted(p for p in SPECS.iterdir() if p.suffix in (".toml", ".json"))


def configs(model) -> list[tuple[str, dict]]:
    """Class name and config of every layer, without the names Keras gives them."""
    out = []
    for layer in model.layers:
        config = layer.get_config()
        config.pop("name", None)
        out.append((type(layer).__name__, config))
    return out


def layer_config(layer) -> dict:
    """A layer's get_config() without build_config (the shapes it was built with)."""
    return {k: v for k, v in layer.get_config().items() if k != "build_config"}


def round_trip(model, fmt: str = "toml"):
    """Export to text, parse, validate and build again; check the model is the same
    (classes, names and order of model.layers, configs, parameters) and copy its weights.

    The model is rebuilt from the text ``specc export`` writes (repeated arguments in
    [defaults]), which must read as the same spec as the flat text ``dumps`` writes.
    Returns the flat spec text and the rebuilt model.
    """
    from specc.building.build import build
    from specc.writing.dump import dumps
    from specc.writing.factor import dumps_factored
    from specc.exporting.export import export
    from specc.reading.load import parse_text
    from specc.checking.validate import validate_document

    spec = export(model)
    text, written = dumps(spec, fmt), dumps_factored(spec, fmt, blocks=False)
    read = validate_document(parse_text(written, fmt))
    assert read.model_dump() == validate_document(parse_text(text, fmt)).model_dump()
    rebuilt = build(read)
    assert [type(l) for l in rebuilt.layers] == [type(l) for l in model.layers]
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]
    for original, copy in zip(model.layers, rebuilt.layers):
        assert layer_config(copy) == layer_config(original), original.name
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    return text, rebuilt


def same_outputs(model, rebuilt, inputs) -> None:
    """Both models give the same outputs, in the same structure, on the same inputs."""
    import keras
    import numpy as np

    expected, got = model(inputs, training=False), rebuilt(inputs, training=False)
    # A model given a tuple returns a list once saved, in Keras's own round trip too.
    keras.tree.assert_same_structure(_lists(expected), _lists(got))
    for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(got)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def _lists(structure):
    if isinstance(structure, (list, tuple)):
        return [_lists(v) for v in structure]
    if isinstance(structure, dict):
        return {k: _lists(v) for k, v in structure.items()}
    return structure


def random_array(shape, seed: int = 0):
    import numpy as np

    return np.random.default_rng(seed).random(shape, dtype="float32")


@pytest.fixture
def cli():
    """Run the specc CLI in-process: ``cli("validate", path)`` -> click Result."""
    from typer.testing import CliRunner

    from specc.cli.main import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], prog_name="specc")

    return invoke


def run_specc(*args, cwd=ROOT, **env):
    """The real command line in a fresh process: ``python -m specc ARGS`` -> CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **env})
