"""Wiring: default names, the order layers are built in, sequential or functional, and
every wiring mistake as a problem with its path (the corpus checks the printed lines)."""

from __future__ import annotations

import pytest

from specc.errors import Problem, SpecError
from specc.checking.graph import graph, input_names, layer_names, names_implied
from specc.vocab.names import split_ref, to_snake_case
from specc.checking.spec import Spec


def spec(*layers, inputs=None, **model) -> Spec:
    return Spec.model_validate({
        "inputs": inputs or [{"shape": [4]}],
        "layers": list(layers),
        **({"model": model} if model else {}),
    })


def dense(name=None, inputs=None, units=2) -> dict:
    layer = {"type": "Dense", "units": units}
    if name:
        layer["name"] = name
    if inputs is not None:
        layer["inputs"] = inputs
    return layer


@pytest.mark.parametrize("cls, name", [
    ("Dense", "dense"), ("Conv2D", "conv2d"), ("BatchNormalization", "batch_normalization"),
    ("LSTM", "lstm"), ("MultiHeadAttention", "multi_head_attention"),
    ("GlobalAveragePooling1D", "global_average_pooling1d"), ("ReLU", "re_lu"),
])
def test_default_names_follow_keras(cls, name):
    assert to_snake_case(cls) == name


def test_unnamed_layers_are_counted_per_type_around_explicit_names():
    s = spec(dense(), dense(), dense("dense_1"), {"type": "Dropout", "rate": 0.1}, dense())
    assert layer_names(s) == ["dense", "dense_2", "dense_1", "dropout", "dense_3"]


def _implied_one_at_a_time(s: Spec) -> list[bool]:
    """The definition: leave each name out in turn, keep it out when no name changes."""
    wanted, implied = layer_names(s), []
    for layer in s.layers:
        keep = layer.name
        layer.name = None
        implied.append(bool(keep) and layer_names(s) == wanted)
        if not implied[-1]:
            layer.name = keep
    return implied


@pytest.mark.parametrize("seed", range(40))
def test_names_implied_is_leaving_names_out_one_at_a_time(seed):
    # names_implied decides in one pass what export's minimizer used to find by
    # regenerating every name once per layer (quadratic on big models).
    import random

    rng = random.Random(seed)
    pool = ["dense", "dense_1", "dense_2", "dense_3", "dropout", "dropout_1", "x", "dense_01"]
    layers, used = [], set()
    for _ in range(rng.randint(1, 9)):
        name = rng.choice(pool + [None] * 3)
        name = None if name in used else name
        used.add(name)
        if rng.random() < 0.3:
            layers.append({"type": "Dropout", "rate": 0.1, **({"name": name} if name else {})})
        else:
            layers.append(dense(name))
    s = spec(*layers)
    expected = _implied_one_at_a_time(spec(*layers))
    assert names_implied(s) == expected


def test_keras_default_names_are_all_implied():
    s = spec(*[dense("dense" if i == 0 else f"dense_{i}") for i in range(50)])
    assert names_implied(s) == [True] * 50


def test_input_names():
    assert input_names(spec(dense())) == ["input_layer"]
    two = [{"name": "a", "shape": [4]}, {"name": "b", "shape": [4]}]
    assert input_names(spec(dense(inputs=["a"]), inputs=two)) == ["a", "b"]


@pytest.mark.parametrize("ref, parts", [("lstm", ("lstm", None)), ("lstm:1", ("lstm", 1)),
                                        ("a:b", ("a:b", None))])
def test_split_ref(ref, parts):
    assert split_ref(ref) == parts


def test_a_chain_is_sequential():
    wiring = graph(spec(dense(), {"type": "Dropout", "rate": 0.5}, dense()))
    assert wiring.sequential
    assert [n.name for n in wiring.nodes] == ["dense", "dropout", "dense_1"]
    assert wiring.outputs == ["dense_1"]


def test_naming_inputs_makes_a_functional_model():
    wiring = graph(spec(dense("a"), dense("b", inputs=["a"])))
    assert not wiring.sequential
    assert [n.refs() for n in wiring.nodes] == [["input_layer"], ["a"]]


def test_sequential_kind_accepts_a_chain_written_out():
    assert graph(spec(dense("a"), dense("b", inputs=["a"]), kind="sequential")).sequential


def test_functional_kind_wins_over_a_chain():
    assert not graph(spec(dense(), kind="functional")).sequential


def test_layers_are_ordered_by_what_they_take():
    s = spec(dense("late", inputs=["early"]), dense("early", inputs=["input_layer"]),
             outputs=["late"])
    assert [n.name for n in graph(s).nodes] == ["early", "late"]


def test_a_shared_layer_comes_after_the_layer_it_calls():
    two = [{"name": "l", "shape": [4]}, {"name": "r", "shape": [4]}]
    s = spec({"apply": "enc", "name": "enc_r", "inputs": ["r"]}, dense("enc", inputs=["l"]),
             {"type": "Add", "name": "sum", "inputs": ["enc", "enc_r"]}, inputs=two)
    assert [n.name for n in graph(s).nodes] == ["enc", "enc_r", "sum"]


def test_a_layer_output_by_index():
    s = spec({"type": "LSTM", "units": 2, "return_state": True, "name": "rnn"},
             dense("out", inputs=["rnn:0"]), inputs=[{"shape": [3, 4]}])
    assert graph(s).nodes[1].refs() == ["rnn:0"]


def problems(s: Spec) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        graph(s)
    return caught.value.problems


