"""Models written with ``tf.keras``: its legacy layer classes and TensorFlow's initializers.

In Keras 3, ``tf.keras.layers.AlphaDropout``, ``RandomHeight``, ``RandomWidth``
and ``ThresholdedReLU`` are not ``keras.layers``'s classes but Keras 2 forms
kept in ``keras.src.legacy.layers`` (saved as module ``keras._legacy.layers``),
and ``tf.random_uniform_initializer`` is TensorFlow's own class. Each model
below is saved as a user saves it, exported from the file and built again.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
import json

import numpy as np
import pytest
import tensorflow as tf

import keras
from specc.building.build import build
from specc.writing.dump import dumps
from specc.exporting.export import export_file
from specc.exporting.weights import copy_weights_from_file
from specc.reading.load import parse_text
from specc.checking.validate import validate_document


def self_normalizing_mlp():
    """Keras's reuters_mlp_relu_vs_selu example: SELU, lecun_normal, AlphaDropout."""
    return tf.keras.Sequential([
        tf.keras.Input((100,)),
        tf.keras.layers.Dense(16, activation="selu", kernel_initializer="lecun_normal",
                              bias_initializer=tf.random_uniform_initializer(-0.1, 0.1)),
        tf.keras.layers.AlphaDropout(0.1),
        tf.keras.layers.Dense(16, activation="selu", kernel_initializer="lecun_normal",
                              bias_initializer=tf.random_normal_initializer(0.0, 0.02)),
        tf.keras.layers.AlphaDropout(0.1, seed=3),
        tf.keras.layers.Dense(46, activation="softmax",
                              kernel_initializer=tf.constant_initializer(0.01),
                              bias_initializer=tf.zeros_initializer()),
    ])


def augmenting_cnn():
    """An image model in the style of keras-io's augmentation examples, tf.keras's classes."""
    inputs = tf.keras.Input((32, 32, 3))
    x = tf.keras.layers.RandomWidth(0.2, seed=1)(inputs)
    x = tf.keras.layers.RandomHeight((-0.1, 0.2), interpolation="nearest")(x)
    x = tf.keras.layers.Resizing(32, 32)(x)
    x = tf.keras.layers.Conv2D(8, 3, kernel_initializer=tf.random_uniform_initializer(-0.05, 0.05))(x)
    x = tf.keras.layers.ThresholdedReLU(theta=0.1)(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(10, bias_initializer=tf.ones_initializer())(x)
    return tf.keras.Model(inputs, outputs)


MODELS = {"self_normalizing_mlp": (self_normalizing_mlp, (4, 100)),
          "augmenting_cnn": (augmenting_cnn, (2, 32, 32, 3))}
# What a spec's type builds: Keras 3's class where keras.layers has one, else tf.keras's.
BUILT_AS = {"AlphaDropout": keras.layers.AlphaDropout}


def _initializer(value) -> dict:
    """An initializer config with TensorFlow's and Keras's classes told apart only by name."""
    return {"class_name": value["class_name"], "config": value["config"]}


def _comparable(layer) -> dict:
    """The config as saved (tuples become lists), without the name; noise_shape is only
    in Keras 3's AlphaDropout config (tf.keras's keeps it as an attribute)."""
    config = json.loads(json.dumps(layer.get_config()))
    config = {k: v for k, v in config.items() if k not in ("name", "noise_shape")}
    return {k: _initializer(v) if k.endswith("_initializer") and isinstance(v, dict) else v
            for k, v in config.items()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tf_keras_model_exports_and_builds_back(name, tmp_path):
    make, shape = MODELS[name]
    model = make()
    path = tmp_path / "model.keras"
    model.save(path)
    modules = {l["module"] for l in json.loads(zipfile.ZipFile(path).read("config.json"))
               ["config"]["layers"]}
    assert "keras._legacy.layers" in modules  # the file really holds tf.keras's legacy classes

    text = dumps(export_file(path))
    rebuilt = build(validate_document(parse_text(text, "toml")))
    copy_weights_from_file(rebuilt, path)

    assert [type(l) for l in rebuilt.layers] == [
        BUILT_AS.get(type(l).__name__, type(l)) for l in model.layers]
    for original, copy in zip(model.layers, rebuilt.layers):
        assert _comparable(copy) == _comparable(original), original.name
    assert rebuilt.count_params() == model.count_params()
    x = np.random.default_rng(0).random(shape, dtype="float32")
    np.testing.assert_allclose(rebuilt(x, training=False), model(x, training=False), atol=1e-6)


def test_tf_initializers_are_written_as_the_keras_classes(tmp_path):
    model = self_normalizing_mlp()
    model.save(tmp_path / "model.keras")
    spec = export_file(tmp_path / "model.keras")
    layers = spec.model_dump(exclude_unset=True, by_alias=True)["layers"]
    assert layers[0]["bias_initializer"] == {"type": "RandomUniform", "minval": -0.1, "maxval": 0.1}
    assert layers[2]["bias_initializer"] == {"type": "RandomNormal", "stddev": 0.02}
    assert layers[4]["kernel_initializer"] == {"type": "Constant", "value": 0.01}
    assert layers[4]["bias_initializer"] == "zeros"


def test_cli_exports_and_builds_a_tf_keras_model(tmp_path):
    augmenting_cnn().save(tmp_path / "model.keras")
    spec = tmp_path / "model.toml"
    for args in (["export", tmp_path / "model.keras", "-o", spec],
                 ["build", spec, "-o", tmp_path / "rebuilt.keras"]):
        done = subprocess.run([sys.executable, "-m", "specc", *map(str, args)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    text = spec.read_text()
    assert 'type = "RandomWidth"' in text and 'type = "ThresholdedReLU"' in text
    rebuilt = keras.models.load_model(tmp_path / "rebuilt.keras")
    assert [type(l).__module__ for l in rebuilt.layers[1:3]] == ["keras.src.legacy.layers"] * 2


def test_every_tf_keras_layers_class_is_in_the_registry():
    from keras._tf_keras.keras import layers as tf_layers

    from specc.vocab import registry

    own = {name: cls for name, cls in vars(tf_layers).items()
           if isinstance(cls, type) and cls is not getattr(keras.layers, name, None)}
    assert sorted(own) == ["AlphaDropout", "RandomHeight", "RandomWidth", "ThresholdedReLU"]
    for name, cls in own.items():
        saved = keras.saving.serialize_keras_object(cls(**({"theta": 1.0} if name == "ThresholdedReLU"
                                                            else {"factor": 0.1} if "Random" in name
                                                            else {"rate": 0.1})))
        assert registry.LAYERS[name]["tf_keras_module"] == saved["module"] == "keras._legacy.layers"
