"""Export: Keras model -> spec -> model gives the same model (configs, names, outputs)."""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops

import specc
import specc.building.regularizers  # noqa: F401  registers specc's objects with Keras
from specc.building.build import build
from specc.writing.dump import dumps
from specc.errors import SpecError
from specc.exporting.export import export, export_file
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

from conftest import layer_config, random_array, round_trip, same_outputs

ROOT = Path(__file__).resolve().parent.parent


def multi_io():
    a, b = keras.Input((8,), name="a"), keras.Input((6,), name="b")
    x = layers.Dense(4, name="da")(a)
    y = layers.Dense(4, name="db")(b)
    merged = layers.Concatenate(name="cat")([x, y])
    return keras.Model([a, b], [layers.Dense(1, name="out1")(merged), layers.Dense(3, name="out2")(merged)])


def dict_io():
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    s = layers.Add(name="sum")([a, b])
    return keras.Model({"a": a, "b": b}, {"score": layers.Dense(1, name="score")(s), "s": s})


def shared_layers():
    a, b = keras.Input((5,), name="left"), keras.Input((5,), name="right")
    encoder = layers.Dense(3, activation="tanh", name="encoder")
    return keras.Model([a, b], layers.Subtract(name="diff")([encoder(a), encoder(b)]))


def nested_models():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="inner_dense")], name="block")
    i = keras.Input((4,), name="x")
    sub_in = keras.Input((3,))
    sub = keras.Model(sub_in, layers.Dense(2, name="head_dense")(sub_in), name="head")
    return keras.Model(i, sub(inner(i)))


def wrappers():
    i = keras.Input((7, 5), name="seq")
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dropout=0.1, recurrent_dropout=0.2), name="bi")(i)
    x = layers.TimeDistributed(layers.Dense(2), name="td")(x)
    x = layers.Bidirectional(layers.GRU(3), merge_mode="sum", name="bi_gru")(x)
    return keras.Model(i, x)


def attention():
    q, v = keras.Input((6, 8), name="q"), keras.Input((5, 8), name="v")
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(q, v)
    mha_k = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha_k")(query=q, value=v, key=v)
    att = layers.Attention(name="att")([q, v])
    return keras.Model([q, v], layers.Concatenate(name="cat")([mha, mha_k, att]))


def op_nodes():
    i = keras.Input((6,), name="x")
    x = layers.Dense(6, name="d")(i)
    y = (x + i) * 0.5
    y = ops.reshape(y, (-1, 2, 3))
    y = ops.mean(y, axis=1)
    return keras.Model(i, layers.Dense(2, name="out")(y))


def every_regularizer():
    r = keras.regularizers
    return keras.Sequential([
        keras.Input((6,)),
        layers.Dense(5, kernel_regularizer=r.L1(0.02), bias_regularizer=r.L2(0.03)),
        layers.Dense(5, kernel_regularizer=r.L1L2(l1=1e-5, l2=1e-4), activity_regularizer=r.L2(0.01)),
        layers.Dense(5, kernel_regularizer=r.OrthogonalRegularizer(0.01, mode="columns")),
        layers.Dense(5, kernel_regularizer=specc.building.regularizers.ExprRegularizer("0.01 * sum(square(w))")),
        layers.Dense(2, kernel_regularizer=r.L1(0.01), bias_regularizer=r.L2(0.01)),
    ])


def initializers_and_constraints():
    i, c = keras.initializers, keras.constraints
    return keras.Sequential([
        keras.Input((6,)),
        layers.Dense(5, kernel_initializer=i.HeNormal(seed=7), bias_initializer=i.Constant(0.1),
                     kernel_constraint=c.MaxNorm(3.0), bias_constraint=c.NonNeg()),
        layers.Dense(5, kernel_initializer=i.RandomNormal(stddev=0.02, seed=1),
                     kernel_constraint=c.MinMaxNorm(0.5, 2.0, rate=0.5, axis=0)),
        layers.Dense(5, kernel_initializer=i.VarianceScaling(2.0, "fan_out", "uniform", seed=3),
                     kernel_constraint=c.UnitNorm(axis=1)),
        layers.Dense(2, kernel_initializer="lecun_uniform", bias_initializer="ones"),
    ])


