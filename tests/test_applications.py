"""Every keras.applications architecture exports to a spec and rebuilds to the same model.

For each one (weights=None): same layer classes and names in order, every
layer's get_config() equal (build_config aside), the same parameter count, and
the same outputs on a random input once the weights are copied over.
"""

from __future__ import annotations

import gc
import inspect

import keras
import numpy as np
import pytest

from specc.building.build import build
from specc.writing.dump import dumps
from specc.exporting.export import export
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

from conftest import layer_config

APPLICATIONS = sorted(
    name for name, fn in inspect.getmembers(keras.applications)
    if callable(fn) and name[0].isupper()
)




def test_there_are_about_forty():
    assert len(APPLICATIONS) >= 38, APPLICATIONS


@pytest.mark.slow
@pytest.mark.parametrize("name", APPLICATIONS)
def test_application_round_trips(name):
    keras.backend.clear_session()
    original = getattr(keras.applications, name)(weights=None)
    text = dumps(export(original))
    rebuilt = build(validate_document(parse_text(text, "toml", file=f"{name}.toml")))

    assert [type(l).__name__ for l in rebuilt.layers] == [type(l).__name__ for l in original.layers]
    assert [l.name for l in rebuilt.layers] == [l.name for l in original.layers]
    for a, b in zip(original.layers, rebuilt.layers):
        assert layer_config(b) == layer_config(a), a.name
    assert rebuilt.count_params() == original.count_params()

    rebuilt.set_weights(original.get_weights())
    shape = [d or 224 for d in original.input_shape[1:]]
    x = np.random.default_rng(0).random((1, *shape), dtype="float32") * 255
    np.testing.assert_allclose(
        np.asarray(rebuilt(x, training=False)), np.asarray(original(x, training=False)), atol=1e-6
    )
    del original, rebuilt
    keras.backend.clear_session()
    gc.collect()
