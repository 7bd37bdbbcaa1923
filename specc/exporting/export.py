"""Keras config -> Spec: take each layer's config, drop what equals the default.

A ``.keras`` file is read as data (its ``config.json``); nothing it names is
imported or called. Every class is looked up in specc's registry, and whatever
the registry does not know is refused, all offenders listed at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from specc.vocab import registry
from specc.reading.archive import CONFIG, DEFAULT_MAX_CONFIG_BYTES, open_archive, read_member
from specc.collector import paused
from specc.errors import Problem, SpecError, suggest
from specc.vocab.floats import short_float
from specc.checking.graph import layer_names, names_implied, wiring_problems
from specc.vocab.names import to_snake_case
from specc.reading.load import format_path
from specc.checking.spec import Spec

MODEL_CLASSES = ("Sequential", "Functional", "Model")


def export_file(path, *, compile: bool = True,
                max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> Spec:
    """Read a ``.keras`` file's architecture as data and turn it into a Spec.

    Only a regular file is read, and its config.json only when it is at most
    ``max_config_bytes`` long once decompressed (see specc/reading/archive.py).
    ``compile=False`` leaves the compile settings out (the architecture alone).
    """
    file = str(path)
    with open_archive(path) as archive:
        raw = read_member(archive, CONFIG, max_config_bytes, file)
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SpecError(f"cannot read Keras model: config.json is not JSON ({exc.msg}, line "
                        f"{exc.lineno} column {exc.colno})", file=file) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else (
            "an integer has more than 4300 digits" if "digits" in str(exc) else _reason(exc))
        raise SpecError(f"cannot read Keras model: config.json {reason}", file=file) from None
    return export_config(config, file=file, compile=compile)


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def export(model, *, compile: bool = True) -> Spec:
    """The Spec of a live ``keras.Model``; ``build(export(m))`` rebuilds ``m``."""
    import keras

    return export_config(_plain(keras.saving.serialize_keras_object(model)), compile=compile)


def export_config(config: dict, file: str | None = None, *, compile: bool = True) -> Spec:
    """The Spec of a serialized Keras model: JSON data, as ``config.json`` of a
    ``.keras`` file holds it (lists, not tuples)."""
    with paused():  # linear time on big models (see specc/collector.py)
        return _export_config(config, file, compile)


def _export_config(config: dict, file: str | None, compile: bool) -> Spec:
    from specc.exporting.config_shape import config_problems

    try:
        config = _plain(config)
    except (ValueError, RecursionError):  # 4300-digit integers, nesting
        problems = config_problems(config) or [Problem("cannot be written as JSON")]
    else:
        problems = config_problems(config)
    if problems:
        raise SpecError(Problem(f"config.json: {p.message}", p.path, file) for p in problems)
    try:
        data = _model(config, problems, "")
        if compile and config.get("compile_config"):
            data["compile"] = _compile(config["compile_config"], problems)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        # A shape config_problems does not know yet: still one line, never a traceback.
        raise SpecError(f"config.json is not a model config specc can read "
                        f"({type(exc).__name__}: {_reason(exc)})", file=file) from None
    if problems:
        raise SpecError(Problem(p.message, p.path, file or p.file) for p in problems)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:  # a bug in specc, or a Keras config specc cannot express
        first = {}  # a union reports one error per branch: keep one per layer
        for e in exc.errors():
            first.setdefault(e["loc"][:2], e)
        raise SpecError(Problem(f"the exported spec does not validate: {e['msg']}",
                                format_path(e["loc"][:2]), file) for e in first.values()) from None
    _drop_zero_indexes(spec)
    issues = wiring_problems(spec)
    if issues:
        raise SpecError(Problem(f"the exported spec is not wired right: {message}",
                                format_path(at), file) for at, message, _ in issues)
    _minimize(spec)
    _dtype_policy(spec)
    return spec


# compile() arguments Keras saves, with the value it saves when they are left out.
# jit_compile="auto" is saved as what it resolved to: false on a machine without a GPU.
_COMPILE_DEFAULTS = {"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
_NO_COMPILE = "use --no-compile (compile=False in Python) to export the architecture alone"
# Where each kind of compile object lives in Keras: (module, classes, names a spec may use).
_COMPILE_KINDS = {
    "loss": ("keras.losses", registry.LOSS_CLASSES, registry.LOSSES),
    "metric": ("keras.metrics", registry.METRIC_CLASSES, registry.METRICS),
    "learning-rate schedule": ("keras.optimizers.schedules", registry.SCHEDULES, []),
}


def _compile(config: dict, problems: list[Problem]) -> dict:
    """The [compile] section from a model's compile_config; what a spec cannot say is a problem."""
    out: dict[str, Any] = {}
    optimizer = _optimizer(config.get("optimizer"), problems)
    if optimizer is not None:
        out["optimizer"] = optimizer
    for key, kind in (("loss", "loss"), ("metrics", "metric"), ("weighted_metrics", "metric")):
        if config.get(key) is not None:
            out[key] = _per_output(kind, config[key], problems, f"compile.{key}")
    if config.get("loss_weights") is not None:
        out["loss_weights"] = config["loss_weights"]
    out.update((key, config[key]) for key in _COMPILE_DEFAULTS if key in config)
    known = {"optimizer", "loss", "metrics", "weighted_metrics", "loss_weights", *_COMPILE_DEFAULTS}
    problems.extend(Problem(f"compile argument '{key}' is not supported by specc; {_NO_COMPILE}",
                            f"compile.{key}") for key in config if key not in known)
    return minimal_compile(out)


