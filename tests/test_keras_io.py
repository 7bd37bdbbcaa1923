"""Real models from the keras-io examples and Keras's own tests: export, rebuild, compare.

Each model is written as its example writes it (sizes scaled down to keep the
test fast): exported with specc.export, rebuilt from the TOML text, and
compared with conftest.round_trip (classes, names and order of model.layers,
configs, parameters), then run on the same inputs with the same weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

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

from conftest import ROOT, random_array, round_trip, same_outputs


# ---- keras-io examples ---------------------------------------------------------

def lstm_seq2seq():
    """keras-io examples/nlp/lstm_seq2seq.py: the training model."""
    encoder_inputs = keras.Input(shape=(None, 7))
    encoder = layers.LSTM(8, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, 9))
    decoder_lstm = layers.LSTM(8, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = layers.Dense(9, activation="softmax")
    return keras.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))


def dcgan_generator():
    """keras-io examples/generative/dcgan_overriding_train_step.py: the generator."""
    return keras.Sequential([
        keras.Input(shape=(16,)),
        layers.Dense(4 * 4 * 8),
        layers.Reshape((4, 4, 8)),
        layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
    ], name="generator")


def dcgan_discriminator():
    """keras-io examples/generative/dcgan_overriding_train_step.py: the discriminator."""
    return keras.Sequential([
        keras.Input(shape=(16, 16, 3)),
        layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(16, kernel_size=4, strides=2, padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


def actor_critic():
    """keras-io examples/rl/actor_critic_cartpole.py."""
    inputs = layers.Input(shape=(4,))
    common = layers.Dense(16, activation="relu")(inputs)
    action = layers.Dense(2, activation="softmax")(common)
    critic = layers.Dense(1)(common)
    return keras.Model(inputs=inputs, outputs=[action, critic])


def deepspeech2():
    """keras-io examples/audio/ctc_asr.py: build_model (2D convolutions, bidirectional GRUs)."""
    input_dim, rnn_units = 16, 8
    input_spectrogram = layers.Input((None, input_dim), name="input")
    x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
    x = layers.Conv2D(4, kernel_size=[11, 41], strides=[2, 2], padding="same",
                      use_bias=False, name="conv_1")(x)
    x = layers.BatchNormalization(name="conv_1_bn")(x)
    x = layers.ReLU(name="conv_1_relu")(x)
    x = layers.Conv2D(4, kernel_size=[11, 21], strides=[1, 2], padding="same",
                      use_bias=False, name="conv_2")(x)
    x = layers.BatchNormalization(name="conv_2_bn")(x)
    x = layers.ReLU(name="conv_2_relu")(x)
    x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
    for i in range(1, 3):
        recurrent = layers.GRU(units=rnn_units, activation="tanh", recurrent_activation="sigmoid",
                               use_bias=True, return_sequences=True, reset_after=True,
                               name=f"gru_{i}")
        x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
        if i < 2:
            x = layers.Dropout(rate=0.5)(x)
    x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
    x = layers.ReLU(name="dense_1_relu")(x)
    x = layers.Dropout(rate=0.5)(x)
    output = layers.Dense(units=12, activation="softmax")(x)
    return keras.Model(input_spectrogram, output, name="DeepSpeech_2")


def conv_lstm():
    """keras-io examples/vision/conv_lstm.py: next-frame prediction."""
    inp = layers.Input(shape=(None, 8, 8, 1))
    x = layers.ConvLSTM2D(filters=4, kernel_size=(5, 5), padding="same",
                          return_sequences=True, activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(filters=4, kernel_size=(3, 3), padding="same",
                          return_sequences=True, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(filters=4, kernel_size=(1, 1), padding="same",
                          return_sequences=True, activation="relu")(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)
    return keras.models.Model(inp, x)


def cnn_3d():
    """keras-io examples/vision/3D_image_classification.py: get_model."""
    inputs = keras.Input((16, 16, 8, 1))
    x = layers.Conv3D(filters=4, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv3D(filters=8, kernel_size=3, activation="relu", padding="same")(x)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.Dense(units=16, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(units=1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="3dcnn")


def transformer_block():
    """keras-io examples/nlp/text_classification_with_transformer.py, its TransformerBlock
    written with functional layers: attention, residuals, layer norms, a Sequential ffn."""
    embed_dim, ff_dim = 8, 16
    inputs = layers.Input(shape=(10,))
    x = layers.Embedding(input_dim=50, output_dim=embed_dim)(inputs)
    attn_output = layers.MultiHeadAttention(num_heads=2, key_dim=embed_dim)(x, x)
    attn_output = layers.Dropout(0.1)(attn_output)
    out1 = layers.LayerNormalization(epsilon=1e-6)(x + attn_output)
    ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
    ffn_output = layers.Dropout(0.1)(ffn(out1))
    x = layers.LayerNormalization(epsilon=1e-6)(out1 + ffn_output)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def bidirectional_lstm_imdb():
    """keras-io examples/nlp/bidirectional_lstm_imdb.py."""
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(100, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def ticket_classifier():
    """Keras's functional API guide: three inputs, two outputs returned as a dict."""
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(6,), name="tags")
    title_features = layers.Embedding(100, 8)(title_input)
    body_features = layers.Embedding(100, 8)(body_input)
    title_features = layers.LSTM(8)(title_features)
    body_features = layers.LSTM(4)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(3, name="department")(x)
    return keras.Model(inputs=[title_input, body_input, tags_input],
                       outputs={"priority": priority_pred, "department": department_pred})


