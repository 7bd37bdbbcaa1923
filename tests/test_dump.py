"""dump's direct TOML writer writes exactly what tomlkit writes (it exists for speed:
tomlkit takes longer than linear time on big models)."""

from __future__ import annotations

import math

import pytest
import tomlkit

from conftest import ROOT, spec_files
from specc.writing.dump import _toml_document, dumps, to_data, toml_text
from specc.checking.validate import load

CORPUS = sorted(p for p in (ROOT / "tests" / "corpus" / "valid").rglob("*")
                if p.suffix in (".toml", ".json"))


def tomlkit_text(data: dict) -> str:
    return tomlkit.dumps(_toml_document(data))


@pytest.mark.parametrize("path", spec_files() + CORPUS, ids=lambda p: p.name)
def test_direct_writer_equals_tomlkit(path):
    data = to_data(load(path))
    data.pop("$schema", None)
    assert toml_text(data) == tomlkit_text(data)


@pytest.mark.parametrize("value", [
    'a"b', "a\\b", "tab\there", "new\nline", "\x01\x7f", "é ü ✓", "\u2028", "\xa0", "",
    "a.b", "two words", 0, -3, 10**20, 1e-05, 2.0, -0.5, 1e300, math.inf, -math.inf, True,
    [], [[0, 1], [2, 3]], {}, {"a": {"b": [1, "x"]}},
], ids=repr)
def test_direct_writer_equals_tomlkit_on_values_and_keys(value):
    data = {"model": {"name": "m"}, "inputs": [{"shape": [1]}],
            "layers": [{"type": "Dense", "units": 1, "call": {"k": value}}]}
    if isinstance(value, str):
        data["layers"][0]["call"][value] = value  # the same text as a key
    assert toml_text(data) == tomlkit_text(data)


def test_shapes_the_direct_writer_leaves_to_tomlkit():
    # A list of tables and any section it does not know are written by tomlkit.
    listed = {"inputs": [{"shape": [1]}], "layers": [{"type": "X", "v": [{"a": 1}, {"b": 2}]}]}
    other = {"inputs": [{"shape": [1]}], "defaults": {"units": 2}}
    for data in (listed, other):
        assert toml_text(data) == tomlkit_text(data)


def test_direct_writer_equals_tomlkit_on_defaults_per_layer_type():
    data = {"model": {"name": "m"}, "inputs": [{"shape": [1]}],
            "defaults": {"Conv2D": {"use_bias": False, "kernel_initializer": {
                "type": "VarianceScaling", "scale": 2.0, "mode": "fan_out"}}, "Dense": {"units": 2},
                "odd name": {"rate": 0.5}},
            "layers": [{"type": "Dense"}], "compile": {"loss": "mse"}}
    text = toml_text(data)
    assert text == tomlkit_text(data)
    assert '\n[defaults.Conv2D]\nuse_bias = false\nkernel_initializer = {type = "VarianceScaling",' \
        in text


def test_dumps_of_a_nested_model_is_the_committed_layout():
    text = dumps(load(ROOT / "tests" / "corpus" / "valid" / "nested_model.toml"))
    assert "\n\n[[layers.spec.inputs]]\nshape = [8]\n\n[[layers.spec.layers]]\n" in text