def dropout_family():
    return keras.Sequential([
        keras.Input((8, 8, 3)),
        layers.Conv2D(4, 3, padding="same"),
        layers.SpatialDropout2D(0.2, seed=3),
        layers.GaussianNoise(0.1, seed=2),
        layers.GaussianDropout(0.1, seed=2),
        layers.Reshape((64, 4)),
        layers.SpatialDropout1D(0.1),
        layers.Flatten(),
        layers.AlphaDropout(0.1, seed=4),
        layers.ActivityRegularization(l1=0.01, l2=0.02),
        layers.Dropout(0.5, noise_shape=(None, 1), seed=9),
        layers.Dense(2),
    ])


def cnn_and_rnn_zoo():
    i = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 8, mask_zero=True, name="emb")(i)
    x = layers.SimpleRNN(6, return_sequences=True, name="rnn")(x)
    x = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, name="conv")(x)
    x = layers.LayerNormalization(name="ln")(x)
    x = layers.GlobalMaxPooling1D(name="gmp")(x)
    return keras.Model(i, layers.Dense(1, activation="sigmoid", name="out")(x))


CASES = {
    "multi_io": (multi_io, lambda: [random_array((2, 8)), random_array((2, 6), 1)]),
    "dict_io": (dict_io, lambda: {"a": random_array((2, 8)), "b": random_array((2, 8), 1)}),
    "shared_layers": (shared_layers, lambda: [random_array((2, 5)), random_array((2, 5), 1)]),
    "nested_models": (nested_models, lambda: random_array((2, 4))),
    "wrappers": (wrappers, lambda: random_array((2, 7, 5))),
    "attention": (attention, lambda: [random_array((2, 6, 8)), random_array((2, 5, 8), 1)]),
    "op_nodes": (op_nodes, lambda: random_array((2, 6))),
    "every_regularizer": (every_regularizer, lambda: random_array((2, 6))),
    "initializers_and_constraints": (initializers_and_constraints, lambda: random_array((2, 6))),
    "dropout_family": (dropout_family, lambda: random_array((2, 8, 8, 3))),
    "cnn_and_rnn_zoo": (cnn_and_rnn_zoo, lambda: np.array([[1, 2, 3, 0], [4, 5, 0, 0]], dtype="int32")),
}


@pytest.mark.parametrize("fmt", ["toml", "json"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_written_models_round_trip(case, fmt):
    make, inputs = CASES[case]
    model = make()
    text, rebuilt = round_trip(model, fmt)
    same_outputs(model, rebuilt, inputs())
    if fmt == "toml":
        # Exporting the rebuilt model gives the same text: export is a fixed point.
        assert dumps(export(rebuilt)) == text


def test_values_keras_derives_from_another_argument_are_left_out():
    # strides = pool_size and value_dim = key_dim are what Keras makes of None; a value
    # that differs is written, and the rebuilt layers have the same configs. A fresh
    # session: Keras numbers default names per process (max_pooling2d_2 after other files).
    keras.backend.clear_session(free_memory=False)
    x = keras.Input((8, 8, 3))
    y = layers.MaxPooling2D()(x)
    y = layers.AveragePooling2D(3)(y)
    y = layers.MaxPooling2D(2, strides=1, padding="same")(y)
    y = layers.Reshape((-1, 3))(y)
    y = layers.MultiHeadAttention(2, 4)(y, y)
    y = layers.MultiHeadAttention(2, 4, value_dim=3)(y, y)
    model = keras.Model(x, y)
    text, rebuilt = round_trip(model)
    data = tomllib.loads(text)
    pools = [e for e in data["layers"] if "Pooling" in e["type"]]
    assert pools == [{"type": "MaxPooling2D"}, {"type": "AveragePooling2D", "pool_size": [3, 3]},
                     {"type": "MaxPooling2D", "strides": [1, 1], "padding": "same"}]
    attention = [e for e in data["layers"] if e["type"] == "MultiHeadAttention"]
    assert ["value_dim" in e for e in attention] == [False, True]
    assert attention[1]["value_dim"] == 3
    assert not any("attention_axes" in e for e in attention)  # [1] for a 3-axis query
    same_outputs(model, rebuilt, random_array((2, 8, 8, 3)))


def test_attention_axes_are_left_out_where_keras_would_choose_them():
    x = keras.Input((4, 4, 3))
    y = layers.MultiHeadAttention(2, 4)(x, x)  # attends over axes 1 and 2
    y = layers.MultiHeadAttention(2, 4, attention_axes=(2,))(y, y)
    model = keras.Model(x, y)
    text, rebuilt = round_trip(model)
    attention = [e for e in tomllib.loads(text)["layers"] if e["type"] == "MultiHeadAttention"]
    assert [e.get("attention_axes") for e in attention] == [None, [2]]
    assert [layer.get_config()["attention_axes"] for layer in rebuilt.layers[1:]] == [(1, 2), (2,)]
    same_outputs(model, rebuilt, random_array((2, 4, 4, 3)))


def test_a_nested_model_is_written_without_an_empty_model_table():
    # The nested model's name is its layer's, its kind implied: nothing is left for
    # [layers.spec.model], which used to be written out empty.
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3)], name="inner")
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(1)(inner(x)))
    text, rebuilt = round_trip(model)
    assert '\n[[layers]]\ntype = "Model"\nname = "inner"\n\n[[layers.spec.inputs]]\n' in text
    assert "[layers.spec.model]" not in text
    same_outputs(model, rebuilt, random_array((2, 4)))


