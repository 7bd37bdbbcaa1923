"""specc.building.regularizers and specc.vocab.plugins: spec <-> Keras, values, save/load."""

import importlib.metadata
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402

from specc.vocab import plugins  # noqa: E402
from specc.errors import SpecError  # noqa: E402
from specc.building.regularizers import (  # noqa: E402
    CustomRegularizer, ExprRegularizer, from_keras_config, short_float, to_keras)

W = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")


@plugins.register_regularizer("test_scaled_l1")
def scaled_l1(w, factor=0.01):
    return factor * ops.sum(ops.abs(w))


def penalty(reg, w=W) -> float:
    return float(ops.convert_to_numpy(reg(ops.convert_to_tensor(w))))


def roundtrip(spec):
    return from_keras_config(keras.saving.serialize_keras_object(to_keras(spec)))


# -- to_keras -------------------------------------------------------------------

def test_to_keras_classes_and_factors():
    R = keras.regularizers
    l1, l2 = to_keras("l1"), to_keras("l2")
    assert type(l1) is R.L1 and float(l1.l1) == pytest.approx(0.01)
    assert type(l2) is R.L2 and float(l2.l2) == pytest.approx(0.01)
    assert float(to_keras({"l1": 0.2}).l1) == pytest.approx(0.2)
    assert float(to_keras({"l2": 0.3}).l2) == pytest.approx(0.3)
    both = to_keras({"l1": 0.1, "l2": 0.2})
    assert type(both) is R.L1L2 and (both.l1, both.l2) == pytest.approx((0.1, 0.2))
    orth = to_keras({"orthogonal": 0.5, "mode": "columns"})
    assert type(orth) is R.OrthogonalRegularizer
    assert (float(orth.factor), orth.mode) == (0.5, "columns")
    assert to_keras({"orthogonal": 0.5}).mode == "rows"
    assert type(to_keras({"expr": "sum(w)"})) is ExprRegularizer
    custom = to_keras({"custom": "test_scaled_l1", "factor": 0.5})
    assert type(custom) is CustomRegularizer and custom.params == {"factor": 0.5}
    assert to_keras(None) is None


@pytest.mark.parametrize("spec, message", [
    ("l3", "unknown regularizer 'l3'"),
    ({"l3": 0.1}, "unknown regularizer {'l3': 0.1}"),
    ({"orthogonal": 0.1, "mode": "diagonal"}, "invalid regularizer"),
    ({"l1": -1.0}, "invalid regularizer"),
    ({"expr": "sum(x)"}, "unknown name 'x' in expr"),
    ({"custom": "test_no_such_penalty"}, "unknown custom regularizer 'test_no_such_penalty'"),
    ({"custom": "test_scaled_l1", "factor": [1, 2]}, "custom regularizer parameter 'factor'"),
])
def test_to_keras_rejects(spec, message):
    with pytest.raises(SpecError) as info:
        to_keras(spec)
    assert info.value.problems[0].message.startswith(message)


def test_to_keras_suggests():
    with pytest.raises(SpecError) as info:
        to_keras("L2")
    assert info.value.problems[0].suggestion == "l2"


# -- values on real weights -------------------------------------------------------

def test_builtin_penalties_equal_their_formulas():
    assert penalty(to_keras("l1")) == pytest.approx(0.01 * np.sum(np.abs(W)), rel=1e-6)
    assert penalty(to_keras("l2")) == pytest.approx(0.01 * np.sum(W**2), rel=1e-6)
    assert penalty(to_keras({"l1": 0.1, "l2": 0.2})) == pytest.approx(
        0.1 * np.sum(np.abs(W)) + 0.2 * np.sum(W**2), rel=1e-6)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_equals_keras_and_formula(mode):
    ours = penalty(to_keras({"orthogonal": 0.3, "mode": mode}))
    theirs = penalty(keras.regularizers.OrthogonalRegularizer(factor=0.3, mode=mode))
    assert ours == theirs
    v = W.astype("float64") if mode == "rows" else W.T.astype("float64")
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    product = np.abs(v @ v.T)
    n = len(v)
    formula = 0.3 * 0.5 * (product.sum() - np.trace(product)) / (n * (n - 1) / 2)
    assert ours == pytest.approx(formula, rel=1e-5)


