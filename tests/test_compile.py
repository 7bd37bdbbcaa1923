"""The [compile] section: schedules, loss and metric names and objects, compile options.

Every round trip exports a compiled Keras model, writes the spec as TOML, reads,
validates and builds it again, and compares the rebuilt model's compile config
with the original's; a one-step fit shows Keras accepts what was built. The
compile settings come from keras-io examples, Keras guides and Keras's own
docstrings and tests (each named where it is used).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from specc.building.build import build
from specc.writing.dump import dumps
from specc.errors import SpecError
from specc.exporting.export import export, export_file
from specc.reading.load import parse_text
from specc.checking.validate import validate_document
from conftest import comparable, run_specc

ROOT = Path(__file__).resolve().parent.parent
schedules = keras.optimizers.schedules


def round_trip(model) -> tuple[str, keras.Model]:
    """Export, dump to TOML, parse, validate, build: the same layers (in order, with
    their configs), parameters, outputs and compile config."""
    text = dumps(export(model))
    keras.backend.clear_session()  # metric names (auc, auc_1) count up per process
    rebuilt = build(validate_document(parse_text(text, "toml")))
    assert [(type(l), l.name) for l in rebuilt.layers] == [(type(l), l.name) for l in model.layers]
    for original, copy in zip(model.layers, rebuilt.layers):
        assert _config(copy) == _config(original), original.name
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    inputs = [np.ones((2, *(d or 5 for d in i.shape[1:])), "float32") for i in model.inputs]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    for expected, got in zip(keras.tree.flatten(model.predict(inputs, verbose=0)),
                             keras.tree.flatten(rebuilt.predict(inputs, verbose=0))):
        np.testing.assert_array_equal(got, expected)
    assert comparable(rebuilt.get_compile_config()) == comparable(model.get_compile_config())
    return text, rebuilt


def _config(layer) -> dict:
    return {k: v for k, v in layer.get_config().items() if k != "build_config"}


def compile_section(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)["compile"]


def fit_one_step(model, x, y) -> None:
    history = model.fit(x, y, batch_size=4, epochs=1, steps_per_epoch=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ---- real models -----------------------------------------------------------------

def mnist_convnet(activation="softmax"):
    """keras-io "Simple MNIST convnet" (the input made smaller)."""
    return keras.Sequential([
        keras.Input(shape=(12, 12, 1)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation=activation),
    ])


def fraud_detection():
    """keras-io "Imbalanced classification: credit card fraud detection" (30 features)."""
    return keras.Sequential([
        keras.Input(shape=(30,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])


def guide_two_outputs():
    """The multi-input, multi-output model of Keras's guide "Training & evaluation
    with the built-in methods"."""
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    return keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


def guide_two_outputs_data():
    rng = np.random.default_rng(0)
    x = [rng.random((4, 32, 32, 3), "float32"), rng.random((4, 20, 10), "float32")]
    y = [rng.random((4, 1), "float32"), np.eye(5, dtype="float32")[[0, 1, 2, 3]]]
    return x, y


def ctc_loss(y_true, y_pred):
    """Stands for keras-io DeepSpeech2's CTCLoss: a Python function (never called here)."""
    return keras.ops.mean(y_pred)


ctc_loss.__name__ = "CTCLoss"


