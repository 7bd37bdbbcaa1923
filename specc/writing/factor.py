"""Spec data -> shorter spec data: an argument value that most layers of a type
repeat said once in [defaults] (what ``specc export`` writes), and with
``--factor`` first repeated sub-graphs as [blocks].

The result expands back to the same flat spec: [defaults.TYPE] reaches every
layer of TYPE, wrapped layers included, so only an argument that all of them set
moves, and a layer that sets another value keeps its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from specc.vocab import registry
from specc.vocab.names import keras_names
from specc.vocab.values import NONE_WORD
from specc.expanding.blocks import param_type
from specc.expanding.defaults import WRAPPED
from specc.expanding.expand import escaped, has_braces

# Keys of a layer table that are not constructor arguments.
_NOT_ARGUMENTS = ("type", "name", "inputs", "call")


def factor_defaults(data: dict) -> dict:
    """``data`` with each argument value that most layers of a type repeat said once, in
    [defaults.TYPE]. Only an argument that every layer of the type sets moves (one left
    to Keras would get the value too), and a layer with another value keeps its own.

    >>> factor_defaults({"inputs": [{"shape": [4]}], "layers": [
    ...     {"type": "Dense", "units": 4, "use_bias": False},
    ...     {"type": "Dense", "units": 2, "use_bias": False}]})["defaults"]
    {'Dense': {'use_bias': False}}
    """
    by_type: dict[str, list[dict]] = {}
    entries = list(data.get("layers") or [])
    for block in (data.get("blocks") or {}).values():
        entries += block.get("layers", [])
    for layer in _layers(entries):
        cls = registry.canonical_layer(layer["type"])
        if cls is not None:
            by_type.setdefault(cls, []).append(layer)
    defaults: dict[str, dict] = {}
    for cls, layers in by_type.items():
        for key, (value, holders) in (_shared(layers) if len(layers) >= 2 else {}).items():
            defaults.setdefault(cls, {})[key] = value
            for layer in holders:
                del layer[key]
    if not defaults:
        return data
    ordered = {k: v for k, v in data.items() if k not in ("layers", "blocks")}
    blocks = {"blocks": data["blocks"]} if "blocks" in data else {}
    return {**ordered, "defaults": defaults, **blocks, "layers": data["layers"]}


def _shared(layers: list[dict]) -> dict:
    """{argument: (value, the layers that give it)} for each argument that every one of
    ``layers`` sets and more than half of them, two at least, set to one value."""
    shared: dict[str, tuple] = {}
    for key in layers[0]:
        if key in _NOT_ARGUMENTS or not all(key in layer for layer in layers):
            continue
        groups: dict[Any, tuple] = {}  # the value's identity -> (value, the layers giving it)
        for layer in layers:
            identity = _identity(layer[key])
            if identity is not None:
                groups.setdefault(identity, (layer[key], []))[1].append(layer)
        if groups:
            value, holders = max(groups.values(), key=lambda group: len(group[1]))
            if len(holders) >= 2 and 2 * len(holders) > len(layers):
                shared[key] = (value, holders)
    return shared


def _identity(value: Any) -> Any:
    """What two equal spec values share (1, 1.0 and True are equal in Python, not in a
    spec); None for a block parameter or an escaped brace, which stay on their layer."""
    if isinstance(value, str):
        return None if "{" in value or "}" in value else (str, value)
    if isinstance(value, (bool, int, float)):
        return (type(value), value)
    return None if has_braces(value) else (list, _text(value))  # a list or a table


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _layers(entries: list) -> list[dict]:
    """Every layer table a [defaults.TYPE] reaches: the spec's layers and the ones they wrap."""
    found, stack = [], [e for e in reversed(entries)]
    while stack:
        layer = stack.pop()
        if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
            continue
        found.append(layer)
        stack.extend(layer[k] for k in reversed(WRAPPED) if isinstance(layer.get(k), dict))
    return found


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python; a spec tells them apart.
    if a is _UNKNOWN or b is _UNKNOWN:
        return a is b
    return _text(a) == _text(b)


def dumps_factored(spec, fmt: str = "toml", schema: str | None = None, *,
                   blocks: bool = True) -> str:
    """A Spec as text with its shared arguments in [defaults] and, with ``blocks``,
    its repeated sub-graphs as [blocks] (``specc export`` and ``specc export --factor``)."""
    from specc.writing.dump import dumps_data, to_data

    data = escaped(to_data(spec))
    return dumps_data(factor_defaults(factor_blocks(data) if blocks else data), fmt, schema)


