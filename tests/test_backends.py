"""specc on Keras's JAX backend: building, weights, saving and export import no TensorFlow
and give the TensorFlow backend's predictions.

Needs jax (``pip install 'specc[jax]'``): tools/keras_smoke.py runs this file in its JAX
venv, where TensorFlow is installed too (it stays specc's default dependency), so that
"TensorFlow is never imported" is a real check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import SPECS

pytest.importorskip("jax", reason="the JAX backend needs jax (pip install 'specc[jax]')")

SPEC = SPECS / "tutorial_combined.toml"  # Dense, L2 regularizers, Dropout


def _run(code: str, backend: str, cwd) -> list[str]:
    """Python in a fresh process on ``backend``; its stdout lines, the last of which says
    which TensorFlow modules it imported."""
    code += ("\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] == "
             "'tensorflow')[:3])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def _specc(args: list, cwd) -> list[str]:
    code = ("import runpy, sys, atexit\n"
            "atexit.register(lambda: print(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'tensorflow')[:3]))\n"
            f"sys.argv = ['specc', *{[str(a) for a in args]!r}]\n"
            "runpy.run_module('specc', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"},
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


PREDICT = """
import json, numpy as np, keras, specc
model = {make}
x = np.random.default_rng(0).random((4, 784), dtype="float32")
print(json.dumps(np.asarray(model(x, training=False)).tolist()))
"""


def test_specc_build_on_jax_imports_no_tensorflow_and_predicts_as_tensorflow(tmp_path):
    # Weights made on TensorFlow, read on JAX by `specc build --weights` and specc.build.
    _run(f"import specc\nm = specc.build({str(SPEC)!r})\nm.save_weights('w.weights.h5')",
         "tensorflow", tmp_path)
    reference = json.loads(_run(PREDICT.format(
        make=f"specc.build({str(SPEC)!r}, weights='w.weights.h5')"), "tensorflow", tmp_path)[0])
    assert _specc(["build", SPEC, "--weights", "w.weights.h5", "-o", "m.keras"], tmp_path)[-1] \
        == "[]"
    for make in (f"specc.build({str(SPEC)!r}, weights='w.weights.h5')",
                 "keras.models.load_model('m.keras')"):
        lines = _run(PREDICT.format(make=make), "jax", tmp_path)
        assert lines[-1] == "[]", make  # TensorFlow never imported
        np.testing.assert_allclose(json.loads(lines[0]), reference, rtol=1e-5, atol=1e-6)


def test_export_with_weights_and_save_on_jax_import_no_tensorflow(tmp_path):
    lines = _run(f"""
import specc
spec = specc.load({str(SPEC)!r})
model = specc.build(spec)
specc.save(model, "m.keras", spec)
print(specc.export(model).layers[0].type)
""", "jax", tmp_path)
    assert lines == ["Dense", "[]"]
    assert _specc(["export", "m.keras", "-o", "m.toml", "--weights", "w.weights.h5"],
                  tmp_path) == ["wrote m.toml", "[]"]
    assert _specc(["build", "m.toml", "--weights", "w.weights.h5", "-o", "again.keras"],
                  tmp_path)[-2:] == ["wrote again.keras", "[]"]


def test_a_strategy_only_tensorflow_has_is_refused_on_jax_in_one_line(tmp_path):
    (tmp_path / "s.toml").write_text(SPEC.read_text() + '\n[build]\nstrategy = "tpu"\n')
    code = ("import runpy, sys\nsys.argv = ['specc', 'build', 's.toml']\n"
            "runpy.run_module('specc', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "KERAS_BACKEND": "jax",
                                             "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-2:] == [
        f"s.toml:{SPEC.read_text().count(chr(10)) + 3}:12: build.strategy: the 'tpu' strategy is "
        "TensorFlow's, and Keras runs on jax (KERAS_BACKEND=jax); on JAX, 'mirrored' is "
        "keras.distribution.DataParallel over the local devices", "1 problem found"]
    assert not (tmp_path / "s.keras").exists()
    (tmp_path / "s.toml").write_text(SPEC.read_text() + '\n[build]\nstrategy = "mirrored"\n')
    assert _specc(["build", "s.toml"], tmp_path)[-2:] == ["wrote s.keras", "[]"]