def minimal_compile(section: dict) -> dict:
    """A [compile] section (spec data) without what equals Keras's defaults: the compile
    options and the arguments of losses, metrics and learning-rate schedules.

    Export writes its [compile] through this, and ``specc diff`` compares both sides
    through it, so a spec that writes a default and one that leaves it out are the same.

    >>> minimal_compile({"metrics": [{"type": "SparseTopKCategoricalAccuracy", "k": 5}],
    ...                  "run_eagerly": False, "jit_compile": "auto"})
    {'metrics': [{'type': 'SparseTopKCategoricalAccuracy'}]}
    """
    out: dict[str, Any] = {}
    for key, value in section.items():
        if key in _COMPILE_DEFAULTS:
            # "auto" is saved as what it resolved to, false without a GPU: the same model.
            if value not in (_COMPILE_DEFAULTS[key], "auto" if key == "jit_compile" else None):
                out[key] = value
        elif key in ("loss", "metrics", "weighted_metrics"):
            out[key] = _minimal_objects("loss" if key == "loss" else "metric", value)
        elif key == "optimizer" and isinstance(value, dict) \
                and isinstance(value.get("learning_rate"), dict):
            schedule = _minimal_object("learning-rate schedule", value["learning_rate"])
            out[key] = {**value, "learning_rate": schedule}
        else:
            out[key] = value
    return out


def _minimal_objects(kind: str, value: Any) -> Any:
    """A loss or metrics value (one, a list per output, a table of outputs) minimized."""
    if isinstance(value, list):
        return [_minimal_objects(kind, v) for v in value]
    if isinstance(value, dict) and "type" not in value:
        return {k: _minimal_objects(kind, v) for k, v in value.items()}
    if isinstance(value, dict):
        return _minimal_object(kind, value)
    return value


def _minimal_object(kind: str, value: dict) -> dict:
    info = _COMPILE_KINDS[kind][1].get(value.get("type"))
    if info is None:
        return value
    return {k: v for k, v in value.items()
            if k == "type" or k not in info["args"] or not _compile_default(k, v, info["args"][k], info)}


def _optimizer(optimizer: Any, problems: list[Problem]) -> Any:
    path = "compile.optimizer"
    if optimizer is None or isinstance(optimizer, str):
        return optimizer
    cls = optimizer.get("class_name")
    if optimizer.get("module") != "keras.optimizers" or optimizer.get("registered_name") not in (None, cls):
        problems.append(Problem(f"optimizer '{cls}' is a custom class, which a spec cannot "
                                f"describe; {_NO_COMPILE}", path))
        return None
    if cls not in registry.OPTIMIZERS:
        problems.append(Problem(f"optimizer '{cls}' is not supported by specc; {_NO_COMPILE}", path))
        return None
    defaults = registry.OPTIMIZERS[cls]["args"]
    args = {}
    for key, value in optimizer.get("config", {}).items():
        if key == "learning_rate" and isinstance(value, dict):
            value = _compile_object("learning-rate schedule", value, problems, f"{path}.{key}")
        elif isinstance(value, float):
            value = short_float(value)  # Keras keeps them as float32: 0.001 reads 0.0010000000474974513
        if key != "name" and not _same(value, defaults.get(key)):
            args[key] = _none(value)
    return {"type": cls, **args} if args else cls.lower()


