"""What the value at a data path of a spec is, and which keys it takes.

pydantic reports a location through its models and union branches; these say,
from the plain data alone, that ("layers", 2, "kernel_regularizer") is a
regularizer of a Dense layer, for messages that name what was expected.
"""

from __future__ import annotations

from typing import Any

from specc.checking import spec as models
from specc.checking.layers import layer_tag
from specc.checking.objects import class_named
from specc.vocab import registry

# Tables whose keys are a Keras class's constructor arguments.
OBJECT_KINDS = ("layer", "initializer", "constraint", "optimizer", "schedule", "loss", "metric")


def data_path(data: Any, loc: tuple, keep_last: bool) -> tuple:
    """The part of a pydantic location that names places in the data (not union branches)."""
    path: list = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif keep_last and i == len(loc) - 1:
            pass
        else:
            continue
        path.append(part)
    return tuple(path)


def kind_at(path: tuple) -> str | None:
    """What the value at path is: "spec", "layer", "input", "regularizer", "optimizer"..."""
    if not path or path[-1] == "spec":
        return "spec"  # the top, or a nested model's spec
    if "compile" in path[:-1]:  # inside [compile], of the spec or of a nested one
        # the last "compile" above the value: an output may be named "compile" too
        at = len(path) - 2 - path[-2::-1].index("compile")
        if kind_at(path[:at]) == "spec":
            return _compile_kind(path[at + 1:])
    last = path[-1]
    if isinstance(last, int):  # an entry of [[inputs]] or [[layers]]; other lists hold values
        if len(path) >= 2 and kind_at(path[:-2]) == "spec":
            return {"inputs": "input", "layers": "layer"}.get(path[-2])
        return None
    parent_kind = kind_at(path[:-1])
    if parent_kind == "spec":
        return {"model": "model", "compile": "compile", "build": "build"}.get(last)
    if parent_kind == "layer":
        if last in ("layer", "backward_layer"):
            return "layer"
        return next((k for k in ("regularizer", "initializer", "constraint")
                     if last.endswith(f"_{k}")), None)
    return None


def _compile_kind(path: tuple) -> str | None:
    """The kind of a value inside [compile]: loss, metric, optimizer or schedule."""
    head = path[0]
    if head == "optimizer":
        return {1: "optimizer", 2: "schedule"}.get(len(path)) if path[1:] in ((), ("learning_rate",)) \
            else None
    if head == "loss" and len(path) <= 2:
        return "loss"  # one loss, or one per output (a list or a table)
    if head in ("metrics", "weighted_metrics") and 2 <= len(path) <= 3:
        return "metric"
    return None


def value_at(data: Any, path: tuple) -> Any:
    """The value at a data path (which must exist)."""
    for part in path:
        data = data[part]
    return data


def class_of(kind: str | None, value: Any) -> str | None:
    """The class a table names with "type" (canonical), or "Apply" for a shared layer."""
    if not isinstance(value, dict):
        return None
    name = value.get("type")
    if kind == "layer":
        if "apply" in value and name is None:
            return "Apply"
        tag = layer_tag(value)
        return name if tag in ("Op", "Nested") else tag
    return class_named(kind, value) if kind in registry.OBJECTS else None


def keys_of(kind: str | None, cls: str | None) -> list[str]:
    """The keys a table of this kind and class accepts."""
    simple = {"spec": models.Spec, "model": models.ModelSection,
              "compile": models.CompileSpec, "input": models.InputSpec,
              "build": models.BuildSection}
    model = simple.get(kind)
    if kind == "layer":
        model = {"Apply": models.Apply, "Nested": models.Nested}.get(
            layer_tag({"type": cls}) if cls not in (None, "Apply") else cls,
            models.LAYER_MODELS.get(cls))
    if model is not None:
        return [f.alias or n for n, f in model.model_fields.items()]
    classes = registry.OBJECTS[kind][0] if kind in registry.OBJECTS else {}
    return ["type", *classes.get(cls, {}).get("args", {})]
