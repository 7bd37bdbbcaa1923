"""Write Keras 2 models with tf-keras: NAME.h5, NAME.json, NAME.x*.npy, NAME.y*.npy, NAME.layers.json.

Run in its own process (tests/test_keras2.py does): tf-keras is Keras 2 and
must not meet Keras 3's global state.  python make_models.py OUT_DIR [NAME...]
"""

import json
import os
import sys

import numpy as np
import tf_keras as k
from tf_keras import layers as L

k.utils.set_random_seed(7)
reg = k.regularizers


def mlp():
    # Keras 2's usual form: the input shape on the first layer.
    model = k.Sequential([
        L.Dense(32, input_shape=(20,), kernel_regularizer=reg.l1_l2(l1=1e-5, l2=1e-4),
                kernel_constraint=k.constraints.max_norm(3.0)),
        L.LeakyReLU(alpha=0.2),
        L.BatchNormalization(),
        L.Dropout(0.3),
        L.Dense(16, activation="relu", kernel_regularizer=reg.l2(0.01),
                bias_regularizer=reg.l1(0.001), kernel_initializer="he_normal"),
        L.Dense(3, activation="softmax"),
    ], name="mlp")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=3e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def cnn():
    return k.Sequential([
        L.Conv2D(8, 3, padding="same", activation="relu", input_shape=(16, 16, 1)),
        L.BatchNormalization(),
        L.MaxPooling2D(2),
        L.Conv2D(16, (3, 3), activation="relu", kernel_initializer="he_uniform"),
        L.SpatialDropout2D(0.2),
        L.GlobalAveragePooling2D(),
        L.Dense(10, activation="softmax"),
    ], name="cnn")


def text():
    return k.Sequential([
        L.Embedding(100, 16, input_length=12, mask_zero=True),
        L.LSTM(16, return_sequences=True, dropout=0.1, recurrent_dropout=0.1),
        L.GRU(8),
        L.Dense(1, activation="sigmoid"),
    ], name="text")


def separable_residual():
    inputs = k.Input((16, 16, 3), name="image")
    x = L.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    previous = x
    for filters in (16, 32):
        x = L.Activation("relu")(x)
        x = L.SeparableConv2D(filters, 3, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = L.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = L.add([x, residual])
        previous = x
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(4, activation="softmax")(x)
    return k.Model(inputs, outputs, name="separable_residual")


def multi_input():
    title = k.Input((10,), name="title", dtype="int32")
    body = k.Input((20,), name="body", dtype="int32")
    tags = k.Input((5,), name="tags")
    embed = L.Embedding(50, 8)
    t = L.GlobalAveragePooling1D()(embed(title))
    b = L.GlobalAveragePooling1D()(embed(body))
    x = L.concatenate([t, b, tags])
    priority = L.Dense(1, activation="sigmoid", name="priority")(x)
    department = L.Dense(3, activation="softmax", name="department")(x)
    model = k.Model([title, body, tags], [priority, department], name="multi_input")
    model.compile(optimizer="rmsprop",
                  loss={"priority": "binary_crossentropy",
                        "department": "sparse_categorical_crossentropy"},
                  loss_weights={"priority": 1.0, "department": 0.2}, metrics=["accuracy"])
    return model


def bidirectional():
    return k.Sequential([
        L.Embedding(60, 8, input_length=10),
        L.Bidirectional(L.LSTM(8, return_sequences=True)),
        L.Bidirectional(L.GRU(4), merge_mode="sum"),
        L.Dense(2, activation="softmax"),
    ], name="bidirectional")


def time_distributed():
    inputs = k.Input((4, 8, 8, 1))
    x = L.TimeDistributed(L.Conv2D(4, 3, activation="relu"))(inputs)
    x = L.TimeDistributed(L.Flatten())(x)
    x = L.TimeDistributed(L.Dense(8, kernel_regularizer=reg.l2(1e-3)))(x)
    x = L.SimpleRNN(6)(x)
    return k.Model(inputs, L.Dense(2)(x), name="time_distributed")


def mobilenet():
    return k.applications.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None,
                                    classes=5)


def nested():
    # A Sequential shared by two inputs and a functional head: Keras 2 numbers the calls
    # of a nested model from 1.
    encoder = k.Sequential([L.Dense(8, activation="relu", input_shape=(6,)),
                            L.BatchNormalization(), L.Dense(4)], name="encoder")
    head_in = k.Input((4,))
    head = k.Model(head_in, L.Dense(3)(head_in), name="head")
    a, b = k.Input((6,), name="a"), k.Input((6,), name="b")
    x = L.Dense(4)(L.concatenate([encoder(a), encoder(b)]))
    return k.Model([a, b], head(x), name="nested")


def transformer():
    # keras-io's text classifier with a transformer, as its tf.keras version wrote it: the
    # user's classes, registered (package "demo"), are written by their registered names.
    from keras2_demo_layers import TokenAndPositionEmbedding, TransformerBlock

    inputs = L.Input(shape=(8,), dtype="int32")
    x = TokenAndPositionEmbedding(8, 50, 8)(inputs)
    x = TransformerBlock(8, 2, 8)(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    outputs = L.Dense(2, activation="softmax")(x)
    return k.Model(inputs=inputs, outputs=outputs)


def vae_encoder():
    # keras-io's VAE encoder, whose Sampling class the script never registers.
    from keras2_demo_layers import Sampling

    inputs = k.Input(shape=(8,))
    z_mean, z_log_var = L.Dense(2, name="z_mean")(inputs), L.Dense(2, name="z_log_var")(inputs)
    return k.Model(inputs, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])], name="encoder")


MODELS = {f.__name__: f for f in (mlp, cnn, text, separable_residual, multi_input,
                                  bidirectional, time_distributed, mobilenet, nested,
                                  transformer, vae_encoder)}


def sample(model, rng):
    arrays = []
    tokens = isinstance(model.layers[0], L.Embedding)  # a Sequential's input is float32
    for tensor in model.inputs:
        shape = (3, *tensor.shape[1:])
        if tensor.dtype.is_integer or tokens:
            arrays.append(rng.integers(0, 40, shape).astype(tensor.dtype.name))
        else:
            arrays.append(rng.standard_normal(shape).astype("float32"))
    return arrays


def main(out, names):
    rng = np.random.default_rng(0)
    for name in names:
        model = MODELS[name]()
        # Weights away from their initial values, so that copying them is tested.
        for layer in model.layers:
            layer.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype)
                               for w in layer.get_weights()])
        x = sample(model, rng)
        y = model.predict(x, verbose=0)
        y = y if isinstance(y, list) else [y]
        model.save(os.path.join(out, f"{name}.h5"))
        with open(os.path.join(out, f"{name}.json"), "w") as handle:
            handle.write(model.to_json())
        for i, a in enumerate(x):
            np.save(os.path.join(out, f"{name}.x{i}.npy"), a)
        for i, a in enumerate(y):
            np.save(os.path.join(out, f"{name}.y{i}.npy"), a)
        with open(os.path.join(out, f"{name}.layers.json"), "w") as handle:
            json.dump([[l.name, type(l).__name__, l.count_params()] for l in model.layers],
                      handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or list(MODELS))
