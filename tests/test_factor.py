"""specc export --factor: shared arguments once in [defaults], the same spec after expansion."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib

import pytest

from specc.checking.validate import load
from specc.expanding.expand import expand
from specc.exporting.export import export_file
from specc.writing.dump import dumps
from specc.writing.factor import factor_blocks, factor_defaults


def test_only_arguments_every_layer_of_a_type_shares_move():
    data = {"inputs": [{"shape": [4]}], "layers": [
        {"type": "Dense", "units": 4, "use_bias": False, "activation": "relu"},
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "use_bias": False}},
        {"type": "Dense", "name": "out", "units": 2, "use_bias": False, "activation": "tanh"},
        {"type": "Dropout", "rate": 0.5},
        {"type": "LSTM", "units": 2, "use_bias": False, "inputs": ["dense"]}]}
    factored = factor_defaults(data)
    assert factored["defaults"] == {"Dense": {"use_bias": False},
                                    "LSTM": {"units": 2, "use_bias": False}}
    assert factored["layers"][0] == {"type": "Dense", "units": 4, "activation": "relu"}
    assert factored["layers"][1] == {"type": "Bidirectional", "layer": {"type": "LSTM"}}
    assert factored["layers"][3] == {"type": "Dropout", "rate": 0.5}  # one Dropout: stays


def test_a_value_most_layers_of_a_type_share_moves_and_the_others_keep_theirs():
    scaling = {"type": "VarianceScaling", "scale": 2.0, "mode": "fan_out"}
    data = {"inputs": [{"shape": [8, 8, 3]}], "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "kernel_initializer": scaling},
        {"type": "Conv2D", "filters": 8, "kernel_size": 1, "kernel_initializer": scaling},
        {"type": "Conv2D", "filters": 4, "kernel_size": 1, "kernel_initializer": "he_normal"},
        {"type": "Conv2D", "filters": 4, "kernel_size": 1, "kernel_initializer": scaling,
         "padding": "same"},
        {"type": "Conv2D", "filters": 2, "kernel_size": 1, "kernel_initializer": scaling,
         "padding": "same"},
        {"type": "Dense", "units": 3, "activation": "relu"},
        {"type": "Dense", "units": 2, "activation": "softmax"}]}
    flat = copy.deepcopy(data)
    factored = factor_defaults(data)  # moves the values of data's own tables
    assert factored["defaults"] == {"Conv2D": {"kernel_size": 1, "kernel_initializer": scaling}}
    assert [layer.get("kernel_initializer") for layer in factored["layers"][:5]] == [
        None, None, "he_normal", None, None]
    assert factored["layers"][0]["kernel_size"] == 3 and "kernel_size" not in factored["layers"][1]
    # padding: 2 of 5 set it, the others leave it to Keras; filters: no majority;
    # Dense: 1 relu and 1 softmax.
    assert [layer.get("padding") for layer in factored["layers"][:5]] == [None] * 3 + ["same"] * 2
    assert factored["layers"][5:] == flat["layers"][5:]
    assert expand(factored) == flat


def test_export_writes_repeated_initializers_once_and_rebuilds_the_same_layers(tmp_path):
    """EfficientNet's convolutions all take VarianceScaling(2.0, fan_out, truncated_normal):
    `specc export` writes it once, and the spec builds layers with identical configs."""
    import keras

    from conftest import configs, run_specc
    from specc.building.build import build

    init = keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")
    x = inputs = keras.Input((16, 16, 3), name="image")
    for k, filters in enumerate((8, 16, 16, 24, 24, 32)):
        x = keras.layers.Conv2D(filters, 1, padding="same", use_bias=False,
                                kernel_initializer=init, name=f"block{k}_conv")(x)
        x = keras.layers.DepthwiseConv2D(3 if k % 3 else 5, padding="same", use_bias=False,
                                         depthwise_initializer=init, name=f"block{k}_dw")(x)
        x = keras.layers.BatchNormalization(axis=3, name=f"block{k}_bn")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                            name="head")(x)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D(name="pool")(x))
    model.save(tmp_path / "m.keras")
    run = run_specc("export", tmp_path / "m.keras", "-o", tmp_path / "m.toml")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "m.toml").read_text()
    table = '{ type = "VarianceScaling", scale = 2.0, mode = "fan_out" }'
    assert text.count("VarianceScaling") == 2  # Conv2D's kernel, DepthwiseConv2D's depthwise
    assert f"kernel_initializer = {table}" in text
    assert f"depthwise_initializer = {table}" in text
    assert text.count("axis = 3") == 1
    data = tomllib.loads(text)
    scaling = {"type": "VarianceScaling", "mode": "fan_out", "scale": 2.0}
    assert data["defaults"] == {
        "Conv2D": {"kernel_size": [1, 1], "padding": "same", "use_bias": False,
                   "kernel_initializer": scaling},
        "DepthwiseConv2D": {"kernel_size": [3, 3], "padding": "same", "use_bias": False,
                            "depthwise_initializer": scaling},
        "BatchNormalization": {"axis": 3}}
    head = next(layer for layer in data["layers"] if layer.get("name") == "head")
    assert head == {"type": "Conv2D", "name": "head", "filters": 4, "kernel_size": [3, 3],
                    "kernel_initializer": "he_normal"}  # its own values stay
    rebuilt = build(load(tmp_path / "m.toml"))
    assert configs(rebuilt) == configs(model)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert load(tmp_path / "m.toml").model_dump() == export_file(tmp_path / "m.keras").model_dump()


def test_export_factor_of_mobilenetv2_loads_to_the_same_spec(tmp_path):
    import keras

    keras.backend.clear_session()
    keras.applications.MobileNetV2(weights=None).save(tmp_path / "m.keras")
    for flags, name in (([], "plain.toml"), (["--factor"], "factored.toml")):
        run = subprocess.run([sys.executable, "-m", "specc", "export", str(tmp_path / "m.keras"),
                              "-o", str(tmp_path / name), *flags], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    plain, factored = tmp_path / "plain.toml", tmp_path / "factored.toml"
    data = tomllib.loads(factored.read_text())
    assert data["defaults"]["BatchNormalization"] == {"momentum": 0.999}
    assert len(data["blocks"]) >= 3
    assert load(factored).model_dump() == load(plain).model_dump()
    flat = dumps(export_file(tmp_path / "m.keras"))
    assert len(factored.read_text()) < len(plain.read_text()) / 2 < len(flat) / 2
    assert len(factored.read_text()) < len(flat) / 3


def _stack(n: int) -> dict:
    """A flat spec of n residual blocks named as Keras names them (stage_blockK_*)."""
    layers = [{"type": "Dense", "name": "stem", "units": 8}]
    for k in range(1, n + 1):
        before = layers[-1]["name"]
        layers += [
            {"type": "Dense", "name": f"stage_block{k}_dense", "units": 8 * k, "activation": "relu"},
            {"type": "Dense", "name": f"stage_block{k}_back", "units": 8},
            {"type": "Add", "name": f"stage_block{k}_add", "inputs": [before, f"stage_block{k}_back"]},
        ]
    return {"inputs": [{"shape": [8]}], "layers": layers}


def test_repeated_sub_graphs_become_one_block_with_parameters():
    flat = _stack(4)
    factored = factor_blocks(flat)
    assert factored["blocks"] == {"stage_block": {
        "params": {"units": "int"},
        "layers": [
            {"name": "dense", "type": "Dense", "units": "{units}", "activation": "relu"},
            {"name": "back", "type": "Dense", "units": 8},
            {"name": "add", "type": "Add", "inputs": ["x", "back"]}]}}
    assert factored["layers"][1:] == [
        {"block": "stage_block", "name": f"stage_block{k}", "units": 8 * k} for k in range(1, 5)]
    assert expand(factored) == flat


def test_sub_graphs_used_from_outside_stay_flat():
    flat = _stack(3)
    flat["layers"].append({"type": "Concatenate", "name": "both",
                           "inputs": ["stage_block1_dense", "stage_block3_add"]})
    assert "blocks" not in factor_blocks(flat)


@pytest.mark.slow
def test_export_factor_of_resnet50_is_four_times_smaller(tmp_path):
    import keras

    keras.backend.clear_session()
    keras.applications.ResNet50(weights=None).save(tmp_path / "r.keras")
    sizes = {}
    for flags, name in (([], "plain.toml"), (["--factor"], "factored.toml")):
        run = subprocess.run([sys.executable, "-m", "specc", "export", str(tmp_path / "r.keras"),
                              "-o", str(tmp_path / name), *flags], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        sizes[name] = len((tmp_path / name).read_text())
    assert sizes["factored.toml"] * 4 <= len(dumps(export_file(tmp_path / "r.keras")))
    assert sizes["factored.toml"] < sizes["plain.toml"]
    assert load(tmp_path / "factored.toml").model_dump() == load(tmp_path / "plain.toml").model_dump()