def deepspeech2(input_dim=16, output_dim=8, rnn_layers=2, rnn_units=8):
    """keras-io "Automatic Speech Recognition using CTC" (DeepSpeech2), smaller."""
    input_spectrogram = layers.Input((None, input_dim), name="input")
    x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
    x = layers.Conv2D(filters=4, kernel_size=[11, 41], strides=[2, 2], padding="same",
                      use_bias=False, name="conv_1")(x)
    x = layers.BatchNormalization(name="conv_1_bn")(x)
    x = layers.ReLU(name="conv_1_relu")(x)
    x = layers.Conv2D(filters=4, kernel_size=[11, 21], strides=[1, 2], padding="same",
                      use_bias=False, name="conv_2")(x)
    x = layers.BatchNormalization(name="conv_2_bn")(x)
    x = layers.ReLU(name="conv_2_relu")(x)
    x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
    for i in range(1, rnn_layers + 1):
        recurrent = layers.GRU(units=rnn_units, activation="tanh", recurrent_activation="sigmoid",
                               use_bias=True, return_sequences=True, reset_after=True,
                               name=f"gru_{i}")
        x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
        if i < rnn_layers:
            x = layers.Dropout(rate=0.5)(x)
    x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
    x = layers.ReLU(name="dense_1_relu")(x)
    x = layers.Dropout(rate=0.5)(x)
    output = layers.Dense(units=output_dim + 1, activation="softmax")(x)
    model = keras.Model(input_spectrogram, output, name="DeepSpeech_2")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4), loss=ctc_loss)
    return model


# ---- 1. learning-rate schedules ------------------------------------------------------

# Each schedule as its Keras docstring writes it.
SCHEDULES = {
    "ExponentialDecay": lambda: schedules.ExponentialDecay(
        0.1, decay_steps=100000, decay_rate=0.96, staircase=True),
    "CosineDecay": lambda: schedules.CosineDecay(
        0.1, 1000, warmup_target=0.1, warmup_steps=1000),
    "CosineDecayRestarts": lambda: schedules.CosineDecayRestarts(0.1, 1000),
    "InverseTimeDecay": lambda: schedules.InverseTimeDecay(0.1, 1.0, 0.5),
    "PiecewiseConstantDecay": lambda: schedules.PiecewiseConstantDecay(
        [100000, 110000], [1.0, 0.5, 0.1]),
    "PolynomialDecay": lambda: schedules.PolynomialDecay(0.1, 10000, 0.01, power=0.5),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_learning_rate_schedules_round_trip(name):
    model = mnist_convnet()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=SCHEDULES[name]()),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    text, rebuilt = round_trip(model)
    assert tomllib.loads(text)["compile"]["optimizer"]["learning_rate"]["type"] == name
    # optimizer.learning_rate is the current value; the schedule itself is kept here:
    assert type(rebuilt.optimizer._learning_rate).__name__ == name
    fit_one_step(rebuilt, np.zeros((4, 12, 12, 1), "float32"), np.arange(4))


def test_keras_guide_schedule_is_written_with_keras_argument_names():
    # Keras's guide "Training & evaluation with the built-in methods", section
    # "Using learning rate schedules".
    model = mnist_convnet()
    lr_schedule = schedules.ExponentialDecay(0.1, decay_steps=100000, decay_rate=0.96,
                                             staircase=True)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=lr_schedule),
                  loss="sparse_categorical_crossentropy")
    text, _ = round_trip(model)
    assert compile_section(text) == {
        "optimizer": {"type": "RMSprop", "learning_rate": {
            "type": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 100000,
            "decay_rate": 0.96, "staircase": True}},
        "loss": "sparse_categorical_crossentropy"}


def test_schedule_in_a_hand_written_spec_builds_and_trains():
    text = """
[[inputs]]
shape = [4]

[[layers]]
type = "Dense"
units = 1

[compile]
optimizer = { type = "Adam", learning_rate = { type = "ExponentialDecay", initial_learning_rate = 0.1, decay_steps = 1000, decay_rate = 0.96 } }
loss = "mse"
"""
    model = build(validate_document(parse_text(text, "toml")))
    rate = model.optimizer._learning_rate
    assert isinstance(rate, schedules.ExponentialDecay)
    assert (rate.initial_learning_rate, rate.decay_steps, rate.decay_rate) == (0.1, 1000, 0.96)
    fit_one_step(model, np.zeros((4, 4), "float32"), np.zeros((4, 1), "float32"))


# ---- 2. loss and metric names, functions and objects --------------------------------