def test_exported_spec_is_minimal():
    keras.backend.clear_session()  # Keras numbers default names per process
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01)),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], name="tutorial")
    assert dumps(export(model)) == (
        '[model]\nname = "tutorial"\n\n'
        "[[inputs]]\nshape = [784]\n\n"
        '[[layers]]\ntype = "Dense"\nunits = 64\nactivation = "relu"\nkernel_regularizer = "l2"\n\n'
        '[[layers]]\ntype = "Dropout"\nrate = 0.5\n\n'
        '[[layers]]\ntype = "Dense"\nunits = 10\nactivation = "softmax"\n'
    )


def test_float32_factors_are_written_short():
    reg = keras.regularizers.L2(float(np.float32(0.01)))
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, kernel_regularizer=reg)])
    assert "0.009999" not in dumps(export(model))


@pytest.mark.parametrize("spec_path", sorted((ROOT / "specs").glob("*.*")), ids=lambda p: p.name)
def test_every_spec_is_a_fixed_point(spec_path):
    """spec -> model -> spec gives the same spec."""
    spec = specc.load(spec_path)
    again = export(build(spec))
    first = export(build(again))
    assert dumps(first) == dumps(again)
    original = specc.load(spec_path)
    rebuilt = build(again)
    model = build(original)
    assert [layer_config(l) for l in rebuilt.layers] == [layer_config(l) for l in model.layers]


def test_export_file_reads_config_as_data(tmp_path):
    model = multi_io()
    path = tmp_path / "m.keras"
    model.save(path)
    spec = export_file(path)
    assert dumps(spec) == dumps(export(model))


def _save_with_config(tmp_path, config: dict) -> Path:
    path = tmp_path / "hostile.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")
    return path


def test_lambda_and_custom_layers_are_refused_with_every_offender(tmp_path):
    i = keras.Input((4,), name="x")
    x = layers.Lambda(lambda t: t * 2, name="double")(i)
    x = layers.Dense(3, name="ok")(x)
    x = layers.Lambda(lambda t: t + 1, name="shift")(x)
    model = keras.Model(i, x)
    with pytest.raises(SpecError) as info:
        export(model)
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 2
    assert "layer 'double' is a Lambda: runs an arbitrary Python function" in messages[0]
    assert "layer 'shift' is a Lambda" in messages[1]


def test_unregistered_custom_layer_is_refused(tmp_path):
    config = keras.saving.serialize_keras_object(multi_io())
    config["config"]["layers"][2]["module"] = "evil.module"
    config["config"]["layers"][2]["registered_name"] = "Evil>Layer"
    with pytest.raises(SpecError) as info:
        export_file(_save_with_config(tmp_path, config))
    assert "is the class 'Evil>Layer', which no plugin registered" in str(info.value)


def test_subclassed_model_is_refused(tmp_path):
    config = {"module": "mypackage.models", "class_name": "MyModel", "config": {}, "registered_name": "my>Model"}
    with pytest.raises(SpecError) as info:
        export_file(_save_with_config(tmp_path, config))
    assert "subclassed models are Python code" in str(info.value)


