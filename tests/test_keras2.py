"""Keras 2 .h5 and model.to_json() files, made by tf-keras, export to specs that build the
same models in Keras 3: same layers, same parameters, same predictions."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from specc.exporting.weights import copy_weights_from_h5

pytest.importorskip("tf_keras", reason="the test extra tf-keras makes the Keras 2 files")

PLUGINS = str(ROOT / "tests" / "plugins")  # demo_layers: the same classes in Keras 3 form
ARCHITECTURES = ["mlp", "cnn", "text", "separable_residual", "multi_input", "bidirectional",
                 "time_distributed", "mobilenet", "nested"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The Keras 2 files of every architecture, written by tf-keras in its own process."""
    out = tmp_path_factory.mktemp("keras2")
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "keras2" / "make_models.py"),
                             str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def arrays(made, name, kind):
    return [np.load(p) for p in sorted(made.glob(f"{name}.{kind}*.npy"))]


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


# Making the files takes about 25 s on 2 cores, the 16 round trips about a minute.
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["h5", "json"])
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_same_layers_parameters_and_predictions(made, name, fmt):
    import specc
    from specc.exporting import keras2
    from specc.building.build import build

    spec = keras2.export_file(made / f"{name}.{fmt}")
    model = build(spec)
    copy_weights_from_h5(model, made / f"{name}.h5")
    expected = json.loads((made / f"{name}.layers.json").read_text())
    assert [[l.name, type(l).__name__, l.count_params()] for l in model.layers] == expected
    x = arrays(made, name, "x")
    y = model.predict(x if len(x) > 1 else x[0], verbose=0)
    y = y if isinstance(y, list) else [y]
    for got, want in zip(y, arrays(made, name, "y"), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # and the spec is a spec: written, read back, it checks and builds the same
    from specc.writing.dump import dumps
    from specc.reading.load import parse_text
    from specc.checking.validate import validate_document

    again = validate_document(parse_text(dumps(spec), "toml"))
    assert again.model_dump() == spec.model_dump()
    assert specc.summary(again).total == sum(e[2] for e in expected)


@pytest.mark.slow
def test_cli_exports_spec_and_weights_that_build(made, tmp_path):
    spec, weights = tmp_path / "text.toml", tmp_path / "text.weights.h5"
    result = run_module("export", made / "text.h5", "-o", spec, "--weights", weights)
    assert result.returncode == 0, result.stderr
    model = tmp_path / "text.keras"
    result = run_module("build", spec, "-o", model, "--weights", weights)
    assert result.returncode == 0, result.stderr
    _predicts_as_keras2(model, made, "text", tmp_path)


def _predicts_as_keras2(model, made, name: str, tmp_path, plugins: str | None = None) -> None:
    """The .keras file, loaded in a fresh process (with the plugin module ``plugins``
    importable and imported), predicts what Keras 2 predicted for ``name``'s inputs."""
    imports = f", {plugins}" if plugins else ""
    check = (f"import sys, numpy as np, keras{imports}; m = keras.models.load_model(sys.argv[1]); "
             "np.save(sys.argv[3], m.predict(np.load(sys.argv[2]), verbose=0))")
    out = tmp_path / "y.npy"
    env = {**os.environ, "PYTHONPATH": PLUGINS} if plugins else None
    subprocess.run([sys.executable, "-c", check, str(model), str(made / f"{name}.x0.npy"),
                    str(out)], check=True, capture_output=True, cwd=ROOT, env=env)
    np.testing.assert_allclose(np.load(out), np.load(made / f"{name}.y0.npy"), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_keras2_forms_become_spec_arguments(made):
    from specc.exporting import keras2

    mlp = keras2.export_file(made / "mlp.json")
    assert mlp.inputs[0].shape == [20]  # input_shape on the first Dense
    dense, leaky = mlp.layers[0], mlp.layers[1]
    assert dense.kernel_regularizer.model_dump(exclude_unset=True) == {"l1": 1e-5, "l2": 1e-4}
    assert dense.kernel_constraint.model_dump(exclude_unset=True) == \
        {"type": "MaxNorm", "max_value": 3.0}
    assert round(leaky.negative_slope, 6) == 0.2  # Keras 2's alpha
    text = keras2.export_file(made / "text.h5")
    assert text.inputs[0].shape == [12]  # Embedding's input_length
    assert "input_length" not in text.layers[0].model_dump(exclude_unset=True)


@pytest.mark.slow
def test_compile_arguments_of_an_h5(made):
    import specc
    from specc.exporting import keras2
    from specc.writing.dump import to_data

    assert to_data(keras2.export_file(made / "mlp.h5"))["compile"] == {
        "optimizer": {"type": "Adam", "learning_rate": 0.0003},
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    assert to_data(keras2.export_file(made / "multi_input.h5"))["compile"] == {
        "optimizer": "rmsprop",
        "loss": {"priority": "binary_crossentropy",
                 "department": "sparse_categorical_crossentropy"},
        "loss_weights": {"priority": 1.0, "department": 0.2},
        "metrics": {"priority": ["accuracy"], "department": ["accuracy"]}}
    assert keras2.export_file(made / "mlp.json").compile is None  # to_json() has none
    assert specc.export(made / "mlp.h5", compile=False).compile is None
    assert specc.export(made / "mlp.h5").compile.optimizer.learning_rate == 0.0003


def test_keras_2_2_form_without_input_layer():
    """Keras 2.2's to_json(): no InputLayer, batch_input_shape on the first layer,
    initializers without a module, VarianceScaling's old 'normal'."""
    from specc.exporting.export import export_config
    from specc.exporting.keras2 import to_keras3

    old = {"class_name": "Sequential", "keras_version": "2.2.4", "config": {
        "name": "old", "layers": [
            {"class_name": "Dense", "config": {
                "name": "dense_1", "trainable": True, "batch_input_shape": [None, 6],
                "dtype": "float32", "units": 4, "activation": "relu", "use_bias": True,
                "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                    "scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.02}},
                "bias_regularizer": None, "activity_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None}}]}}
    spec = export_config(to_keras3(old))
    assert spec.inputs[0].shape == [6]
    # Keras 2.0's "normal" is Keras 3's default "truncated_normal", so it is left out
    assert spec.layers[0].kernel_initializer.model_dump(exclude_unset=True) == {
        "type": "VarianceScaling", "scale": 2.0}
    assert spec.layers[0].kernel_regularizer.model_dump(exclude_unset=True) == {"l2": 0.02}


def test_messages(tmp_path):
    weights_only = tmp_path / "w.h5"
    import h5py

    with h5py.File(weights_only, "w") as h5:
        h5.create_group("dense")
    result = run_module("export", weights_only)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{weights_only}: the .h5 file has no model_config: it holds weights only "
        "(save the model with model.save, not save_weights)")
    not_model = tmp_path / "m.json"
    not_model.write_text('{"a": 1}')
    result = run_module("export", not_model)
    assert result.stderr.splitlines()[0] == \
        f"{not_model}: not a Keras model config (no class_name at the top)"
    garbage = tmp_path / "g.h5"
    garbage.write_bytes(b"not hdf5")
    result = run_module("export", garbage)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{garbage}: cannot read Keras 2 model: ")
    assert "Traceback" not in result.stderr


def test_weights_behind_a_link_are_not_read(tmp_path):
    import h5py

    from specc.exporting import keras2
    from specc.building.build import build
    from specc.checking.spec import Spec

    model = build(Spec.model_validate({"inputs": [{"shape": [3]}],
                                       "layers": [{"type": "Dense", "units": 2}]}))
    secret = tmp_path / "other.h5"
    with h5py.File(secret, "w") as h5:
        h5["k"] = np.ones((3, 2), "float32")
    weights = tmp_path / "w.h5"
    with h5py.File(weights, "w") as h5:
        group = h5.create_group("model_weights/dense")
        group.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        group["dense/kernel:0"] = h5py.ExternalLink(str(secret), "k")
        group["dense/bias:0"] = np.zeros(2, "float32")
    with pytest.raises(keras2.SpecError) as caught:
        copy_weights_from_h5(model, weights)
    assert str(caught.value) == (
        f"{weights}: weight 'dense/kernel:0' of layer 'dense' is not a dataset stored in the "
        "file (a link or external data is not read)")


@pytest.mark.slow
def test_a_keras2_file_with_the_user_s_registered_classes_exports_with_the_plugin(made, tmp_path):
    from conftest import run_specc

    path = made / "transformer.h5"
    refused = run_specc("export", path)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"{path}: layers[0]: layer 'token_and_position_embedding' is the class "
        "'demo>TokenAndPositionEmbedding', which no plugin registered: pass the module that "
        "registers it with --plugin MODULE",
        f"{path}: layers[1]: layer 'transformer_block' is the class 'demo>TransformerBlock', "
        "which no plugin registered: pass the module that registers it with --plugin MODULE",
        "2 problems found"]
    spec, weights, model = (tmp_path / n for n in ("t.toml", "t.weights.h5", "t.keras"))
    done = run_specc("export", path, "--plugin", "demo_layers", "-o", spec, "--weights", weights,
                     PYTHONPATH=PLUGINS)
    assert done.returncode == 0, done.stderr
    assert 'type = "demo>TransformerBlock"' in spec.read_text()
    done = run_specc("build", spec, "--plugin", "demo_layers", "--weights", weights, "-o", model,
                     PYTHONPATH=PLUGINS)
    assert done.returncode == 0, done.stderr
    _predicts_as_keras2(model, made, "transformer", tmp_path, plugins="demo_layers")


@pytest.mark.slow
def test_a_keras2_file_with_an_unregistered_class_says_what_to_do(made):
    from conftest import run_specc

    path = made / "vae_encoder.h5"
    done = run_specc("export", path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{path}: layers[2]: layer 'sampling' is a Sampling: not a Keras 3 class; if it is a "
        "class of your own, register it with keras.saving.register_keras_serializable and "
        "pass its module with --plugin MODULE", "1 problem found"]