def test_aliases_keras_accepts_round_trip():
    # "acc" and "ce" are resolved by model.compile itself from the outputs' shapes.
    model = mnist_convnet()
    model.compile(optimizer="adam", loss="ce", metrics=["acc", "mae", "MSE"])
    text, rebuilt = round_trip(model)
    assert compile_section(text) == {"optimizer": "adam", "loss": "ce",
                                     "metrics": ["acc", "mae", "MSE"]}
    fit_one_step(rebuilt, np.zeros((4, 12, 12, 1), "float32"), np.eye(10, dtype="float32")[:4])
    assert {"acc", "mae", "MSE"} <= set(rebuilt.history.history)


def test_builtin_functions_are_written_by_name():
    # keras-io "Timeseries classification from scratch" compiles with names; here the
    # same functions are passed as objects, as many scripts do.
    model = mnist_convnet()
    model.compile(optimizer="adam", loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=[keras.metrics.sparse_categorical_accuracy])
    text, rebuilt = round_trip(model)
    assert compile_section(text) == {"optimizer": "adam",
                                     "loss": "sparse_categorical_crossentropy",
                                     "metrics": ["sparse_categorical_accuracy"]}
    assert rebuilt.get_compile_config()["loss"] == "sparse_categorical_crossentropy"
    fit_one_step(rebuilt, np.zeros((4, 12, 12, 1), "float32"), np.arange(4))


def test_vit_example_loss_and_named_metric_objects():
    # keras-io "Image classification with Vision Transformer": its compile call (on logits).
    model = mnist_convnet(activation=None)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.0001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                 keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy")],
    )
    text, rebuilt = round_trip(model)
    assert compile_section(text) == {
        "optimizer": {"type": "AdamW", "weight_decay": 0.0001},  # 0.001: AdamW's default
        "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
        "metrics": [{"type": "SparseCategoricalAccuracy", "name": "accuracy"},
                    {"type": "SparseTopKCategoricalAccuracy", "name": "top-5-accuracy"}]}
    fit_one_step(rebuilt, np.zeros((4, 12, 12, 1), "float32"), np.arange(4))
    assert {"accuracy", "top-5-accuracy"} <= set(rebuilt.history.history)


def test_fraud_detection_metrics_round_trip():
    # keras-io "Imbalanced classification: credit card fraud detection", plus an AUC.
    model = fraud_detection()
    metrics = [
        keras.metrics.FalseNegatives(name="fn"), keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"), keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall"),
        keras.metrics.AUC(num_thresholds=50),
    ]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
    text, rebuilt = round_trip(model)
    # Default names are left out: precision, recall and auc are what Keras calls them.
    assert compile_section(text)["metrics"] == [
        {"type": "FalseNegatives", "name": "fn"}, {"type": "FalsePositives", "name": "fp"},
        {"type": "TrueNegatives", "name": "tn"}, {"type": "TruePositives", "name": "tp"},
        {"type": "Precision"}, {"type": "Recall"}, {"type": "AUC", "num_thresholds": 50}]
    fit_one_step(rebuilt, np.zeros((4, 30), "float32"), np.zeros((4, 1), "float32"))


def test_per_output_losses_and_metrics_as_lists_and_tables():
    # Keras's guide "Training & evaluation with the built-in methods", both forms.
    x, y = guide_two_outputs_data()
    model = guide_two_outputs()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[[keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
                 [keras.metrics.CategoricalAccuracy()]],
    )
    _, rebuilt = round_trip(model)
    fit_one_step(rebuilt, x, y)

    model = guide_two_outputs()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"score_output": keras.losses.MeanSquaredError(),
              "class_output": keras.losses.CategoricalCrossentropy()},
        metrics={"score_output": [keras.metrics.MeanAbsolutePercentageError(),
                                  keras.metrics.MeanAbsoluteError()],
                 "class_output": [keras.metrics.CategoricalAccuracy()]},
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    text, rebuilt = round_trip(model)
    section = compile_section(text)
    assert section["loss"] == {"score_output": {"type": "MeanSquaredError"},
                               "class_output": {"type": "CategoricalCrossentropy"}}
    assert section["loss_weights"] == {"score_output": 2.0, "class_output": 1.0}
    fit_one_step(rebuilt, x, y)


