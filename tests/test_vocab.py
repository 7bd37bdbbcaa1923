"""The vocabulary tables, and the typed spec's agreement with them (no TensorFlow)."""

from __future__ import annotations

import pytest

from specc.checking import layers, objects
from specc.checking.validate import check_document, validate_document
from specc.reading.load import parse_text
from specc.vocab import kinds, penalties, registry


def test_every_kind_an_argument_takes_is_described_and_typed():
    used = {kinds.kind_of(layer, arg, info)
            for layer in registry.LAYERS for arg, info in registry.layer_args(layer).items()}
    assert used <= set(kinds.KINDS)
    # enum is typed from each argument's choices, every other kind by the one table.
    assert set(layers.SIMPLE_KINDS) == set(kinds.KINDS) - {"enum"}


def test_every_regularizer_form_has_its_model():
    from pydantic import TypeAdapter

    regularizer = TypeAdapter(objects.Regularizer)
    assert set(objects._TAGS) == set(penalties.TABLE_FORMS)
    for form, (picks, takes) in penalties.TABLE_FORMS.items():
        table = {key: {"expr": "sum(w)", "custom": "mine"}.get(key, 0.5) for key in picks}
        assert penalties.form_of(table) == form
        assert type(regularizer.validate_python(table)).__name__ == objects._TAGS[form]


@pytest.mark.parametrize("value, form, arguments", [
    ("l1", "l1", {}),
    ({"l2": 0.1}, "l2", {"l2": 0.1}),
    ({"l1": 0.1, "l2": 0.2}, "l1_l2", {"l1": 0.1, "l2": 0.2}),
    ({"orthogonal": 0.1}, "orthogonal", {"factor": 0.1, "mode": "rows"}),
    ({"expr": "sum(w)"}, "expr", {"expr": "sum(w)"}),
    ({"custom": "mine", "factor": 2}, "custom", {"custom": "mine", "factor": 2}),
])
def test_to_config_gives_the_keras_constructor_arguments(value, form, arguments):
    assert penalties.to_config(value) == (form, arguments)


@pytest.mark.parametrize("value", ["L2", {"l1": 0.1, "mode": "rows"}, {}, 0.1])
def test_to_config_refuses_what_is_no_form(value):
    from specc.errors import SpecError

    with pytest.raises(SpecError, match="unknown regularizer"):
        penalties.to_config(value)


SPEC = '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nunits = 2\n'


def test_the_typed_spec_carries_no_document():
    spec = validate_document(parse_text(SPEC, "toml", "spec.toml"))
    assert type(spec).__private_attributes__ == {}
    assert not spec.__pydantic_private__


def test_the_checked_document_is_the_expanded_one_beside_the_spec():
    checked = check_document(parse_text(SPEC + '\n[defaults]\nDense = { use_bias = false }\n',
                                        "toml", "spec.toml"))
    assert checked.spec.layers[0].use_bias is False
    assert checked.document.data["layers"][0]["use_bias"] is False
    assert "defaults" not in checked.document.data
