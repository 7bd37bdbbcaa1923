"""Golden messages: every kind of mistake, its exact text, LINE:COL and suggestion.

The corpus (tests/corpus) holds many more cases as files; here each kind of
mistake is written out next to its message, and the places that need Keras
(build-time errors) and the command line (JSON output, ``specc layers``) are
checked too.
"""

from __future__ import annotations

import json

import pytest

from specc.errors import Problem, SpecError
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

HEAD = '[[inputs]]\nshape = [4]\n\n[[layers]]\n'  # the layer's keys start on line 5


def problems(text: str, fmt: str = "toml") -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate_document(parse_text(text, fmt, f"spec.{fmt}"))
    return [str(p) for p in caught.value.problems]


# name -> (the spec's text after HEAD, every line printed)
MISTAKES = {
    "layer_type": (
        'type = "Dence"\nunits = 64\n',
        ["spec.toml:5:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?"]),
    "argument_name": (
        'type = "Dense"\nunit = 64\n',
        ["spec.toml:6:1: layers[0].unit: unknown argument 'unit' for Dense. "
         "Did you mean 'units'?"]),
    "activation": (
        'type = "Dense"\nunits = 2\nactivation = "rellu"\n',
        ["spec.toml:7:14: layers[0].activation: unknown activation 'rellu'. "
         "Did you mean 'relu'?"]),
    "initializer_name": (
        'type = "Dense"\nunits = 2\nkernel_initializer = "he_normall"\n',
        ["spec.toml:7:22: layers[0].kernel_initializer: unknown kernel initializer "
         "'he_normall'. Did you mean 'he_normal'?"]),
    "initializer_class": (
        'type = "Dense"\nunits = 2\nkernel_initializer = { type = "HeNormall", seed = 7 }\n',
        ["spec.toml:7:31: layers[0].kernel_initializer.type: unknown initializer "
         "'HeNormall'. Did you mean 'HeNormal'?"]),
    "initializer_argument": (
        'type = "Dense"\nunits = 2\nkernel_initializer = { type = "HeNormal", sed = 7 }\n',
        ["spec.toml:7:43: layers[0].kernel_initializer.sed: unknown argument 'sed' for "
         "HeNormal. Did you mean 'seed'?"]),
    "constraint": (
        'type = "Dense"\nunits = 2\nkernel_constraint = "max_nrom"\n',
        ["spec.toml:7:21: layers[0].kernel_constraint: unknown kernel constraint "
         "'max_nrom'. Did you mean 'max_norm'?"]),
    "regularizer_key": (
        'type = "Dense"\nunits = 2\nkernel_regularizer = { l3 = 0.01 }\n',
        ["spec.toml:7:24: layers[0].kernel_regularizer.l3: unknown regularizer key 'l3'. "
         "Did you mean 'l2'?"]),
    "regularizer_factor": (
        'type = "Dense"\nunits = 2\nkernel_regularizer = { l2 = -0.1 }\n',
        ["spec.toml:7:29: layers[0].kernel_regularizer.l2: expected a finite number >= 0, "
         "received -0.1"]),
    "regularizer_mode_alone": (
        'type = "Dense"\nunits = 2\nkernel_regularizer = { l2 = 0.01, mode = "rows" }\n',
        ["spec.toml:7:35: layers[0].kernel_regularizer.mode: 'mode' goes only with "
         "'orthogonal'"]),
    "enumeration": (
        'type = "Conv1D"\nfilters = 2\nkernel_size = 3\npadding = "sme"\n',
        ["spec.toml:8:11: layers[0].padding: expected one of 'valid', 'same', 'causal', "
         "received 'sme'. Did you mean 'same'?"]),
    "layer_name_in_inputs": (
        'name = "hidden"\ntype = "Dense"\nunits = 2\n\n[[layers]]\ntype = "Dense"\nunits = 1\n'
        'inputs = ["hiden"]\n',
        ["spec.toml:12:11: layers[1].inputs[0]: unknown input 'hiden'. "
         "Did you mean 'hidden'?"]),
    "layer_name_in_outputs": (
        'type = "Dense"\nunits = 2\n\n[model]\noutputs = ["dens"]\n',
        ["spec.toml:9:12: model.outputs[0]: unknown output 'dens'. Did you mean 'dense'?"]),
    "expr_function": (
        'type = "Dense"\nunits = 2\nkernel_regularizer = { expr = "0.01 * sum(sqr(w))" }\n',
        ["spec.toml:7:43: layers[0].kernel_regularizer.expr: unknown function 'sqr' in expr; "
         "expected one of abs, exp, log, max, mean, min, sqrt, square, sum, tanh. "
         "Did you mean 'square'?"]),
    "integer_range": (
        'type = "Dense"\nunits = 0\n',
        ["spec.toml:6:9: layers[0].units: expected an integer >= 1, received 0"]),
    "rate_range": (
        'type = "Dropout"\nrate = 1.0\n',
        ["spec.toml:6:8: layers[0].rate: expected a finite number < 1, received 1.0"]),
    "boolean_for_integer": (
        'type = "Dense"\nunits = true\n',
        ["spec.toml:6:9: layers[0].units: expected an integer, received true"]),
    "not_finite": (
        'type = "Dense"\nunits = 2\nkernel_regularizer = { l1 = nan }\n',
        ["spec.toml:7:29: layers[0].kernel_regularizer.l1: expected a finite number, "
         "received NaN"]),
    "refused_layer": (
        'type = "Lambda"\n',
        ["spec.toml:5:8: layers[0].type: layer type 'Lambda' is not supported: "
         "runs an arbitrary Python function"]),
    "missing_argument": (
        'type = "Dropout"\n',
        ["spec.toml:4:1: layers[0].rate: missing required argument"]),
    "wrapper_of_a_dense": (
        'type = "Bidirectional"\nlayer = { type = "Dense", units = 2 }\n',
        ["spec.toml:6:18: layers[0].layer.type: Bidirectional wraps a recurrent layer "
         "(ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, GRU, LSTM, SimpleRNN), received 'Dense'"]),
    "several_in_file_order": (
        'type = "Dense"\nunits = 0\nactivation = "rellu"\n\n[compile]\noptimizer = "adamm"\n'
        '\n[[layers]]\ntype = "Dropout"\nrate = -0.5\n',
        ["spec.toml:6:9: layers[0].units: expected an integer >= 1, received 0",
         "spec.toml:7:14: layers[0].activation: unknown activation 'rellu'. "
         "Did you mean 'relu'?",
         "spec.toml:10:13: compile.optimizer: unknown optimizer 'adamm'. Did you mean 'adam'?",
         "spec.toml:14:8: layers[1].rate: expected a finite number >= 0, received -0.5"]),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_mistake_gives_its_exact_message(name):
    text, expected = MISTAKES[name]
    assert problems(HEAD + text) == expected


def test_json_positions_point_at_keys_and_values():
    text = ('{\n  "inputs": [{"shape": [4]}],\n'
            '  "layers": [{"type": "Dense", "unit": 2, "activation": "rellu"}]\n}\n')
    assert problems(text, "json") == [
        "spec.json:3:32: layers[0].unit: unknown argument 'unit' for Dense. "
        "Did you mean 'units'?",
        "spec.json:3:57: layers[0].activation: unknown activation 'rellu'. Did you mean 'relu'?",
    ]


def test_unknown_key_points_at_the_key_and_bad_value_at_the_value():
    text = HEAD + 'type = "Dense"\n  unitz = 4\nactivation =   "rellu"\n'
    unknown, bad = problems(text)
    assert unknown.startswith("spec.toml:6:3: layers[0].unitz:")
    assert bad.startswith("spec.toml:7:16: layers[0].activation:")


@pytest.mark.parametrize("literal, column", [
    ('"0.01 * \\u0073um(sqr(w))"', 48),    # an escape is six characters of source
    ("'0.01 * sum(sqr(w))'", 43),            # a literal string
])
def test_expr_column_counts_source_characters(literal, column):
    text = HEAD + f'type = "Dense"\nunits = 2\nkernel_regularizer = {{ expr = {literal} }}\n'
    assert problems(text)[0].startswith(f"spec.toml:7:{column}: ")


def test_expr_across_lines_points_at_the_line_of_the_function():
    text = HEAD + ('type = "Dense"\nunits = 2\nkernel_regularizer = { expr = """\n'
                   '(0.01 * sum(w)\n + mean(sqr(w)))""" }\n')
    assert problems(text)[0].startswith("spec.toml:9:9: ")


def test_messages_are_consistent(monkeypatch):
    """Lowercase start (but for a class name), no trailing period, in the whole corpus."""
    from pathlib import Path

    from specc.vocab import registry
    from specc.checking.validate import load

    corpus = Path(__file__).parent / "corpus" / "invalid"
    monkeypatch.chdir(corpus)
    for spec in sorted(corpus.rglob("*.toml")) + sorted(corpus.rglob("*.json")):
        with pytest.raises(SpecError) as caught:
            load(spec.relative_to(corpus))
        for problem in caught.value.problems:
            first = problem.message.split()[0]
            assert not first[0].isupper() or first in registry.LAYERS, problem
            assert not problem.message.endswith("."), problem


# ---- build-time errors: found by Keras, placed on the spec layer ---------------

BUILD_ERRORS = {
    "concatenate_shapes": (
        '[model]\noutputs = ["joined"]\n\n[[inputs]]\nname = "a"\nshape = [4, 3]\n\n'
        '[[inputs]]\nname = "b"\nshape = [5, 2]\n\n'
        '[[layers]]\nname = "joined"\ntype = "Concatenate"\naxis = 1\ninputs = ["a", "b"]\n',
        "spec.toml:12:1: layers[0]: Keras rejected layer 'joined' (Concatenate): a "
        "`Concatenate` layer requires inputs with matching shapes except for the "
        "concatenation axis; received: input_shape=[(None, 4, 3), (None, 5, 2)]"),
    "conv2d_after_flatten": (
        '[[inputs]]\nshape = [28, 28, 1]\n\n[[layers]]\ntype = "Flatten"\n\n'
        '[[layers]]\ntype = "Conv2D"\nfilters = 4\nkernel_size = 3\n',
        "spec.toml:7:1: layers[1]: Keras rejected layer 'conv2d' (Conv2D): input 0 is "
        "incompatible with the layer: expected min_ndim=4, found ndim=2; "
        "full shape received: (None, 784)"),
    "wrapper_needs_time_steps": (
        '[[inputs]]\nshape = [5]\n\n[[layers]]\ntype = "TimeDistributed"\n'
        'layer = { type = "Dense", units = 4 }\n',
        "spec.toml:4:1: layers[0]: Keras rejected layer 'time_distributed' (TimeDistributed): "
        "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
        "dimensions, received: (None, 5)"),
    "reshape_size": (
        '[[inputs]]\nshape = [6]\n\n[[layers]]\nname = "folded"\ntype = "Reshape"\n'
        'target_shape = [4, 2]\n',
        "spec.toml:4:1: layers[0]: Keras rejected layer 'folded' (Reshape): the total size "
        "of the tensor must be unchanged; received: input_shape=(6,), target_shape=(4, 2)"),
}


@pytest.mark.parametrize("name", BUILD_ERRORS)
def test_build_error_is_placed_on_the_spec_layer(name):
    from specc.building.build import build
    from specc.checking.validate import check_document
    from specc.reading.places import placed_in

    text, expected = BUILD_ERRORS[name]
    checked = check_document(parse_text(text, "toml", "spec.toml"))
    with pytest.raises(SpecError) as unplaced:  # the build stage knows the path only
        build(checked.spec)
    assert [str(p) for p in unplaced.value.problems] == [
        "<spec>:" + expected.split(":", 3)[3]]
    with pytest.raises(SpecError) as caught, placed_in(checked.document):
        build(checked.spec)
    assert [str(p) for p in caught.value.problems] == [expected]


def test_build_of_a_spec_file_places_problems_at_their_line(tmp_path, monkeypatch):
    import specc

    text, expected = BUILD_ERRORS["reshape_size"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(text)
    with pytest.raises(SpecError) as caught:
        specc.build("spec.toml")
    assert [str(p) for p in caught.value.problems] == [expected]


# A bug in specc is no spec problem: whatever specc's own code raises propagates as
# itself (ValueError and TypeError too), with a note naming the layer being built.
@pytest.mark.parametrize("error", [KeyError("none"), ValueError("specc's own check"),
                                   TypeError("a wrong call"), AttributeError("no such thing")],
                         ids=lambda e: type(e).__name__)
def test_an_error_in_specc_is_not_reported_as_keras_rejecting_the_layer(monkeypatch, error):
    from specc.building import layers
    from specc.building.build import build

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(layers, "_value", broken)
    spec = validate_document(parse_text(HEAD + 'type = "Dense"\nunits = 2\n', "toml", "spec.toml"))
    with pytest.raises(type(error)) as caught:
        build(spec)
    assert caught.value is error
    assert caught.value.__notes__ == ["specc: while building layer 'dense' (Dense), layers[0]"]


def test_only_keras_complaints_are_reported_as_keras_rejecting_the_layer():
    """The same exception types are a problem of the spec when Keras's code raises them."""
    from specc.building.complaints import raised_in_keras
    import keras

    with pytest.raises(ValueError) as in_constructor:
        keras.layers.Dense(0)
    with pytest.raises(ValueError) as in_call:
        keras.layers.Reshape((4,))(keras.Input((3,)))
    with pytest.raises(KeyError) as outside:
        {}["none"]
    assert raised_in_keras(in_constructor.value)
    assert raised_in_keras(in_call.value)
    assert not raised_in_keras(outside.value)


# Keras's texts, as its layers raise them; the reason keeps one sentence and what
# Keras received, and drops the terminal colours and the call report.
REASONS = {
    "Inputs have incompatible shapes. Received shapes (4,) and (5,)":
        "inputs have incompatible shapes; received shapes (4,) and (5,)",
    "Input 0 with name 'None' of layer 'lstm' is incompatible with the layer: expected "
    "ndim=3, found ndim=2. Full shape received: (None, 5)":
        "input 0 is incompatible with the layer: expected ndim=3, found ndim=2; "
        "full shape received: (None, 5)",
    "Exception encountered when calling Reshape.call().\n\n\x1b[1mThe total size of the "
    "tensor must be unchanged. Received: input_shape=(6,), target_shape=(4, 2)\x1b[0m\n\n"
    "Arguments received by Reshape.call():\n  • args=('<KerasTensor shape=(None, 6)>',)":
        "the total size of the tensor must be unchanged; received: input_shape=(6,), "
        "target_shape=(4, 2)",
    "Argument `scale` must be positive float. Received: scale=0":
        "argument `scale` must be positive float; received: scale=0",
    "Only one sentence here": "only one sentence here",
    "": "no reason given",
}


@pytest.mark.parametrize("raw", REASONS, ids=range(len(REASONS)))
def test_keras_reason_in_one_sentence(raw):
    from specc.building.complaints import first_sentence

    assert first_sentence(raw) == REASONS[raw]


def test_long_reason_is_cut():
    from specc.building.complaints import first_sentence

    reason = first_sentence("word " * 100)
    assert len(reason) == 240 and reason.endswith("...")


# ---- the command line --------------------------------------------------------

def test_validate_format_json(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD + 'type = "Dence"\nunits = 0\n')
    good = tmp_path / "good.toml"
    good.write_text(HEAD + 'type = "Dense"\nunits = 1\n')
    result = cli("validate", "--format", "json", good, bad)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "file": str(bad), "line": 5, "column": 8, "path": "layers[0].type",
        "message": "unknown layer type 'Dence'", "suggestion": "Dense",
    }]