def test_two_unnamed_metrics_of_one_class_get_keras_numbering():
    model = fraud_detection()
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(), keras.metrics.AUC(curve="PR")])
    names = [m["config"]["name"] for m in model.get_compile_config()["metrics"]]
    keras.backend.clear_session()
    text = """
[[inputs]]
shape = [30]

[[layers]]
type = "Dense"
units = 1

[compile]
loss = "binary_crossentropy"
metrics = [{ type = "AUC" }, { type = "AUC", curve = "PR" }]
"""
    built = build(validate_document(parse_text(text, "toml")))
    built_names = [m["config"]["name"] for m in built.get_compile_config()["metrics"]]
    assert built_names == ["auc", "auc_1"]
    # However many AUCs the process made before, the original's own two are auc_N, auc_N+1.
    assert [n.rsplit("_", 1)[0] if n != "auc" else n for n in names] == ["auc", "auc"]


# ---- 3. compile options ---------------------------------------------------------------

def test_compile_options_round_trip():
    # Keras's trainer tests (keras/src/trainers/trainer_test.py) compile with these.
    model = fraud_detection()
    model.compile(optimizer=keras.optimizers.SGD(), loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanSquaredError()], weighted_metrics=["mae"],
                  jit_compile=True, steps_per_execution=3, loss_weights=0.5)
    text, rebuilt = round_trip(model)
    assert compile_section(text) == {
        "optimizer": "sgd", "loss": {"type": "MeanSquaredError"},
        "metrics": [{"type": "MeanSquaredError"}], "weighted_metrics": ["mae"],
        "loss_weights": 0.5, "steps_per_execution": 3, "jit_compile": True}
    assert (rebuilt.jit_compile, rebuilt.steps_per_execution) == (True, 3)
    fit_one_step(rebuilt, np.zeros((4, 30), "float32"), np.zeros((4, 1), "float32"))

    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    text, rebuilt = round_trip(model)
    assert compile_section(text) == {"optimizer": "sgd", "loss": "mse", "run_eagerly": True}
    assert rebuilt.run_eagerly is True
    fit_one_step(rebuilt, np.zeros((4, 30), "float32"), np.zeros((4, 1), "float32"))


def test_keras_saves_no_auto_scale_loss():
    # What compile_config holds decides what a spec can round-trip.
    model = fraud_detection()
    model.compile(optimizer="sgd", loss="mse")
    assert set(model.get_compile_config()) == {
        "optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
        "steps_per_execution", "jit_compile"}


# ---- 4. what a spec cannot say -----------------------------------------------------------

NO_COMPILE = "use --no-compile (compile=False in Python) to export the architecture alone"


class CategoricalTruePositives(keras.metrics.Metric):
    """The custom metric of Keras's guide "Training & evaluation with the built-in methods"."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pass

    def result(self):
        return self.true_positives


class WarmUpCosine(schedules.LearningRateSchedule):
    """A schedule class of one's own, as keras-io "Masked image modeling" writes one."""

    def __call__(self, step):
        return 0.1

    def get_config(self):
        return {}


def test_deepspeech2_ctc_loss_is_refused_with_a_hint(tmp_path):
    model = deepspeech2()
    with pytest.raises(SpecError) as info:
        export(model)
    assert [str(p) for p in info.value.problems] == [
        f"<spec>: compile.loss: loss 'CTCLoss' is a Python function, which a spec cannot "
        f"describe; {NO_COMPILE}"]
    spec = export(model, compile=False)
    assert spec.compile is None
    keras.backend.clear_session()
    rebuilt = build(spec)
    assert [type(l) for l in rebuilt.layers] == [type(l) for l in model.layers]
    assert rebuilt.count_params() == model.count_params()
    assert not rebuilt.compiled


