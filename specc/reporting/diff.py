"""Two models -> what changed between them (``specc diff``).

Each side is a TOML or JSON spec or a ``.keras`` file, read as data (a
``.keras`` file through export, never loaded). Both go through one normal
form, what Keras would make of them: canonical class names, every layer's
Keras name and inputs, arguments without the ones equal to Keras's defaults,
regularizers, initializers and optimizers in one shape. So a spec and the
``.keras`` built from it compare equal.

Layers are matched by type and arguments in graph order (a sequence
alignment), so an inserted layer, which renames the default-named layers after
it, shows as one addition and some renames rather than a change to every layer.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from specc.vocab import registry
from specc.errors import SpecError
from specc.checking.spec import NONE_WORD, Apply, Nested, Op, Spec

_DEFAULT = object()  # an argument left at Keras's default
_RANK = re.compile(r"([123])D")  # Conv2D, Conv2DTranspose, ConvLSTM2D
# Arguments whose default is another argument's value: Keras writes them out.
_DERIVED = {"strides": "pool_size", "value_dim": "key_dim"}


# ---- reading ----------------------------------------------------------------------

def read_model(path) -> Spec:
    """A spec file (checked as ``specc validate`` does) or a ``.keras`` file (exported as data)."""
    file = os.fspath(path)
    if file.lower().endswith(".keras"):
        from specc.exporting.export import export_file

        return export_file(file)
    if os.path.splitext(file)[1].lower() not in (".toml", ".json"):
        raise SpecError("unsupported model format: expected .toml, .json or .keras", file=file)
    from specc.checking.validate import load

    return load(file)


# ---- the normal form ----------------------------------------------------------------

@dataclass
class Layer:
    name: str
    type: str
    args: dict[str, Any]
    inputs: Any  # list of names, or a table of call argument -> name(s)
    call: dict = field(default_factory=dict)
    model: "Model | None" = None  # a nested model


@dataclass
class Model:
    name: str
    inputs: list[dict]
    layers: list[Layer]
    outputs: Any
    forms: dict  # inputs (the structure the model takes), inputs_form, outputs_form
    compile: dict | None
    params: dict[str, int | None] = field(default_factory=dict)  # per layer, from specc.reporting.shapes
    total: int | None = None  # None: a layer could not be counted


def normal_form(spec: Spec, name: str | None = None) -> Model:
    """What Keras would make of a spec, as plain data that compares equal across formats."""
    from specc.writing.dump import to_data
    from specc.checking.graph import resolve

    spec = _under_policy(spec)
    graph = resolve(spec)
    data = to_data(spec)
    summary = _summary(spec)
    rows = summary.layers if summary else ()
    shapes = {row.name: row.output_shape for row in rows}
    inputs = []
    for entry, input_name in zip(data["inputs"], graph.inputs):
        shown = {"name": input_name, "shape": [_none(d) for d in entry["shape"]]}
        if entry.get("dtype", "float32") != "float32":
            shown["dtype"] = entry["dtype"]
        if entry.get("sparse"):
            shown["sparse"] = True
        if entry.get("batch_size") is not None:
            shown["batch_size"] = entry["batch_size"]
        inputs.append(shown)
    layers = [_layer(node.name, spec.layers[node.index], data["layers"][node.index], node.inputs,
                     shapes) for node in graph.nodes]
    outputs = graph.outputs
    layers, outputs = _call_names(layers, outputs)
    model = spec.model
    default_name = "sequential" if graph.sequential else "functional"
    forms = {k: getattr(model, k) for k in ("inputs", "inputs_form", "outputs_form")
             if getattr(model, k)}
    return Model(name or model.name or default_name, inputs, layers, outputs, forms,
                 _compile(data.get("compile")) if spec.compile is not None else None,
                 {row.name: row.params for row in rows},
                 summary.total if summary and not summary.partial else None)


def _under_policy(spec: Spec) -> Spec:
    """The spec with [build] dtype_policy written on each layer that sets no dtype of its
    own, as Keras saves a model built under it (and export reads it back)."""
    from specc.exporting.minimize import layer_objects

    policy = spec.build.dtype_policy if spec.build else None
    if policy is None:
        return spec
    spec = spec.model_copy(deep=True)
    for layer in layer_objects(spec):
        if "dtype" not in layer.model_fields_set:
            layer.dtype = policy
    spec.build = None
    return spec


def _none(value: Any) -> Any:
    return None if value == NONE_WORD else value


def _layer(name: str, layer: Any, data: dict, inputs: Any, shapes: dict) -> Layer:
    if isinstance(layer, Apply):
        return Layer(name, "apply", {"apply": layer.apply}, inputs)
    if isinstance(layer, Nested):
        return Layer(name, "Model", {}, inputs, model=normal_form(layer.spec, name))
    # A functional model records training=False on every call that takes it.
    call = {k: v for k, v in (data.get("call") or {}).items() if (k, v) != ("training", False)}
    extra = {k: v for k, v in data.items() if k not in ("type", "name", "inputs", "call")}
    if isinstance(layer, Op):
        return Layer(name, layer.type, {k: _value(v) for k, v in extra.items()}, inputs, call)
    cls = registry.canonical_layer(layer.type)
    if "attention_axes" in registry.layer_args(cls) and _none(extra.get("attention_axes")) is None:
        # Keras attends over every axis of the query but the first and last.
        rank = _rank(shapes, inputs.get("query") if isinstance(inputs, dict) else inputs[0])
        if rank:
            extra["attention_axes"] = list(range(1, rank - 1))
    return Layer(name, cls, arguments(cls, extra), inputs, call)


def _rank(shapes: dict, ref: Any) -> int | None:
    """The rank (with the batch axis) of a tensor, when specc.reporting.shapes knows it."""
    from specc.checking.graph import split_ref

    if not isinstance(ref, str):
        return None
    name, index = split_ref(ref)
    shape = shapes.get(name)
    if shape and index is not None and isinstance(shape[0], tuple):
        shape = shape[index]
    if not shape or isinstance(shape[0], tuple):
        return None
    return len(shape)


def arguments(cls: str, given: dict) -> dict:
    """A layer's arguments in normal form: Keras's shapes of values, defaults left out."""
    infos = registry.layer_args(cls)
    args = {k: _argument(cls, k, v) for k, v in given.items()}
    for key, source in _DERIVED.items():
        if key in infos and source in infos and args.get(key) is None:
            value = args.get(source) or _normal_default(cls, source)
            if value is not _DEFAULT:
                args[key] = value
    if cls == "Bidirectional" and _is_mirror(args.get("layer"), args.get("backward_layer")):
        del args["backward_layer"]  # what Bidirectional builds itself
    order = registry.arg_order(cls)
    return {k: args[k] for k in sorted(args, key=lambda k: order.index(k) if k in order else -1)
            if args[k] != _normal_default(cls, k)}


def _default(cls: str, key: str) -> Any:
    info = registry.layer_args(cls)[key]
    if "required" in info:
        return _DEFAULT
    if key == "dtype":
        return "float32"
    if info.get("default") is None and key not in registry.STABLE_DEFAULTS:
        return None  # a default Keras derives from other arguments: only None means it
    from specc.exporting.layers import spec_value

    return spec_value(cls, key, info.get("config_default", info.get("default")))


def _normal_default(cls: str, key: str) -> Any:
    default = _default(cls, key)
    return default if default is _DEFAULT else _argument(cls, key, default)


def _argument(cls: str, key: str, value: Any) -> Any:
    value = _value(value)
    if value is None and key in registry.STABLE_DEFAULTS:
        value = _default(cls, key)  # activation = "None" is linear
    if value is None:
        return None
    info = registry.layer_args(cls)[key]
    kind = registry.arg_kind(cls, key, info)
    rank = _RANK.search(cls)
    if kind == "ints" and isinstance(value, int) and rank:
        return [value] * int(rank.group(1))
    if kind == "nested_ints" and rank:
        return _padding(value, int(rank.group(1)))
    if kind == "axis" and isinstance(value, int):
        return [value]
    if kind == "activation":
        return registry.ACTIVATION_ALIASES.get(value, value)
    if kind == "dtype":
        return None if value == "float32" else value
    if kind == "regularizer":
        return _regularizer(value)
    if kind in ("initializer", "constraint"):
        return _keras_object(kind, value)
    if kind == "layer" and isinstance(value, dict):
        inner = registry.canonical_layer(value["type"])
        out = {"type": inner, **arguments(inner, {k: v for k, v in value.items()
                                                  if k not in ("type", "name")})}
        from specc.checking.graph import to_snake_case

        name = str(value.get("name", "")).removeprefix("forward_")
        if name and name != to_snake_case(inner):
            out["name"] = name
        return out
    return value


def _value(value: Any) -> Any:
    """The spec's "None" word as None, everywhere in a value."""
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return _none(value)


