"""[model] tuples: the arrays of a model's outputs and inputs that are Python tuples.

Keras's own test model with structured outputs (``_get_model_multi_outputs_struct`` in
keras/src/models/model_test.py) returns tuples under "a" and "c"/"c1"; a spec says so,
export of a live model writes it, build keeps it. A saved ``.keras`` file cannot tell
a tuple from a list (config.json is JSON, and Keras's own load_model gives lists).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, run_specc

# The model exactly as Keras's test writes it, then what the fresh processes share.
KERAS_MODEL = '''
import json, sys
import numpy as np
import keras
from keras import Input, Model, layers

def _get_model_multi_outputs_struct():
    x = Input(shape=(3,), name="x")
    y1 = layers.Dense(1, name="y1", activation="sigmoid")(x)
    y2 = layers.Dense(1, name="y2", activation="sigmoid")(x)
    y3 = layers.Dense(1, name="y3", activation="sigmoid")(x)
    model = Model(
        x,
        {
            "a": (y1, y2),
            "b": {"b1": y1, "b2": y2},
            "c": {"c1": (y1, y2), "c2": y2},
            "d": y3,
        },
    )
    return model

def described(structure):
    """Each container's type (tuple, list, dict) and each tensor's values."""
    if isinstance(structure, tuple):
        return ["tuple", [described(v) for v in structure]]
    if isinstance(structure, list):
        return ["list", [described(v) for v in structure]]
    if isinstance(structure, dict):
        return ["dict", {k: described(v) for k, v in structure.items()}]
    return np.asarray(structure).tolist()

X = np.random.default_rng(0).random((4, 3), dtype="float32")
'''

MAKE = KERAS_MODEL + '''
import specc
model = _get_model_multi_outputs_struct()
model.save("m.keras")
model.save_weights("w.weights.h5")
with open("live.toml", "w") as f:
    f.write(specc.dumps(specc.export(model)))  # the live model: its tuples are known
print(json.dumps({"original": described(model(X)),
                  "keras_reloaded": described(keras.saving.load_model("m.keras")(X))}))
'''

CHECK = KERAS_MODEL + '''
import specc
live = specc.build("live.toml", weights="w.weights.h5")
print(json.dumps({
    "built": described(live(X)),
    "again": specc.dumps(specc.export(live)),
    "from_file": described(specc.build("file.toml", weights="w.weights.h5")(X)),
    "saved": described(keras.saving.load_model("built.keras")(X)),
}))
'''


def _python(code: str, cwd) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _same(a, b) -> bool:
    """Equal structures (tuple, list and dict told apart), equal values to 1e-6."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _as_lists(described):
    """The same structure with every tuple a list: what a trip through JSON leaves."""
    if isinstance(described, list) and described[:1] in (["tuple"], ["list"]) \
            and len(described) == 2 and isinstance(described[1], list):
        return ["list", [_as_lists(v) for v in described[1]]]
    if isinstance(described, list) and described[:1] == ["dict"]:
        return ["dict", {k: _as_lists(v) for k, v in described[1].items()}]
    return described


def test_keras_structured_outputs_keep_their_tuples_through_the_command_line(tmp_path):
    made = _python(MAKE, tmp_path)
    original = made["original"]
    assert original[0] == "dict" and original[1]["a"][0] == "tuple"
    assert original[1]["c"][1]["c1"][0] == "tuple" and original[1]["b"][0] == "dict"
    live = (tmp_path / "live.toml").read_text()
    assert 'tuples = ["outputs.a", "outputs.c.c1"]\n' in live, live

    # The saved file has lists where the model has tuples: export writes what is there.
    exported = run_specc("export", tmp_path / "m.keras", "-o", tmp_path / "file.toml")
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "file.toml").read_text() == live.replace(
        'tuples = ["outputs.a", "outputs.c.c1"]\n', "")
    assert run_specc("validate", tmp_path / "live.toml").returncode == 0
    built = run_specc("build", tmp_path / "live.toml", "--weights", tmp_path / "w.weights.h5",
                      "-o", tmp_path / "built.keras")
    assert built.returncode == 0, built.stderr

    checked = _python(CHECK, tmp_path)
    assert _same(checked["built"], original)  # tuples, lists and dicts where Keras's are
    assert checked["again"] == live  # export -> build -> export: the same spec
    # What Keras itself gives for a saved file, specc gives for the spec of that file.
    assert made["keras_reloaded"] == _as_lists(original)
    assert _same(checked["from_file"], made["keras_reloaded"])
    assert _same(checked["saved"], made["keras_reloaded"])
    # And the .keras file specc build wrote exports as any saved file does.
    again = run_specc("export", tmp_path / "built.keras")
    assert again.returncode == 0, again.stderr
    assert again.stdout == (tmp_path / "file.toml").read_text()


# The layers of the specs below: two outputs of one input.
TWO_OUTPUTS = '''
[[inputs]]
name = "x"
shape = [3]

[[layers]]
type = "Dense"
name = "y1"
units = 1

[[layers]]
type = "Dense"
name = "y2"
inputs = ["x"]
units = 1
'''

BAD = '''[model]
outputs = { a = ["y1", "y2"], c = { c1 = ["y1", "y2"], c2 = "y2" } }
tuples = ["outputs.a",
          "outputs.c.c3",
          "outputs.c",
          "inputs",
          'outputs["a"]',
          "outputs..c"]
''' + TWO_OUTPUTS


