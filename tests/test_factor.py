"""specc export --factor: shared arguments once in [defaults], the same spec after expansion."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from specc.factor import factor_defaults
from specc.validate import load


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
    assert tomllib.loads(factored.read_text())["defaults"]["BatchNormalization"] == {
        "momentum": 0.999}
    assert load(factored).model_dump() == load(plain).model_dump()
    assert len(factored.read_text()) < 0.9 * len(plain.read_text())
