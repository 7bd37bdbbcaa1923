"""The shape of a Keras ``config.json`` that export relies on, checked before it is read.

A ``.keras`` file may come from anywhere: its config is plain JSON that can
hold anything. This walk checks only the structure export reads (tables where
tables are expected, names and layer references that exist), iteratively, and
says what is wrong in one line per problem, with the JSON path of the place.
"""

from __future__ import annotations

from typing import Any

from specc.errors import Problem
from specc.reading.load import format_path, plain_data_problems

# config.json nests about ten levels per nested model; the export code recurses.
MAX_CONFIG_DEPTH = 200
MODEL_CLASSES = ("Sequential", "Functional", "Model")


def config_problems(config: Any) -> list[Problem]:
    """Every structural problem of a model config, by JSON path; [] when export can read it.

    >>> config_problems([])[0].message
    'expected a JSON object with class_name and config, received a list'
    """
    problems: list[Problem] = []
    if not _is_model(config, (), problems):
        return _limits(config) or problems
    # One walk checks the structure and looks for what reading/load.py's limits refuse
    # (depth, 64-bit integers, values JSON has no word for); only when it sees one is
    # the exact walk run, for its messages in document order.
    beyond = False
    stack: list[tuple[tuple, Any]] = [((), config)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            items = value.items()
            if "class_name" in value:
                _object(path, value, problems)
                if value["class_name"] in MODEL_CLASSES and isinstance(value.get("config"), dict) \
                        and isinstance(value["config"].get("layers"), list):
                    _model_body(path, value, problems)
        else:
            items = enumerate(value)
        for key, item in items:
            kind = type(item)
            if kind is dict or kind is list:
                if len(path) + 1 >= MAX_CONFIG_DEPTH:
                    beyond = True
                elif item:  # an empty one holds nothing to check
                    stack.append(((*path, key), item))
            elif kind is int:
                beyond = beyond or not -(2 ** 63) <= item < 2 ** 64
            elif kind not in _JSON_SCALARS:
                beyond = True
    return (beyond and _limits(config)) or problems


_JSON_SCALARS = frozenset((str, float, bool, type(None)))


def _limits(config: Any) -> list[Problem]:
    return [Problem(message, format_path(path))
            for path, message in plain_data_problems(config, MAX_CONFIG_DEPTH)]


def _is_model(config: Any, path: tuple, problems: list[Problem]) -> bool:
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict) \
            or not isinstance(config.get("class_name"), str):
        problems.append(Problem("expected a JSON object with class_name and config, "
                                f"received {json_kind(config)}", format_path(path)))
        return False
    return True


def _object(path: tuple, value: dict, problems: list[Problem]) -> None:
    """A serialized Keras object: {class_name, config, module, registered_name}."""
    messages = []
    if not isinstance(value["class_name"], str):
        messages.append(f"class_name must be a string, received {json_kind(value['class_name'])}")
    for key in ("module", "registered_name"):
        if value.get(key) is not None and not isinstance(value[key], str):
            messages.append(f"{key} must be a string, received {json_kind(value[key])}")
    # A model's layer of a class defined in a script records no module: export names the
    # layer and its class (exporting/layers.py); any other object needs one.
    if "module" in value and value["module"] is None and value.get("class_name") != "__keras_tensor__" \
            and path[-3:-1] != ("config", "layers"):
        messages.append("module must be a string, received null")
    if "config" in value and not isinstance(value["config"], (dict, str)):
        messages.append(f"config must be a JSON object, received {json_kind(value['config'])}")
    if value.get("class_name") == "__keras_tensor__":
        history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
        if not _is_history(history):
            messages.append("a tensor's keras_history must be [layer name, node, tensor]")
    if messages:  # the place is written out only for a problem: most objects have none
        where = format_path(path)
        problems.extend(Problem(message, where) for message in messages)


def _model_body(path: tuple, model: dict, problems: list[Problem]) -> None:
    body = model["config"]
    layers = body["layers"]
    where = format_path((*path, "config", "layers"))
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str) \
                or not isinstance(layer.get("config"), dict):
            problems.append(Problem("expected a layer: a JSON object with class_name and config, "
                                    f"received {json_kind(layer)}", f"{where}[{i}]"))
    if problems or model["class_name"] == "Sequential":
        return
    names = set()
    for i, layer in enumerate(layers):
        name = layer.get("name", layer["config"].get("name"))
        if not isinstance(name, str):
            problems.append(Problem("a functional model's layer needs a name", f"{where}[{i}]"))
        else:
            names.add(name)
        nodes = layer.get("inbound_nodes", [])
        if not isinstance(nodes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("args", []), list)
                and isinstance(n.get("kwargs", {}), dict) for n in nodes):
            problems.append(Problem("inbound_nodes must be a list of {args, kwargs}",
                                    f"{where}[{i}]"))
    stack = [(f"{where}[{i}].inbound_nodes", layer.get("inbound_nodes")) for i, layer in enumerate(layers)]
    while stack:
        at, value = stack.pop()
        if isinstance(value, list):
            stack.extend((at, v) for v in value)
        elif isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                history = value["config"]["keras_history"] if _is_tensor(value) else None
                if history is not None and history[0] not in names:
                    problems.append(Problem(f"a call takes the output of '{history[0]}', which "
                                            "the model does not have", at))
            elif value.get("class_name") not in MODEL_CLASSES:
                stack.extend((at, v) for v in value.values())
    for key in ("input_layers", "output_layers"):
        at = format_path((*path, "config", key))
        # A history, or lists and tables of them nested as the model's inputs/outputs are.
        stack = [body.get(key)]
        while stack:
            value = stack.pop()
            if _is_history(value):
                if value[0] not in names:
                    problems.append(Problem(f"names the layer '{value[0]}', which the model "
                                            "does not have", at))
            elif isinstance(value, dict) and value:
                stack.extend(value.values())
            elif isinstance(value, list) and value:
                stack.extend(value)
            else:
                problems.append(Problem("expected [layer name, node, tensor] entries, received "
                                        f"{json_kind(value)}", at))
                break


def _is_tensor(value: dict) -> bool:
    return isinstance(value.get("config"), dict) and _is_history(value["config"].get("keras_history"))


def _is_history(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:]))


def json_kind(value: Any) -> str:
    """What a JSON value is, as a message says it: "an object", "a list", "null"..."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")
