"""The shared definitions of the JSON Schema, so that it grows linearly.

pydantic writes every argument of every class in full (its type, "None", a
template, a description, examples), and specc has 130 layer classes, 333
operations and 100 optimizer, loss, metric... classes. Here:

- each kind of layer argument (an initializer, an integer >= 1, "valid" or
  "same"...) is one definition, ``Arg.<kind>`` (``Arg.<kind>?`` where "None" is
  allowed too), and the arguments every layer has are ``Layer.<name>``;
- each argument of an optimizer (loss, metric...) class is one definition per
  union and name: ``Optimizer.epsilon``;
- a property is a reference, with its default beside it where the uses of the
  definition differ in default;
- operations taking the same arguments share one definition, ``ops.(<args>)``;
- the choice of a layer class is a tree of if/then/else over the characters of
  its name (``^Conv[23]``) that writes each name once, in its leaf, and takes
  about ten checks to place a layer;
- [defaults] lists each class's arguments once; an alias refers to its class's.

So a new layer class adds its definition, a leaf of the tree and its [defaults]
entry, and nothing else grows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import get_args

from specc.vocab import registry

# Keys pydantic writes that editors do not need from a shared definition.
_DROPPED = ("title",)


def def_name(layer: str) -> str:
    """The definition of a layer class in the schema: its registry name, with what a
    reference cannot hold replaced as pydantic replaces it ("keras_hub>X": "keras_hub_X").

    >>> def_name("keras_hub>TransformerEncoder"), def_name("Dense")
    ('keras_hub_TransformerEncoder', 'Dense')
    """
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", layer)


def share_layer_arguments(defs: dict) -> None:
    """Every layer argument refers to its kind's definition, Arg.<kind>."""
    from specc.checking.spec import LAYER_MODELS
    from specc.vocab.kinds import kind_of

    choices = _enum_choices()
    uses: dict[str, list] = {}
    for layer in LAYER_MODELS:
        props = defs[def_name(layer)]["properties"]
        for arg, info in registry.layer_args(layer).items():
            kind = kind_of(layer, arg, info)
            if kind == "enum":
                values = registry.enum_choices(layer, arg, info)
                kind = arg if len(choices[arg]) == 1 else f"{arg}({','.join(values)})"
            name = f"Arg.{kind}" + ("" if "required" in info else "?")
            uses.setdefault(name, []).append((props, arg))
        for common in ("name", "inputs", "call"):
            uses.setdefault(f"Layer.{common}", []).append((props, common))
    for name, found in uses.items():
        _refer(defs, name, found)


def _enum_choices() -> dict[str, set]:
    """arg -> the sets of values its enum has across layers (padding has two)."""
    found: dict[str, set] = {}
    for layer in registry.LAYERS:
        for arg, info in registry.layer_args(layer).items():
            values = registry.enum_choices(layer, arg, info)
            if values is not None and registry.arg_kind(layer, arg, info) == "enum":
                found.setdefault(arg, set()).add(tuple(values))
    return found


def _refer(defs: dict, name: str, found: list[tuple[dict, str]], text: str | None = None) -> None:
    """Each props[key] in found becomes a reference to defs[name], which holds what
    they share: all but the default, and the default too where they agree on it."""
    nodes = [props[key] for props, key in found]
    shapes = {_key(node, text is not None) for node in nodes}
    if len(shapes) != 1:
        raise ValueError(f"{name}: its uses differ: {sorted(shapes)}")
    defaults = {repr(node.get("default", _NONE)) for node in nodes}
    shared = {k: v for k, v in nodes[0].items() if k not in (*_DROPPED, "examples")}
    if len(defaults) > 1:
        shared.pop("default", None)
    # A kind's examples leave out each argument's default: keep the longest list.
    examples = max((node.get("examples", []) for node in nodes), key=len)
    defs[name] = {**shared, **({"examples": examples} if examples else {}),
                  **({"description": text} if text else {})}
    for props, key in found:
        node = props[key]
        kept = {"default": node["default"]} if len(defaults) > 1 and "default" in node else {}
        props[key] = {"$ref": f"#/$defs/{name}", **kept}


_NONE = object()  # no default at all, unlike a default of None


def _key(node: dict, own_text: bool = False) -> str:
    """What must be the same in every use of a definition."""
    left_out = ("default", "examples", *_DROPPED, *(("description",) if own_text else ()))
    return json.dumps({k: v for k, v in node.items() if k not in left_out}, sort_keys=True)


def drop_property_titles(defs: dict) -> None:
    """pydantic titles each property after its key ("Kernel Initializer"): the key says it."""
    for node in defs.values():
        for name, prop in node.get("properties", {}).items():
            if isinstance(prop, dict):
                node["properties"][name] = {k: v for k, v in prop.items() if k not in _DROPPED}