# ---- repeated sub-graphs as blocks --------------------------------------------
#
# Keras names the layers of a repeated sub-graph with a common prefix
# (conv2_block1_1_conv, conv2_block1_2_conv, ...). A run of consecutive layers
# sharing a prefix is an instance candidate; runs with the same layer names
# after the prefix, types, arguments set and wiring are uses of one block, and
# the argument values that differ between them become its parameters. The
# result is kept only when it expands back to the very same layers and wiring.

_MIN_USES = 2


def factor_blocks(data: dict) -> dict:
    """``data`` with repeated, consistently named sub-graphs written as blocks."""
    layers = data.get("layers")
    if not isinstance(layers, list) or "blocks" in data or has_braces(layers):
        return data  # a brace in a string would be read as a template
    names = [layer.get("name") if isinstance(layer, dict) else None for layer in layers]
    best = max((_plan(layers, names, depth) for depth in (1, 2, 3)),
               key=lambda plan: plan[0], default=(0, []))
    saved, groups = best
    if saved <= 0:
        return data
    factored = _rewrite(data, layers, names, groups)
    return factored if _same_model(data, factored) else data


def _plan(layers: list, names: list, depth: int) -> tuple[int, list]:
    """(layers saved, groups of runs with one signature) for prefixes of depth parts."""
    runs: list[tuple[str, list[int]]] = []
    for k, name in enumerate(names):
        parts = name.split("_") if isinstance(name, str) else []
        prefix = "_".join(parts[:depth]) if len(parts) > depth else None
        if prefix is not None and runs and runs[-1][0] == prefix and runs[-1][1][-1] == k - 1:
            runs[-1][1].append(k)
        elif prefix is not None:
            runs.append((prefix, [k]))
    by_signature: dict[Any, list] = {}
    for prefix, members in runs:
        shape = _signature(layers, names, prefix, members)
        if shape is not None:
            by_signature.setdefault(shape[0], []).append((prefix, members, shape[1]))
    groups = [runs for runs in by_signature.values() if len(runs) >= _MIN_USES]
    saved = sum((len(g) - 1) * len(g[0][1]) - 2 * len(g) for g in groups)
    return saved, groups


def _signature(layers: list, names: list, prefix: str, members: list[int]):
    """What must be equal for two runs to be uses of one block, and the run's wiring."""
    if len(members) < 2 or not all(isinstance(layers[k], dict) for k in members):
        return None
    inside = {names[k]: names[k][len(prefix) + 1:] for k in members}
    if "x" in inside.values() or any(not v for v in inside.values()):
        return None
    # Only the last layer may be used from outside the run.
    last = names[members[-1]]
    member_set = set(members)
    for k, layer in enumerate(layers):
        if k in member_set or not isinstance(layer, dict):
            continue
        for ref in _refs(layer.get("inputs")):
            if ref.partition(":")[0] in inside and ref.partition(":")[0] != last:
                return None
    external: list[str] = []
    wiring = []
    for position, k in enumerate(members):
        layer = layers[k]
        if "apply" in layer or not isinstance(layer.get("type"), str):
            return None
        refs = layer.get("inputs")
        if refs is None:
            refs = [names[k - 1]] if k > 0 else None
        if refs is None or not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            return None
        local = []
        for ref in refs:
            base, sep, tensor = ref.partition(":")
            if base in inside:
                local.append(inside[base] + sep + tensor)
            else:
                if ref not in external:
                    external.append(ref)
                local.append(("in", external.index(ref)))
        wiring.append(tuple(local))
    # An argument left at its Keras default in one run may be set in another.
    shape = tuple((inside[names[k]], layers[k]["type"],
                   tuple(sorted(a for a in layers[k] if a not in ("name", "inputs", "type")
                                and _default(layers[k]["type"], a) is _UNKNOWN)),
                   wiring[n]) for n, k in enumerate(members))
    return shape, external