TWO = [{"name": "a", "shape": [4]}, {"name": "b", "shape": [4]}]
MISTAKES = {
    "dangling_input": (
        lambda: spec(dense("hidden"), dense(inputs=["hiden"])),
        [Problem("unknown input 'hiden'", "layers[1].inputs[0]", suggestion="hidden")]),
    "dangling_call_argument": (
        lambda: spec({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 2,
                      "inputs": {"query": "input_layer", "value": ["inptu_layer"]}}),
        [Problem("unknown input 'inptu_layer'", "layers[0].inputs.value[0]",
                 suggestion="input_layer")]),
    "cycle": (
        lambda: spec(dense("a", inputs=["b"]), dense("b", inputs=["a"])),
        [Problem("cycle: a -> b -> a", "layers[0].inputs")]),
    "duplicate_layer_names": (
        lambda: spec(dense("x"), dense("x")),
        [Problem("duplicate name 'x'", "layers[1].name")]),
    "duplicate_input_names": (
        lambda: spec({"type": "Add", "inputs": ["a", "a"]},
                     inputs=[{"name": "a", "shape": [4]}, {"name": "a", "shape": [4]}]),
        [Problem("duplicate name 'a'", "inputs[1].name")]),
    "inputs_without_names": (
        lambda: spec({"type": "Add", "inputs": ["input_layer_0", "input_layer_1"]},
                     inputs=[{"shape": [4]}, {"shape": [4]}]),
        [Problem("a spec with several inputs must name each one", "inputs[0]"),
         Problem("a spec with several inputs must name each one", "inputs[1]")]),
    "first_layer_unwired": (
        lambda: spec(dense(), inputs=TWO),
        [Problem("needs 'inputs': the spec has several inputs", "layers[0]")]),
    "unknown_output": (
        lambda: spec(dense("label"), outputs={"label": "lable"}),
        [Problem("unknown output 'lable'", "model.outputs.label", suggestion="label")]),
    "unknown_shared_layer": (
        lambda: spec(dense("enc"), {"apply": "enk", "name": "again", "inputs": ["enc"]}),
        [Problem("unknown layer 'enk'", "layers[1].apply", suggestion="enc")]),
    "unused_layer_and_input": (
        lambda: spec(dense("side", inputs=["a"]), dense("out", inputs=["a"]), inputs=TWO,
                     outputs=["out"]),
        [Problem("layer 'side' does not lead to any output", "layers[0]"),
         Problem("input 'b' is never used", "inputs[1]")]),
    "sequential_kind_with_branches": (
        lambda: spec(dense("a"), dense("b", inputs=["input_layer"]),
                     {"type": "Add", "inputs": ["a", "b"]}, kind="sequential"),
        [Problem("a sequential model needs one input, layers in a chain and the last layer "
                 "as its output", "model.kind")]),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_wiring_mistake(name):
    make, expected = MISTAKES[name]
    assert problems(make()) == expected


def test_wiring_of_a_nested_model_is_checked_at_its_path():
    from specc.checking.graph import wiring_problems

    inner = {"inputs": [{"name": "features", "shape": [4]}], "layers": [dense(inputs=["feature"])]}
    s = spec({"type": "Model", "name": "encoder", "spec": inner}, dense("loose", inputs=["nope"]))
    assert wiring_problems(s) == [
        (("layers", 1, "inputs", 0), "unknown input 'nope'", None),
        (("layers", 0, "spec", "layers", 0, "inputs", 0), "unknown input 'feature'", "features"),
    ]


def test_a_10000_layer_spec_in_reverse_order_validates_on_the_command_line(tmp_path):
    """Each layer is written before the layer it reads: ordering them must not recurse
    (issue 9: at 1,500 layers `specc validate` printed a RecursionError traceback)."""
    from conftest import run_specc

    count = 10_000
    layers = [f'[[layers]]\nname = "d{i}"\ntype = "Dense"\nunits = 2\ninputs = ["{f"d{i - 1}" if i else "x"}"]\n'
              for i in reversed(range(count))]
    path = tmp_path / "reversed.toml"
    path.write_text(f'[model]\noutputs = ["d{count - 1}"]\n\n[[inputs]]\nname = "x"\nshape = [4]\n\n'
                    + "\n".join(layers))
    assert path.read_text().count("[[layers]]") == count
    result = run_specc("validate", path)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{path}: ok\n", "")
    # The same chain with its first layer reading a misspelt input: one problem, no traceback.
    path.write_text(path.read_text().replace('inputs = ["x"]', 'inputs = ["y"]'))
    result = run_specc("validate", path)
    assert (result.returncode, result.stderr) == (
        1, f"{path}:60006:11: layers[9999].inputs[0]: unknown input 'y'\n1 problem found\n")
    # Closed into a 10,000-layer cycle: one line naming its ends, not a line of 100 KB.
    path.write_text(path.read_text().replace('inputs = ["y"]', f'inputs = ["d{count - 1}"]'))
    result = run_specc("validate", path)
    ends = [f"d{i}" for i in range(count - 1, count - 11, -1)], [f"d{i}" for i in range(9, -1, -1)]
    cycle = " -> ".join([*ends[0], f"... ({count - 20:,} more)", *ends[1], f"d{count - 1}"])
    assert (result.returncode, result.stderr) == (
        1, f"{path}:12:10: layers[0].inputs: cycle: {cycle}\n1 problem found\n")


def test_a_long_cycle_is_named_by_its_ends():
    names = [f"d{i}" for i in range(30)]
    layers = [dense(name, inputs=[names[i - 1]]) for i, name in enumerate(names)]
    [problem] = problems(spec(*layers))
    # d0 reads d29, which reads d28...
    shown = " -> ".join(["d0", *names[:20:-1], "... (10 more)", *names[10:0:-1], "d0"])
    assert problem == Problem(f"cycle: {shown}", "layers[0].inputs")