def test_custom_classes_are_refused_one_line_each():
    model = guide_two_outputs()
    model.compile(optimizer=keras.optimizers.SGD(WarmUpCosine()),
                  loss=["mse", ctc_loss],
                  metrics=[[CategoricalTruePositives()], ["acc"]])
    with pytest.raises(SpecError) as info:
        export(model)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("compile.optimizer.learning_rate", "learning-rate schedule 'WarmUpCosine' is a custom "
         f"class, which a spec cannot describe; {NO_COMPILE}"),
        ("compile.loss[1]", f"loss 'CTCLoss' is a Python function, which a spec cannot describe; "
         f"{NO_COMPILE}"),
        ("compile.metrics[0][0]", "metric 'CategoricalTruePositives' is a custom class, which a "
         f"spec cannot describe; {NO_COMPILE}"),
    ]


def test_custom_optimizer_is_refused():
    class Custom(keras.optimizers.Adam):
        pass

    model = fraud_detection()
    model.compile(optimizer=Custom(), loss="mse")
    with pytest.raises(SpecError) as info:
        export(model)
    assert [str(p) for p in info.value.problems] == [
        f"<spec>: compile.optimizer: optimizer 'Custom' is a custom class, which a spec "
        f"cannot describe; {NO_COMPILE}"]


def test_cli_refuses_then_exports_with_no_compile(tmp_path):
    path = tmp_path / "deepspeech2.keras"
    deepspeech2().save(path)
    refused = run_specc("export", path, cwd=tmp_path, timeout=300)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    # (TensorFlow's start-up lines, if any, come first: not this test's concern.)
    assert refused.stderr.splitlines()[-2:] == [
        f"{path}: compile.loss: loss 'CTCLoss' is a Python function, which a spec cannot "
        f"describe; {NO_COMPILE}",
        "1 problem found"]
    out = tmp_path / "ds2.toml"
    done = run_specc("export", path, "--no-compile", "-o", out, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "[compile]" not in out.read_text()
    assert 'name = "DeepSpeech_2"' in out.read_text()
    assert export_file(path, compile=False).model_dump() == \
        validate_document(parse_text(out.read_text(), "toml")).model_dump()


def test_cli_export_of_a_saved_file_keeps_the_compile_config(tmp_path):
    # The .keras file's own compile_config is what the rebuilt model must match.
    path = tmp_path / "guide.keras"
    model = guide_two_outputs()
    model.compile(optimizer=keras.optimizers.RMSprop(schedules.CosineDecay(0.01, 500)),
                  loss={"score_output": "mse", "class_output": "categorical_crossentropy"},
                  metrics={"class_output": ["acc", keras.metrics.AUC(name="auc")]},
                  loss_weights={"score_output": 2.0, "class_output": 1.0},
                  steps_per_execution=2)
    model.save(path)
    out = tmp_path / "guide.toml"
    done = run_specc("export", path, "-o", out, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))["compile_config"]
    keras.backend.clear_session()
    rebuilt = build(validate_document(parse_text(out.read_text(), "toml")))
    assert comparable(rebuilt.get_compile_config()) == comparable(saved)
    fit_one_step(rebuilt, *guide_two_outputs_data())


# ---- validation -----------------------------------------------------------------------------

BAD = """\
[[inputs]]
shape = [4]

[[layers]]
type = "Dense"
units = 3

[compile]
optimizer = { type = "Adam", learning_rate = { type = "ExponentialDecai", initial_learning_rate = 0.1 } }
loss = { type = "SparseCategoricalCrossentropy", from_logit = true }
metrics = ["acc", "accuracyy", { type = "AUC", num_thresholds = 0 }, { type = "Aucc" }]
weighted_metrics = "mse"
jit_compile = "yes"
steps_per_execution = 0
"""