# ---- the switch on "type" ----------------------------------------------------

def dispatch_layers(defs: dict) -> None:
    """Layer and RecurrentLayer: a switch on "type" (see the module's docstring).

    A oneOf over the classes makes validators try every class and report "not
    valid under any of the given schemas"; a switch checks one, and editors
    complete "type" from a single enum.
    """
    from specc.checking.spec import RECURRENT, Nested

    cases = {written: f"#/$defs/{def_name(name)}" for name, info in registry.LAYERS.items()
             for written in (name, *info.get("aliases", []))}
    cases.update({kind: "#/$defs/Nested" for kind in get_args(Nested.model_fields["type"].annotation)})
    cases.update({f"ops.{name}": f"#/$defs/{_op_def(defs, info)}"
                  for name, info in registry.OPS.items()})
    defs["PluginLayerType"] = {
        "type": "string", "pattern": plugin_type_pattern(),
        "description": "a layer class of your own, \"package>ClassName\" as Keras registers "
        "it: the schema cannot know its arguments; specc validate --plugin MODULE checks them",
    }
    defs["Layer"] = {
        "title": "Layer",
        "description": 'A Keras layer: "type" names the class, the other keys are its arguments; '
        'or {apply = "name"} to call an earlier layer again, or {block = "name"} to use a block.',
        "type": "object",
        "properties": {"type": {"description": "the Keras layer class", "anyOf": [
            {"enum": sorted(cases)}, {"$ref": "#/$defs/PluginLayerType"}]}},
        "if": {"required": ["apply"], "not": {"required": ["type"]}},
        "then": {"$ref": "#/$defs/Apply"},
        "else": {
            "if": {"required": ["block"], "not": {"required": ["type"]}},
            "then": {"$ref": "#/$defs/BlockUse"},
            "else": _by_type(cases),
        },
    }
    recurrent = {n: ref for n, ref in cases.items() if ref.removeprefix("#/$defs/") in RECURRENT}
    defs["RecurrentLayer"] = {
        "title": "RecurrentLayer",
        "description": "A layer that runs over time steps, forwards or backwards: "
        f"{', '.join(RECURRENT)}.",
        "type": "object",
        "properties": {"type": {"description": "the Keras layer class", "enum": sorted(recurrent)}},
        **_by_type(recurrent),
    }


def plugin_type_pattern() -> str:
    """What a plugin's layer type looks like to the schema: "package>ClassName" of a package
    other than those specc has a catalog of (a misspelt keras-hub class stays an error).

    >>> import re
    >>> [bool(re.match(plugin_type_pattern(), t)) for t in ("demo>Block", "keras_hub>Nope", "Dens")]
    [True, False, False]
    """
    known = "|".join(re.escape(package) for package in sorted(registry.PACKAGES))
    return rf"^(?!(?:{known})>)[^>\s]+>[^>\s]+$"


def _by_type(cases: dict[str, str]) -> dict:
    # The leaves test "type" only where there is one: without it, none applies.
    return {"required": ["type"], "if": {"required": ["type"]}, "then": switch(cases)}


def switch(cases: dict[str, str]) -> dict:
    """if/then/else on the name in "type" that ends at {"$ref": cases[name]}.

    Each branch tests the characters after the names' common prefix with a
    short pattern, so the tree holds each name once (in its leaf), and its depth
    grows with the logarithm of the number of names. A few leaves are checked
    side by side, in an allOf.

    >>> switch({"Conv1D": "#1", "Conv2D": "#2"})["allOf"][1]
    {'if': {'properties': {'type': {'const': 'Conv2D'}}}, 'then': {'$ref': '#2'}}
    """
    names = sorted(cases)
    targets = sorted(set(cases.values()), key=lambda t: min(n for n in names if cases[n] == t))
    if len(targets) <= _SIDE_BY_SIDE:  # a leaf per definition, with the names leading to it
        leaves = []
        for target in targets:
            led = [n for n in names if cases[n] == target]
            match = {"const": led[0]} if len(led) == 1 else {"enum": led}
            leaves.append({"if": {"properties": {"type": match}}, "then": {"$ref": target}})
        return leaves[0] if len(leaves) == 1 else {"allOf": leaves}
    common = _common_prefix(names)
    # Names that are the prefix itself come first (and go to "else"), then by next character.
    groups = Counter(n[len(common):len(common) + 1] for n in names)
    firsts = sorted(groups)
    right = firsts[_balance([groups[c] for c in firsts]):]
    assert all(re.fullmatch(r"[A-Za-z0-9._]", c) for c in right), right
    # Inside this branch the valid names share the prefix: its length is enough to skip it
    # (a name that is not one of them fails its leaf's check whatever branch it takes).
    skip = re.escape(common) if len(common) <= 4 else f".{{{len(common)}}}"
    chosen = {n for n in names if n[len(common):len(common) + 1] in right}
    return {"if": {"properties": {"type": {"pattern": f"^{skip}[{''.join(right)}]"}}},
            "then": switch({n: cases[n] for n in names if n in chosen}),
            "else": switch({n: cases[n] for n in names if n not in chosen})}