def _padding(value: Any, rank: int) -> Any:
    """Keras's (before, after) pairs: 1 -> [1, 1] in 1D, [[1, 1], [1, 1]] in 2D."""
    if rank == 1:
        return [value, value] if isinstance(value, int) else value
    if isinstance(value, int):
        return [[value, value]] * rank
    return [[v, v] if isinstance(v, int) else v for v in value]


def _regularizer(value: Any) -> Any:
    if isinstance(value, str):
        return {value: registry.DEFAULT_FACTOR}
    value = dict(value)
    if "l1" in value and "l2" in value:  # L1L2 with a zero part is the other one alone
        if value["l2"] == 0:
            del value["l2"]
        elif value["l1"] == 0:
            del value["l1"]
    if "orthogonal" in value and value.get("mode") == "rows":
        del value["mode"]
    return value


def _keras_object(kind: str, value: Any) -> dict:
    table, names = ((registry.INITIALIZERS, registry.INITIALIZER_NAMES) if kind == "initializer"
                    else (registry.CONSTRAINTS, registry.CONSTRAINT_NAMES))
    if isinstance(value, str):
        value = {"type": value}
    cls = value["type"] if value["type"] in table else names[value["type"]]
    defaults = table[cls]["args"]
    args = {k: v for k, v in value.items() if k != "type" and v != defaults.get(k, _DEFAULT)}
    return {"type": cls, **args}


