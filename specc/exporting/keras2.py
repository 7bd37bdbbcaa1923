"""Keras 2 model files -> the Keras 3 config that specc.export reads.

Keras 2 (tf.keras before TensorFlow 2.16, and the tf-keras package) saved
models as ``.h5`` files, whose ``model_config`` attribute holds the
architecture as JSON, and ``model.to_json()`` wrote the same JSON. Both are
read here as data (h5py for the attribute; Keras's loader never runs), and
their Keras 2 forms are rewritten as Keras 3 writes them: the input shape on
the first layer, ``input_length``, old argument names and defaults, dtype
policies, initializer and constraint tables without a module, and functional
``inbound_nodes`` lists. What comes out goes through the same export as a
``.keras`` file's ``config.json``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from specc.vocab import registry
from specc.errors import Problem, SpecError
from specc.exporting.config_shape import MODEL_CLASSES
from specc.exporting.keras2_shape import keras2_problems
from specc.reading.archive import DEFAULT_MAX_CONFIG_BYTES, over_limit

SUFFIXES = (".h5", ".hdf5", ".json")
# Keys any Keras 2 layer config may carry that Keras 3 has moved or dropped; the
# input shape becomes the model's input.
_SHAPE_KEYS = ("batch_input_shape", "input_shape", "batch_size")
# (class, key): value the key must have to be dropped; another value cannot be
# expressed in Keras 3 and is refused by name.
_DROPPED = {
    ("Embedding", "input_length"): None,  # any value: the input's shape carries it
    ("InputLayer", "ragged"): False,
    ("BatchNormalization", "fused"): None,
    ("BatchNormalization", "renorm"): False,
    ("BatchNormalization", "renorm_clipping"): None,
    ("BatchNormalization", "renorm_momentum"): None,
    ("BatchNormalization", "virtual_batch_size"): None,
    ("BatchNormalization", "adjustment"): None,
}
_RNN_DROPPED = {"time_major": False, "implementation": None}
_RNNS = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN")
_RENAMED = {("LeakyReLU", "alpha"): "negative_slope"}
# Keys Keras 2 wrote for every layer of a kind, at these values, where the Keras 3
# class has no such argument (SpatialDropout2D's noise_shape, DepthwiseConv2D's groups).
_NO_EFFECT = {"trainable": True, "noise_shape": None, "groups": 1}
# Keras 2's separable convolutions inherited Conv's kernel_* arguments and ignored them.
_IGNORED = {cls: ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
            for cls in ("SeparableConv1D", "SeparableConv2D")}
_OBJECT_MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
                   "_constraint": "keras.constraints"}


def read(path, max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> dict:
    """The Keras 2 model config of a ``.h5`` or ``.json`` file, as plain data: the
    ``.json`` file, and each ``.h5`` attribute read, at most ``max_config_bytes`` long."""
    file = os.fspath(path)
    training = None
    if file.lower().endswith(".json"):
        text = _read_json_file(file, max_config_bytes)
    else:
        text, training = _read_h5_config(file, max_config_bytes)
    config = _json(text, file)
    if not isinstance(config, dict) or "class_name" not in config:
        raise SpecError("not a Keras model config (no class_name at the top)", file=file)
    if training is not None:
        # model.compile's arguments, which model.save wrote beside the architecture.
        config["training_config"] = _json(training, file)
    problems = keras2_problems(config)
    if problems:
        raise SpecError(problems).with_file(file)
    return config


def _json(text: bytes, file: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # bad JSON, 4300-digit integers, nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise SpecError(f"cannot read the Keras 2 model config: {reason}", file=file) from None


def _read_json_file(file: str, limit: int) -> bytes:
    from specc.files import open_regular

    # A regular file only (a FIFO would block, /dev/zero never ends), its size checked
    # before a byte is read.
    with open_regular(file, "Keras 2 model") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise over_limit("Keras 2 model", f"the file is {size:,} bytes", limit, file)
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise SpecError(f"cannot read Keras 2 model: {exc.strerror or exc}", file=file) from None
    if len(raw) > limit:  # it grew since
        raise over_limit("Keras 2 model", f"the file is more than {limit:,} bytes", limit, file)
    return raw


def _read_h5_config(file: str, limit: int) -> tuple[bytes, bytes | None]:
    import h5py

    from specc.reading.hdf5 import Attributes

    if not os.path.isfile(file):
        raise SpecError("cannot read Keras 2 model: not a regular file", file=file)
    try:
        with h5py.File(file, "r") as h5:
            attributes = Attributes(h5, file, limit, "Keras 2 model")
            if not attributes.has(h5, "model_config"):
                raise SpecError("the .h5 file has no model_config: it holds weights only "
                                "(save the model with model.save, not save_weights)", file=file)
            values = [_text(attributes.read(h5, key)) for key in ("model_config", "training_config")]
    except (OSError, ValueError, KeyError) as exc:
        raise SpecError(f"cannot read Keras 2 model: {exc}", file=file) from None
    return values[0], values[1]


def _text(value) -> bytes | None:
    if value is None:
        return None
    return value if isinstance(value, bytes) else str(value).encode()


def export_file(path, *, compile: bool = True,
                max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES):
    """The Spec of a Keras 2 ``.h5`` or ``.json`` model file (``compile=False``: without
    the compile settings an ``.h5`` file holds; ``max_config_bytes``: see ``read``)."""
    from specc.exporting.export import export_config

    file = os.fspath(path)
    problems: list[Problem] = []
    converted = to_keras3(read(file, max_config_bytes), problems)
    if problems:
        raise SpecError(Problem(p.message, p.path, file) for p in problems)
    return export_config(converted, file=file, compile=compile)


# ---- the conversion ------------------------------------------------------------

def to_keras3(config: dict, problems: list[Problem] | None = None) -> dict:
    """A Keras 2 model config in the form Keras 3 writes to ``config.json``."""
    problems = [] if problems is None else problems
    config = copy.deepcopy(config)
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES:
        problems.append(Problem(f"'{cls}' is not a Sequential or functional Keras model",
                                path="model"))
        return config
    body = config["config"]
    if cls == "Sequential":
        body["layers"] = _sequential_layers(body.get("layers", []), problems)
    else:
        cls = "Functional"
        layers = body.get("layers", [])
        nested = {layer.get("name") for layer in layers if _own_node(layer)}
        body["layers"] = [_functional_layer(layer, nested, problems, f"layers[{i}]")
                          for i, layer in enumerate(layers)]
    converted = {"module": "keras", "class_name": cls, "config": body, "registered_name": None}
    if isinstance(config.get("training_config"), dict):
        converted["compile_config"] = _compile_config(config["training_config"], body)
    return converted


# Keras 2 optimizer arguments Keras 3 does not have, at the values that change nothing.
_OPTIMIZER_NO_EFFECT = {"is_legacy_optimizer": False, "jit_compile": None, "decay": 0.0}


def _compile_config(training: dict, body: dict) -> dict:
    """Keras 2's training_config as Keras 3's compile_config."""
    out = {key: training.get(key) for key in ("loss", "loss_weights", "weighted_metrics")}
    optimizer = training.get("optimizer_config")
    if isinstance(optimizer, dict):
        cls = str(optimizer.get("class_name", "")).removeprefix("Custom>")
        args = dict(optimizer.get("config") or {})
        if "lr" in args:  # Keras 2.2's name
            args.setdefault("learning_rate", args.pop("lr"))
        for key, value in _OPTIMIZER_NO_EFFECT.items():
            if key in args and (value is None or args[key] == value):
                del args[key]
        if not args.get("use_ema"):  # Keras 2's RMSprop wrote ema_overwrite_frequency = 100
            args.pop("ema_overwrite_frequency", None)
            args.pop("ema_momentum", None)
        out["optimizer"] = _object("keras.optimizers", cls, args)
    metrics = training.get("metrics")
    if isinstance(metrics, list) and all(isinstance(m, list) for m in metrics):
        names = [[_metric_name(m) for m in per_output] for per_output in metrics]
        # A Sequential's output_layers is not checked (Keras ignores it): any JSON here.
        ends = body.get("output_layers")
        outputs = [h[0] for h in ends if isinstance(h, list) and h and isinstance(h[0], str)
                   ] if isinstance(ends, list) else []
        if len(names) == 1:
            metrics = names[0]
        elif len(outputs) == len(names):
            # Keras 2 named an output's metric after it: priority_accuracy.
            metrics = {out: [n.removeprefix(f"{out}_") if isinstance(n, str) else n
                             for n in per_output]
                       for out, per_output in zip(outputs, names)}
    out["metrics"] = metrics
    return out


def _metric_name(metric: Any) -> Any:
    """A metric Keras 2 wrapped (MeanMetricWrapper named 'accuracy') as its name."""
    if isinstance(metric, dict) and metric.get("class_name") == "MeanMetricWrapper":
        return metric.get("config", {}).get("name", metric)
    return metric


def _sequential_layers(layers: list, problems: list[Problem]) -> list:
    converted = []
    if layers and layers[0].get("class_name") != "InputLayer":
        shape = _input_shape(layers[0].get("config", {}))
        if shape is not None:  # Keras 2.2's form: the shape on the first layer
            converted.append(_object("keras.layers", "InputLayer",
                                     {"batch_shape": shape, "dtype": "float32",
                                      "name": f"{layers[0]['config'].get('name', 'layer')}_input"}))
    for i, layer in enumerate(layers):
        converted.append(_layer(layer, problems, f"layers[{i}]"))
    return converted


def _input_shape(config: dict) -> list | None:
    if config.get("batch_input_shape") is not None:
        return list(config["batch_input_shape"])
    if config.get("input_shape") is not None:
        return [config.get("batch_size"), *config["input_shape"]]
    if config.get("input_dim") is not None and "output_dim" not in config:
        return [None, config["input_dim"]]
    return None


def _own_node(layer: dict) -> bool:
    """Whether Keras 2 counted a nested model's own graph as its node 0, so that the
    calls of it are numbered from 1 (Keras 2's _should_skip_first_node)."""
    if layer.get("class_name") in ("Functional", "Model"):
        return True
    inner = layer.get("config", {}).get("layers") if layer.get("class_name") == "Sequential" \
        else None
    return bool(inner) and (inner[0].get("class_name") == "InputLayer"
                            or _input_shape(inner[0].get("config", {})) is not None)


def _functional_layer(layer: dict, nested: set, problems: list[Problem], path: str) -> dict:
    converted = _layer(layer, problems, path)
    converted["name"] = layer.get("name", converted["config"].get("name"))
    nodes = layer.get("inbound_nodes", [])
    converted["inbound_nodes"] = [_node(node, nested) if isinstance(node, list) else node
                                  for node in nodes]
    return converted


def _node(entries: list, nested: set) -> dict:
    """One Keras 2 call, [[name, node, tensor, kwargs], ...], as Keras 3 records it.

    Keras 3 numbers the calls of a nested model from 0 where Keras 2 numbered them
    from 1 (the model's output list is numbered alike in both)."""
    tensors = [_tensor([name, node - (name in nested and node > 0), tensor])
               for name, node, tensor, *_ in entries]
    kwargs = entries[0][3] if entries and len(entries[0]) > 3 else {}
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": dict(kwargs)}


def _tensor(history: list) -> dict:
    return {"class_name": "__keras_tensor__",
            "config": {"keras_history": [history[0], history[1], history[2]]}}


def _object(module: str, cls: str, config: dict) -> dict:
    return {"module": module, "class_name": cls, "config": config, "registered_name": None}


def _layer(layer: dict, problems: list[Problem], path: str) -> dict:
    cls = layer.get("class_name")
    config = dict(layer.get("config", {}))
    if cls in MODEL_CLASSES:
        nested = to_keras3(layer, problems)
        nested["config"]["name"] = config.get("name")
        return nested
    if cls == "InputLayer":
        shape = config.pop("batch_input_shape", None)
        if shape is not None:
            config["batch_shape"] = shape
    else:
        for key in _SHAPE_KEYS:
            config.pop(key, None)
        if cls != "Embedding":
            config.pop("input_dim", None)
    dropped = {k: v for (c, k), v in _DROPPED.items() if c == cls}
    if cls in _RNNS or cls.startswith("ConvLSTM"):
        dropped.update(_RNN_DROPPED)
    for key, keep_if in dropped.items():
        if key in config:
            value = config.pop(key)
            if keep_if is not None and value != keep_if:
                problems.append(Problem(f"layer '{config.get('name', '?')}' sets {key} = "
                                        f"{json.dumps(value)}, which Keras 3 does not have",
                                        path=path))
    for key in _IGNORED.get(cls, ()):
        config.pop(key, None)
    known = registry.LAYERS.get(cls)
    if known is not None:
        taken = set(known["args"]) | set(known.get("config_only", [])) | {"name"}
        for key, value in _NO_EFFECT.items():
            if key in config and key not in taken and config[key] == value:
                del config[key]
    for (c, old), new in _RENAMED.items():
        if c == cls and old in config:
            config[new] = config.pop(old)
    if cls == "BatchNormalization" and isinstance(config.get("axis"), list) \
            and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]
    if isinstance(config.get("dtype"), dict):  # a Keras 2 mixed precision Policy
        config["dtype"] = config["dtype"].get("config", {}).get("name")
    for key, value in list(config.items()):
        if isinstance(value, dict) and "class_name" in value:
            config[key] = _argument(key, value, problems, f"{path}.{key}")
    return {"module": layer.get("module") or "keras.layers", **_class_of(cls),
            "config": config}


