"""Expansion: [defaults], [blocks], repeat, if, {expressions}; the examples in specs/
against the models they stand for, and the documented examples."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT
from specc.errors import SpecError
from specc.expanding.expand import expand, uses_expansion
from specc.reading.load import parse_text
from specc.checking.validate import load, validate_document

SPECS = ROOT / "specs"
DOC = ROOT / "docs" / "spec-format.md"


def code_lines(path) -> int:
    """Lines that are neither blank nor comments."""
    return sum(1 for line in path.read_text().splitlines()
               if line.strip() and not line.strip().startswith("#"))


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate_document(parse_text(text, "toml", "spec.toml"))
    return [str(p) for p in caught.value.problems]


def configs(model) -> list[tuple]:
    return [(type(layer).__name__, layer.name, layer.get_config()) for layer in model.layers]


def fresh(make):
    """A model made in a fresh Keras session, so that default names start from zero."""
    import keras

    keras.backend.clear_session()
    return make()


# ---- expansion as data ------------------------------------------------------

def test_flat_spec_is_returned_unchanged():
    data = {"inputs": [{"shape": [4]}], "layers": [{"type": "Dense", "units": 2}]}
    assert expand(data) == data


def test_constants_and_arithmetic_in_plain_layers():
    flat = expand({"constants": {"side": 7, "channels": 128}, "inputs": [{"shape": [8]}],
                   "layers": [{"type": "Dense", "units": "{side * side * channels}"},
                              {"type": "Reshape", "target_shape": "{[side, side, channels]}"},
                              {"type": "Dense", "units": 2, "name": "out_{side}"}]})
    assert flat["layers"] == [
        {"type": "Dense", "units": 6272},
        {"type": "Reshape", "target_shape": [7, 7, 128]},
        {"type": "Dense", "units": 2, "name": "out_7"}]


def test_defaults_by_type_and_by_argument_and_opt_out():
    flat = expand({
        "inputs": [{"shape": [8]}],
        "defaults": {"kernel_regularizer": {"l2": 0.01}, "Dense": {"units": 4},
                     "Dropout": {"rate": 0.5}},
        "layers": [{"type": "Dense"}, {"type": "Dropout"}, {"type": "Conv1D", "filters": 2,
                                                            "kernel_size": 1},
                   {"type": "Dense", "units": 8, "kernel_regularizer": "None"},
                   {"type": "Dense", "units": 2, "defaults": False}]})
    assert flat["layers"] == [
        {"type": "Dense", "units": 4, "kernel_regularizer": {"l2": 0.01}},
        {"type": "Dropout", "rate": 0.5},
        {"type": "Conv1D", "filters": 2, "kernel_size": 1, "kernel_regularizer": {"l2": 0.01}},
        {"type": "Dense", "units": 8, "kernel_regularizer": "None"},
        {"type": "Dense", "units": 2}]


def test_repeat_chains_and_numbers_names():
    flat = expand({"inputs": [{"shape": [8]}],
                   "layers": [{"type": "Dense", "units": "{2 ** (i + 1)}", "name": "d{i}",
                               "repeat": 3}]})
    assert flat["layers"] == [{"type": "Dense", "units": 2, "name": "d0"},
                              {"type": "Dense", "units": 4, "name": "d1"},
                              {"type": "Dense", "units": 8, "name": "d2"}]


def test_a_repeated_layer_with_inputs_chains_after_the_first():
    flat = expand({"inputs": [{"shape": [8], "name": "a"}],
                   "layers": [{"type": "Dense", "units": 2, "name": "skip"},
                              {"type": "Dense", "units": 4, "name": "d{i}", "repeat": 3,
                               "inputs": ["a"]},
                              {"type": "Add", "inputs": ["skip", "d2"]}]})
    assert [layer.get("inputs") for layer in flat["layers"]] == [
        None, ["a"], None, None, ["skip", "d2"]]


def test_a_left_out_layer_passes_its_input_on():
    flat = expand({
        "inputs": [{"shape": [8]}],
        "blocks": {"b": {"params": {"project": "bool"}, "layers": [
            {"name": "proj", "type": "Dense", "units": 8, "if": "{project}"},
            {"name": "main", "type": "Dense", "units": 8, "inputs": ["x"]},
            {"name": "add", "type": "Add", "inputs": ["proj", "main"]}]}},
        "layers": [{"block": "b", "name": "one", "project": True},
                   {"block": "b", "name": "two", "project": False}]})
    assert [(layer["name"], layer.get("inputs")) for layer in flat["layers"]] == [
        ("one_proj", None), ("one_main", ["input_layer"]), ("one_add", ["one_proj", "one_main"]),
        ("two_main", ["one_add"]), ("two_add", ["one_add", "two_main"])]


def test_instance_names_refer_to_the_block_output_and_names_follow_the_template():
    flat = expand({
        "inputs": [{"shape": [8]}],
        "blocks": {"b": {"names": "{layer}_of_{instance}", "outputs": ["first"], "layers": [
            {"name": "first", "type": "Dense", "units": 2},
            {"name": "second", "type": "Dense", "units": 3}]}},
        "layers": [{"block": "b", "name": "u"}, {"type": "Dense", "units": 1, "inputs": ["u"]}],
        "model": {"outputs": ["dense", "second_of_u"]}})
    assert flat["layers"][2]["inputs"] == ["first_of_u"]
    assert flat["model"]["outputs"] == ["dense", "second_of_u"]


def test_a_block_with_two_outputs_is_named_with_an_index():
    flat = expand({
        "inputs": [{"shape": [8]}],
        "blocks": {"two": {"outputs": ["a", "b"], "layers": [
            {"name": "a", "type": "Dense", "units": 2},
            {"name": "b", "type": "Dense", "units": 3, "inputs": ["x"]}]}},
        "layers": [{"block": "two", "name": "t"},
                   {"type": "Concatenate", "inputs": ["t:0", "t:1"]}],
        "model": {"outputs": ["t:1", "concatenate"]}})
    assert flat["layers"][2]["inputs"] == ["t_a", "t_b"]
    assert flat["model"]["outputs"] == ["t_b", "concatenate"]


def test_nested_input_structures_are_wired_inside_blocks():
    flat = expand({
        "inputs": [{"shape": [8], "name": "q"}],
        "blocks": {"attend": {"layers": [
            {"name": "key", "type": "Dense", "units": 8},
            {"name": "mha", "type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4,
             "inputs": {"query": "x", "value": ["key"]}}]}},
        "layers": [{"block": "attend", "name": "a", "inputs": ["q"]}],
        "model": {"outputs": {"out": ["a"]}}})
    assert flat["layers"][1]["inputs"] == {"query": "q", "value": ["a_key"]}
    assert flat["model"]["outputs"] == {"out": ["a_mha"]}


def test_braces_are_written_doubled():
    flat = expand({"inputs": [{"shape": [8]}],
                   "layers": [{"type": "Dense", "units": 2, "name": "a{{b}}"}]})
    assert flat["layers"][0]["name"] == "a{b}"


def test_expansion_is_linear_in_the_expanded_model():
    # 20,000 layers through two levels of blocks: a quadratic step would take minutes.
    data = {"inputs": [{"shape": [4]}],
            "blocks": {"pair": {"params": {"n": "int"}, "layers": [
                {"name": "a", "type": "Dense", "units": "{n}"},
                {"name": "b", "type": "Dropout", "rate": 0.1}]},
                "stack": {"params": {"n": "int"}, "layers": [
                    {"block": "pair", "name": "p{i}", "repeat": 100, "n": "{n}"}]}},
            "layers": [{"block": "stack", "name": "s{i}", "repeat": 100, "n": 4}]}
    flat = expand(data)
    assert len(flat["layers"]) == 20_000
    assert flat["layers"][-1] == {"name": "s99_p99_b", "type": "Dropout", "rate": 0.1}


def test_blocks_nest_only_so_deep():
    blocks = {f"b{n}": {"layers": [{"block": f"b{n + 1}"}]} for n in range(60)}
    blocks["b60"] = {"layers": [{"type": "Dense", "units": 2}]}
    with pytest.raises(SpecError) as caught:
        expand({"inputs": [{"shape": [4]}], "blocks": blocks, "layers": [{"block": "b0"}]})
    assert [p.message.split(" [in ")[0] for p in caught.value.problems] == [
        "blocks nest more than 50 deep"]


def test_a_spec_cannot_ask_for_unbounded_work():
    def messages(layers, constants=None):
        with pytest.raises(SpecError) as caught:
            expand({"inputs": [{"shape": [4]}], "constants": constants or {}, "layers": layers})
        return [p.message for p in caught.value.problems]

    assert messages([{"type": "Dense", "units": 2, "name": "d{i}", "repeat": 10 ** 9}]) == [
        "expected at most 100,000 repeats, received 1,000,000,000"]
    nested = {"blocks": {"b": {"layers": [{"type": "Dense", "units": 2, "repeat": 1000}]}}}
    with pytest.raises(SpecError) as caught:
        expand({"inputs": [{"shape": [4]}], **nested,
                "layers": [{"block": "b", "name": "b{i}", "repeat": 1000}]})
    assert caught.value.problems[0].message.startswith("the spec expands to more than 100,000")
    assert messages([{"type": "Dense", "units": 2}], {"s": "x" * 6000, "t": "{s + s}"}) == [
        "cannot compute this expression: '+' would make a str longer than 10,000"]


def test_defaults_of_an_alias_reach_its_class():
    flat = expand({"inputs": [{"shape": [8, 8, 1]}], "defaults": {"Convolution2D": {"filters": 3}},
                   "layers": [{"type": "Conv2D", "kernel_size": 1}]})
    assert flat["layers"] == [{"type": "Conv2D", "kernel_size": 1, "filters": 3}]


def test_expressions_are_never_python():
    message = problems('[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\n'
                       'units = "{().__class__}"\n')
    assert len(message) == 1 and "is not allowed in an expression" in message[0]


# ---- the examples in specs/ -------------------------------------------------

def test_examples_are_short():
    assert code_lines(SPECS / "resnet50.toml") <= 120
    assert code_lines(SPECS / "mobilenetv2.toml") <= 100


def _same_as_application(spec_name: str, make) -> None:
    import numpy as np

    from specc.building.build import build

    reference = fresh(lambda: make(weights=None))
    built = fresh(lambda: build(load(SPECS / spec_name)))
    assert [(c, n) for c, n, _ in configs(built)] == [(c, n) for c, n, _ in configs(reference)]
    assert configs(built) == configs(reference)
    assert built.count_params() == reference.count_params()
    # Weights saved from Keras's model load by name into the spec's, with the same results.
    for weights, source in zip(built.weights, reference.weights):
        assert weights.path == source.path and weights.shape == source.shape
    rng = np.random.default_rng(0)
    for variable in reference.weights:
        variable.assign(rng.normal(0, 0.05, variable.shape).astype("float32"))
    built.set_weights(reference.get_weights())
    images = rng.uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_array_equal(built.predict(images, verbose=0),
                                  reference.predict(images, verbose=0))


@pytest.mark.slow
def test_resnet50_spec_is_keras_resnet50(tmp_path):
    import keras

    _same_as_application("resnet50.toml", keras.applications.ResNet50)


@pytest.mark.slow
def test_mobilenetv2_spec_is_keras_mobilenetv2(tmp_path):
    import keras

    _same_as_application("mobilenetv2.toml", keras.applications.MobileNetV2)


@pytest.mark.slow
def test_weights_file_of_the_application_loads_into_the_spec_model(tmp_path):
    import keras
    import numpy as np

    from specc.building.build import build

    reference = fresh(lambda: keras.applications.MobileNetV2(weights=None))
    rng = np.random.default_rng(1)
    for variable in reference.weights:
        variable.assign(rng.normal(0, 0.05, variable.shape).astype("float32"))
    reference.save_weights(tmp_path / "w.weights.h5")
    built = fresh(lambda: build(load(SPECS / "mobilenetv2.toml")))
    built.load_weights(tmp_path / "w.weights.h5")
    images = rng.uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_array_equal(built.predict(images, verbose=0),
                                  reference.predict(images, verbose=0))


def test_tutorial_defaults_form_builds_the_long_form():
    from specc.building.build import build

    long_form = fresh(lambda: build(load(SPECS / "tutorial_combined.toml")))
    short_form = fresh(lambda: build(load(SPECS / "tutorial_combined_defaults.toml")))
    assert type(short_form) is type(long_form)
    assert configs(short_form) == configs(long_form)
    assert short_form.count_params() == long_form.count_params()
    assert short_form.optimizer.get_config() == long_form.optimizer.get_config()
    assert short_form.loss == long_form.loss
    assert code_lines(SPECS / "tutorial_combined_defaults.toml") \
        < code_lines(SPECS / "tutorial_combined.toml")


def _expanded_by_the_command(spec, tmp_path, fmt="toml"):
    target = tmp_path / f"flat.{fmt}"
    run = subprocess.run([sys.executable, "-m", "specc", "expand", str(spec), "-o", str(target)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return target


EXAMPLES = ["tutorial_combined_defaults.toml", "resnet50.toml", "mobilenetv2.toml"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_expand_command_writes_a_flat_spec_with_the_same_meaning(name, tmp_path):
    flat = _expanded_by_the_command(SPECS / name, tmp_path)
    assert not uses_expansion(tomllib.loads(flat.read_text()))
    # The flat spec is already expanded: it loads to the same typed spec.
    assert load(flat).model_dump() == load(SPECS / name).model_dump()


@pytest.mark.parametrize("name", ["tutorial_combined_defaults.toml", "mobilenetv2.toml"])
def test_expanded_spec_builds_the_same_model(name, tmp_path):
    from specc.building.build import build

    flat = _expanded_by_the_command(SPECS / name, tmp_path, "json")
    assert configs(fresh(lambda: build(load(flat)))) == \
        configs(fresh(lambda: build(load(SPECS / name))))


def test_expand_command_prints_toml_and_reports_problems(tmp_path):
    run = subprocess.run([sys.executable, "-m", "specc", "expand",
                          str(SPECS / "tutorial_combined_defaults.toml")],
                         capture_output=True, text=True)
    assert run.returncode == 0
    assert run.stdout.count("[[layers]]") == 5 and "kernel_regularizer" in run.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[inputs]]\nshape = [4]\n\n[[layers]]\nblock = "nope"\n')
    run = subprocess.run([sys.executable, "-m", "specc", "expand", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.splitlines()[0] == f"{bad}:5:9: layers[0].block: unknown block 'nope'"


# ---- the reference's examples -------------------------------------------------

def _doc_examples() -> list[str]:
    """The TOML blocks of docs/spec-format.md marked <!-- expand example -->."""
    text = DOC.read_text()
    return re.findall(r"<!-- expand example -->\n```toml\n(.*?)```", text, re.S)


def test_the_reference_has_expansion_examples():
    assert len(_doc_examples()) >= 4


@pytest.mark.parametrize("index", range(len(_doc_examples())))
def test_reference_examples_build(index):
    from specc.building.build import build

    text = _doc_examples()[index]
    spec = validate_document(parse_text(text, "toml", f"example{index}.toml"))
    fresh(lambda: build(spec))


def test_readme_statements_hold():
    text = (ROOT / "README.md").read_text()
    assert f"`keras.applications.ResNet50` in {code_lines(SPECS / 'resnet50.toml')} lines" in text
    assert f"for MobileNetV2 ({code_lines(SPECS / 'mobilenetv2.toml')} lines)" in text
    # The residual block shown is the one in the spec.
    shown = re.search(r"```toml\n(\[blocks\.residual\].*?)```", text, re.S).group(1)
    spec = (SPECS / "resnet50.toml").read_text()
    lines = [line for line in shown.splitlines() if not line.strip().startswith("#")]
    assert len(lines) > 8 and all(line in spec for line in lines)


def test_reference_statements_hold():
    text = DOC.read_text()
    assert f"[`specs/resnet50.toml`](../specs/resnet50.toml) ({code_lines(SPECS / 'resnet50.toml')} lines)" in text
    assert f"[`specs/mobilenetv2.toml`](../specs/mobilenetv2.toml) ({code_lines(SPECS / 'mobilenetv2.toml')} lines)" in text
    names = [layer.get("name") for layer in expand(parse_text(_doc_examples()[2], "toml"))["layers"]]
    assert names[:6] == ["res1_shortcut", "res1_first_dense", "res1_first_bn", "res1_first_act",
                         "res1_second_dense", "res1_second_bn"]
    assert "res2_shortcut" not in names and names[-2:] == ["res3_add", "logits"]
    corpus = ROOT / "tests" / "corpus" / "invalid" / "expand"
    shown = (corpus / "nested_block_error_names_both_uses.toml.expected").read_text().replace(
        "expand/nested_block_error_names_both_uses.toml", "spec.toml")
    assert shown in text


def test_the_schema_reads_blocks_and_defaults_as_editors_see_them():
    from specc.checking.source import _validator

    def accepted(block_layer, defaults=None):
        data = {"inputs": [{"shape": [4]}], "defaults": defaults or {},
                "blocks": {"b": {"params": {"n": "int = 2"}, "layers": [block_layer]}},
                "layers": [{"block": "b", "n": 3, "repeat": 2}]}
        return _validator().is_valid(data)

    assert accepted({"name": "d", "type": "Dense", "units": "{2 * n}", "if": "{n > 1}"})
    assert not accepted({"name": "d", "type": "Dense", "unitz": 3})
    assert not accepted({"name": "d", "type": "Dense", "units": 3, "activation": "rellu"})
    assert accepted({"type": "Dropout"}, {"Dropout": {"rate": 0.5}})
    assert not accepted({"type": "Dropout"}, {"Dropout": {"rat": 0.5}})