def _per_output(kind: str, value: Any, problems: list[Problem], path: str) -> Any:
    """A loss or metrics value: one entry, a list of them (per output) or a table of outputs."""
    if isinstance(value, list):
        return [_per_output(kind, v, problems, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _per_output(kind, v, problems, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, str):
        names = _COMPILE_KINDS[kind][2]
        if value not in names:
            problems.append(Problem(f"unknown {kind} '{value}'", path, suggestion=suggest(value, names)))
        return value
    return _compile_object(kind, value, problems, path)


def _compile_object(kind: str, value: Any, problems: list[Problem], path: str) -> Any:
    """A serialized loss, metric or schedule as its name or {type = ..., arguments}."""
    module, classes, names = _COMPILE_KINDS[kind]
    if not isinstance(value, dict):
        problems.append(Problem(f"{kind} {value!r} is not a Keras {kind}", path))
        return None
    cls = value.get("class_name")
    if value.get("module") == "builtins" and cls == "function":
        # A function such as keras.losses.binary_crossentropy: Keras resolves its name
        # to the same function.
        name = value.get("config")
        if name in names and value.get("registered_name") == "function":
            return name
        problems.append(Problem(f"{kind} '{name}' is a Python function, which a spec cannot "
                                f"describe; {_NO_COMPILE}", path))
        return None
    if cls == "__lambda__":
        problems.append(Problem(f"{kind} is a Python lambda, which a spec cannot describe; "
                                f"{_NO_COMPILE}", path))
        return None
    if value.get("module") != module or cls not in classes \
            or value.get("registered_name") not in (None, cls):
        problems.append(Problem(f"{kind} '{value.get('registered_name') or cls}' is a custom class, "
                                f"which a spec cannot describe; {_NO_COMPILE}", path))
        return None
    info = classes[cls]
    args: dict[str, Any] = {}
    for key, item in (value.get("config") or {}).items():
        facts = info["args"].get(key)
        if facts is None:
            problems.append(Problem(f"argument '{key}' of {kind} {cls} is not supported by specc", path))
        else:
            args[key] = _nones(item)
    return {"type": cls, **args}  # its defaults are left out by minimal_compile


def _compile_default(key: str, value: Any, facts: dict, info: dict) -> bool:
    if "required" in facts:
        return False
    if key == "name" and info.get("default_name") is not None:
        return value == info["default_name"]
    # Spec data writes None as "None", a Keras config as null: compare both in words.
    return _same(_nones(value), _nones(facts.get("config_default", facts.get("default"))))


def _plain(value: Any) -> Any:
    """Tuples become lists, as they would after a trip through JSON; the ids a saved file
    gives objects shared between layers (an LSTM and its cell) are left out."""
    def unshared(obj: dict) -> dict:
        obj.pop("shared_object_id", None)
        return obj

    return json.loads(json.dumps(value), object_hook=unshared)


# ---- models -------------------------------------------------------------------

def _model(config: dict, problems: list[Problem], where: str) -> dict:
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES or config.get("module", "keras").split(".")[0] != "keras":
        problems.append(Problem(
            f"'{cls}' is not a Sequential or functional Keras model (subclassed models are Python code)",
            path=where or "model",
        ))
        return {}
    body = config["config"]
    if cls == "Sequential":
        return _sequential(body, problems, where)
    return _functional(body, problems, where)


def _input(config: dict, name: str | None) -> dict:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    entry: dict[str, Any] = {"shape": [_none(d) for d in shape[1:]]}
    if name:
        entry = {"name": name, **entry}
    if config.get("dtype") not in (None, "float32"):
        entry["dtype"] = config["dtype"]
    if config.get("sparse"):
        entry["sparse"] = True
    if shape[0] is not None:
        entry["batch_size"] = shape[0]
    return entry


def _sequential(body: dict, problems: list[Problem], where: str) -> dict:
    layers = body["layers"]
    inputs = []
    if layers and layers[0]["class_name"] == "InputLayer":
        first, layers = layers[0]["config"], layers[1:]  # the caller's config stays as it was
        inputs.append(_input(first, first["name"]))
    elif body.get("build_input_shape"):
        inputs.append({"shape": [_none(d) for d in body["build_input_shape"][1:]]})
    else:
        problems.append(Problem("the Sequential model has no input shape: it was never built",
                                path=where or "model"))
    spec_layers = [_layer(l, problems, f"{where}layers[{i}]") for i, l in enumerate(layers)]
    return {"model": {"name": body.get("name"), "kind": "sequential"}, "inputs": inputs,
            "layers": spec_layers}


def _functional(body: dict, problems: list[Problem], where: str) -> dict:
    layers = body["layers"]
    by_name = {l["name"]: l for l in layers}
    input_names = [h[0] for h in _history_leaves(body["input_layers"])]
    inputs = [_input(by_name[n]["config"], n) for n in input_names]

    def ref(history: list, output: bool = False) -> str:
        """A tensor as the spec names it: "<layer>" or "<layer>_call_<n>" (call n of a
        shared layer), then ":<tensor>" (_drop_zero_indexes drops ":0" where a call has
        one output)."""
        name, node, tensor = history
        if output and by_name[name]["class_name"] == "Functional":
            node -= 1  # Keras counts a nested model's own graph as node 0 here, not in calls
        target = name if node == 0 else f"{name}_call_{node}"
        return f"{target}:{tensor}"

    def implicit_mask(args: list, mask: Any) -> bool:
        """A mask computed by an operation from what produced our input (Embedding's
        mask_zero records ops.not_equal(tokens, 0)): Keras recomputes it itself."""
        if mask is None or not args:
            return False
        producer = by_name[mask["config"]["keras_history"][0]]
        if not (producer.get("module") or "").startswith("keras.src.ops"):
            return False
        source = by_name[next(_histories(args[0]))[0]]
        fed = {tuple(h) for n in source.get("inbound_nodes", []) for h in _histories(n)}
        used = {tuple(h) for n in producer.get("inbound_nodes", []) for h in _histories(n)}
        return bool(used) and used <= fed

    spec_layers = []
    for layer in layers:
        if layer["class_name"] == "InputLayer":
            continue
        path = f"{where}layers[{len(spec_layers)}]"
        entry = _layer(layer, problems, path)
        nodes = layer.get("inbound_nodes", [])
        calls = [_call_inputs(layer, entry, node, ref, implicit_mask, problems, path)
                 for node in nodes]
        if calls:
            entry["inputs"] = calls[0]
            constants = _call_constants(nodes[0], entry.get("type"))
            if constants:
                entry["call"] = constants
        spec_layers.append(entry)
        spec_layers.extend(
            {"apply": layer["name"], "name": f"{layer['name']}_call_{n}", "inputs": call}
            for n, call in enumerate(calls[1:], start=1)
        )
    model: dict[str, Any] = {"name": body.get("name"), "kind": "functional"}
    outputs = _map_histories(body["output_layers"], lambda h: ref(h, output=True))
    spec_layers = _without_unused_ops(
        spec_layers, [ref(h, output=True).partition(":")[0]
                      for h in _history_leaves(body["output_layers"])])
    model["outputs"] = [outputs] if isinstance(outputs, str) else outputs
    if isinstance(outputs, list) and len(outputs) == 1 and isinstance(outputs[0], str):
        model["outputs_form"] = "list"
    structure = _map_histories(body["input_layers"], lambda h: h[0])
    if isinstance(structure, dict) and all(k == v for k, v in structure.items()):
        model["inputs_form"] = "dict"
    elif structure == input_names[:1]:
        model["inputs_form"] = "list"
    elif not (isinstance(structure, str) or structure == input_names):
        model["inputs"] = structure  # nested, or a dict keyed otherwise than the inputs' names
    return {"model": model, "inputs": inputs, "layers": spec_layers}


def _is_history(value: Any) -> bool:
    """[layer name, node, tensor]: where a model input or output comes from."""
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def _map_histories(structure: Any, fn) -> Any:
    if _is_history(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map_histories(v, fn) for k, v in structure.items()}
    if not isinstance(structure, list):
        raise SpecError(f"a model input or output is {structure!r}, not a Keras tensor reference")
    return [_map_histories(v, fn) for v in structure]


def _history_leaves(structure: Any) -> list[list]:
    """Every tensor's history in a model's input_layers or output_layers, in order."""
    found: list = []
    _map_histories(structure, found.append)
    return found


def _without_unused_ops(entries: list[dict], outputs: list[str]) -> list[dict]:
    """Drop operation nodes nothing uses any more (an implicit mask left behind)."""
    def used_names() -> set[str]:
        found = set(outputs)
        for entry in entries:
            values = entry.get("inputs") or []
            stack = list(values.values()) if isinstance(values, dict) else list(values)
            while stack:
                item = stack.pop()
                if isinstance(item, list):
                    stack.extend(item)
                elif isinstance(item, str):
                    found.add(item.partition(":")[0])
            if "apply" in entry:
                found.add(entry["apply"])
        return found

    while True:
        used = used_names()
        kept = [e for e in entries
                if not str(e.get("type", "")).startswith("ops.") or e.get("name") in used]
        if len(kept) == len(entries):
            return entries
        entries = kept


def _histories(value: Any):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"]
        else:
            for v in value.values():
                yield from _histories(v)
    elif isinstance(value, list):
        for v in value:
            yield from _histories(v)


def _call_constants(node: dict, cls: str | None) -> dict:
    """Keyword arguments of a call that are not tensors (training=False), less the ones
    equal to call()'s defaults: Keras records an RNN's training=False by itself."""
    defaults = registry.LAYERS.get(cls, {}).get("call_options", {})
    return {k: v for k, v in node.get("kwargs", {}).items()
            if not _all_none(v) and not any(True for _ in _histories(v))
            and not (k in defaults and _same(v, defaults[k]))}


def _all_none(value: Any) -> bool:
    """None, or a structure of Nones (a nested model's mask = {a = None, b = None})."""
    if isinstance(value, dict):
        return all(_all_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_none(v) for v in value)
    return value is None


def _call_inputs(layer: dict, entry: dict, node: dict, ref, implicit_mask,
                 problems: list[Problem], path: str):
    """A call's tensors as spec inputs: a list, or a table for named call arguments."""
    args, kwargs = node.get("args", []), node.get("kwargs", {})
    tensor_kwargs = {k: v for k, v in kwargs.items() if any(True for _ in _histories(v))}
    if implicit_mask(args, tensor_kwargs.get("mask")):
        del tensor_kwargs["mask"]  # Keras attaches this mask again when the model is rebuilt
    name = layer.get("config", {}).get("name") or layer.get("name")

    def refs(value):
        if isinstance(value, list):
            return [refs(v) for v in value]
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return ref(value["config"]["keras_history"])
        if isinstance(value, dict):
            problems.append(Problem(f"layer '{name}' is called with a table of tensors, which "
                                    "specc cannot write", path=path))
        return value  # a constant operand, as in x + 3.0

    if entry.get("type") == "ops.GetItem" and len(args) == 2:
        entry["key"] = _getitem_key(args[1], name, problems, path)
        return [refs(args[0])]
    if (layer.get("module") or "").startswith("keras.src.ops"):
        return [refs(a) for a in args]
    if len(args) == 1 and not tensor_kwargs and entry.get("type") == "Model" \
            and isinstance(args[0], dict) and args[0].get("class_name") != "__keras_tensor__":
        return {k: refs(v) for k, v in args[0].items()}  # a nested model taking a dict
    if len(args) == 1 and not tensor_kwargs:
        return refs(args[0]) if isinstance(args[0], list) else [refs(args[0])]
    names = registry.LAYERS.get(entry.get("type"), {}).get("call", [])
    if len(args) > len(names):
        if entry.get("type") in registry.LAYERS or entry.get("type") == "Model":
            problems.append(Problem(f"layer '{name}' is called with {len(args)} positional "
                                    "tensors, which specc cannot name", path=path))
        return [refs(args[0])]  # a layer refused already, for its class
    # Positional arguments first, then keyword ones as Keras orders them (sorted).
    table = {names[i]: refs(a) for i, a in enumerate(args)}
    table.update({k: refs(tensor_kwargs[k]) for k in sorted(tensor_kwargs)})
    return table


def _getitem_key(key: Any, name: str, problems: list[Problem], path: str) -> list | None:
    """The index of x[...] as spec text: (slice(None), slice(None, 2)) -> [":", ":2"]."""
    def axis(item):
        if isinstance(item, dict) and item.get("class_name") == "__slice__":
            c = item["config"]
            text = ":".join("" if v is None else str(v) for v in (c["start"], c["stop"], c["step"]))
            return text.removesuffix(":") if c["step"] is None else text
        if isinstance(item, dict) and item.get("class_name") == "__ellipsis__":
            return "..."
        if item is None:
            return "None"
        if isinstance(item, int) and not isinstance(item, bool):
            return item
        problems.append(Problem(f"layer '{name}' indexes a tensor with {_shown(item)}, which "
                                "specc cannot write (integers, slices, None and ... only)", path=path))
        return None

    items = key if isinstance(key, list) else [key]
    return [axis(item) for item in items]


def _shown(item: Any) -> str:
    if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
        return "a tensor"
    return "a list" if isinstance(item, list) else repr(item)


# ---- layers -------------------------------------------------------------------

def _layer(layer: dict, problems: list[Problem], path: str) -> dict:
    cls = layer.get("class_name")
    module = layer.get("module") or ""
    config = layer.get("config", {})
    if cls in MODEL_CLASSES and module.split(".")[0] == "keras":
        inner = _model(layer, problems, f"{path}.spec.")
        name = config.get("name")
        inner.get("model", {}).pop("name", None)
        if not inner.get("model", True):
            inner.pop("model")
        return {"type": "Model", "name": name, "spec": inner}
    if module.startswith("keras.src.ops"):
        return _op(layer, problems, path)
    info = registry.LAYERS.get(cls, {})
    # tf.keras's AlphaDropout, RandomHeight, ... are saved as keras._legacy.layers.
    known_module = module in ("keras.layers", info.get("module"), info.get("tf_keras_module"))
    # A custom get_config() may leave the name out; a functional model records it beside.
    name = (config.get("name") if isinstance(config, dict) else None) or layer.get("name") or "?"
    if not known_module or layer.get("registered_name") not in (None, cls):
        problems.append(Problem(
            f"layer '{name}' is the custom class '{layer.get('registered_name') or cls}', "
            "which specc cannot represent (register it or rewrite it with Keras layers)", path=path))
        return {"type": cls}
    if cls in registry.REFUSED or cls not in registry.LAYERS:
        reason = registry.REFUSED.get(cls, "not in specc's registry")
        problems.append(Problem(f"layer '{name}' is a {cls}: {reason}", path=path))
        return {"type": cls}
    return {"type": cls, "name": config.get("name"), **layer_arguments(cls, config, problems, path)}


def layer_arguments(cls: str, config: dict, problems: list[Problem], path: str) -> dict:
    """The spec arguments of one layer: its config minus defaults, in spec shorthand."""
    args = registry.layer_args(cls)
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("name",) or (key == "quantization_config" and value is None):
            continue
        info = args.get(key)
        if info is None:
            if key in registry.LAYERS[cls].get("config_only", []):
                continue
            problems.append(Problem(f"argument '{key}' of {cls} is not supported by specc", path=path))
            continue
        if _is_default(key, value, info):
            continue
        converted = _argument(cls, key, value, info, problems, f"{path}.{key}")
        if key == "backward_layer" and _is_mirror(config.get("layer"), value):
            continue
        out[key] = converted
    return out


def _is_default(key: str, value: Any, info: dict) -> bool:
    if "required" in info:
        return False
    if key == "dtype":
        return _dtype(value) in (None, "float32")  # policies serialize in several shapes
    if info.get("default") is None and key not in registry.STABLE_DEFAULTS:
        return value is None  # a derived default (strides = pool_size) must be written out
    return _same(value, info.get("config_default", info.get("default")))


def _same(a: Any, b: Any) -> bool:
    # Both sides are plain JSON data already (export_config takes JSON data,
    # the catalog is JSON): a JSON round trip per comparison took half of export,
    # so only objects that differ are compared again without their shared ids.
    return a == b or (isinstance(a, dict) and isinstance(b, dict) and _plain(a) == _plain(b))


def _is_mirror(forward: dict | None, backward: dict | None) -> bool:
    """Bidirectional builds this backward layer itself when none is given: the forward
    layer's config with go_backwards flipped, named backward_NAME where the forward
    layer is forward_NAME (keras/src/layers/rnn/bidirectional.py)."""
    if not forward or not backward:
        return False
    f, b = dict(forward["config"]), dict(backward["config"])
    if b.pop("name", None) != "backward_" + str(f.pop("name", "")).removeprefix("forward_"):
        return False
    f["go_backwards"] = not f.get("go_backwards", False)
    return forward["class_name"] == backward["class_name"] and _same(f, b)


def spec_value(cls: str, key: str, value: Any) -> Any:
    """One argument of a layer's Keras config written as a spec writes it.

    >>> spec_value("Dense", "kernel_initializer", {"class_name": "GlorotUniform",
    ...            "module": "keras.initializers", "config": {"seed": None}})
    'glorot_uniform'
    """
    return _argument(cls, key, value, registry.layer_args(cls)[key], [], key)


def _argument(cls: str, key: str, value: Any, info: dict, problems: list[Problem], path: str):
    kind = registry.arg_kind(cls, key, info)
    if value is None:
        return "None"
    if kind == "regularizer":
        from specc.vocab.penalties import from_keras_config

        try:
            return from_keras_config(value)
        except SpecError as exc:
            problems.extend(Problem(p.message, path) for p in exc.problems)
            return None
    if kind in ("initializer", "constraint"):
        return _keras_object(kind, value, problems, path)
    if kind == "layer":
        inner = _layer(value, problems, path)
        if cls == "Bidirectional" and isinstance(inner.get("name"), str):
            # Bidirectional prefixes the wrapped layer's name itself.
            inner["name"] = inner["name"].removeprefix("forward_")
        if inner.get("name") == to_snake_case(inner["type"]):
            del inner["name"]  # the name build gives a wrapped layer anyway
        return inner
    if kind == "dtype":
        return _dtype(value)
    if kind == "activation" and not isinstance(value, str):
        problems.append(Problem(f"activation {value.get('class_name', value)!r} is not a Keras activation name", path=path))
        return None
    return _nones(value)


def _dtype(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("config", {}).get("name")
    return value


def _keras_object(kind: str, value: Any, problems: list[Problem], path: str):
    """An initializer or constraint as a name ("he_normal") or {type = ..., args}."""
    table = registry.INITIALIZERS if kind == "initializer" else registry.CONSTRAINTS
    if isinstance(value, str):
        return value
    cls = value.get("class_name")
    module = value.get("module", "")
    # tf.random_uniform_initializer and the like: TensorFlow's classes, Keras's arguments.
    tf_module = table.get(cls, {}).get("tf_module")
    if cls not in table or not (module.startswith(f"keras.{kind}s") or module == tf_module):
        problems.append(Problem(f"{kind} '{cls}' is not supported by specc", path=path))
        return None
    defaults = table[cls]["args"]
    args = {k: _nones(v) for k, v in value.get("config", {}).items() if not _same(v, defaults.get(k))}
    names = [n for n in table[cls]["names"] if n.islower()]
    if not args and names:
        return names[0]
    return {"type": cls, **args}


def _op(layer: dict, problems: list[Problem], path: str) -> dict:
    cls = layer.get("class_name")
    module = layer.get("module")
    key = next((k for k, v in registry.OPS.items() if v["class"] == cls and v["module"] == module), None)
    if key is None:
        problems.append(Problem(f"operation '{module}.{cls}' is not supported by specc", path=path))
        return {"type": f"ops.{cls}"}
    config = dict(layer.get("config", {}))
    name = config.pop("name", None)
    defaults = registry.OPS[key]["args"]
    args = {k: _nones(v) for k, v in config.items() if k in defaults and not _same(v, defaults[k])}
    return {"type": f"ops.{key}", "name": name, **args}


def _none(value: Any) -> Any:
    return "None" if value is None else value


def _nones(value: Any) -> Any:
    if isinstance(value, list):
        return [_nones(v) for v in value]
    if isinstance(value, dict):
        return {k: _nones(v) for k, v in value.items()}
    return _none(value)


# ---- names ----------------------------------------------------------------------

def _unset(model, field: str) -> None:
    setattr(model, field, None)
    model.model_fields_set.discard(field)


def _rename_ref(spec: Spec, old: str, new: str) -> None:
    def swap(value):
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return new if value == old else value

    for layer in spec.layers:
        if layer.inputs is not None:
            layer.inputs = swap(layer.inputs)


def _drop_zero_indexes(spec: Spec) -> None:
    """"dense:0" is "dense" where a call returns one tensor (export writes every index)."""
    from specc.checking.graph import output_count
    from specc.vocab.names import split_ref

    by_name = dict(zip(layer_names(spec), spec.layers))

    def strip(value):
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        target, index = split_ref(value)
        if index == 0 and (target not in by_name or output_count(by_name[target], by_name) == 1):
            return target
        return value

    for layer in spec.layers:
        if layer.inputs is not None:
            layer.inputs = strip(layer.inputs)
    if spec.model.outputs is not None:
        spec.model.outputs = strip(spec.model.outputs)
    for nested in _nested_specs(spec):
        _drop_zero_indexes(nested)


def _nested_specs(spec: Spec) -> list[Spec]:
    """The specs of models used as layers, directly or wrapped (TimeDistributed(model))."""
    found = []
    for layer in spec.layers:
        for inner in (layer, getattr(layer, "layer", None)):
            if isinstance(getattr(inner, "spec", None), Spec):
                found.append(inner.spec)
    return found


def layer_objects(spec: Spec):
    """Every layer that takes a dtype: the spec's, those of nested models, wrapped ones
    (Bidirectional's LSTM), all made under the dtype policy of the spec's [build]."""
    for layer in spec.layers:
        if isinstance(getattr(layer, "spec", None), Spec):
            yield from layer_objects(layer.spec)
        stack = [layer]
        while stack:
            item = stack.pop()
            if "dtype" in type(item).model_fields:
                yield item
            stack.extend(inner for inner in (getattr(item, "layer", None),
                                             getattr(item, "backward_layer", None))
                         if isinstance(inner, BaseModel))


def _dtype_policy(spec: Spec) -> None:
    """Every layer under one dtype policy other than float32 (a model built under
    [build] dtype_policy): say it once in [build] rather than on each layer."""
    from specc.checking.spec import BuildSection
    from specc.vocab.registry import DTYPE_POLICIES

    layers = list(layer_objects(spec))
    policies = {layer.dtype for layer in layers}
    if len(policies) != 1:
        return
    policy = policies.pop()
    if policy in (None, "float32") or policy not in DTYPE_POLICIES:
        return
    for layer in layers:
        _unset(layer, "dtype")
    spec.build = BuildSection(dtype_policy=policy)


def _minimize(spec: Spec) -> None:
    """Leave out what specc would infer anyway: default names, default wiring, the kind."""
    from specc.checking.graph import input_names, resolve

    sequential = resolve(spec).sequential
    wanted = layer_names(spec)
    for layer, implied in zip(spec.layers, names_implied(spec)):
        if implied:
            _unset(layer, "name")
    # Keras numbers default input names per process (input_layer_10): not worth keeping.
    if len(spec.inputs) == 1 and spec.inputs[0].name == "input_layer":
        _rename_ref(spec, spec.inputs[0].name, "input_layer")
        _unset(spec.inputs[0], "name")
        wanted = layer_names(spec)
    previous = input_names(spec)[0] if len(spec.inputs) == 1 else None
    for name, layer in zip(wanted, spec.layers):
        if layer.inputs == [previous] and previous is not None:
            _unset(layer, "inputs")
        previous = name
    if spec.model.outputs == [wanted[-1]]:
        _unset(spec.model, "outputs")
    kind = spec.model.kind
    _unset(spec.model, "kind")
    if resolve(spec).sequential != sequential:
        spec.model.kind = kind
    for nested in _nested_specs(spec):
        _minimize(nested)


def copy_weights_from_file(model, path) -> None:
    """Load the weights stored in a .keras file into ``model`` (rebuilt from its spec).

    Keras reads only the weights archive here; the file's config is not deserialized.
    Every dataset's shape is checked first, from the HDF5 metadata: Keras reads a
    whole dataset before it compares shapes.
    """
    from specc.reading.archive import check_weights

    sizes = [_values(w.shape) for w in model.weights]
    with open_archive(path) as archive:
        check_weights(archive, max(sizes, default=0), sum(sizes), str(path))
    try:
        model.load_weights(path)
    except Exception as exc:  # h5py, zipfile and Keras raise many kinds
        raise SpecError(f"cannot read weights: {' '.join(str(exc).split())[:300]}", file=str(path)) from None


def _values(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim or 0
    return count