def _is_mirror(forward: Any, backward: Any) -> bool:
    if not isinstance(forward, dict) or not isinstance(backward, dict):
        return False
    flipped = {**forward, "go_backwards": not forward.get("go_backwards", False)}
    flipped.pop("name", None)
    backward = {k: v for k, v in backward.items() if k != "name"}
    cls = forward["type"]
    return arguments(cls, {k: v for k, v in flipped.items() if k != "type"}) == \
        {k: v for k, v in backward.items() if k != "type"} and backward.get("type") == cls


def _compile(data: dict) -> dict:
    from specc.exporting.compile_section import minimal_compile

    out = minimal_compile(data)
    optimizer = out.get("optimizer", "rmsprop")
    by_name = {cls.lower(): cls for cls in registry.OPTIMIZERS}
    if isinstance(optimizer, str):
        optimizer = {"type": by_name[optimizer]}
    defaults = registry.OPTIMIZERS[optimizer["type"]]["args"]
    out["optimizer"] = {k: v for k, v in _value(optimizer).items()
                        if k == "type" or v != defaults.get(k, _DEFAULT)}
    return out


def _call_names(layers: list[Layer], outputs: Any) -> tuple[list[Layer], Any]:
    """Shared calls renamed <layer>_call_<n>, as export names them, in both models alike."""
    renames: dict[str, str] = {}
    counts: dict[str, int] = {}
    for layer in layers:
        if layer.type == "apply":
            target = layer.args["apply"]
            counts[target] = counts.get(target, 0) + 1
            renames[layer.name] = f"{target}_call_{counts[target]}"
    if not renames:
        return layers, outputs
    for layer in layers:
        layer.name = renames.get(layer.name, layer.name)
        layer.inputs = _rename(layer.inputs, renames)
    return layers, _rename(outputs, renames)