def test_bad_compile_sections_are_reported_without_tensorflow(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    code = ("import sys\nfrom specc.cli.main import run\nsys.argv = ['specc', 'validate', 'bad.toml']\n"
            "try:\n    run()\nexcept SystemExit as e:\n    code = e.code\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\nsys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "bad.toml:9:55: compile.optimizer.learning_rate.type: unknown learning-rate schedule "
        "'ExponentialDecai'. Did you mean 'ExponentialDecay'?",
        "bad.toml:10:50: compile.loss.from_logit: unknown argument 'from_logit' for "
        "SparseCategoricalCrossentropy. Did you mean 'from_logits'?",
        "bad.toml:11:19: compile.metrics[1]: unknown metric 'accuracyy'. Did you mean 'accuracy'?",
        "bad.toml:11:65: compile.metrics[2].num_thresholds: expected an integer >= 1, received 0",
        "bad.toml:11:79: compile.metrics[3].type: unknown metric 'Aucc'. Did you mean 'AUC'?",
        "bad.toml:12:20: compile.weighted_metrics: expected a list or a table, received 'mse'",
        "bad.toml:13:15: compile.jit_compile: expected true or false, or 'auto', received 'yes'",
        "bad.toml:14:23: compile.steps_per_execution: expected an integer >= 1, received 0",
        "8 problems found",
    ]


def test_keras_refusing_a_value_is_one_line_at_compile():
    text = BAD.split("[compile]")[0] + '[compile]\nloss = "mse"\nmetrics = [{ type = "AUC", num_thresholds = 1 }]\n'
    with pytest.raises(SpecError) as info:
        build(validate_document(parse_text(text, "toml")))
    [problem] = info.value.problems
    assert problem.path == "compile"
    assert problem.message.startswith("Keras rejected the compile settings: ")
    assert "num_thresholds" in problem.message


def test_every_name_the_spec_accepts_is_one_keras_compiles():
    """The closed tables agree with Keras: each name and class builds a loss or metric."""
    from keras.src.trainers.compile_utils import get_loss, get_metric

    from specc.vocab import registry

    y = keras.ops.zeros((2, 3))
    for name in registry.LOSSES:  # a class the table lists, or one of Keras's loss functions
        loss = get_loss(name, y, y)
        if type(loss).__name__ == "LossFunctionWrapper":  # not exported by keras.losses
            assert loss.fn is getattr(keras.losses, loss.fn.__name__), name
        else:
            assert type(loss) is getattr(keras.losses, type(loss).__name__), name
            assert type(loss).__name__ in registry.LOSS_CLASSES, name
    for name in registry.METRICS:
        metric = get_metric(name, y, y)
        assert type(metric).__name__ in registry.METRIC_CLASSES, name
        assert type(metric) is getattr(keras.metrics, type(metric).__name__), name
    for cls, info in registry.LOSS_CLASSES.items():
        assert issubclass(getattr(keras.losses, cls), keras.losses.Loss)
    for cls in registry.METRIC_CLASSES:
        assert issubclass(getattr(keras.metrics, cls), keras.metrics.Metric)
    for cls in registry.SCHEDULES:
        assert issubclass(getattr(schedules, cls), schedules.LearningRateSchedule)
    assert "mean_metric_wrapper" not in registry.METRICS  # it needs a Python function


def test_keras_names_are_all_accepted():
    """The converse: every name Keras's get() makes an object of without arguments is in the tables."""
    import inspect

    from keras.src.losses import ALL_OBJECTS_DICT as losses
    from keras.src.metrics import ALL_OBJECTS_DICT as metrics

    from specc.vocab import registry

    def usable(name, obj, base):
        if not isinstance(obj, type):
            return True
        if obj is base or name in ("LossFunctionWrapper", "MeanMetricWrapper", "mean_metric_wrapper"):
            return False
        params = list(inspect.signature(obj.__init__).parameters.values())[1:]
        return all(p.default is not p.empty for p in params
                   if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))

    assert {n for n, o in losses.items() if usable(n, o, keras.losses.Loss)} | {"ce", "crossentropy"} \
        == set(registry.LOSSES)
    assert {n for n, o in metrics.items() if usable(n, o, keras.metrics.Metric)} | {"acc"} \
        == set(registry.METRICS)


DOC = (ROOT / "docs" / "spec-format.md").read_text()