def test_expr_equals_the_tutorial_function():
    tf = pytest.importorskip("tensorflow")

    def custom_regularizer(weights):  # from the tutorial, verbatim
        return 0.01 * tf.reduce_sum(tf.square(weights))

    ours = penalty(to_keras({"expr": "0.01 * sum(square(w))"}))
    assert ours == pytest.approx(0.01 * np.sum(W.astype("float64") ** 2), rel=1e-6)
    assert ours == pytest.approx(float(custom_regularizer(tf.constant(W))), rel=1e-6)


def test_penalties_are_scalars_in_the_weight_dtype():
    for reg in (ExprRegularizer("mean(w)"), CustomRegularizer("test_scaled_l1")):
        out = reg(ops.convert_to_tensor(W))
        assert tuple(out.shape) == () and keras.backend.standardize_dtype(out.dtype) == "float32"


def test_custom_passes_params():
    reg = CustomRegularizer("test_scaled_l1", factor=0.5)
    assert penalty(reg) == pytest.approx(0.5 * np.sum(np.abs(W)), rel=1e-6)
    assert reg.get_config() == {"custom": "test_scaled_l1", "factor": 0.5}


# -- from_keras_config ----------------------------------------------------------

def test_the_names_export_reads_are_the_names_keras_writes():
    # penalties.FORMS lets export read configs without Keras; it must stay the inverse
    # of the classes build makes.
    from specc.vocab.penalties import FORMS
    from specc.building.regularizers import CLASSES

    written = {keras.saving.get_registered_name(cls): form for form, cls in CLASSES.items()}
    assert FORMS == written


@pytest.mark.parametrize("spec", [
    "l1", "l2", {"l1": 0.05}, {"l2": 0.003}, {"l1": 0.01, "l2": 0.02},
    {"orthogonal": 0.01}, {"orthogonal": 0.2, "mode": "columns"},
    {"expr": "0.01 * sum(square(w))"}, {"custom": "test_scaled_l1", "factor": 0.5},
    {"custom": "test_scaled_l1"}, None,
])
def test_round_trip(spec):
    assert roundtrip(spec) == spec


def test_round_trip_gives_the_shortest_equivalent_form():
    assert roundtrip({"l1": 0.01}) == "l1"
    assert roundtrip({"l2": 0.01}) == "l2"
    assert roundtrip({"l1": 0.0, "l2": 0.3}) == {"l2": 0.3}
    assert roundtrip({"l1": 0.3, "l2": 0.0}) == {"l1": 0.3}
    assert roundtrip({"orthogonal": 0.1, "mode": "rows"}) == {"orthogonal": 0.1}


def serialized(class_name, config, registered_name=None, module="keras.regularizers"):
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


def test_float32_values_come_back_short():
    f32 = float(np.float32(0.01))
    assert f32 == 0.009999999776482582
    assert from_keras_config(serialized("L1", {"l1": f32})) == "l1"
    assert from_keras_config(serialized("L2", {"l2": float(np.float32(0.3))})) == {"l2": 0.3}
    assert from_keras_config(serialized("L1L2", {"l1": f32, "l2": 0.0})) == "l1"
    assert from_keras_config(serialized(
        "OrthogonalRegularizer", {"factor": f32, "mode": "rows"})) == {"orthogonal": 0.01}
    assert short_float(f32) == 0.01 and short_float(1e-7) == 1e-7 and short_float(2) == 2.0


def test_from_a_real_model_config():
    layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L1(0.05),
                               bias_regularizer=keras.regularizers.L2())
    config = layer.get_config()
    assert from_keras_config(config["kernel_regularizer"]) == {"l1": 0.05}
    assert from_keras_config(config["bias_regularizer"]) == "l2"
    assert from_keras_config(config.get("activity_regularizer")) is None


@pytest.mark.parametrize("cfg, name", [
    (serialized("L3", {}), "L3"),
    (serialized("MyReg", {"a": 1}, "mypkg>MyReg", "mypkg"), "mypkg>MyReg"),
    # A look-alike registered elsewhere is not Keras's L1.
    (serialized("L1", {"l1": 0.1}, "evil>L1", "evil"), "evil>L1"),
    (serialized("ExprRegularizer", {"expr": "sum(w)"}, "other>ExprRegularizer"),
     "other>ExprRegularizer"),
])
def test_unknown_configs_are_rejected(cfg, name):
    with pytest.raises(SpecError) as info:
        from_keras_config(cfg)
    assert info.value.problems[0].message == f"regularizer '{name}' is not supported by specc"