def _rewrite(data: dict, layers: list, names: list, groups: list) -> dict:
    blocks: dict[str, dict] = {}
    uses: dict[int, dict] = {}  # first member -> the use that replaces the run
    dropped: set[int] = set()
    for runs in groups:
        block_name = _block_name(runs[0][0], blocks)
        first_prefix, first_members, first_external = runs[0]
        n_inputs = len(first_external)
        inputs = ["x"] + [f"x{n}" for n in range(2, n_inputs + 1)]
        params, columns = _params([[layers[k] for k in members] for _, members, _ in runs])
        body = []
        for position, k in enumerate(first_members):
            layer = layers[k]
            entry = {"name": names[k][len(first_prefix) + 1:], "type": layer["type"]}
            args = dict.fromkeys(a for _, members, _ in runs for a in layers[members[position]])
            for arg in args:
                if arg in ("name", "type", "inputs"):
                    continue
                param = columns.get((position, arg))
                if param:
                    entry[arg] = f"{{{param}}}"
                elif arg in layer:
                    entry[arg] = layer[arg]
            local = []
            for ref in _refs_local(layers, names, first_prefix, first_members, position,
                                   first_external, inputs):
                local.append(ref)
            previous = [body[-1]["name"]] if body else [inputs[0]]
            if local != previous:
                entry["inputs"] = local
            body.append(entry)
        blocks[block_name] = {"params": {p: kind for p, (kind, _) in params.items()},
                              **({"inputs": inputs} if n_inputs > 1 else {}),
                              "layers": body}
        for use_index, (prefix, members, external) in enumerate(runs):
            use = {"block": block_name, "name": prefix}
            for param, (_, values) in params.items():
                use[param] = values[use_index]
            before = names[members[0] - 1] if members[0] > 0 else None
            if external != [before] or (members[0] == 0):
                use["inputs"] = external
            uses[members[0]] = use
            dropped.update(members[1:])
    new_layers = []
    for k, layer in enumerate(layers):
        if k in uses:
            new_layers.append(uses[k])
        elif k not in dropped:
            new_layers.append(layer)
    ordered = {k: v for k, v in data.items() if k != "layers"}
    return {**ordered, "blocks": blocks, "layers": new_layers}


def _refs_local(layers, names, prefix, members, position, external, inputs) -> list[str]:
    k = members[position]
    refs = layers[k].get("inputs") or [names[k - 1]]
    inside = {names[m] for m in members}
    out = []
    for ref in refs:
        base, sep, tensor = ref.partition(":")
        out.append(base[len(prefix) + 1:] + sep + tensor if base in inside
                   else inputs[external.index(ref)])
    return out


def _params(runs: list[list[dict]]) -> tuple[dict, dict]:
    """The block's parameters: name -> (type, value per use), and (position, arg) -> name."""
    params: dict[str, tuple[str, list]] = {}
    by_values: dict[str, str] = {}
    columns: dict[tuple[int, str], str] = {}
    for position, layer in enumerate(runs[0]):
        args = dict.fromkeys(a for run in runs for a in run[position])
        for arg in args:
            if arg in ("name", "type", "inputs"):
                continue
            values = [run[position].get(arg, _default(layer["type"], arg)) for run in runs]
            if all(_same(v, values[0]) for v in values[1:]):
                continue
            key = json.dumps(values, sort_keys=True)
            if key not in by_values:
                name = arg if arg not in params else f"{arg}_{sum(p.startswith(arg) for p in params) + 1}"
                params[name] = (param_type(values), values)
                by_values[key] = name
            columns[(position, arg)] = by_values[key]
    return params, columns


_UNKNOWN = object()


def _default(layer_type: str, arg: str) -> Any:
    """Keras's default of an argument, as a spec writes it; _UNKNOWN when there is none."""
    cls = registry.canonical_layer(layer_type)
    info = registry.layer_args(cls).get(arg) if cls else None
    if not info or "required" in info or "default" not in info:
        return _UNKNOWN
    value = info["default"]
    if value is None:
        return NONE_WORD
    return value if isinstance(value, (bool, int, float, str, list)) else _UNKNOWN


def _block_name(prefix: str, taken: dict) -> str:
    base = re.sub(r"\d+", "", prefix).strip("_").replace("__", "_") or "block"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = [v for item in value.values() for v in (item if isinstance(item, list) else [item])]
    return [v for v in value or [] if isinstance(v, str)]


def _same_model(flat: dict, factored: dict) -> bool:
    """Whether factored expands to the layers and wiring of flat (names resolved)."""
    from specc.errors import SpecError
    from specc.expanding.expand import expand

    try:
        again = expand(factored)
    except SpecError:
        return False
    return _wired(flat) == _wired(again) and flat.get("model") == again.get("model")


def _wired(data: dict) -> list:
    layers = data["layers"]
    inputs, names = keras_names(data)
    out = []
    for k, layer in enumerate(layers):
        refs = layer.get("inputs") or ([inputs[0]] if k == 0 else [names[k - 1]])
        args = {a: v for a, v in layer.items() if a not in ("name", "inputs")
                and not _same(v, _default(layer.get("type", ""), a))}
        out.append((names[k], args, json.dumps(refs, sort_keys=True)))
    return out