def _rename(refs: Any, names: dict[str, str]) -> Any:
    if isinstance(refs, list):
        return [_rename(r, names) for r in refs]
    if isinstance(refs, dict):
        return {k: _rename(v, names) for k, v in refs.items()}
    if isinstance(refs, str):
        base, colon, index = refs.partition(":")
        return names.get(base, base) + colon + index
    return refs


# ---- comparing ----------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed, renamed, argument, wiring, model, input
    or compile; ``a`` and ``b`` are the values on each side (absent: Keras's default)."""

    kind: str
    layer: str | None = None  # the layer's name in B (in A for a removed one)
    type: str | None = None
    key: str | None = None    # the argument, or the field of the model, input or compile
    a: Any = _DEFAULT
    b: Any = _DEFAULT
    params: tuple[int | None, int | None] | None = None  # the layer's parameters in A and B

    def as_dict(self) -> dict:
        out = {"change": self.kind}
        for name in ("layer", "type", "key"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("a", "b"):
            if getattr(self, name) is not _DEFAULT:
                out[name] = getattr(self, name)
        if self.params is not None:
            out["params"] = list(self.params)
        return out


@dataclass
class Diff:
    """What changed from model ``a`` to model ``b``."""

    a: str
    b: str
    changes: list[Change]
    params: dict | None = None  # {"a": total, "b": total}; a total is None when partial

    @property
    def same(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "same": self.same,
                "changes": [c.as_dict() for c in self.changes], "params": self.params}


def diff_models(a, b) -> Diff:
    """Compare two models, each a spec file or a ``.keras`` file (or a Spec).

    >>> diff_models("specs/cnn.toml", "cnn.keras").same  # doctest: +SKIP
    True
    """
    specs = [x if isinstance(x, Spec) else read_model(x) for x in (a, b)]
    left, right = (normal_form(s) for s in specs)
    changes = compare(left, right)
    names = [x if isinstance(x, (str, os.PathLike)) else "<spec>" for x in (a, b)]
    changes, totals = _params(left, right, changes)
    return Diff(os.fspath(names[0]), os.fspath(names[1]), changes, totals)


def compare(a: Model, b: Model, prefix: str = "") -> list[Change]:
    """The changes from ``a`` to ``b``, in the order of B's layers."""
    changes: list[Change] = []
    if a.name != b.name and not prefix:
        changes.append(Change("model", key="name", a=a.name, b=b.name))
    renamed = _match_inputs(a, b, changes, prefix)
    pairs = _match_layers(a.layers, b.layers)
    renamed.update({x.name: y.name for x, y in pairs if x is not None and y is not None})
    for x, y in pairs:
        if y is None:
            changes.append(Change("removed", prefix + x.name, x.type, a=_shown_layer(x)))
        elif x is None:
            changes.append(Change("added", prefix + y.name, y.type, b=_shown_layer(y)))
        else:
            changes += _layer_changes(x, y, renamed, prefix)
    if _rename(a.outputs, renamed) != b.outputs:
        changes.append(Change("model", key=prefix + "outputs", a=a.outputs, b=b.outputs))
    for key in sorted(set(a.forms) | set(b.forms)):
        if a.forms.get(key) != b.forms.get(key):
            changes.append(Change("model", key=prefix + key, a=a.forms.get(key, _DEFAULT),
                                  b=b.forms.get(key, _DEFAULT)))
    if not prefix:
        changes += _compile_changes(a.compile, b.compile)
    return changes


def _match_inputs(a: Model, b: Model, changes: list[Change], prefix: str) -> dict[str, str]:
    """Inputs pair up by position; their names go into the renames used for wiring."""
    renamed = {}
    for n in range(max(len(a.inputs), len(b.inputs))):
        x = a.inputs[n] if n < len(a.inputs) else None
        y = b.inputs[n] if n < len(b.inputs) else None
        if x is None:
            changes.append(Change("input", prefix + y["name"], b=y))
        elif y is None:
            changes.append(Change("input", prefix + x["name"], a=x))
        else:
            renamed[x["name"]] = y["name"]
            for key in dict.fromkeys([*x, *y]):
                if x.get(key) != y.get(key):
                    changes.append(Change("input", prefix + y["name"], key=key,
                                          a=x.get(key, _DEFAULT), b=y.get(key, _DEFAULT)))
    return renamed


def _signature(layer: Layer) -> str:
    return json.dumps([layer.type, layer.args, layer.call, _shape_of(layer.model)],
                      sort_keys=True, default=str)


def _shape_of(model: Model | None) -> Any:
    if model is None:
        return None
    return [[l.type, l.args] for l in model.layers]


def _match_layers(a: list[Layer], b: list[Layer]):
    """Pairs (x, y) in reading order: (x, None) removed, (None, y) added."""
    matcher = difflib.SequenceMatcher(None, [_signature(l) for l in a],
                                      [_signature(l) for l in b], autojunk=False)
    pairs: list[tuple[Layer | None, Layer | None]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs += list(zip(a[i1:i2], b[j1:j2]))
            continue
        left, right = list(a[i1:i2]), list(b[j1:j2])
        partner: dict[int, Layer] = {}
        # A changed layer keeps its name, or at least its type, in the same stretch.
        for same in (lambda x, y: x.name == y.name and x.type == y.type,
                     lambda x, y: x.type == y.type):
            for y in right:
                if id(y) in partner:
                    continue
                x = next((x for x in left if same(x, y) and x not in partner.values()), None)
                if x is not None:
                    partner[id(y)] = x
        used = {id(x) for x in partner.values()}
        pairs += [(x, None) for x in left if id(x) not in used]
        pairs += [(partner.get(id(y)), y) for y in right]
    # A layer that moved (and maybe changed) left one removal and one addition: pair them.
    for same in (lambda x, y: _signature(x) == _signature(y),
                 lambda x, y: x.name == y.name and x.type == y.type):
        for j, (_, y) in enumerate(pairs):
            if pairs[j][0] is not None or y is None:
                continue
            i = next((i for i, (x, z) in enumerate(pairs)
                      if x is not None and z is None and same(x, y)), None)
            if i is not None:
                pairs[j], pairs[i] = (pairs[i][0], y), (None, None)
    return [pair for pair in pairs if pair != (None, None)]


def _layer_changes(x: Layer, y: Layer, renamed: dict[str, str], prefix: str) -> list[Change]:
    changes = []
    if x.name != y.name:
        changes.append(Change("renamed", prefix + y.name, y.type, a=x.name, b=y.name))
    for key in dict.fromkeys([*x.args, *y.args]):
        old, new = x.args.get(key, _DEFAULT), y.args.get(key, _DEFAULT)
        if old != new:
            changes.append(Change("argument", prefix + y.name, y.type, key, old, new))
    if x.call != y.call:
        changes.append(Change("argument", prefix + y.name, y.type, "call", x.call, y.call))
    if _rename(x.inputs, renamed) != y.inputs:
        changes.append(Change("wiring", prefix + y.name, y.type, "inputs", x.inputs, y.inputs))
    if x.model is not None and y.model is not None:
        changes += compare(x.model, y.model, prefix=f"{prefix}{y.name}/")
    return changes


def _shown_layer(layer: Layer) -> dict:
    shown = {"inputs": layer.inputs, **layer.args}
    if layer.call:
        shown["call"] = layer.call
    if layer.model is not None:
        shown["layers"] = len(layer.model.layers)
    return shown


def _compile_changes(a: dict | None, b: dict | None) -> list[Change]:
    a, b = a or {}, b or {}  # not compiled: no optimizer, no loss
    return [Change("compile", key=key, a=a.get(key, _DEFAULT), b=b.get(key, _DEFAULT))
            for key in dict.fromkeys([*a, *b]) if a.get(key) != b.get(key)]


# ---- parameters -----------------------------------------------------------------------

def _params(a: Model, b: Model, changes: list[Change]) -> tuple[list[Change], dict]:
    """Each changed layer's parameter counts and the totals, from specc's shape rules (no Keras)."""
    old_name = {c.b: c.a for c in changes if c.kind == "renamed"}
    counted = []
    for change in changes:
        name = change.layer
        if change.kind in ("added", "removed", "renamed", "argument", "wiring") \
                and "/" not in name and change.type != "apply":
            in_a = None if change.kind == "added" else a.params.get(old_name.get(name, name))
            in_b = None if change.kind == "removed" else b.params.get(name)
            change = replace(change, params=(in_a, in_b))
        counted.append(change)
    return counted, {"a": a.total, "b": b.total}


def _summary(spec: Spec):
    from specc.reporting.shapes import summarize

    try:
        return summarize(spec)
    except Exception:  # a shape rule's bug must not cost the comparison: counts unknown
        return None


# ---- showing ------------------------------------------------------------------------------

def shown(value: Any, unset: str = "(default)") -> str:
    """A value as a spec writes it (``[3, 3]``, ``{ l2 = 0.01 }``, ``"relu"``)."""
    if value is _DEFAULT:
        return unset
    from specc.writing.dump import _words
    from specc.writing.fmt import inline_toml

    return inline_toml(_words(value))


def describe(change: Change) -> str:
    """The change in words: ``units: 64 -> 32``, ``rate = 0.5``."""
    if change.kind == "renamed":
        return f"{change.a} -> {change.b}"
    if change.kind in ("added", "removed") or (change.key is None and change.kind == "input"):
        side = change.b if change.a is _DEFAULT else change.a
        return ", ".join(f"{k} = {shown(v)}" for k, v in side.items())
    unset = "(none)" if change.kind == "compile" else "(default)"
    return f"{change.key}: {shown(change.a, unset)} -> {shown(change.b, unset)}"


def write_json(result: Diff) -> str:
    return json.dumps(result.as_dict(), indent=2) + "\n"


def diff_table(result: Diff):
    """The changes as a rich table, with parameter counts when specc can count them."""
    from rich.table import Table

    table = Table(title=f"{result.a} -> {result.b}", title_justify="left")
    for column in ("Change", "Layer", "Type"):
        table.add_column(column, no_wrap=True)
    table.add_column("What", overflow="fold")
    counted = result.params is not None
    if counted:
        table.add_column("Params", justify="right", no_wrap=True)
    shown_layers = set()
    for change in result.changes:
        row = [change.kind, change.layer or "", change.type or "", describe(change)]
        if counted:  # once per layer, on its first row
            first = change.params and (change.kind, change.layer) not in shown_layers
            row.append(_count_change(change) if first else "")
            if change.kind not in ("added", "removed"):
                shown_layers |= {(kind, change.layer) for kind in ("renamed", "argument", "wiring")}
        table.add_row(*row)
    count = len(result.changes)
    caption = f"{count} change{'s' if count != 1 else ''}"
    if result.params:
        a, b = (_number(result.params[side]) for side in "ab")
        caption += f"; total params {a if a == b else f'{a} -> {b}'}"
    table.caption = caption
    table.caption_justify = "left"
    return table


def _count_change(change: Change) -> str:
    a, b = (_number(n) for n in change.params)
    if change.kind in ("added", "removed"):
        return b if change.kind == "added" else a
    return a if a == b else f"{a} -> {b}"


def _number(count: int | None) -> str:
    return "?" if count is None else f"{count:,}"  # ?: a layer specc cannot count