def test_validate_format_json_of_valid_specs(cli, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(HEAD + 'type = "Dense"\nunits = 1\n')
    result = cli("validate", "--format", "json", good)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_layers_lists_supported_aliases_and_refused(cli):
    from specc.vocab import registry

    result = cli("layers")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any("│ Dense " in line for line in lines)
    assert any("│ AveragePooling2D " in line and "AvgPool2D" in line for line in lines)
    assert any("│ Lambda " in line and "runs an arbitrary Python function" in line
               for line in lines)
    assert f"Supported layers ({len(registry.LAYERS)})" in result.stdout
    assert f"Refused layers ({len(registry.REFUSED)})" in result.stdout
    assert "written as [[inputs]] in a spec" in result.stdout  # brackets are not markup


def test_layers_shows_one_layers_arguments(cli):
    result = cli("layers", "Dense")
    assert result.exit_code == 0
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in result.stdout.splitlines() if line.startswith("│")}
    assert rows["units"] == ["integer >= 1", "", "required"]
    assert rows["activation"] == ["activation", '"linear"', ""]
    assert rows["kernel_regularizer"] == ["regularizer", '"None"', ""]
    assert rows["use_bias"] == ["true or false", "true", ""]


@pytest.mark.parametrize("name, tensors, options", [
    ("LSTM", ["sequences", "initial_state", "mask"], {"training": "false"}),
    ("Bidirectional", ["sequences", "initial_state", "mask"], {"training": '"None"'}),
    ("MultiHeadAttention", ["query", "value", "key", "query_mask", "value_mask", "key_mask",
                            "attention_mask"],
     {"return_attention_scores": "false", "training": '"None"', "use_causal_mask": "false"}),
    ("Attention", ["inputs", "mask"],
     {"return_attention_scores": "false", "training": "false", "use_causal_mask": "false"}),
])
def test_layers_shows_the_call_arguments(cli, name, tensors, options):
    result = cli("layers", name)
    assert result.exit_code == 0
    call = result.stdout.split(f"Call arguments of {name}")[1]
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in call.splitlines()
            if line.startswith("│")]
    assert rows == [[t, f"inputs = {{ {t} = NAME }}"] for t in tensors] + [
        [o, f"call = {{ {o} = {d} }}"] for o, d in options.items()]


