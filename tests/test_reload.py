"""Reloading a built model in a fresh process, the way the README promises it.

Every regularizer form is in one model, saved once; each fresh process then
does only what the docs tell a user to do (``import specc``, plus the plugin
that registers a custom penalty) before ``keras.models.load_model``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import specc

SPEC = """
[[inputs]]
shape = [6]

[[layers]]
type = "Dense"
units = 5
kernel_regularizer = "l1"
bias_regularizer = "l2"

[[layers]]
type = "Dense"
units = 5
kernel_regularizer = { l1 = 0.02 }
bias_regularizer = { l2 = 0.03 }
activity_regularizer = { l1 = 1e-3, l2 = 1e-4 }

[[layers]]
type = "Dense"
units = 4
kernel_regularizer = { orthogonal = 0.05, mode = "columns" }

[[layers]]
type = "Dense"
units = 4
kernel_regularizer = { expr = "0.01 * sum(square(w)) + 0.1 * max(abs(w))" }

[[layers]]
type = "Dense"
units = 2
kernel_regularizer = { custom = "reload_scaled_l1", factor = 0.05 }
"""

PLUGIN = """
import keras
import specc

@specc.register_regularizer("reload_scaled_l1")
def scaled_l1(w, factor=0.01):
    return factor * keras.ops.sum(keras.ops.abs(w))
"""

# What a fresh process prints about the model it reloaded.
REPORT = """
import json
import numpy
regs = [
    {k: type(v).__name__ + json.dumps(v.get_config(), sort_keys=True)
     for k, v in vars(layer).items() if k.endswith("_regularizer") and v is not None}
    for layer in model.layers
]
x = numpy.linspace(-1, 1, 12, dtype="float32").reshape(2, 6)
model(x)  # activity penalties come from a call
print(json.dumps({"regs": regs, "losses": [float(v) for v in model.losses]}))
"""


def _report(model) -> dict:
    namespace = {"model": model}
    from contextlib import redirect_stdout
    from io import StringIO

    out = StringIO()
    with redirect_stdout(out):
        exec(REPORT, namespace)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The model file, the plugin folder and what the building process saw."""
    folder = tmp_path_factory.mktemp("reload")
    (folder / "reload_penalties.py").write_text(PLUGIN)
    sys.path.insert(0, str(folder))
    try:
        import reload_penalties  # noqa: F401  registers the penalty here too
    finally:
        sys.path.remove(str(folder))
    (folder / "reload.toml").write_text(SPEC)
    model = specc.build(specc.load(folder / "reload.toml"))
    path = folder / "model.keras"
    model.save(path)
    return path, folder, _report(model)


def _fresh(code: str, path, pythonpath) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    script = textwrap.dedent(code).format(path=str(path)) + REPORT
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_form_reloads_after_import_specc_and_the_plugin(saved):
    path, folder, expected = saved
    got = _fresh("""
        import specc
        import reload_penalties
        import keras
        model = keras.models.load_model({path!r})
    """, path, [folder])
    assert got["regs"] == expected["regs"]
    assert got["losses"] == pytest.approx(expected["losses"], rel=1e-6)
    forms = {v.split("{")[0] for layer in got["regs"] for v in layer.values()}
    assert forms == {"L1", "L2", "L1L2", "OrthogonalRegularizer", "ExprRegularizer",
                     "CustomRegularizer"}


def test_an_installed_penalty_reloads_through_its_entry_point_and_tf_keras(saved, tmp_path):
    path, folder, expected = saved
    # An installed package advertising the penalty (as docs/spec-format.md shows).
    info = tmp_path / "reload_penalties-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reload-penalties\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[specc.regularizers]\nreload_scaled_l1 = reload_penalties:scaled_l1\n")
    got = _fresh("""
        import specc
        import tensorflow as tf
        model = tf.keras.models.load_model({path!r})
    """, path, [folder, tmp_path])
    assert got["regs"] == expected["regs"]
    assert got["losses"] == pytest.approx(expected["losses"], rel=1e-6)


def test_without_import_specc_keras_cannot_read_the_expr_regularizer(saved):
    """The control: the registration really comes from "import specc"."""
    path, folder, _ = saved
    script = f"import keras\nkeras.models.load_model({str(path)!r})\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "specc>ExprRegularizer" in done.stderr or "ExprRegularizer" in done.stderr


def test_import_specc_imports_no_keras_and_changes_no_environment_variable():
    script = textwrap.dedent("""
        import os, sys
        before = dict(os.environ)
        import specc
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        assert "keras" not in sys.modules and "tensorflow" not in sys.modules
    """)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_file_saved_before_the_package_moved_still_reloads(saved, tmp_path):
    """specc's regularizer classes lived in specc.regularizers until 0.1's restructure:
    files saved then name that module; Keras finds the classes by registered name."""
    import zipfile

    path, folder, expected = saved
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                assert b'"specc.building.regularizers"' in data
                data = data.replace(b'"specc.building.regularizers"', b'"specc.regularizers"')
            target.writestr(item, data)
    got = _fresh("""
        import specc
        import reload_penalties
        import keras
        model = keras.models.load_model({path!r})
    """, old, [folder])
    assert got["regs"] == expected["regs"]
