"""Shared paths and helpers for the tests of specs, the tutorial and the CLI."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# TensorFlow's C++ start-up chatter would drown pytest's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# specc caches a newer Keras's catalog in the user's cache directory: never the real one
# from a test (the processes the tests start inherit this).
os.environ["SPECC_CACHE_DIR"] = tempfile.mkdtemp(prefix="specc-tests-cache-")

ROOT = Path(__file__).resolve().parent.parent
# Scripts the tests run in processes of their own (and the plugin modules they copy), not
# test modules: --doctest-modules (pyproject.toml) would import them here, and
# make_models.py imports tf-keras (Keras 2).
collect_ignore = ["hostile_runner.py", "keras2", "plugins"]
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
    """A layer's get_config() without build_config (the shapes it was built with), each
    L1L2 with one factor 0 written as the L1 or L2 of the other, which is the same
    penalty: export writes the shorter form ({l1 = 0.01} for L1L2(0.01, 0.0))."""
    return {k: _shorter_penalty(v) for k, v in layer.get_config().items() if k != "build_config"}


def _shorter_penalty(value):
    if isinstance(value, list):
        return [_shorter_penalty(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "L1L2" and value.get("module") == "keras.regularizers":
        l1, l2 = value["config"].get("l1", 0.0), value["config"].get("l2", 0.0)
        if l1 == 0 or l2 == 0:
            form = "l1" if l2 == 0 else "l2"
            return {**value, "class_name": form.upper(), "config": {form: l1 if l2 == 0 else l2}}
    return {k: _shorter_penalty(v) for k, v in value.items()}


def comparable(config: dict | None) -> dict | None:
    """A compile config as the spec keeps it.

    The optimizer's name is numbered per process (adam, adam_1), and a built-in
    function (keras.losses.binary_crossentropy) is written by its name, which
    Keras resolves to that same function; everything else must be equal.
    """
    import json

    if not config:  # not compiled
        return config
    config = json.loads(json.dumps(config))
    config["optimizer"]["config"].pop("name", None) if isinstance(config["optimizer"], dict) else None

    def names(value):
        if isinstance(value, list):
            return [names(v) for v in value]
        if isinstance(value, dict) and value.get("class_name") == "function":
            return value["config"]
        if isinstance(value, dict):
            return {k: names(v) for k, v in value.items()}
        return value

    return names(config)


def round_trip(model, fmt: str = "toml"):
    """Export to text, parse, validate and build again; check the model is the same
    (classes, names and order of model.layers, configs, weights' paths, shapes and
    dtypes, parameters, compile config) and copy its weights.

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
    assert _weight_shapes(rebuilt) == _weight_shapes(model)
    assert rebuilt.count_params() == model.count_params()
    assert comparable(rebuilt.get_compile_config()) == comparable(model.get_compile_config())
    rebuilt.set_weights(model.get_weights())
    return text, rebuilt


def _weight_shapes(model) -> list[tuple]:
    return [(w.path, tuple(w.shape), w.dtype) for w in model.weights]


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

    from specc.cli.app import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], prog_name="specc")

    return invoke


def run_specc(*args, cwd=ROOT, timeout=None, **env):
    """The real command line in a fresh process: ``python -m specc ARGS`` -> CompletedProcess
    (``env``: variables set for it)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **env}, timeout=timeout)