def test_not_a_keras_file(tmp_path):
    path = tmp_path / "m.keras"
    path.write_text("not a zip")
    with pytest.raises(SpecError, match="cannot read Keras model"):
        export_file(path)


def test_resnet50_spec_is_small():
    """The exported TOML of ResNet50 is at most 15% of Keras's own config.json."""
    model = keras.applications.ResNet50(weights=None)
    keras_config = json.dumps(keras.saving.serialize_keras_object(model))
    toml = dumps(export(model))
    assert len(toml) <= 0.15 * len(keras_config), (len(toml), len(keras_config))


def test_cli_export_and_build_with_weights_give_identical_predictions(tmp_path, cli):
    model = CASES["wrappers"][0]()
    model.set_weights([w * 1.5 + 0.01 for w in model.get_weights()])  # not the initial ones
    source = tmp_path / "model.keras"
    model.save(source)
    before = source.read_bytes()
    spec, weights, rebuilt = tmp_path / "model.toml", tmp_path / "w.weights.h5", tmp_path / "again.keras"

    result = cli("export", source, "-o", spec, "--weights", weights)
    assert result.exit_code == 0, result.output
    result = cli("build", spec, "-o", rebuilt, "--weights", weights)
    assert result.exit_code == 0, result.output

    x = random_array((3, 7, 5))
    again = keras.models.load_model(rebuilt)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))
    assert source.read_bytes() == before  # the input is left as it was


def test_cli_export_refuses_lambda_with_exit_1(tmp_path, cli):
    i = keras.Input((4,), name="x")
    model = keras.Model(i, layers.Lambda(lambda t: t * 2, name="double")(i))
    source = tmp_path / "lambda.keras"
    model.save(source)
    result = cli("export", source)
    assert result.exit_code == 1
    assert "layer 'double' is a Lambda: runs an arbitrary Python function" in result.output


def test_cli_export_prints_toml_and_never_overwrites_the_model(tmp_path, cli):
    source = tmp_path / "m.keras"
    every_regularizer().save(source)
    before = source.read_bytes()
    result = cli("export", source)
    assert result.exit_code == 0
    assert 'kernel_regularizer = { expr = "0.01 * sum(square(w))" }' in result.output
    assert cli("export", source, "-o", tmp_path / "m.keras").exit_code == 2
    assert source.read_bytes() == before


def test_schema_reference_for_editors():
    spec = export(every_regularizer())
    toml = dumps(spec, schema="../schemas/specc.schema.json")
    assert toml.startswith("#:schema ../schemas/specc.schema.json\n[model]")
    data = json.loads(dumps(spec, "json", schema="../schemas/specc.schema.json"))
    assert next(iter(data)) == "$schema"
    assert dumps(validate_document(parse_text(json.dumps(data), "json"))) == dumps(spec)


def _initializer_cases():
    from specc.vocab import registry

    for name, info in sorted(registry.INITIALIZERS.items()):
        args = {"seed": 5} if "seed" in info["args"] else {}
        yield pytest.param(name, args, id=name)


@pytest.mark.parametrize("name,args", _initializer_cases())
def test_every_initializer_round_trips(name, args):
    init = getattr(keras.initializers, name)(**args)
    if name == "STFT":  # a Conv1D kernel of frame length x 1 x frequency bins
        model = keras.Sequential([keras.Input((16, 1)), layers.Conv1D(10, 8, kernel_initializer=init)])
    else:
        model = keras.Sequential([keras.Input((6,)), layers.Dense(6, kernel_initializer=init)])
    round_trip(model)


@pytest.mark.parametrize("name", sorted(__import__("specc.vocab.registry").vocab.registry.CONSTRAINTS))
def test_every_constraint_round_trips(name):
    constraint = getattr(keras.constraints, name)()
    model = keras.Sequential([keras.Input((6,)), layers.Dense(4, kernel_constraint=constraint,
                                                              bias_constraint=constraint)])
    round_trip(model)


