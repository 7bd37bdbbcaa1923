"""What specc must do in every Keras it supports, through the real command line.

tools/keras_smoke.py runs this file (with the catalog's drift test and
tests/test_keras_version.py) in a fresh venv of each supported Keras minor,
TensorFlow 2.21 beside it; the main suite runs it with the Keras installed here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SPECS, run_specc

# Small corpus models of the layer kinds most specs use; none needs a plugin or keras-hub.
CORPUS = ["cnn.toml", "rnn_stack.toml", "attention.toml", "multi_output_dict.toml"]


def _python(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_specc_uses_the_catalog_of_the_installed_keras():
    from specc.vocab import registry
    from specc.vocab.catalogs import minor_of

    installed = importlib.metadata.version("keras")
    assert minor_of(registry.CATALOG["keras_version"]) == minor_of(installed)


def test_a_spec_with_regularizers_and_dropout_validates_summarizes_and_builds(tmp_path):
    spec, out = SPECS / "tutorial_combined.toml", tmp_path / "combined.keras"
    done = run_specc("validate", spec)
    assert (done.returncode, done.stdout) == (0, f"{spec}: ok\n"), done.stderr
    done = run_specc("summary", spec)
    assert done.returncode == 0 and "Total params: 55,050" in done.stdout, done.stdout
    done = run_specc("build", spec, "-o", out)
    assert done.returncode == 0, done.stderr
    # The file reloads in a fresh process once specc is imported, its L2 penalties intact.
    losses = _python(f"import specc, keras, numpy as np\nm = keras.models.load_model({str(out)!r})\n"
                     "m(np.ones((1, 784), 'float32'))\nprint(len(m.losses), m.count_params())", ROOT)
    assert losses.split() == ["2", "55050"]  # the two hidden layers' L2


@pytest.mark.parametrize("name", CORPUS)
def test_a_corpus_model_builds_exports_and_builds_again_with_its_weights(name, tmp_path):
    spec = ROOT / "tests" / "corpus" / "valid" / name
    built, exported, weights, again = (tmp_path / n for n in ("a.keras", "b.toml", "w.weights.h5",
                                                               "c.keras"))
    for args in (("build", spec, "-o", built),
                 ("export", built, "-o", exported, "--weights", weights),
                 ("build", exported, "-o", again, "--weights", weights)):
        done = run_specc(*args)
        assert done.returncode == 0, (args, done.stderr)
    _same_predictions(built, again, tmp_path)


def _same_predictions(first, second, tmp_path) -> None:
    code = f"""
import json, numpy as np, keras, specc
from keras import tree
a, b = keras.models.load_model({str(first)!r}), keras.models.load_model({str(second)!r})
rng = np.random.default_rng(0)
def sample(t):
    shape = [2 if d is None else d for d in t.shape]
    return (rng.integers(0, 8, shape) if "int" in str(t.dtype) else rng.random(shape)).astype(t.dtype)
x = [sample(t) for t in a.inputs]
x = x[0] if len(x) == 1 else x
ya, yb = tree.flatten(a(x, training=False)), tree.flatten(b(x, training=False))
print(json.dumps([float(np.max(np.abs(np.asarray(p) - np.asarray(q)))) for p, q in zip(ya, yb)]))
print(len(ya) == len(yb) and a.count_params() == b.count_params())
"""
    lines = _python(code, tmp_path).splitlines()
    assert lines[-1] == "True"
    assert max(json.loads(lines[-2]), default=0.0) < 1e-5


def test_a_model_this_keras_saved_exports_and_rebuilds_with_the_same_predictions(tmp_path):
    _python("""
import keras
from keras import layers, regularizers
inputs = keras.Input((12, 3), name="series")
x = layers.Conv1D(8, 3, padding="same", kernel_regularizer=regularizers.L2(1e-3))(inputs)
x = layers.BatchNormalization()(x)
x = layers.LSTM(6, return_sequences=True)(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(2, activation="softmax", kernel_regularizer=regularizers.L1L2(1e-4, 1e-3))(x)
model = keras.Model(inputs, outputs, name="by_keras")
model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="categorical_crossentropy")
for w in model.weights:
    w.assign(keras.random.normal(w.shape, seed=1) * 0.1 + w)
model.save("m.keras")
""", tmp_path)
    for args in (("export", "m.keras", "-o", "m.toml", "--weights", "w.weights.h5"),
                 ("build", "m.toml", "-o", "again.keras", "--weights", "w.weights.h5")):
        done = run_specc(*args, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stderr)
    _same_predictions(tmp_path / "m.keras", tmp_path / "again.keras", tmp_path)
