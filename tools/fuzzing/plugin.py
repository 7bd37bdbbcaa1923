"""The fuzzer's plugin: a small module of registered Layer classes (package "fuzz"),
written once into a scratch folder of its own and given with ``--plugin`` in some
command-line draws, with specs and model configs that name its classes, mutated.

So the plugin input path is fuzzed: registration (vocab/plugins.py reading the
classes), checking a plugin class's arguments, building nothing (too slow for a
fuzzer), and export of its layers' configs. After each such input the registry
forgets the classes again (``forget``), so that the other draws, and their
replays in a fresh process, see specc as a user without the plugin does.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

MODULE = "specc_fuzz_layers"

SOURCE = '''\
import keras


@keras.saving.register_keras_serializable(package="fuzz")
class Block(keras.layers.Layer):
    def __init__(self, units: int, rate=0.1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate, self.activation = units, rate, activation
        self.dense = keras.layers.Dense(units, activation=activation)

    def call(self, x, training=None):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "rate": self.rate,
                "activation": self.activation}


@keras.saving.register_keras_serializable(package="fuzz")
class Scale(keras.layers.Layer):
    def __init__(self, factor: float = 2.0, kernel_initializer="ones", kernel_regularizer=None,
                 axes: list[int] = (1,), **kwargs):
        super().__init__(**kwargs)
        self.factor, self.axes = factor, list(axes)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "axes": self.axes,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@keras.saving.register_keras_serializable(package="fuzz")
class Wrap(keras.layers.Layer):
    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, x):
        return self.layer(x)


@keras.saving.register_keras_serializable(package="fuzz")
class Fixed(keras.layers.Layer):
    def __init__(self, sizes: list[int] = (1, 2), label: str = "x", options=None):
        super().__init__()

    def call(self, x, mask=None):
        return x
'''

# Specs that name the classes (seeds of the plugin draws, mutated there).
SPECS = [
    ('toml', '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "fuzz>Block"\nunits = 8\n'
             'rate = 0.2\n\n[[layers]]\ntype = "fuzz>Scale"\nfactor = 0.5\n'
             'kernel_initializer = "zeros"\nkernel_regularizer = { l2 = 0.01 }\naxes = [1, 2]\n\n'
             '[[layers]]\ntype = "fuzz>Wrap"\nlayer = { type = "Dense", units = 3 }\n\n'
             '[[layers]]\ntype = "fuzz>Fixed"\nsizes = [3]\nlabel = "y"\n'),
    ('toml', '[defaults]\n"fuzz>Block" = { rate = 0.3 }\nunits = 4\n\n[[inputs]]\nname = "x"\n'
             'shape = [4]\n\n[[layers]]\ntype = "fuzz>Block"\nrepeat = 2\n\n[[layers]]\n'
             'type = "fuzz>Block"\nname = "b"\nunits = 2\ninputs = ["x"]\n\n[[layers]]\n'
             'type = "Concatenate"\ninputs = ["block_1", "b"]\n\n[model]\noutputs = ["concatenate"]\n'),
    ('json', json.dumps({"blocks": {"pair": {"params": {"n": "int"}, "layers": [
        {"type": "fuzz>Block", "units": "{n}"}, {"type": "fuzz>Scale"}]}},
        "inputs": [{"shape": [4]}], "layers": [{"block": "pair", "n": 3},
                                               {"type": "TimeDistributed",
                                                "layer": {"type": "fuzz>Scale"}}]})),
]


def _object(module, cls, config, registered=None):
    return {"module": module, "class_name": cls, "config": config, "registered_name": registered}


_POLICY = _object("keras", "DTypePolicy", {"name": "float32"})
# A model config as Keras saves one with these classes (the seed of the export draws).
CONFIG = _object("keras", "Sequential", {"name": "s", "layers": [
    _object("keras.layers", "InputLayer", {"batch_shape": [None, 4], "dtype": "float32",
                                           "name": "x"}),
    _object(MODULE, "Block", {"name": "block", "trainable": True, "dtype": _POLICY, "units": 8,
                              "rate": 0.1, "activation": "tanh"}, "fuzz>Block"),
    _object(MODULE, "Scale", {"name": "scale", "trainable": True, "dtype": _POLICY,
                              "factor": 0.5, "axes": [1],
                              "kernel_initializer": _object("keras.initializers", "Constant",
                                                            {"value": 0.3}),
                              "kernel_regularizer": _object("keras.regularizers", "L2",
                                                            {"l2": 0.02})}, "fuzz>Scale"),
    _object(MODULE, "Wrap", {"name": "wrap", "trainable": True, "dtype": _POLICY, "layer":
                             _object("keras.layers", "Dense", {"name": "d", "units": 2})},
            "fuzz>Wrap"),
    _object(MODULE, "Fixed", {"name": "fixed", "trainable": True, "dtype": _POLICY},
            "fuzz>Fixed"),
]})

_FOLDER: list[Path] = []


def ready(import_now: bool = False) -> None:
    """The module, written once into a folder of its own on sys.path (``import_now``:
    imported, and with it Keras, before the fuzzing starts)."""
    if not _FOLDER:
        folder = Path(tempfile.mkdtemp(prefix="specc-fuzz-plugin-"))
        (folder / f"{MODULE}.py").write_text(SOURCE)
        sys.path.insert(0, str(folder))
        _FOLDER.append(folder)
    if import_now:
        from specc.building.startup import import_keras

        import_keras()  # as specc imports it: without TensorFlow's start-up lines
        __import__(MODULE)


def forget() -> None:
    """Take the plugin's classes out of specc's registry again (Keras keeps them)."""
    from specc.vocab import registry

    names = [name for name, info in registry.LAYERS.items() if info.get("plugin") == MODULE]
    if names:
        registry.remove_layers(names)
