"""A model's compile_config -> the spec's [compile] section, less Keras's defaults."""

from __future__ import annotations

from typing import Any

from specc.errors import Problem, suggest
from specc.vocab import registry
from specc.vocab.floats import short_float
from specc.vocab.values import none_to_word

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


def compile_section(config: dict, problems: list[Problem]) -> dict:
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
        if key != "name" and value != defaults.get(key):
            args[key] = none_to_word(value)
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
            args[key] = none_to_word(item)
    return {"type": cls, **args}  # its defaults are left out by minimal_compile


def _compile_default(key: str, value: Any, facts: dict, info: dict) -> bool:
    if "required" in facts:
        return False
    if key == "name" and info.get("default_name") is not None:
        return value == info["default_name"]
    # Spec data writes None as "None", a Keras config as null: compare both in words.
    default = facts.get("config_default", facts.get("default"))
    return none_to_word(value) == none_to_word(default)

