"""Each example of the seed tutorial, as a spec, builds the tutorial's own model.

The Python models below are copied from ../shared/seed-tutorial.txt, with the
input the tutorial leaves implicit (784 pixels) added first so both models
have weights. Configs are compared layer by layer; penalties are compared on
the same weights with the tutorial's formulas evaluated in numpy.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import specc  # noqa: E402
from conftest import SPECS, configs  # noqa: E402


def custom_regularizer(weights):
    return 0.01 * tf.reduce_sum(tf.square(weights))


def tutorial_l2_l1():
    return tf.keras.models.Sequential([
        tf.keras.Input((784,)),
        tf.keras.layers.Dense(64, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
        tf.keras.layers.Dense(64, activation='relu', kernel_regularizer=tf.keras.regularizers.l1(0.01)),
        tf.keras.layers.Dense(10, activation='softmax')
    ])


def tutorial_custom():
    return tf.keras.models.Sequential([
        tf.keras.Input((784,)),
        tf.keras.layers.Dense(64, activation='relu', kernel_regularizer=custom_regularizer),
        tf.keras.layers.Dense(10, activation='softmax')
    ])


def tutorial_dropout():
    return tf.keras.models.Sequential([
        tf.keras.Input((784,)),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(10, activation='softmax')
    ])


def tutorial_combined():
    return tf.keras.models.Sequential([
        tf.keras.Input((784,)),
        tf.keras.layers.Dense(64, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(64, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
        tf.keras.layers.Dropout(0.5),
        tf.keras.layers.Dense(10, activation='softmax')
    ])


def l2(w):
    return 0.01 * np.sum(np.square(w, dtype=np.float64))


def l1(w):
    return 0.01 * np.sum(np.abs(w, dtype=np.float64))


# example -> the penalty formula of each Dense kernel, in order (None: no penalty)
EXAMPLES = {
    "l2_l1": (tutorial_l2_l1, [l2, l1, None]),
    "custom": (tutorial_custom, [l2, None]),
    "dropout": (tutorial_dropout, [None, None, None]),
    "combined": (tutorial_combined, [l2, l2, None]),
}


def build_both(name):
    tf.keras.utils.set_random_seed(0)  # same weights on every run
    tutorial = EXAMPLES[name][0]()
    built = specc.build(specc.load(SPECS / f"tutorial_{name}.toml"))
    built.set_weights(tutorial.get_weights())
    return tutorial, built


@pytest.mark.parametrize("name", EXAMPLES)
def test_same_layers_and_configs(name):
    tutorial, built = build_both(name)
    assert type(built) is type(tutorial)
    expected, got = configs(tutorial), configs(built)
    assert [c for c, _ in got] == [c for c, _ in expected]
    if name == "custom":
        # The tutorial's regularizer is a plain function; compared by value below.
        tutorial_reg = expected[0][1].pop("kernel_regularizer")
        assert tutorial_reg["config"] == "custom_regularizer"
        assert got[0][1].pop("kernel_regularizer") == {
            "module": "specc.building.regularizers", "class_name": "ExprRegularizer",
            "config": {"expr": "0.01 * sum(square(w))"},
            "registered_name": "specc>ExprRegularizer",
        }
    assert got == expected


@pytest.mark.parametrize("name", EXAMPLES)
def test_penalties_equal_the_formulas(name):
    tutorial, built = build_both(name)
    formulas = EXAMPLES[name][1]
    kernels = [layer.kernel.numpy() for layer in built.layers if hasattr(layer, "kernel")]
    expected = [f(w) for f, w in zip(formulas, kernels) if f is not None]
    got = [float(loss) for loss in built.losses]
    assert len(got) == len(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got, [float(loss) for loss in tutorial.losses], rtol=1e-6)


def test_custom_penalty_is_the_tutorials_function():
    _, built = build_both("custom")
    layer = built.layers[0]
    weights = layer.kernel
    ours = float(layer.kernel_regularizer(weights))
    assert ours == pytest.approx(float(custom_regularizer(weights)), rel=1e-6)
    # ... and on weights that are not the initializer's, negative ones included.
    w = np.random.default_rng(1).normal(size=(784, 64)).astype("float32")
    assert float(layer.kernel_regularizer(w)) == pytest.approx(float(custom_regularizer(w)), rel=1e-6)