# How many definitions a branch checks one after the other rather than split further.
_SIDE_BY_SIDE = 4


def _common_prefix(names: list[str]) -> str:
    first, last = names[0], names[-1]  # sorted: what these share, all share
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _balance(counts: list[int]) -> int:
    """Where to cut counts (at least one on each side) into halves as equal as can be."""
    total, best, running = sum(counts), 1, 0
    for cut in range(1, len(counts)):
        running += counts[cut - 1]
        if abs(total - 2 * running) < abs(total - 2 * sum(counts[:best])):
            best = cut
    return best


def _op_def(defs: dict, info: dict) -> str:
    """The definition of the operations taking info's arguments: the generic Op, closed
    to exactly those arguments (and the keys every layer may carry)."""
    args = sorted(info["args"])
    name = f"ops.({','.join(args)})"
    if name not in defs:
        common = {key: True for key in defs["Op"]["properties"]}
        defs[name] = {
            "description": "a keras.ops operation taking "
            + (", ".join(args) if args else "only tensors"),
            "$ref": "#/$defs/Op",
            "properties": {**common, **{arg: {} for arg in args}},
            "additionalProperties": False,
        }
    return name


# ---- [defaults] --------------------------------------------------------------

def share_defaults(defs: dict) -> None:
    """[defaults]: a layer class's table lists its arguments; an alias refers to its
    class's; an argument's value is any value, described once."""
    props = defs["Defaults"]["properties"]
    for name, info in registry.LAYERS.items():
        if name not in props:
            continue  # a class without arguments
        node = props[name]
        table = next(m for m in node["anyOf"] if m.get("type") == "object")
        props[name] = {"$ref": "#/$defs/Defaults.layer", "propertyNames": table["propertyNames"]}
        for alias in info.get("aliases", []):
            props[alias] = {"$ref": f"#/$defs/Defaults/properties/{name}"}
    # A plugin's class: its arguments, like the layer's, are checked by specc --plugin.
    defs["Defaults"]["patternProperties"] = {plugin_type_pattern(): {"$ref": "#/$defs/Defaults.layer"}}
    defs["Defaults.layer"] = {
        "anyOf": [{"type": "object", "additionalProperties": {"$ref": "#/$defs/JsonValue"}},
                  {"type": "null"}],
        "description": "arguments every layer of this class gets unless it sets them",
    }
    for arg, node in props.items():
        if node.get("$ref") == "#/$defs/JsonValue":
            props[arg] = {"$ref": "#/$defs/Defaults.argument"}
    defs["Defaults.argument"] = {
        "$ref": "#/$defs/JsonValue",
        "description": "this argument of every layer that has it, unless the layer sets it",
    }


# ---- initializers, constraints, optimizers, schedules, losses, metrics ------

def share_object_arguments(defs: dict) -> None:
    """Each argument of these classes refers to one definition per union and argument
    name, Optimizer.epsilon, Metric.thresholds..., with only its default beside it."""
    for union in _OBJECT_UNIONS:
        members = [m["$ref"].removeprefix("#/$defs/") for m in defs[union]["oneOf"] if "$ref" in m]
        uses: dict[str, list[tuple[dict, str]]] = {}
        for member in members:
            for arg in defs[member]["properties"]:
                if arg != "type":
                    uses.setdefault(arg, []).append((defs[member]["properties"], arg))
        for arg, found in uses.items():
            _share_argument(defs, f"{union}.{arg}", union, arg, found)


_OBJECT_UNIONS = ("Initializer", "Constraint", "Optimizer", "Schedule", "Loss", "Metric")


def _share_argument(defs: dict, name: str, union: str, arg: str, found: list) -> None:
    """One definition per form the argument takes (name, name.2, ...), most used first."""
    texts = {props[key].get("description") for props, key in found}
    # spec.py writes "the ARG argument of keras.optimizers.CLASS" where it knows no better.
    text = texts.pop() if len(texts) == 1 else f"the {arg} argument of this {union.lower()}"
    forms: dict[str, list] = {}
    for props, key in found:
        forms.setdefault(_key(props[key], True), []).append((props, key))
    ranked = sorted(forms.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for i, (_, uses) in enumerate(ranked):
        _refer(defs, name + (f".{i + 1}" if i else ""), uses, text)
