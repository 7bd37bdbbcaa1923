"""What only Keras knows of its classes (arguments, defaults' configs, call() arguments,
objects, operations), read from the installed Keras so that validation never imports it.

tools/gen_catalog.py writes the committed catalogs with it; specc/vocab/catalogs.py
runs ``python -m specc.building.catalog OUT.json`` once for a Keras newer than those.
"""

from __future__ import annotations

import copy
import inspect
import json
import sys

from specc.vocab.introspect import call_args, call_options

# Classes keras.layers exports that a spec cannot describe, and why.
REFUSED = {
    "Lambda": "runs an arbitrary Python function",
    "Layer": "the abstract base class: a subclass is Python code",
    "Wrapper": "abstract base class of Bidirectional and TimeDistributed",
    "InputLayer": "written as [[inputs]] in a spec",
    "InputSpec": "not a layer: a shape contract used inside layers",
    "FlaxLayer": "wraps JAX/Flax code from another framework",
    "JaxLayer": "wraps a JAX function",
    "TorchModuleWrapper": "wraps a PyTorch module",
    "TFSMLayer": "loads a TensorFlow SavedModel from a file path",
    "RNN": "takes a Python cell object; use LSTM, GRU or SimpleRNN",
    "LSTMCell": "a cell for the generic RNN layer, not a layer of its own",
    "GRUCell": "a cell for the generic RNN layer, not a layer of its own",
    "SimpleRNNCell": "a cell for the generic RNN layer, not a layer of its own",
    "StackedRNNCells": "a list of cells for the generic RNN layer",
    "Pipeline": "a container of preprocessing layers; list them as layers instead",
    "TextVectorization": "its vocabulary is state learned by adapt() or read from a file",
    "StringLookup": "its vocabulary is state learned by adapt() or read from a file",
    "IntegerLookup": "its vocabulary is state learned by adapt() or read from a file",
    # Keras 3.15: compute_output_spec returns the input tensor itself, so a model
    # drops the layer silently or reports a cycle (tests/test_layers.py notices a fix).
    "Equalization": "Keras cannot place it in a model: its symbolic output is its own input",
}

APPLICATION_LAYERS = [
    ("keras.src.applications.convnext", "LayerScale"),
    ("keras.src.applications.inception_resnet_v2", "CustomScaleLayer"),
]

# Placeholder values for required arguments, used only to instantiate each
# class once and read the config that its defaults produce.
SAMPLES = {
    "units": 2, "filters": 2, "kernel_size": 3, "rate": 0.5, "pool_size": 2,
    "axes": 1, "equation": "ab,bc->ac", "output_shape": 4, "input_dim": 10,
    "output_dim": 4, "activation": "relu", "num_heads": 2, "key_dim": 2,
    "dims": [1], "n": 2, "scale": 1.0, "target_shape": [2], "height": 2,
    "width": 2, "stddev": 0.1, "output_size": 2, "factor": 0.1,
    "head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1,
    "num_bins": 4, "max_number": 2, "height_factor": 0.1, "width_factor": 0.1,
    "init_values": 1e-6, "projection_dim": 4, "theta": 1.0,
    # metrics and learning-rate schedules
    "num_classes": 3, "target_class_ids": [0], "recall": 0.5, "precision": 0.5,
    "specificity": 0.5, "sensitivity": 0.5, "initial_learning_rate": 0.1,
    "decay_steps": 10, "decay_rate": 0.9, "first_decay_steps": 10,
    "boundaries": [10], "values": [0.1, 0.01],
}
BASE_ARGS = ("trainable", "dtype")


def _jsonable(value):
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value)
    except TypeError:
        return None
    return value


# Arguments that are optional in the signature but refused when left out.
NEEDED = {
    "CategoryEncoding": {"num_tokens": 4},
    "Discretization": {"num_bins": 4},
    # keras-hub's: the constructor iterates over it.
    "SAM3VisionEncoder": {"global_attn_indexes": [0]},
}
# Required arguments whose placeholder must differ for one class.
OVERRIDES = {"RandomPosterization": {"factor": 4}}


def _sample(name: str):
    if name == "layer":
        import keras

        return keras.layers.LSTM(2, return_sequences=True)
    return SAMPLES[name] if name in SAMPLES else HUB_SAMPLES[name]


def describe(cls) -> dict:
    """A layer class: its constructor's arguments and its call()'s (the tensors and the
    constant options)."""
    return {**_constructor(cls), "call": call_args(cls), "call_options": call_options(cls)}