def _class_of(cls: Any) -> dict:
    """class_name and registered_name as Keras 3 writes them. Keras 2 writes a class the
    user registered by its registered name ("demo>TransformerBlock"), which a plugin may
    give; any other class by its bare name, a Keras 2 class or an unregistered one of the
    user's (``keras2`` marks it: exporting/layers.py says both)."""
    if isinstance(cls, str) and ">" in cls:
        return {"class_name": cls.partition(">")[2], "registered_name": cls}
    unknown = isinstance(cls, str) and registry.canonical_layer(cls) is None \
        and cls not in registry.REFUSED
    return {"class_name": cls, "registered_name": None, **({"keras2": True} if unknown else {})}


def _argument(key: str, value: dict, problems: list[Problem], path: str) -> dict:
    if key in ("layer", "backward_layer", "cell"):
        return _layer(value, problems, path)
    module = next((m for suffix, m in _OBJECT_MODULES.items() if key.endswith(suffix)), None)
    if module is None:
        return value
    cls = value["class_name"]
    config = dict(value.get("config") or {})
    if cls == "VarianceScaling" and config.get("distribution") == "normal":
        config["distribution"] = "truncated_normal"  # Keras 2.0's name for it
    config.pop("dtype", None)  # Keras 1/2.0 initializers carried one
    return {"module": value.get("module") or module, "class_name": cls, "config": config,
            "registered_name": value.get("registered_name")}