def test_corrupt_config_is_a_spec_error():
    with pytest.raises(SpecError, match="invalid config"):
        from_keras_config(serialized("L1", {"l1": "lots"}))
    with pytest.raises(SpecError, match="invalid config"):
        from_keras_config(serialized("ExprRegularizer", {}, "specc>ExprRegularizer", "specc"))


# -- save and reload ------------------------------------------------------------

@pytest.mark.parametrize("reg", [
    {"expr": "0.01 * sum(square(w))"},
    {"custom": "test_scaled_l1", "factor": 0.25},
])
def test_saved_model_reloads(tmp_path, reg):
    inputs = keras.Input(shape=(5,))
    outputs = keras.layers.Dense(4, kernel_regularizer=to_keras(reg),
                                 bias_regularizer=to_keras(reg))(inputs)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    before = [float(ops.convert_to_numpy(x)) for x in model.losses]
    after = [float(ops.convert_to_numpy(x)) for x in loaded.losses]
    assert len(before) == 2 and after == pytest.approx(before, rel=1e-7)
    kernel = model.layers[-1].kernel.numpy().astype("float64")
    expected = (0.01 * np.sum(kernel**2) if "expr" in reg
                else 0.25 * np.sum(np.abs(kernel)))
    assert before[0] == pytest.approx(expected, rel=1e-6)
    layer_config = loaded.layers[-1].get_config()
    assert from_keras_config(layer_config["kernel_regularizer"]) == reg


# -- plugins --------------------------------------------------------------------

def test_registry():
    assert "test_scaled_l1" in plugins.registered_regularizers()
    assert plugins.get_regularizer("test_scaled_l1") is scaled_l1
    plugins.register_regularizer("test_scaled_l1")(scaled_l1)  # same function: fine
    with pytest.raises(ValueError, match="already registered"):
        plugins.register_regularizer("test_scaled_l1")(lambda w: ops.sum(w))
    with pytest.raises(ValueError):
        plugins.register_regularizer("")(scaled_l1)


def test_unknown_custom_lists_registered_and_suggests():
    with pytest.raises(SpecError) as info:
        plugins.get_regularizer("test_scaled_l2")
    p = info.value.problems[0]
    assert p.message.startswith("unknown custom regularizer 'test_scaled_l2'; registered: ")
    assert "test_scaled_l1" in p.message and p.suggestion == "test_scaled_l1"


def test_load_plugin_module(tmp_path, monkeypatch):
    (tmp_path / "test_plugin_mod.py").write_text(
        "import specc.vocab.plugins\n"
        "@specc.vocab.plugins.register_regularizer('test_from_module')\n"
        "def pen(w, factor=1.0):\n"
        "    return factor\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "test_plugin_mod", raising=False)
    assert plugins.load_plugin_module("test_plugin_mod").__name__ == "test_plugin_mod"
    assert plugins.get_regularizer("test_from_module")(None, factor=2.0) == 2.0

    with pytest.raises(SpecError) as info:
        plugins.load_plugin_module("test_no_such_module_xyz")
    assert info.value.problems[0].message == (
        "cannot import plugin 'test_no_such_module_xyz': "
        "No module named 'test_no_such_module_xyz'")
    (tmp_path / "test_broken_mod.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(SpecError, match="cannot import plugin 'test_broken_mod': RuntimeError: boom"):
        plugins.load_plugin_module("test_broken_mod")


def test_load_entry_points(tmp_path, monkeypatch):
    (tmp_path / "test_ep_mod.py").write_text("def pen(w):\n    return 7.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    group = plugins.ENTRY_POINT_GROUP
    eps = [importlib.metadata.EntryPoint("test_from_ep", "test_ep_mod:pen", group)]
    seen = []

    def fake_entry_points(group):
        seen.append(group)
        return eps

    monkeypatch.setattr(plugins, "entry_points", fake_entry_points)
    assert plugins.load_entry_points() == ["test_from_ep"]
    assert seen == ["specc.regularizers"]
    assert plugins.get_regularizer("test_from_ep")(None) == 7.0

    eps[:] = [importlib.metadata.EntryPoint("test_bad_ep", "test_ep_mod:missing", group)]
    with pytest.raises(SpecError, match="cannot load regularizer entry point 'test_bad_ep'"):
        plugins.load_entry_points()