class _Scale(keras.layers.Layer):
    """A user's own layer, not registered with specc."""

    def call(self, x):
        return x * 2.0


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_real_custom_layer_and_subclassed_model_are_refused(tmp_path, cli):
    i = keras.Input((3,), name="x")
    model = keras.Model(i, layers.Dense(2, name="d")(_Scale(name="my_scale")(i)))
    with pytest.raises(SpecError) as info:
        export(model)
    assert [p.path for p in info.value.problems] == ["layers[0]"]
    assert "layer 'my_scale' is the class '_Scale', which is not registered" in str(info.value)

    subclassed = _Subclassed()
    subclassed(np.zeros((1, 3), "float32"))
    with pytest.raises(SpecError, match="subclassed models are Python code"):
        export(subclassed)
    path = tmp_path / "sub.keras"
    subclassed.save(path)
    result = cli("export", path)
    assert result.exit_code == 1
    assert "subclassed models are Python code" in result.output


def test_compile_settings_are_exported():
    model = multi_io()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=["mse", "mae"],
                  metrics=["mae"], loss_weights=[1.0, 0.5])
    spec = export(model)
    assert spec.compile.model_dump(exclude_unset=True) == {
        "optimizer": {"type": "Adam", "learning_rate": 0.01},
        "loss": ["mse", "mae"], "metrics": ["mae"], "loss_weights": [1.0, 0.5],
    }
    rebuilt = build(spec)
    assert dumps(export(rebuilt)) == dumps(spec)
    assert float(rebuilt.optimizer.learning_rate) == pytest.approx(0.01)


def test_compiled_with_a_custom_loss_is_refused():
    model = multi_io()
    model.compile(optimizer="adam", loss=lambda y_true, y_pred: y_pred)
    with pytest.raises(SpecError, match="compile.loss: loss is a Python lambda"):
        export(model)


def test_written_files_get_the_usual_mode(tmp_path, cli):
    import os

    from specc.files import write_atomically

    target = tmp_path / "out.toml"
    write_atomically(target, lambda tmp: Path(tmp).write_text("x = 1\n"))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.toml"]


def test_cli_export_weights_respects_max_params(tmp_path, cli):
    source = tmp_path / "m.keras"
    multi_io().save(source)
    result = cli("export", source, "-o", tmp_path / "m.toml", "--weights", tmp_path / "w.weights.h5",
                 "--max-params", "10")
    assert result.exit_code == 1
    assert "over the budget of 10" in result.output
    assert not (tmp_path / "w.weights.h5").exists()


def test_cli_export_imports_no_tensorflow(tmp_path):
    # A user exporting in CI must not pay TensorFlow's start: regularizers (every
    # form), an optimizer with arguments and a merge of several tensors are read as data.
    import subprocess
    import sys

    a, b = keras.Input((8,), name="a"), keras.Input((6,), name="b")
    x = layers.Dense(4, name="da", kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02),
                     bias_regularizer="l2")(a)
    y = layers.Dense(4, name="db", kernel_regularizer=specc.building.regularizers.ExprRegularizer(
        "0.01 * sum(square(w))"), activity_regularizer=keras.regularizers.OrthogonalRegularizer(0.1))(b)
    model = keras.Model([a, b], layers.Add(name="add")([x, y]))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    path = tmp_path / "m.keras"
    model.save(path)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "specc", "export", str(path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'expr = "0.01 * sum(square(w))"' in result.stdout
    imported = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2]
    assert "specc.exporting.export" in imported
    assert [m for m in imported if m.split(".")[0] in ("tensorflow", "keras")] == []


def _dense_pair():
    return keras.Sequential([keras.Input((8,)), layers.Dense(4, activation="relu"), layers.Dense(2)])


def test_one_dtype_policy_on_every_layer_is_exported_as_build_dtype_policy():
    keras.backend.clear_session()  # default layer names from dense, as a spec gives them
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        spec = export(_dense_pair())
    finally:
        keras.config.set_dtype_policy(previous)
    assert spec.build.model_dump(exclude_unset=True) == {"dtype_policy": "mixed_float16"}
    assert [layer.model_dump(exclude_unset=True) for layer in spec.layers] == [
        {"type": "Dense", "units": 4, "activation": "relu"}, {"type": "Dense", "units": 2}]
    rebuilt = build(spec)
    assert [layer.dtype_policy.name for layer in rebuilt.layers[-2:]] == ["mixed_float16"] * 2
    assert dumps(export(rebuilt)) == dumps(spec)