def test_layers_accepts_an_alias_and_lists_choices(cli):
    result = cli("layers", "AvgPool2D")
    assert result.exit_code == 0
    assert "AveragePooling2D" in result.stdout
    assert "'valid' | 'same'" in result.stdout


@pytest.mark.parametrize("name, message", [
    ("Dence", "unknown layer type 'Dence'. Did you mean 'Dense'?"),
    ("Lambda", "layer type 'Lambda' is not supported: runs an arbitrary Python function"),
])
def test_layers_refuses_an_unknown_name(cli, name, message):
    result = cli("layers", name)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == message


def test_describe_layer_is_the_python_side_of_specc_layers():
    from specc.vocab.kinds import describe_layer

    rows = describe_layer("Dropout")
    assert rows[0] == {"name": "rate", "type": "number in [0, 1)", "default": None,
                       "required": True}
    with pytest.raises(SpecError) as caught:
        describe_layer("Dropot")
    assert caught.value.problems == [
        Problem("unknown layer type 'Dropot'", suggestion="Dropout")]


def test_a_problem_quoting_a_line_break_stays_one_line():
    doc = parse_text('{"inputs": "\\n\\u001b[31m", "layers": []}', "json", "s.json")
    with pytest.raises(SpecError) as caught:
        validate_document(doc)
    printed = [str(p) for p in caught.value.problems]
    assert "s.json:1:12: inputs: expected a list, received '\\n\\x1b[31m'" in printed
    assert all("\n" not in line for line in printed)


def test_suggestions_stop_after_their_budget():
    """Did-you-mean compares a name with every choice: past 500,000 comparisons in one
    document the problems come without it, so checking stays linear."""
    layers = [{"type": "Dense", "units": 1, "name": f"d{i}", "inputs": [f"d{i - 1}x"]}
              for i in range(1500)]
    doc = parse_text(json.dumps({"inputs": [{"name": "x", "shape": [1]}], "layers": layers}),
                     "json")
    with pytest.raises(SpecError) as caught:
        validate_document(doc)
    unknown = [p for p in caught.value.problems if p.message.startswith("unknown input")]
    assert len(unknown) == 1500
    with_hint = [p for p in unknown if p.suggestion]
    # each suggestion compares with the 1,501 names of the spec: 333 fit in the budget
    assert len(with_hint) == 500_000 // 1501
    # in file order: the first 333 get theirs (d0x -> d0), the rest none
    assert [p.suggestion for p in unknown[1:4]] == ["d0", "d1", "d2"]
    assert [p.suggestion for p in unknown[332:334]] == ["d331", None]
    assert [p.suggestion for p in unknown[333:]] == [None] * (1500 - 333)
