"""specc export --factor: shared arguments once in [defaults], the same spec after expansion."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from specc.expanding.expand import expand
from specc.writing.factor import factor_blocks, factor_defaults
from specc.checking.validate import load


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
    assert len(factored.read_text()) < len(plain.read_text()) / 3


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
    assert sizes["factored.toml"] * 4 <= sizes["plain.toml"]
    assert load(tmp_path / "factored.toml").model_dump() == load(tmp_path / "plain.toml").model_dump()