def test_layers_under_different_dtypes_keep_their_own():
    i = keras.Input((8,))
    model = keras.Model(i, layers.Dense(2, dtype="float32")(layers.Dense(4, dtype="mixed_float16")(i)))
    spec = export(model)
    assert spec.build is None
    assert [layer.dtype for layer in spec.layers] == ["mixed_float16", None]


def test_compile_defaults_are_not_exported():
    keras.backend.clear_session()
    model = _dense_pair()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=5), "acc"],
                  run_eagerly=False, steps_per_execution=1, jit_compile="auto")
    assert export(model).compile.model_dump(exclude_unset=True) == {
        "optimizer": "sgd", "loss": {"type": "SparseCategoricalCrossentropy"},
        "metrics": [{"type": "SparseTopKCategoricalAccuracy"}, "acc"]}


def test_braces_in_exported_strings_read_back_as_written(tmp_path):
    # "{...}" is a template in a spec: export must write a brace so that it stays one.
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((4,), name="in{put}"), layers.Dense(2, name="head{1}"),
                              layers.Dense(3, name="out}")])
    path = tmp_path / "braces.toml"
    path.write_text(dumps(export(model)))
    assert 'name = "head{{1}}"' in path.read_text()
    spec = specc.load(path)
    assert [spec.inputs[0].name, *(layer.name for layer in spec.layers)] == ["in{put}", "head{1}", "out}"]
    assert [layer.name for layer in build(spec).layers] == ["head{1}", "out}"]


def test_export_minimizes_spec_data_and_types_it_once():
    """Keras config -> plain data -> minimal data -> Spec (issue 9): each step returns new
    data and leaves what it was given as it was; the Spec is that data, typed."""
    from copy import deepcopy

    from specc.exporting.export import plain
    from specc.exporting.minimize import drop_zero_indexes, dtype_policy, minimize
    from specc.exporting.models import model_data
    from specc.writing.dump import to_data

    keras.backend.clear_session()
    i = keras.Input((5, 3))
    _, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(i)
    shared = layers.Dense(2)
    model = keras.Model(i, layers.Add()([shared(h), shared(c)]))
    data = model_data(plain(keras.saving.serialize_keras_object(model)), [], "")
    steps = []
    for step in (drop_zero_indexes, minimize, dtype_policy):
        given = deepcopy(data)
        data = step(given)
        steps.append(given)
    assert steps[0]["layers"][3]["inputs"] == ["dense:0", "dense_call_1:0"]
    assert steps[1]["layers"][3]["inputs"] == ["dense", "dense_call_1"]  # Dense has one output
    assert data == {
        "model": {"name": "functional"},  # the kind follows from the shared call
        "inputs": [{"shape": [5, 3]}],
        "layers": [{"type": "LSTM", "return_sequences": True, "return_state": True, "units": 4},
                   {"type": "Dense", "units": 2, "inputs": ["lstm:1"]},  # LSTM has three
                   {"apply": "dense", "name": "dense_call_1", "inputs": ["lstm:2"]},
                   {"type": "Add", "inputs": ["dense", "dense_call_1"]}]}
    assert to_data(export(model)) == data


def test_duplicate_names_are_reported_not_minimized_away():
    from specc.exporting.export import export_config

    def dense(name):
        return {"module": "keras.layers", "class_name": "Dense", "config": {"name": name, "units": 2}}

    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 4], "name": "input_layer"}}, dense("dense"), dense("dense")]}}
    with pytest.raises(SpecError) as info:
        export_config(config)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("layers[1].name", "the exported spec is not wired right: duplicate name 'dense'")]


def test_sparse_ragged_and_optional_inputs_round_trip():
    """keras.Input's flags (issue 9's note: `optional` and `ragged` were dropped)."""
    s = keras.Input((6,), sparse=True, name="s")
    r = keras.Input((None,), ragged=True, dtype="int32", name="r")
    o = keras.Input((6,), optional=True, name="o")
    model = keras.Model([s, r, o], [layers.Dense(2, name="from_s")(s),
                                    layers.Identity(name="from_r")(r),
                                    layers.Dense(2, name="from_o")(o)])
    text, rebuilt = round_trip(model)
    for flag in ("sparse", "ragged", "optional"):
        assert text.count(f"{flag} = true") == 1, text
    assert [(l.sparse, l.ragged, l.optional) for l in rebuilt.layers[:3]] == [
        (True, False, False), (False, True, False), (False, False, True)]