def toy_resnet():
    """Keras's functional API guide: a toy ResNet with Add skip connections."""
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(8, 3, activation="relu")(block_2_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def autoencoder_of_models():
    """Keras's functional API guide, "all models are callable": an encoder and a
    decoder model nested in an autoencoder."""
    encoder_input = keras.Input(shape=(8, 8, 1), name="original_img")
    x = layers.Conv2D(4, 3, activation="relu")(encoder_input)
    x = layers.MaxPooling2D(2)(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    decoder_input = keras.Input(shape=(4,), name="encoded_img")
    x = layers.Reshape((2, 2, 1))(decoder_input)
    x = layers.Conv2DTranspose(4, 3, activation="relu")(x)
    decoder_output = layers.UpSampling2D(2)(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")
    autoencoder_input = keras.Input(shape=(8, 8, 1), name="img")
    return keras.Model(autoencoder_input, decoder(encoder(autoencoder_input)), name="autoencoder")


def ensemble():
    """Keras's functional API guide: three models averaged."""
    def get_model(n):
        inputs = keras.Input(shape=(8,))
        return keras.Model(inputs, layers.Dense(1)(inputs), name=f"member_{n}")

    inputs = keras.Input(shape=(8,))
    outputs = layers.average([get_model(n)(inputs) for n in range(3)])
    return keras.Model(inputs=inputs, outputs=outputs)


def siamese():
    """keras-io examples/vision/siamese_network.py: one embedding model shared by three
    inputs (its DistanceLayer, a custom class, written with Subtract and ops)."""
    base = keras.Input((8, 8, 3))
    x = layers.Flatten()(base)
    x = layers.Dense(8, activation="relu")(x)
    embedding = keras.Model(base, layers.Dense(4)(x), name="Embedding")
    anchor, positive, negative = (keras.Input(name=n, shape=(8, 8, 3))
                                  for n in ("anchor", "positive", "negative"))
    a, p, n = embedding(anchor), embedding(positive), embedding(negative)
    ap = keras.ops.sum(keras.ops.square(layers.Subtract()([a, p])), -1)
    an = keras.ops.sum(keras.ops.square(layers.Subtract()([a, n])), -1)
    return keras.Model(inputs=[anchor, positive, negative], outputs=(ap, an))


def video_classifier():
    """keras-io video classification: a small CNN model applied to every frame with
    TimeDistributed, then a GRU over the frames."""
    frame = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, activation="relu")(frame)
    cnn = keras.Model(frame, layers.GlobalAveragePooling2D()(x), name="frame_cnn")
    frames = keras.Input((5, 8, 8, 3))
    x = layers.TimeDistributed(cnn)(frames)
    x = layers.GRU(4, return_sequences=True)(x)
    x = x[:, -1, :]  # the last step, as keras-io's timeseries examples slice it
    return keras.Model(frames, layers.Dense(3, activation="softmax")(x))


def gru_encoder_state():
    """An encoder whose GRU output and final state both feed the head (keras-io seq2seq
    style), with a MultiHeadAttention that also returns its scores."""
    tokens = keras.Input((6, 4), name="tokens")
    seq, state = layers.GRU(4, return_sequences=True, return_state=True)(tokens)
    att, scores = layers.MultiHeadAttention(num_heads=2, key_dim=2)(
        seq, seq, return_attention_scores=True)
    pooled = layers.GlobalAveragePooling1D()(att)
    head = layers.Dense(2)(layers.Concatenate()([pooled, state]))
    return keras.Model(tokens, [head, scores])


def timeseries_transformer():
    """keras-io examples/timeseries/timeseries_classification_transformer.py: one encoder
    block, its residuals written x + inputs."""
    inputs = keras.Input((10, 1))
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x = layers.MultiHeadAttention(key_dim=4, num_heads=2, dropout=0.1)(x, x)
    x = layers.Dropout(0.1)(x)
    res = x + inputs
    x = layers.LayerNormalization(epsilon=1e-6)(res)
    x = layers.Conv1D(filters=4, kernel_size=1, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.GlobalAveragePooling1D(data_format="channels_first")(x + res)
    x = layers.Dense(8, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


def addition_rnn():
    """keras-io examples/nlp/addition_rnn.py."""
    return keras.Sequential([
        keras.Input((7, 12)), layers.LSTM(8), layers.RepeatVector(4),
        layers.LSTM(8, return_sequences=True), layers.Dense(12, activation="softmax")])


def text_classification_from_scratch():
    """keras-io examples/nlp/text_classification_from_scratch.py (after vectorization)."""
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(100, 8)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(8, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(8, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid", name="predictions")(x))


def structured_data():
    """keras-io examples/structured_data/structured_data_classification_with_feature_space.py:
    a dict of named numeric inputs (after preprocessing)."""
    inputs = {n: keras.Input((1,), name=n) for n in ("age", "thalach", "oldpeak")}
    x = layers.concatenate(list(inputs.values()))
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def bidirectional_states():
    """A Bidirectional LSTM returning its states (keras-io seq2seq with a bidirectional
    encoder), and a split operation returning a list."""
    i = keras.Input((4, 6))
    out, fh, fc, bh, bc = layers.Bidirectional(layers.LSTM(2, return_state=True))(i)
    first, _ = keras.ops.split(i[:, -1], 2, axis=-1)
    return keras.Model(i, layers.Concatenate()([out, fh, bc, first]))


# ---- Keras's own tests (keras/src/models/functional_test.py) ---------------------

def dict_inputs_other_keys():
    """Dict inputs keyed otherwise than the Input names (the keys are what callers pass);
    Keras warns about it, for the original and the rebuilt model alike."""
    x, y = keras.Input((4,)), keras.Input((4,))
    return keras.Model({"x": x, "y": y}, layers.Dense(2)(layers.Add()([x, y])))


def nested_inputs_and_outputs():
    """Nested dicts in, a dict holding a tuple out."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    s = layers.Add()([a, b])
    y1, y2 = layers.Dense(2)(s), layers.Dense(3)(s)
    return keras.Model({"a": a, "more": {"b": b}}, {"sum": s, "pair": (y1, y2)})


def nested_model_taking_a_dict():
    """A model with dict inputs used as a layer, called with a dict, and in inference mode."""
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    inner = keras.Model({"a": a, "b": b}, layers.Dropout(0.5)(layers.Add()([a, b])), name="inner")
    x, y = keras.Input((3,), name="x"), keras.Input((3,), name="y")
    return keras.Model([x, y], inner({"a": x, "b": y}, training=False))


_KEYS_WARNING = pytest.mark.filterwarnings("ignore:When providing `inputs` as a dict")

CASES = {
    "lstm_seq2seq": (lstm_seq2seq, lambda: [random_array((2, 5, 7)), random_array((2, 4, 9), 1)]),
    "dcgan_generator": (dcgan_generator, lambda: random_array((2, 16))),
    "dcgan_discriminator": (dcgan_discriminator, lambda: random_array((2, 16, 16, 3))),
    "actor_critic": (actor_critic, lambda: random_array((2, 4))),
    "deepspeech2": (deepspeech2, lambda: random_array((2, 12, 16))),
    "conv_lstm": (conv_lstm, lambda: random_array((2, 3, 8, 8, 1))),
    "cnn_3d": (cnn_3d, lambda: random_array((2, 16, 16, 8, 1))),
    "transformer_block": (transformer_block,
                          lambda: np.arange(20, dtype="int32").reshape(2, 10)),
    "bidirectional_lstm_imdb": (bidirectional_lstm_imdb,
                                lambda: np.array([[1, 5, 7], [2, 0, 3]], dtype="int32")),
    "ticket_classifier": (ticket_classifier, lambda: [
        np.array([[1, 2, 3]], "float32"), np.array([[4, 5]], "float32"), random_array((1, 6))]),
    "toy_resnet": (toy_resnet, lambda: random_array((2, 16, 16, 3))),
    "autoencoder_of_models": (autoencoder_of_models, lambda: random_array((2, 8, 8, 1))),
    "ensemble": (ensemble, lambda: random_array((2, 8))),
    "siamese": (siamese, lambda: [random_array((2, 8, 8, 3), n) for n in range(3)]),
    "video_classifier": (video_classifier, lambda: random_array((2, 5, 8, 8, 3))),
    "gru_encoder_state": (gru_encoder_state, lambda: random_array((2, 6, 4))),
    "timeseries_transformer": (timeseries_transformer, lambda: random_array((2, 10, 1))),
    "addition_rnn": (addition_rnn, lambda: random_array((2, 7, 12))),
    "text_classification_from_scratch": (text_classification_from_scratch,
                                         lambda: np.arange(60).reshape(2, 30)),
    "structured_data": (structured_data, lambda: {n: random_array((2, 1), k) for k, n in
                                                  enumerate(("age", "thalach", "oldpeak"))}),
    "bidirectional_states": (bidirectional_states, lambda: random_array((2, 4, 6))),
    "dict_inputs_other_keys": (dict_inputs_other_keys,
                               lambda: {"x": random_array((2, 4)), "y": random_array((2, 4), 1)}),
    "nested_model_taking_a_dict": (nested_model_taking_a_dict,
                                   lambda: [random_array((2, 3)), random_array((2, 3), 1)]),
    "nested_inputs_and_outputs": (nested_inputs_and_outputs,
                                  lambda: {"a": random_array((2, 4)),
                                           "more": {"b": random_array((2, 4), 1)}}),
}


@_KEYS_WARNING
@pytest.mark.parametrize("case", sorted(CASES))
def test_real_model_round_trips(case):
    keras.backend.clear_session()
    make, inputs = CASES[case]
    model = make()
    text, rebuilt = round_trip(model)
    same_outputs(model, rebuilt, inputs())
    assert dumps(export(rebuilt)) == text  # export is a fixed point


@_KEYS_WARNING
@pytest.mark.parametrize("case", ["lstm_seq2seq", "nested_inputs_and_outputs",
                                  "dict_inputs_other_keys", "video_classifier"])
def test_json_specs_round_trip_too(case):
    keras.backend.clear_session()
    make, inputs = CASES[case]
    model = make()
    _, rebuilt = round_trip(model, "json")
    same_outputs(model, rebuilt, inputs())


# ---- what each of these used to get wrong -----------------------------------------

def _rebuild(text: str):
    return build(validate_document(parse_text(text, "toml")))


def test_output_zero_of_a_layer_with_states_keeps_its_index():
    inp = keras.Input((5, 3))
    seq, h, c = layers.LSTM(8, return_sequences=True, return_state=True)(inp)
    model = keras.Model(inp, layers.Dense(2)(seq))
    text = dumps(export(model))
    assert 'inputs = ["lstm:0"]' in text
    assert _rebuild(text).output_shape == (None, 5, 2)


def test_layers_wired_by_keyword_keep_keras_layer_order():
    model = lstm_seq2seq()
    rebuilt = _rebuild(dumps(export(model)))
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]
    assert [type(l).__name__ for l in rebuilt.layers] == [
        "InputLayer", "InputLayer", "LSTM", "LSTM", "Dense"]


@_KEYS_WARNING
def test_dict_input_keys_are_kept():
    keras.backend.clear_session()  # the default names below are counted per process
    model = dict_inputs_other_keys()
    text = dumps(export(model))
    assert 'inputs = { x = "input_layer", y = "input_layer_1" }' in text
    rebuilt = _rebuild(text)
    x = {"x": random_array((1, 4)), "y": random_array((1, 4), 1)}
    assert rebuilt(x).shape == (1, 2)


def test_a_nested_model_called_with_a_dict_takes_a_table():
    keras.backend.clear_session()
    text = dumps(export(nested_model_taking_a_dict()))
    assert 'inputs = { a = "x", b = "y" }\ncall = { training = false }' in text


def test_nested_structures_are_written_as_nested_tables():
    keras.backend.clear_session()
    text = dumps(export(nested_inputs_and_outputs()))
    assert 'inputs = { a = "a", more = { b = "b" } }' in text
    assert 'outputs = { sum = "add", pair = ["dense", "dense_1"] }' in text


def test_a_list_holding_a_list_of_outputs_stays_nested():
    x = keras.Input((3,), name="x")
    model = keras.Model(x, [[layers.Dense(2, name="d2")(x), layers.Dense(1, name="d1")(x)]])
    text, rebuilt = round_trip(model)
    assert 'outputs = [["d2", "d1"]]' in text
    same_outputs(model, rebuilt, random_array((2, 3)))


def test_slicing_is_written_as_a_get_item_key():
    i = keras.Input((4, 3))
    x = layers.Dense(2)(i[:, :2])
    y = layers.Dense(2)(i[..., 0][:, None])
    model = keras.Model(i, [x, y, i[:, 1:3:2, -1]])
    text, rebuilt = round_trip(model)
    assert 'key = [":", ":2"]' in text and 'key = ["...", 0]' in text
    assert 'key = [":", "None"]' in text and 'key = [":", "1:3:2", -1]' in text
    same_outputs(model, rebuilt, random_array((2, 4, 3)))


def test_a_saved_recurrent_model_exports_minimal(tmp_path):
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                              layers.GRU(4, return_sequences=True), layers.SimpleRNN(3),
                              layers.RepeatVector(2), layers.Bidirectional(layers.LSTM(2))])
    model.save(tmp_path / "rnn.keras")
    text = dumps(export_file(tmp_path / "rnn.keras"))
    assert "initializer" not in text and "backward_layer" not in text
    assert text == dumps(export(model))


class _NoNameInConfig(keras.layers.Layer):
    """A custom layer whose get_config() leaves out the base class's keys."""

    def call(self, x):
        return x * 2.0

    def get_config(self):
        return {"factor": 2.0}


def test_a_custom_layer_of_a_keras_io_model_is_refused_in_one_line():
    """keras-io examples/generative/vae.py: the encoder's Sampling layer is Python code."""
    class Sampling(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + keras.ops.exp(0.5 * z_log_var)

    encoder_inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    z = Sampling(name="sampling")([z_mean, z_log_var])
    with pytest.raises(SpecError) as info:
        export(keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder"))
    assert [str(p) for p in info.value.problems] == [
        "<spec>: layers[4]: layer 'sampling' is the class 'Sampling', which is not registered: "
        "register it with keras.saving.register_keras_serializable and pass its module with "
        "--plugin MODULE"]


def test_an_unknown_custom_layer_is_named():
    i = keras.Input((3,), name="x")
    model = keras.Model(i, _NoNameInConfig(name="doubler")(i))
    with pytest.raises(SpecError) as info:
        export(model)
    assert [str(p) for p in info.value.problems] == [
        "<spec>: layers[0]: layer 'doubler' is the class '_NoNameInConfig', which is not "
        "registered: register it with keras.saving.register_keras_serializable and pass its "
        "module with --plugin MODULE"]


def test_an_index_on_a_one_output_layer_is_a_validation_error(tmp_path, cli):
    path = tmp_path / "d.toml"
    path.write_text('[model]\noutputs = ["lstm:3", "x:0"]\n\n'
                    '[[inputs]]\nname = "x"\nshape = [4]\n\n'
                    '[[layers]]\ntype = "Dense"\nunits = 3\n\n'
                    '[[layers]]\ntype = "Dense"\nunits = 2\ninputs = ["dense:0"]\n\n'
                    '[[layers]]\ntype = "LSTM"\nunits = 2\nreturn_state = true\n')
    result = cli("validate", path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:2:12: model.outputs[0]: layer 'lstm' has 3 outputs: 'lstm:0' to 'lstm:2'",
        f"{path}:2:22: model.outputs[1]: input 'x' is one tensor: write 'x', not 'x:0'",
        f"{path}:15:11: layers[1].inputs[0]: layer 'dense' has one output: write 'dense', "
        "not 'dense:0'",
        "3 problems found",
    ]


def test_get_item_needs_its_key(tmp_path, cli):
    path = tmp_path / "s.toml"
    path.write_text('[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "ops.GetItem"\n\n'
                    '[[layers]]\ntype = "ops.Add"\ninputs = ["get_item", 1.0]\nkey = [0]\n')
    result = cli("validate", path)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("layers[0]: ops.GetItem needs 'key', the index: x[:, :2] is "
                             '[":", ":2"]'), lines
    assert "layers[1]: 'key' is the index of ops.GetItem and goes only with it" in lines[1]


def test_export_reads_the_file_without_tensorflow(tmp_path):
    """A fresh process: nested models, initial_state and MultiHeadAttention (calls of
    several tensors, named by their call arguments) export without importing Keras."""
    keras.backend.clear_session()
    path = tmp_path / "many.keras"
    keras.Model(*_many_tensor_calls()).save(path)
    code = ("import runpy, sys\n"
            f"sys.argv = ['specc', 'export', {str(path)!r}]\n"
            "try:\n    runpy.run_module('specc', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert done.stderr == ""
    assert 'inputs = { sequences = "input_layer_1", initial_state = ["lstm:1", "lstm:2"] }' \
        in done.stdout
    assert 'inputs = { query = "q", value = "v" }' in done.stdout


def _many_tensor_calls():
    encoder_inputs, decoder_inputs = keras.Input((None, 3)), keras.Input((None, 3))
    _, h, c = layers.LSTM(4, return_state=True)(encoder_inputs)
    decoded = layers.LSTM(4, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    q, v = keras.Input((2, 4), name="q"), keras.Input((3, 4), name="v")
    attended = layers.MultiHeadAttention(num_heads=1, key_dim=2)(q, v)
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(2)(inner_in), name="inner")
    return [encoder_inputs, decoder_inputs, q, v], [inner(decoded), attended]


@pytest.mark.parametrize("case", ["lstm_seq2seq", "siamese", "nested_inputs_and_outputs"])
def test_cli_export_of_a_saved_model_builds_back(case, tmp_path, cli):
    keras.backend.clear_session()
    make, _ = CASES[case]
    make().save(tmp_path / "m.keras")
    result = cli("export", tmp_path / "m.keras", "-o", tmp_path / "m.toml")
    assert result.exit_code == 0, result.output
    result = cli("build", tmp_path / "m.toml", "-o", tmp_path / "again.keras")
    assert result.exit_code == 0, result.output


def test_a_tensor_index_is_refused_in_one_line(tmp_path, cli):
    """A config that slices with something specc has no words for (here a list of indices)."""
    i = keras.Input((4,), name="x")
    model = keras.Model(i, layers.Dense(2)(i[:, :2]))
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    config["config"]["layers"][1]["inbound_nodes"][0]["args"][1] = [[0, 1]]
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    result = cli("export", path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: layers[0]: layer 'get_item' indexes a tensor with a list, which specc cannot "
        "write (integers, slices, None and ... only)", "1 problem found"]


def test_output_counts_of_layers_with_states():
    """The output counts docs/spec-format.md gives, against what Keras returns."""
    keras.backend.clear_session()
    seq = keras.Input((5, 3), name="seq")
    bi = layers.Bidirectional(layers.LSTM(2, return_state=True), merge_mode=None, name="bi")(seq)
    bi_gru = layers.Bidirectional(layers.GRU(2, return_state=True), name="bi_gru")(seq)
    gru = layers.GRU(2, return_state=True, name="gru")(seq)
    frames = keras.Input((2, 4, 4, 1), name="frames")
    conv, h, c = layers.ConvLSTM2D(2, 3, return_state=True, name="conv_lstm")(frames)
    assert (len(bi), len(bi_gru), len(gru)) == (6, 3, 2)
    model = keras.Model([seq, frames], [*bi, *bi_gru, *gru, layers.Flatten(name="flat")(conv)])
    text, rebuilt = round_trip(model)
    assert 'outputs = ["bi:0", "bi:1", "bi:2", "bi:3", "bi:4", "bi:5", "bi_gru:0", "bi_gru:1", ' \
        '"bi_gru:2", "gru:0", "gru:1", "flat"]' in text
    assert 'inputs = ["conv_lstm:0"]' in text
    same_outputs(model, rebuilt, [random_array((2, 5, 3)), random_array((2, 2, 4, 4, 1))])
    with pytest.raises(SpecError, match="layer 'bi' has 6 outputs: 'bi:0' to 'bi:5'"):
        _rebuild(text.replace('"bi:5"', '"bi:6"'))


def test_a_layer_named_without_index_gives_all_its_outputs():
    spec = _rebuild('[[inputs]]\nname = "x"\nshape = [5, 3]\n\n'
                    '[[layers]]\ntype = "LSTM"\nunits = 4\nreturn_state = true\n\n'
                    '[[layers]]\ntype = "Concatenate"\ninputs = ["lstm"]\n\n'
                    '[[layers]]\ntype = "ops.GetItem"\ninputs = ["x"]\nkey = [":", -1, ":"]\n\n'
                    '[model]\noutputs = ["concatenate", "get_item"]\n')
    x = random_array((2, 5, 3))
    joined, last = spec(x)
    assert joined.shape == (2, 12)
    np.testing.assert_array_equal(np.asarray(last), x[:, -1, :])


@_KEYS_WARNING
@pytest.mark.parametrize("case", sorted(CASES))
def test_exported_specs_summarize_and_draw(case):
    """specc summary and specc graph read every exported spec; where the summary knows
    every layer, its parameter count is Keras's."""
    from specc.reporting.drawing import dot_source
    from specc.reporting.shapes import summarize

    keras.backend.clear_session()
    model = CASES[case][0]()
    spec = export(model)
    summary = summarize(spec)
    assert dot_source(spec).startswith("digraph")
    if not summary.partial:
        assert summary.total == model.count_params()
