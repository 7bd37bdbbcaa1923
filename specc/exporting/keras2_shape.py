"""The shape of a Keras 2 model config that the conversion relies on, checked first.

A ``.h5`` attribute or a ``model.to_json()`` file can hold any JSON. keras2.py
rewrites it into Keras 3's form, reading tables, lists and layer calls as Keras
2 wrote them; this walk checks that structure (and the depth and integer limits
of reading/load.py) before a key is read, iteratively, one problem per place.
What the rewritten config must hold beyond this, config_shape.py checks as it
checks a ``.keras`` file's.
"""

from __future__ import annotations

from typing import Any

from specc.errors import Problem, format_path
from specc.exporting.config_shape import MAX_CONFIG_DEPTH, MODEL_CLASSES, json_kind
from specc.reading.load import plain_data_problems

# Layer arguments that hold a whole layer (wrappers, RNN cells): converted as layers.
LAYER_ARGUMENTS = ("layer", "backward_layer", "cell")
# Input shapes on a Keras 2 layer: lists when given.
SHAPE_KEYS = ("batch_input_shape", "input_shape", "batch_shape")


def keras2_problems(config: Any) -> list[Problem]:
    """Every structural problem of a Keras 2 model config; [] when it can be converted.

    >>> keras2_problems({"class_name": "Sequential", "config": {"layers": 7}})[0].message
    'expected a list of layers, received a number'
    """
    limits = plain_data_problems(config, MAX_CONFIG_DEPTH)
    if limits:
        return [Problem(message, format_path(path)) for path, message in limits]
    problems: list[Problem] = []
    # (path, value, what): "model" for a model object, "layer" for one of its layers.
    stack: list[tuple[tuple, Any, str]] = [((), config, "model")]
    while stack:
        path, value, what = stack.pop()
        if not _is_object(value):
            noun = "a layer: a JSON object" if what == "layer" else "a JSON object"
            problems.append(Problem(f"expected {noun} with class_name and config, "
                                    f"received {json_kind(value)}", format_path(path)))
        elif what == "model" or value["class_name"] in MODEL_CLASSES:
            stack.extend(_model(path, value, problems))
        else:
            stack.extend(_layer(path, value, problems))
    if isinstance(config, dict) and "training_config" in config:
        problems += _training(config["training_config"])
    return problems


def _is_object(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and isinstance(value.get("config"), dict))


def _model(path: tuple, model: dict, problems: list[Problem]) -> list:
    layers = model["config"].get("layers", [])
    at = (*path, "config", "layers")
    if not isinstance(layers, list):
        problems.append(Problem(f"expected a list of layers, received {json_kind(layers)}",
                                format_path(at)))
        return []
    functional = model["class_name"] != "Sequential"
    for key in ("input_layers", "output_layers") if functional else ():
        ends = model["config"].get(key, [])
        if not isinstance(ends, (list, dict)):
            problems.append(Problem(f"expected a list of [layer name, node, tensor], received "
                                    f"{json_kind(ends)}", format_path((*path, "config", key))))
    for i, layer in enumerate(layers):
        if functional and isinstance(layer, dict):
            where = format_path((*at, i))
            if not isinstance(layer.get("name", ""), str):
                problems.append(Problem("a functional model's layer name must be a string",
                                        where))
            if not _calls(layer.get("inbound_nodes", [])):
                problems.append(Problem("inbound_nodes must be a list of calls, each a list of "
                                        "[layer name, node, tensor, kwargs]", where))
    return [((*at, i), layer, "layer") for i, layer in enumerate(layers)]


def _calls(nodes: Any) -> bool:
    """Keras 2's calls: [[name, node, tensor(, kwargs)], ...] each (Keras 3's are tables)."""
    return isinstance(nodes, list) and all(
        isinstance(node, dict) or (isinstance(node, list) and all(
            isinstance(e, list) and 3 <= len(e) <= 4 and isinstance(e[0], str)
            and all(type(n) is int for n in e[1:3]) and (len(e) == 3 or isinstance(e[3], dict))
            for e in node))
        for node in nodes)


def _layer(path: tuple, layer: dict, problems: list[Problem]) -> list:
    config = layer["config"]
    where = format_path((*path, "config"))
    for key in SHAPE_KEYS:
        if config.get(key) is not None and not isinstance(config[key], list):
            problems.append(Problem(f"{key} must be a list, received {json_kind(config[key])}", where))
    if isinstance(config.get("dtype"), dict) and not isinstance(config["dtype"].get("config", {}), dict):
        problems.append(Problem("a dtype policy's config must be a JSON object", where))
    inner = []
    for key, value in config.items():
        if not (isinstance(value, dict) and "class_name" in value):
            continue
        if key in LAYER_ARGUMENTS:
            inner.append(((*path, "config", key), value, "layer"))
        elif not isinstance(value.get("config") or {}, dict):
            problems.append(Problem(f"{key}: config must be a JSON object, received "
                                    f"{json_kind(value['config'])}", where))
    return inner


def _training(training: Any) -> list[Problem]:
    """training_config, where keras2.py reads it: the optimizer's config and the metrics."""
    if not isinstance(training, dict):
        return []  # not read: a model without compile settings
    problems = []
    optimizer = training.get("optimizer_config")
    if isinstance(optimizer, dict) and not isinstance(optimizer.get("config") or {}, dict):
        problems.append(Problem("the optimizer's config must be a JSON object",
                                "training_config.optimizer_config"))
    metrics = training.get("metrics")
    for per_output in metrics if isinstance(metrics, list) else []:
        for metric in per_output if isinstance(per_output, list) else []:
            if isinstance(metric, dict) and metric.get("class_name") == "MeanMetricWrapper" \
                    and not isinstance(metric.get("config", {}), dict):
                problems.append(Problem("a metric's config must be a JSON object",
                                        "training_config.metrics"))
    return problems