def test_a_tuple_path_that_names_no_array_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(BAD)
    result = run_specc("validate", path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:4:11: model.tuples[1]: 'outputs.c.c3' names no array of [model] outputs. "
        "Did you mean 'outputs.c.c1'?",
        f"{path}:5:11: model.tuples[2]: 'outputs.c' names no array of [model] outputs "
        "(it names a table). Did you mean 'outputs.a'?",
        f"{path}:6:11: model.tuples[3]: 'inputs' names no array of [model] inputs "
        "([model] inputs is not written)",
        f"{path}:7:11: model.tuples[4]: 'outputs[\"a\"]' is named twice",
        f"{path}:8:11: model.tuples[5]: 'outputs..c' is not a path: write 'outputs' or "
        "'inputs', then '.KEY', '[\"KEY\"]' or '[N]' for each step down",
        "5 problems found",
    ]


def test_a_sequential_model_has_no_tuples(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[model]\nkind = "sequential"\noutputs = ["d"]\ntuples = ["outputs"]\n\n'
                    '[[inputs]]\nshape = [3]\n\n[[layers]]\ntype = "Dense"\nname = "d"\n'
                    "units = 1\n")
    result = run_specc("validate", path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:2:8: model.kind: a sequential model returns one tensor, never a tuple: leave "
        "out [model] tuples", "1 problem found"]


def _models():
    import keras
    from keras import layers

    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    added = layers.Add(name="add")([a, b])
    yield "tuple_inputs_and_a_tuple_of_one", keras.Model((a, b), (added,)), \
        ['inputs = ["a", "b"]', 'outputs = ["add"]', 'tuples = ["inputs", "outputs"]']
    x = keras.Input((3,), name="x")
    d1, d2 = layers.Dense(1, name="d1")(x), layers.Dense(2, name="d2")(x)
    yield "odd_keys", keras.Model(x, {"a b": (d1, [d2, (d1,)]), "é": (d2,), "0": [(d1, d2)]}), \
        ['tuples = ["outputs[\\"a b\\"]", "outputs[\\"a b\\"][1][1]", "outputs[\\"é\\"]", '
         '"outputs.0[0]"]']
    i1, i2 = keras.Input((3,), name="i1"), keras.Input((3,), name="i2")
    inner = keras.Model((i1, i2), (layers.Dense(1, name="p")(i1), layers.Dense(2, name="q")(i2)),
                        name="inner")
    u, v = keras.Input((3,), name="u"), keras.Input((3,), name="v")
    p, q = inner((u, v))
    yield "nested_model", keras.Model({"u": u, "v": v}, {"k": (p, q)}), \
        ['tuples = ["outputs.k"]', 'tuples = ["inputs", "outputs"]']


def _described(structure):
    if isinstance(structure, (tuple, list)):
        return (type(structure).__name__, [_described(v) for v in structure])
    if isinstance(structure, dict):
        return ("dict", {k: _described(v) for k, v in structure.items()})
    return "tensor"


@pytest.mark.parametrize("case", ["tuple_inputs_and_a_tuple_of_one", "odd_keys", "nested_model"])
def test_live_models_with_tuples_round_trip(case):
    import keras

    from specc.building.build import build
    from specc.checking.validate import validate_document
    from specc.exporting.export import export
    from specc.reading.load import parse_text
    from specc.writing.dump import dumps

    keras.backend.clear_session()
    _, model, lines = next(m for m in _models() if m[0] == case)
    for fmt in ("toml", "json"):
        text = dumps(export(model), fmt)
        if fmt == "toml":
            for line in lines:
                assert line in text, text
        rebuilt = build(validate_document(parse_text(text, fmt)))
        assert _described(rebuilt.output) == _described(model.output)
        assert _described(rebuilt.input) == _described(model.input)
        if case == "nested_model":
            inner, copy = model.get_layer("inner"), rebuilt.get_layer("inner")
            assert _described(copy.output) == _described(inner.output)
            assert _described(copy.input) == _described(inner.input)
        assert dumps(export(rebuilt), fmt) == text


def test_diff_and_fmt_know_tuples(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[model]\noutputs = { a = ["y1", "y2"] }\n' + TWO_OUTPUTS)
    b.write_text('[model]\ntuples = ["outputs.a"]\noutputs = { a = ["y1", "y2"] }\n' + TWO_OUTPUTS)
    diff = run_specc("diff", a, b)
    assert diff.returncode == 1, diff.stderr
    assert "tuples" in diff.stdout and "outputs.a" in diff.stdout, diff.stdout
    formatted = run_specc("fmt", b)
    assert formatted.returncode == 0, formatted.stderr
    assert b.read_text().startswith(
        '[model]\noutputs = { a = ["y1", "y2"] }\ntuples = ["outputs.a"]\n')


def test_a_file_cannot_say_where_tuples_are(tmp_path):
    """The key export() gives a live model's config is dropped from a file's config.json."""
    import keras

    from specc.exporting.export import export_file
    from specc.writing.dump import dumps

    x = keras.Input((3,), name="x")
    model = keras.Model(x, [keras.layers.Dense(1, name="d")(x), keras.layers.Dense(1, name="e")(x)])
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    config["config"]["specc.tuples"] = ["outputs", "outputs.nothing"]
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    text = dumps(export_file(tmp_path / "m.keras"))
    assert 'outputs = ["d", "e"]' in text and "tuples" not in text