def test_docs_compile_example_builds_and_trains():
    section = DOC[DOC.index("## `[compile]`"):DOC.index("## Validation and errors")]
    example = section.split("```toml\n")[1].split("```")[0]
    model = build(validate_document(parse_text(example, "toml")))
    config = model.get_compile_config()
    assert config["optimizer"]["config"]["learning_rate"]["class_name"] == "CosineDecay"
    assert config["loss"]["label"]["config"]["label_smoothing"] == 0.1
    x = np.zeros((4, 30), "float32")
    fit_one_step(model, x, {"score": np.zeros((4, 1), "float32"),
                            "label": np.eye(5, dtype="float32")[:4]})
    assert {"label_auc", "label_acc", "score_mae"} <= set(model.history.history)


def test_docs_refusal_line_is_what_export_prints():
    section = DOC[DOC.index("**What a spec cannot hold.**"):]
    line = section.split("```text\n")[1].split("\n```")[0]
    model = deepspeech2()
    with pytest.raises(SpecError) as info:
        export(model)
    assert line == str(info.value.problems[0]).replace("<spec>", "ds2.keras")


def test_exporting_a_compiled_file_imports_no_tensorflow(tmp_path):
    path = tmp_path / "fraud.keras"
    model = fraud_detection()
    model.compile(optimizer=keras.optimizers.Adam(schedules.ExponentialDecay(0.01, 100, 0.9)),
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=0.1),
                  metrics=[keras.metrics.AUC(num_thresholds=50), "acc"])
    model.save(path)
    code = ("import sys\nfrom specc.exporting.export import export_file\nspec = export_file(sys.argv[1])\n"
            "assert spec.compile.loss.label_smoothing == 0.1\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


PER_OUTPUT = """\
[[inputs]]
name = "features"
shape = [30]

[[layers]]
name = "score"
type = "Dense"
units = 1

[[layers]]
name = "label"
type = "Dense"
units = 5
inputs = ["features"]

[model]
outputs = ["score", "label"]

[compile]
loss = { label = "mse" }
metrics = { label = ["acc"], lable = ["mae"] }
loss_weights = [1.0, 2.0, 3.0]
"""


def test_per_output_tables_name_the_outputs(tmp_path, cli):
    # Keras itself would only say so at the first fit (and less clearly).
    path = tmp_path / "outputs.toml"
    path.write_text(PER_OUTPUT)
    result = cli("validate", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:20:8: compile.loss: no loss for output 'score': a table of losses names every output",
        f"{path}:21:38: compile.metrics.lable: unknown output 'lable'. Did you mean 'label'?",
        f"{path}:22:16: compile.loss_weights: expected at most 2 entries, one per output, received 3",
        "3 problems found",
    ]
    fixed = PER_OUTPUT.replace('loss = { label = "mse" }', 'loss = { label = "mse", score = "mse" }') \
        .replace("lable", "score").replace("[1.0, 2.0, 3.0]", "[1.0, 2.0]")
    model = build(validate_document(parse_text(fixed, "toml")))
    fit_one_step(model, np.zeros((4, 30), "float32"),
                 [np.zeros((4, 1), "float32"), np.zeros((4, 5), "float32")])


def test_a_compile_argument_specc_does_not_know_is_refused():
    from specc.exporting.export import export_config

    model = fraud_detection()
    model.compile(optimizer="sgd", loss="mse")
    config = keras.saving.serialize_keras_object(model)
    config["compile_config"]["future_option"] = 3  # what a later Keras might save
    with pytest.raises(SpecError) as info:
        export_config(config)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("compile.future_option", f"compile argument 'future_option' is not supported by specc; {NO_COMPILE}")]
    assert export_config(config, compile=False).compile is None


def test_specc_export_takes_a_model_or_a_path(tmp_path):
    import specc

    model = deepspeech2()
    path = tmp_path / "ds2.keras"
    model.save(path)
    for source in (model, path, str(path)):
        with pytest.raises(SpecError, match="loss 'CTCLoss' is a Python function"):
            specc.export(source)
        spec = specc.export(source, compile=False)
        assert spec.compile is None and spec.model.name == "DeepSpeech_2"
    model.compile(optimizer="adam", loss="mse")
    assert specc.export(model).compile.loss == "mse"