def _constructor(cls) -> dict:
    """Arguments of one layer class: required flag, signature and config defaults."""
    params = [
        p for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    required = [p.name for p in params if p.default is p.empty]
    given = {name: _sample(name) for name in required}
    given.update(OVERRIDES.get(cls.__name__, {}))

    def make():
        # A fresh copy of each list: keras-hub's BoxMatcher extends the one it is given.
        kwargs = {k: copy.deepcopy(v) if isinstance(v, list) else v for k, v in given.items()}
        return cls(**kwargs, **copy.deepcopy(NEEDED.get(cls.__name__, {})))

    config = make().get_config()
    # A value drawn at random (RandomCrop's seed) is no default: a second instance differs.
    again = make().get_config()
    args: dict[str, dict] = {}
    for p in params:
        entry: dict = {"required": True} if p.default is p.empty else {
            "default": _jsonable(p.default)
        }
        if p.name in config and p.name not in required and config[p.name] == again.get(p.name):
            entry["config_default"] = _jsonable(config[p.name])
        args[p.name] = entry
    for name in BASE_ARGS:
        if name in config and name not in args:
            args[name] = {"default": None, "config_default": _jsonable(config[name])}
    # Keys some classes put in get_config() without taking them as arguments.
    extra = sorted(k for k in config if k not in args and k != "name")
    # The file is written with sorted keys, so the signature order is kept as a list.
    return {"module": cls.__module__, "args": args, "config_only": extra, "order": list(args)}


def _saved_module(instance) -> str:
    import keras

    return keras.saving.serialize_keras_object(instance)["module"]


def _tf_keras_legacy() -> dict[str, type]:
    """Classes tf.keras.layers exports that are not keras.layers's (Keras 3 keeps the
    Keras 2 forms of a few layers in keras.src.legacy.layers for tf.keras)."""
    import keras
    from keras._tf_keras.keras import layers as tf_layers

    return {name: obj for name, obj in sorted(vars(tf_layers).items())
            if isinstance(obj, type) and obj is not getattr(keras.layers, name, None)
            and obj.__module__.startswith("keras.src.legacy")}


def _tf_initializers(initializers: dict) -> dict[str, str]:
    """TensorFlow's own initializer classes (tf.random_uniform_initializer, ...) whose
    saved config holds only arguments of the Keras class of the same name: class -> module."""
    import keras
    import tensorflow as tf

    found = {}
    for name in sorted(dir(tf)):
        if not name.endswith("_initializer"):
            continue
        saved = keras.saving.serialize_keras_object(getattr(tf, name)())
        keras_args = initializers.get(saved["class_name"], {}).get("args", {})
        if saved["config"].keys() <= keras_args.keys():
            found[saved["class_name"]] = saved["module"]
    return found


def _objects(module, base) -> dict:
    """Classes of keras.initializers / keras.constraints with their defaults and names."""
    found: dict[str, dict] = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if not isinstance(obj, type) or obj is base or not issubclass(obj, base):
            continue
        entry = found.setdefault(obj.__name__, {"args": {}, "names": []})
        if name != obj.__name__:
            entry["names"].append(name)
        params = inspect.signature(obj.__init__).parameters.values()
        entry["args"] = {
            p.name: _jsonable(p.default) for p in params
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        entry["order"] = list(entry["args"])
    for entry in found.values():
        entry["names"].sort()
    return found


def _compile_classes(module, base, skip: set[str]) -> dict:
    """Loss, metric and schedule classes of a keras module, described like layers.

    ``default_name`` is the name an instance takes when given none (AUC: "auc").
    """
    from keras.src.utils.naming import to_snake_case

    found: dict[str, dict] = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if not isinstance(obj, type) or not issubclass(obj, base) or obj is base:
            continue
        if name != obj.__name__ or name in skip:
            continue  # an alias, or a class that takes a Python function
        entry = _constructor(obj)
        entry.pop("config_only")
        if entry["args"].get("name", {}).get("default") is None:
            entry["default_name"] = to_snake_case(name)
        found[name] = entry
    return found


# The names keras.losses.get and keras.metrics.get accept, less the base classes
# and the wrappers around a Python function.
NOT_NAMES = {"Loss", "LossFunctionWrapper", "Metric", "metric", "MeanMetricWrapper",
             "mean_metric_wrapper"}


def _names(objects: dict) -> list[str]:
    """The names compile() can make an object of by itself (IoU needs num_classes)."""
    def needs_args(obj) -> bool:
        if not isinstance(obj, type):
            return False
        params = list(inspect.signature(obj.__init__).parameters.values())[1:]
        return any(p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   for p in params)

    return sorted(n for n, obj in objects.items() if n not in NOT_NAMES and not needs_args(obj))


OP_MODULES = ("numpy", "math", "nn", "core", "linalg", "image")


def _ops() -> dict:
    """Keras 3 operation classes that appear as nodes when users write x + y or ops.*."""
    import importlib

    from keras.src.ops.operation import Operation

    found: dict[str, dict] = {}
    for short in OP_MODULES:
        module = importlib.import_module(f"keras.src.ops.{short}")
        for name, obj in sorted(vars(module).items()):
            if not (isinstance(obj, type) and issubclass(obj, Operation)) or obj is Operation:
                continue
            if obj.__module__ != module.__name__:
                continue
            params = inspect.signature(obj.__init__).parameters.values()
            args = {
                p.name: _jsonable(p.default) if p.default is not p.empty else "<required>"
                for p in params
                if p.name not in ("self", "name") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            }
            key = name if name not in found else f"{short}.{name}"
            found[key] = {"module": module.__name__, "class": name, "args": args}
    return found


def generate() -> dict:
    import keras

    classes: dict[str, type] = {}
    aliases: dict[str, list[str]] = {}
    for name in sorted(dir(keras.layers)):
        obj = getattr(keras.layers, name)
        if not isinstance(obj, type):
            continue
        canonical = obj.__name__
        if canonical != name and hasattr(keras.layers, canonical):
            aliases.setdefault(canonical, []).append(name)
        else:
            classes[name] = obj
    # Layers that keras.applications models contain without keras.layers exporting them.
    import importlib

    for module, name in APPLICATION_LAYERS:
        classes[name] = getattr(importlib.import_module(module), name)
    legacy = _tf_keras_legacy()
    for name, cls in legacy.items():
        classes.setdefault(name, cls)
    layers = {}
    for name, cls in classes.items():
        if name in REFUSED:
            continue
        # Default names (backward_lstm) count up per process; start each class afresh.
        keras.backend.clear_session(free_memory=False)
        layers[name] = describe(cls)
        if aliases.get(name):
            layers[name]["aliases"] = aliases[name]
        if name in legacy:
            # tf.keras's class of this name is saved under another module; export reads it
            # as this class when its arguments are a subset of this class's.
            old = describe(legacy[name])
            if not old["args"].keys() <= layers[name]["args"].keys():
                raise SystemExit(f"tf.keras.layers.{name} takes arguments keras.layers.{name} lacks")
            layers[name]["tf_keras_module"] = _saved_module(
                legacy[name](**{a: _sample(a) for a, i in old["args"].items() if "required" in i}))
    from keras.optimizers import schedules
    from keras.src.activations import ALL_OBJECTS_DICT as activations
    from keras.src.losses import ALL_OBJECTS_DICT as losses
    from keras.src.metrics import ALL_OBJECTS_DICT as metrics

    # Wrappers and bases take Python objects, not plain values.
    skip_optimizers = {"Optimizer", "LossScaleOptimizer", "MultiOptimizer"}
    optimizers = {
        name: entry for name, entry in
        _objects(keras.optimizers, keras.optimizers.Optimizer).items()
        if name not in skip_optimizers
    }

    initializers = _objects(keras.initializers, keras.initializers.Initializer)
    for name, module in _tf_initializers(initializers).items():
        initializers[name]["tf_module"] = module

    return {
        "keras_version": keras.__version__,
        "layers": layers,
        "refused": REFUSED,
        "activations": sorted(activations),
        # Names of one function under two names (swish is silu): Keras saves the second.
        "activation_aliases": {
            name: keras.activations.serialize(fn) for name, fn in sorted(activations.items())
            if keras.activations.serialize(fn) != name
        },
        "initializers": initializers,
        "constraints": _objects(keras.constraints, keras.constraints.Constraint),
        "optimizers": optimizers,
        "ops": _ops(),
        "losses": _names(losses),
        "metrics": _names(metrics),
        "loss_classes": _compile_classes(keras.losses, keras.losses.Loss, NOT_NAMES),
        "metric_classes": _compile_classes(keras.metrics, keras.metrics.Metric, NOT_NAMES),
        "schedules": _compile_classes(schedules, schedules.LearningRateSchedule, set()),
    }


# Placeholders for the required arguments of keras-hub's layers (after SAMPLES).
HUB_SAMPLES = {
    "intermediate_dim": 8, "num_heads": 2, "vocabulary_size": 10, "sequence_length": 4,
    "embedding_dim": 4, "bounding_box_format": "xyxy", "min_level": 3, "max_level": 4,
    "num_scales": 1, "aspect_ratios": [1.0], "anchor_size": 4, "thresholds": [0.5],
    "match_values": [-1, 1], "from_logits": False, "mask_selection_rate": 0.2,
    "mask_token_id": 0, "start_value": 1, "end_value": 2, "image_shape": [32, 32, 3],
    "patch_size": 4, "num_layers": 1, "hidden_dim": 8, "hidden_size": 8, "num_queries": 2,
    "roi_size": 2, "num_upsampling_stages": 1, "fpn_hidden_dim": 8,
    "fpn_scale_factors": [1.0], "feature_size": 8, "sampling_rate": 16000,
    "padding_value": 0.0, "return_attention_mask": False, "frame_length_ms": 32.0,
    "hop_length_ms": 10.0, "min_frequency": 0.0, "max_frequency": 8000.0,
    "preemphasis": 0.97, "preemphasis_htk_flavor": True, "fft_overdrive": True,
    "dither": 0.0, "input_scale_factor": 1.0, "mel_floor": 1e-5, "per_bin_mean": None,
    "per_bin_stddev": None, "padding_side": "right",
}


def render(catalog: dict) -> str:
    return json.dumps(catalog, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the installed Keras's catalog to argv[0], atomically."""
    from pathlib import Path

    from specc.building.startup import import_keras_unchecked
    from specc.files import write_atomically

    import_keras_unchecked()  # a Keras no committed catalog describes: that is the point
    from specc.vocab.catalogs import installed

    catalog = generate()
    # Keyed as specc keys catalogs: by the installed distribution's version.
    catalog["keras_version"] = installed() or catalog["keras_version"]
    text = render(catalog)
    write_atomically(Path(argv[0]), lambda tmp: Path(tmp).write_text(text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
