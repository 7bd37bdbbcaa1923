"""Writing specs by hand: Keras's old argument names, and the call arguments of ``inputs``.

The messages themselves are golden files in tests/corpus/invalid; here each old
argument that validation recognises is checked against Keras, so that a Keras
that stops taking one (and the hint with it) is noticed.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from specc.vocab import registry
from specc.building.build import build
from specc.checking.validate import load
from conftest import ROOT

# (layer, old argument, a value, what Keras 3 makes of it: attribute -> value)
OLD = {
    ("LeakyReLU", "alpha"): (0.2, {"negative_slope": 0.2}),
    ("*", "input_shape"): ((7, 12), {"_input_shape_arg": (7, 12)}),
    ("*", "input_dim"): (8, {"_input_shape_arg": (8,)}),
    ("Embedding", "input_length"): (80, {}),
    ("LSTM", "implementation"): (1, {"cell.implementation": 1}),
    ("GRU", "implementation"): (1, {"cell.implementation": 1}),
    ("LayerNormalization", "rms_scaling"): (True, {"rms_scaling": True}),
}
REQUIRED = {"LSTM": {"units": 2}, "GRU": {"units": 2}, "Embedding": {"input_dim": 10, "output_dim": 2},
            "*": {}}


def test_the_tables_list_the_same_arguments():
    assert set(OLD) == set(registry.RENAMED_ARGS) | set(registry.OLD_ARGS)


@pytest.mark.parametrize("layer, arg", sorted(OLD))
def test_keras_3_still_takes_each_old_argument(layer, arg):
    value, effect = OLD[(layer, arg)]
    cls = keras.layers.Dense if layer == "*" else getattr(keras.layers, layer)
    args = {"units": 2} if layer == "*" else REQUIRED.get(layer, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that each is deprecated
        made = cls(**args, **{arg: value})
    for attribute, expected in effect.items():
        found = made
        for part in attribute.split("."):
            found = getattr(found, part)
        assert found == expected
    renamed = registry.RENAMED_ARGS.get((layer, arg))
    if renamed is not None:  # the name a spec writes gives the same layer
        current = cls(**{renamed: value}, name="same").get_config()
        assert current == {**made.get_config(), "name": "same"}


def test_the_seq2seq_decoder_builds_from_its_call_arguments():
    """keras-io lstm_seq2seq, wired by call argument name, against the same model in Keras."""
    model = build(load(ROOT / "tests" / "corpus" / "valid" / "seq2seq_initial_state.toml"))
    enc_in, dec_in = keras.Input((None, 71)), keras.Input((None, 93))
    _, h, c = keras.layers.LSTM(16, return_state=True)(enc_in)
    seq, _, _ = keras.layers.LSTM(16, return_sequences=True, return_state=True)(
        dec_in, initial_state=[h, c])
    reference = keras.Model([enc_in, dec_in], keras.layers.Dense(93, activation="softmax")(seq))
    reference.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.random((2, 5, 71), dtype="float32"), rng.random((2, 4, 93), dtype="float32")]
    np.testing.assert_allclose(model(x), reference(x), atol=1e-6)


def _call_table() -> list[tuple[list[str], list[str], list[str], bool]]:
    """Rows of docs/spec-format.md's call-argument table: (layers, tensors, options,
    whether the options are only those of the layers that take them)."""
    import re

    text = (ROOT / "docs" / "spec-format.md").read_text()
    table = text[text.index("| layers | `inputs` table keys |"):]
    table = table[: table.index("\n\n")]
    rows = []
    for line in table.splitlines()[2:]:
        layers, tensors, options = (re.findall(r"`(\w+)`", c) for c in line.strip("|").split("|"))
        rows.append((layers, tensors, options, "where the layer takes it" in line))
    return rows


@pytest.mark.parametrize("layers, tensors, options, some", _call_table(),
                         ids=[row[0][0] for row in _call_table()])
def test_the_documented_call_arguments_are_the_catalogs(layers, tensors, options, some):
    for layer in layers:
        args = registry.call_arguments(layer)
        assert args["tensors"] == tensors, layer
        if some:
            assert set(args["options"]) <= set(options), layer
        else:
            assert list(args["options"]) == options, layer


def test_the_documented_messages_are_what_validate_prints():
    """Lines of docs/spec-format.md naming a file of tests/corpus/invalid are its output."""
    import re

    invalid = ROOT / "tests" / "corpus" / "invalid"
    printed = set()
    for expected in invalid.rglob("*.expected"):
        # the file as the docs name it: without the corpus folder
        printed |= {line.removeprefix(f"{expected.parent.relative_to(invalid)}/")
                    for line in expected.read_text().splitlines()}
    docs = (ROOT / "docs" / "spec-format.md").read_text()
    shown = [line for line in re.findall(r"^\w+\.toml:\d+:\d+: .*$", docs, re.M)
             if (invalid / line.split(":")[0]).exists() or any(invalid.rglob(line.split(":")[0]))]
    assert len(shown) >= 3
    assert [line for line in shown if line not in printed] == []
