"""How a functional model's layers are called: inbound nodes and tensor histories as
spec inputs, constant call arguments, and model input/output structures."""

from __future__ import annotations

from typing import Any

from specc.errors import Problem, SpecError
from specc.vocab import registry
from specc.vocab.values import NONE_WORD
from specc.vocab.tuples import format_path


def _is_history(value: Any) -> bool:
    """[layer name, node, tensor]: where a model input or output comes from."""
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def map_histories(structure: Any, fn) -> Any:
    if _is_history(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: map_histories(v, fn) for k, v in structure.items()}
    if not isinstance(structure, list):
        raise SpecError(f"a model input or output is {structure!r}, not a Keras tensor reference")
    return [map_histories(v, fn) for v in structure]


def history_leaves(structure: Any) -> list[list]:
    """Every tensor's history in a model's input_layers or output_layers, in order."""
    found: list = []
    map_histories(structure, found.append)
    return found


# The key export() sets on a live model's config body (and its nested models'): the paths
# of the tuples in its input and output structures, which a trip through JSON makes
# lists. A file's config never has it (export.unshared drops it from every JSON object).
TUPLES = "specc.tuples"


def mark_tuples(raw: dict, config: dict) -> None:
    """Write TUPLES into the plain ``config`` of a live model where its serialized form
    ``raw`` (tuples kept) has tuples in input_layers or output_layers."""
    stack = [(raw, config)]
    while stack:
        live, plain = stack.pop()
        if not (isinstance(live, dict) and isinstance(live.get("config"), dict)
                and isinstance(plain, dict) and isinstance(plain.get("config"), dict)):
            continue
        body = live["config"]
        paths = [format_path((root, *at)) for root, key in (("inputs", "input_layers"),
                                                            ("outputs", "output_layers"))
                 for at in _tuples(body.get(key))]
        if paths:
            plain["config"][TUPLES] = paths
        if isinstance(body.get("layers"), (list, tuple)):
            stack.extend(zip(body["layers"], plain["config"].get("layers") or []))


def _tuples(structure: Any, at: tuple = ()):
    """The paths of the tuples in a structure of tensor histories (tuples kept)."""
    if isinstance(structure, dict):
        for key, value in structure.items():
            yield from _tuples(value, (*at, key))
    elif isinstance(structure, (list, tuple)) and not _is_history(list(structure)):
        if isinstance(structure, tuple):
            yield at
        for n, value in enumerate(structure):
            yield from _tuples(value, (*at, n))


def without_unused_ops(entries: list[dict], outputs: list[str]) -> list[dict]:
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


def histories(value: Any):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"]
        else:
            for v in value.values():
                yield from histories(v)
    elif isinstance(value, list):
        for v in value:
            yield from histories(v)


def call_constants(node: dict, cls: str | None) -> dict:
    """Keyword arguments of a call that are not tensors (training=False), less the ones
    equal to call()'s defaults: Keras records an RNN's training=False by itself."""
    defaults = registry.LAYERS.get(cls, {}).get("call_options", {})
    return {k: v for k, v in node.get("kwargs", {}).items()
            if not _all_none(v) and not any(True for _ in histories(v))
            and not (k in defaults and v == defaults[k])}


def _all_none(value: Any) -> bool:
    """None, or a structure of Nones (a nested model's mask = {a = None, b = None})."""
    if isinstance(value, dict):
        return all(_all_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_none(v) for v in value)
    return value is None


def call_inputs(layer: dict, entry: dict, node: dict, ref, implicit_mask,
                 problems: list[Problem], path: str):
    """A call's tensors as spec inputs: a list, or a table for named call arguments."""
    args, kwargs = node.get("args", []), node.get("kwargs", {})
    tensor_kwargs = {k: v for k, v in kwargs.items() if any(True for _ in histories(v))}
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
            return NONE_WORD
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

