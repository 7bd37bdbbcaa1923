"""[build]: a dtype policy and a tf.distribute strategy, from the spec or the command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

import specc
from conftest import ROOT, SPECS

COMBINED = SPECS / "tutorial_combined.toml"

# Two logical CPU devices exist only if they are made before TensorFlow starts,
# hence a fresh process.
MIRRORED = r'''
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np, specc
model = specc.build(specc.load(sys.argv[1]))
strategy = model.distribute_strategy
kernel = model.get_layer("dense").kernel.value
before = [v.numpy().copy() for v in kernel.values]
rng = np.random.default_rng(0)
history = model.fit(rng.random((8, 784), dtype="float32"), rng.integers(0, 10, 8),
                    batch_size=8, epochs=1, verbose=0)
after = [v.numpy() for v in kernel.values]
print(json.dumps({
    "strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
    "variable": type(kernel).__name__, "devices": [v.device for v in kernel.values],
    "trained": bool(np.any(before[0] != after[0])),
    "replicas_agree": bool(np.array_equal(after[0], after[1])),
    "loss": history.history["loss"][0],
}))
'''


def test_mirrored_trains_one_step_over_two_cpus(tmp_path):
    spec = tmp_path / "mirrored.toml"
    spec.write_text(COMBINED.read_text() + '\n[build]\nstrategy = "mirrored"\n')
    result = subprocess.run([sys.executable, "-c", MIRRORED, str(spec)], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["strategy"] == "MirroredStrategy"
    assert found["replicas"] == 2
    assert found["variable"] == "MirroredVariable"
    assert [d.rsplit("/", 1)[-1] for d in found["devices"]] == ["device:CPU:0", "device:CPU:1"]
    assert found["trained"] and found["replicas_agree"]
    assert np.isfinite(found["loss"])


def test_mixed_float16_compute_and_float32_variables():
    import keras

    before = keras.config.dtype_policy().name
    model = specc.build(specc.load(COMBINED, overrides=["build.dtype_policy=mixed_float16"]))
    assert keras.config.dtype_policy().name == before  # never leaked into the process
    dense = model.get_layer("dense")
    assert dense.dtype_policy.name == "mixed_float16"
    assert (dense.kernel.dtype, dense.compute_dtype) == ("float32", "float16")
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"  # Keras's own choice
    rng = np.random.default_rng(0)
    x = rng.random((4, 784), dtype="float32")
    assert keras.Model(model.inputs[0], dense.output)(x).dtype == "float16"
    kernel = dense.kernel.numpy().copy()
    scale = float(model.optimizer.initial_scale)
    history = model.fit(x, rng.integers(0, 10, 4), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # The step either updated the weights or, its float16 gradients overflowing at the
    # first loss scale, lowered the scale and skipped the update: loss scaling at work.
    updated = bool(np.any(dense.kernel.numpy() != kernel))
    assert updated != (float(model.optimizer.dynamic_scale) < scale)
    assert dense.kernel.dtype == "float32"
    # a model built after it is float32 again
    plain = specc.build(specc.load(COMBINED))
    assert plain.get_layer("dense").compute_dtype == "float32"


def test_the_policy_is_restored_when_the_build_fails(tmp_path):
    import keras

    spec = tmp_path / "bad.toml"
    spec.write_text('[build]\ndtype_policy = "mixed_bfloat16"\n[[inputs]]\nshape = [4, 4]\n'
                    '[[layers]]\ntype = "Conv2D"\nfilters = 2\nkernel_size = 9\n')
    with pytest.raises(specc.SpecError):
        specc.build(specc.load(spec))
    assert keras.config.dtype_policy().name == "float32"


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


RELOAD = r'''
import json, sys, zipfile
import keras
model = keras.models.load_model(sys.argv[1])
dense = model.get_layer("dense")
print(json.dumps({"policy": dense.dtype_policy.name, "compute": dense.compute_dtype,
                  "variable": dense.kernel.dtype,
                  "spec": zipfile.ZipFile(sys.argv[1]).read("specc.toml").decode()}))
'''


def test_cli_dtype_policy_is_saved_and_reloads(tmp_path):
    out = tmp_path / "mixed.keras"
    result = run_module("build", COMBINED, "-o", out, "--dtype-policy", "mixed_float16")
    assert result.returncode == 0, result.stderr
    loaded = subprocess.run([sys.executable, "-c", RELOAD, str(out)], capture_output=True,
                            text=True, cwd=ROOT)
    found = json.loads(loaded.stdout.splitlines()[-1])
    assert (found["policy"], found["compute"], found["variable"]) == \
        ("mixed_float16", "float16", "float32")
    assert found["spec"].endswith('[build]\ndtype_policy = "mixed_float16"\n')


def test_cli_messages():
    result = run_module("build", COMBINED, "-o", "/dev/null/x.keras", "--dtype-policy",
                        "mixed_flot16")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{COMBINED}: --dtype-policy mixed_flot16: build.dtype_policy: expected one of "
        "'float32', 'float16', 'bfloat16', 'float64', 'mixed_float16', 'mixed_bfloat16', "
        "received 'mixed_flot16'. Did you mean 'mixed_float16'?")


def test_validate_places_build_keys(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(COMBINED.read_text() + '\n[build]\nstratgy = "mirrored"\n')
    result = run_module("validate", spec)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == \
        f"{spec}:44:1: build.stratgy: unknown key 'stratgy'. Did you mean 'strategy'?"


def test_tpu_where_there_is_none():
    result = run_module("build", COMBINED, "-o", "x.keras", "--strategy", "tpu")
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{COMBINED}: --strategy tpu: build.strategy: cannot use the 'tpu' "
                            "strategy here: no TPU was found (")
    assert not (ROOT / "x.keras").exists()


@pytest.mark.parametrize("doc", ["README.md", "docs/spec-format.md"])
def test_docs_example_is_a_valid_build_section(tmp_path, doc):
    import re

    block = re.search(r"```toml\n(\[build\]\n.*?)```", (ROOT / doc).read_text(), re.S).group(1)
    spec = tmp_path / "s.toml"
    spec.write_text(COMBINED.read_text() + "\n" + block)
    section = specc.load(spec).build
    assert (section.dtype_policy, section.strategy) == ("mixed_float16", "mirrored")
