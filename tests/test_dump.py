"""What specc writes (dumps, export, expand) is already in `specc fmt`'s layout, and
reads back as the data it was written from."""

from __future__ import annotations

import json
import math
import tomllib

import pytest
import tomlkit
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import ROOT, run_specc, spec_files
from specc.checking.validate import load
from specc.expanding.expand import escaped
from specc.writing.dump import dumps, dumps_data, to_data
from specc.writing.fmt import format_text

CORPUS = sorted(p for p in (ROOT / "tests" / "corpus" / "valid").rglob("*")
                if p.suffix in (".toml", ".json"))


@pytest.mark.parametrize("fmt", ["toml", "json"])
@pytest.mark.parametrize("path", spec_files() + CORPUS, ids=lambda p: p.name)
def test_dumps_writes_the_layout_fmt_gives_and_reads_back_the_same_spec(path, fmt):
    spec = load(path)
    text = dumps(spec, fmt)
    assert format_text(text, fmt) == text
    data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    expected = escaped(to_data(spec))
    expected.pop("$schema", None)  # written only when dumps is given one
    assert data == expected


@pytest.mark.parametrize("value", [
    'a"b', "a\\b", "tab\there", "new\nline", "\x01\x7f", "é ü ✓", "\u2028", "\xa0", "",
    "a.b", "two words", 0, -3, 10**20, 1e-05, 2.0, -0.5, 1e300, math.inf, -math.inf, True,
    [], [[0, 1], [2, 3]], {}, {"a": {"b": [1, "x"]}},
], ids=repr)
def test_any_value_and_key_is_written_as_valid_toml_that_reads_back(value):
    data = {"model": {"name": "m"}, "inputs": [{"shape": [1]}],
            "layers": [{"type": "Dense", "units": 1, "call": {"k": value}}]}
    if isinstance(value, str):
        data["layers"][0]["call"][value] = value  # the same text as a key
    text = dumps_data(data)
    assert tomllib.loads(text) == data
    assert tomlkit.parse(text).unwrap() == data  # the TOML library specc reads comments with


def test_a_schema_line_and_key_lead_the_text():
    data = {"inputs": [{"shape": [1]}], "layers": [{"type": "Dense", "units": 1}]}
    assert dumps_data(data, "toml", "s.json").startswith('#:schema s.json\n[[inputs]]\n')
    assert json.loads(dumps_data(data, "json", "s.json")) == {"$schema": "s.json", **data}
    assert dumps_data(data, "json", "s.json").startswith('{\n  "$schema": "s.json",\n')


def test_keys_are_in_keras_signature_order_and_user_tables_as_written():
    data = {"layers": [{"units": 2, "name": "d", "type": "Dense", "use_bias": False,
                        "activation": "relu", "inputs": {"b": "x", "a": "y"}}],
            "model": {"outputs": {"z": "d", "a": "d"}}, "inputs": [{"shape": [1]}],
            "defaults": {"Dense": {"use_bias": True, "units": 3}, "Dropout": {"rate": 0.5},
                         "kernel_initializer": {"seed": 1, "type": "GlorotUniform"}}}
    text = dumps_data(data)
    assert text.index("[model]") < text.index("[[inputs]]") < text.index("[defaults]") \
        < text.index("[[layers]]")
    assert ('[defaults]\nDense = { units = 3, use_bias = true }\nDropout = { rate = 0.5 }\n'
            'kernel_initializer = { type = "GlorotUniform", seed = 1 }\n') in text
    layer = text[text.index("[[layers]]"):]
    assert layer == ('[[layers]]\ntype = "Dense"\nname = "d"\ninputs = { b = "x", a = "y" }\n'
                     'units = 2\nactivation = "relu"\nuse_bias = false\n')
    assert 'outputs = { z = "d", a = "d" }' in text


def test_dumps_of_a_nested_model_is_the_committed_layout():
    text = dumps(load(ROOT / "tests" / "corpus" / "valid" / "nested_model.toml"))
    assert "\n\n[[layers.spec.inputs]]\nshape = [8]\n\n[[layers.spec.layers]]\n" in text


def test_export_and_expand_write_specs_that_fmt_check_leaves_alone(tmp_path):
    """Through the real command line: a user who formats their specs in CI can export
    and expand into the same repository."""
    keras_file = tmp_path / "m.keras"
    built = run_specc("build", ROOT / "specs" / "functional_multi_input.json", "-o", keras_file)
    assert built.returncode == 0, built.stderr
    written = []
    for fmt in ("toml", "json"):
        out = tmp_path / f"exported.{fmt}"
        run = run_specc("export", keras_file, "-o", out)
        assert run.returncode == 0, run.stderr
        out_flat = tmp_path / f"expanded.{fmt}"
        run = run_specc("expand", ROOT / "specs" / "resnet50.toml", "-o", out_flat)
        assert run.returncode == 0, run.stderr
        written += [out, out_flat]
    factored = tmp_path / "factored.toml"
    run = run_specc("export", keras_file, "-o", factored, "--factor")
    assert run.returncode == 0, run.stderr
    written.append(factored)
    check = run_specc("fmt", "--check", *written)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "5 files already formatted" in check.stdout + check.stderr


# Any data in a spec's shape, as TOML can hold it (no null, 64-bit integers).
_SCALARS = (st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
            | st.text(max_size=8) | st.sampled_from(["Dense", "a\nb", 'q"', "\\", "{x}"]))
_KEYS = st.sampled_from(["type", "name", "inputs", "layers", "spec", "model", "defaults",
                         "Dense", "call"]) | st.text(max_size=5)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_KEYS, _VALUES, max_size=6))
# Found by this test: "\r\n" in a multi-line string read back as "\n"; an entry of
# [[inputs]] holding only tables lost its [[inputs]] header, and so its place in the list.
@example(data={"name": "\r\n"})
@example(data={"inputs": [{"t": {"x": "a" * 130}}, {}]})  # "t" too long to be inline
def test_any_data_is_written_as_text_that_reads_back_equal(data):
    """The layout writer has no other writer to fall back on: whatever the data, TOML
    and JSON text that read back as the same data."""
    assert tomllib.loads(dumps_data(data)) == {k: v for k, v in data.items() if k != "$schema"}
    assert json.loads(dumps_data(data, "json")) == {k: v for k, v in data.items()
                                                    if k != "$schema"}
