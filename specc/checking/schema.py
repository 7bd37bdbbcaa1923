"""The published JSON Schema, generated from the pydantic models.

    python -m specc.checking.schema            # rewrite schemas/specc.schema.json
    python -m specc.checking.schema --check    # exit 1 when the committed file is stale

pydantic's output is reshaped for editors and for speed: the unions every
layer repeats (regularizer, initializer, constraint, activation, dtype, None)
become shared definitions, the choice of a layer class becomes a switch on
"type", and numbers are checked to be finite as pydantic checks them.
"""

from __future__ import annotations

import json
import sys
from typing import get_args

from specc.checking.schema_file import SCHEMA_PATH

SCHEMA_ID = "https://specc.dev/schemas/specc.schema.json"
REGENERATE = "python -m specc.checking.schema"
# The largest finite double: a bound that rejects infinities.
_MAX = 1.7976931348623157e308


def generate() -> dict:
    """The schema as a dict; ``generate()["title"] == "specc model spec"``."""
    from pydantic.json_schema import models_json_schema

    from pydantic import create_model

    from specc.checking.spec import (LAYER_MODELS, LAZY_UNIONS, Apply, Block, BlockUse, Nested, Op,
                            SourceSpec, Spec, _defaults_model)

    # Layers are validated by a hand-written dispatch, so their models are listed
    # here for their definitions; schema._dispatch_layers writes the switch.
    # Editors read the spec as written (SourceSpec): blocks, defaults, templates.
    # The unions spec.py builds lazily are the fields of one more model, whose
    # definition _share turns into one shared definition per union.
    unions = create_model("LazyUnions", **{name: (union(), ...) for name, union in LAZY_UNIONS.items()})
    models = [SourceSpec, Spec, Apply, Op, Nested, BlockUse, Block, _defaults_model(),
              *LAYER_MODELS.values(), unions]
    _, schema = models_json_schema([(m, "validation") for m in models], by_alias=True,
                                   ref_template="#/$defs/{model}")
    schema = {"$ref": "#/$defs/SourceSpec", **schema}
    schema = _share(schema)
    del schema["$defs"]["LazyUnions"]
    schema = _dispatch_layers(schema)
    schema = _templates(schema)
    schema = _finite_numbers(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "specc model spec",
        "description": "A Keras model as data: inputs, layers, regularizers and compile settings.",
    }


def _walk(node, change):
    """Rebuild node bottom-up, letting change() replace any dict."""
    if isinstance(node, dict):
        return change({k: _walk(v, change) for k, v in node.items()})
    if isinstance(node, list):
        return [_walk(v, change) for v in node]
    return node


def _share(schema: dict) -> dict:
    """Name the unions that every layer repeats once, in $defs, and refer to them."""
    from specc.vocab import registry

    shared_defs: dict[str, dict] = {}
    enums = {"NoneToken": ["None", None], "ActivationName": registry.ACTIVATIONS,
             "DtypeName": registry.DTYPES}
    unions = {"#/$defs/L1": "Regularizer", "#/$defs/InitializerConstant": "Initializer",
              "#/$defs/ConstraintMaxNorm": "Constraint",
              f"#/$defs/Optimizer{next(iter(registry.OPTIMIZERS))}": "Optimizer",
              f"#/$defs/Schedule{next(iter(registry.SCHEDULES))}": "Schedule",
              f"#/$defs/Loss{next(iter(registry.LOSS_CLASSES))}": "Loss",
              f"#/$defs/Metric{next(iter(registry.METRIC_CLASSES))}": "Metric"}

    def share(name: str, node: dict, keys: tuple) -> dict:
        assert name not in schema["$defs"], f"{name} would replace a definition"
        shared = {k: v for k, v in node.items() if k in keys}
        shared_defs[name] = {"title": name, **shared, **_SHARED_DOCS.get(name, {})}
        return {**{k: v for k, v in node.items() if k not in shared}, "$ref": f"#/$defs/{name}"}

    def change(node: dict) -> dict:
        for name, values in enums.items():
            if node.get("enum") == values:
                # The None token's description is its own; an argument's stays with it.
                keys = ("enum", "type", "description") if name == "NoneToken" else ("enum", "type")
                return share(name, node, keys)
        union = node.get("oneOf")
        refs = [m.get("$ref") for m in union if isinstance(m, dict)] if isinstance(union, list) else []
        name = next((unions[r] for r in refs if r in unions), None)
        # A property (it has a title) keeps its description; the union's own goes along.
        keys = ("oneOf",) if "title" in node else ("oneOf", "description")
        return share(name, node, keys) if name else node

    schema = _walk(schema, change)
    schema["$defs"].update(shared_defs)
    if "JsonValue" in schema["$defs"]:
        schema["$defs"]["JsonValue"]["description"] = "any value, passed to Keras as written"
    return schema


_SHARED_DOCS = {
    "NoneToken": {"description": 'Keras None: TOML has no null, so it is written "None"'},
    "ActivationName": {"description": "a Keras activation function name", "examples": ["relu"]},
    "DtypeName": {"description": "a Keras dtype name", "examples": ["float32"]},
    "Initializer": {
        "description": 'a Keras initializer: its name ("he_normal") or a table with its class '
        'and arguments ({type = "HeNormal", seed = 7})',
        "examples": ["he_normal", {"type": "HeNormal", "seed": 7}],
    },
    "Constraint": {
        "description": 'a Keras constraint: its name ("non_neg") or a table with its class and '
        'arguments ({type = "MaxNorm", max_value = 3.0})',
        "examples": ["non_neg", {"type": "MaxNorm", "max_value": 3.0}],
    },
    "Optimizer": {
        "description": 'a Keras optimizer: its name ("adam") or a table with its class and '
        'arguments ({type = "Adam", learning_rate = 0.001})',
        "examples": ["adam", {"type": "Adam", "learning_rate": 0.001}],
    },
    "Schedule": {
        "description": "a learning-rate schedule: a table with its keras.optimizers.schedules "
        'class and arguments ({type = "ExponentialDecay", initial_learning_rate = 0.1, '
        "decay_steps = 1000, decay_rate = 0.96})",
        "examples": [{"type": "ExponentialDecay", "initial_learning_rate": 0.1,
                      "decay_steps": 1000, "decay_rate": 0.96}],
    },
    "Loss": {
        "description": 'a Keras loss: its name ("mse") or a table with its class and arguments '
        '({type = "SparseCategoricalCrossentropy", from_logits = true})',
        "examples": ["mse", {"type": "SparseCategoricalCrossentropy", "from_logits": True}],
    },
    "Metric": {
        "description": 'a Keras metric: its name ("accuracy") or a table with its class and '
        'arguments ({type = "AUC", num_thresholds = 50})',
        "examples": ["accuracy", {"type": "AUC", "num_thresholds": 50}],
    },
    "Regularizer": {
        "examples": ["l2", {"l2": 0.01}, {"l1": 1e-5, "l2": 1e-4},
                     {"orthogonal": 0.01, "mode": "rows"}, {"expr": "0.01 * sum(square(w))"}],
    },
}


def _dispatch_layers(schema: dict) -> dict:
    """Replace pydantic's oneOf over every layer class by a switch on "type".

    A oneOf makes validators try every class and report "not valid under any
    of the given schemas"; a switch checks one class, and editors complete
    "type" from a single enum. The switch is a balanced tree of if/then/else,
    so a layer costs a handful of checks instead of one per class.
    """
    from specc.vocab import registry
    from specc.checking.spec import LAYER_MODELS, RECURRENT, Nested

    defs = schema["$defs"]
    unions = {
        "Layer": sorted(f"#/$defs/{name}" for name in [*LAYER_MODELS, "Apply", "Op", "Nested"]),
        "RecurrentLayer": sorted(f"#/$defs/{name}" for name in RECURRENT),
    }
    cases = [([name, *info.get("aliases", [])], f"#/$defs/{name}")
             for name, info in registry.LAYERS.items()]
    cases.append((list(get_args(Nested.model_fields["type"].annotation)), "#/$defs/Nested"))
    cases += [([f"ops.{name}"], f"#/$defs/{_op_def(defs, name, info)}")
              for name, info in registry.OPS.items()]
    names = sorted(n for names, _ in cases for n in names)
    defs["Layer"] = {
        "title": "Layer",
        "description": 'A Keras layer: "type" names the class, the other keys are its arguments; '
        'or {apply = "name"} to call an earlier layer again, or {block = "name"} to use a block.',
        "type": "object",
        "properties": {"type": {"description": "the Keras layer class", "enum": names}},
        "if": {"required": ["apply"], "not": {"required": ["type"]}},
        "then": {"$ref": "#/$defs/Apply"},
        "else": {
            "if": {"required": ["block"], "not": {"required": ["type"]}},
            "then": {"$ref": "#/$defs/BlockUse"},
            "else": {"required": ["type"], **_switch(sorted(cases))},
        },
    }
    recurrent = sorted(case for case in cases if case[1] in unions["RecurrentLayer"])
    defs["RecurrentLayer"] = {
        "title": "RecurrentLayer",
        "description": "A layer that runs over time steps, forwards or backwards: "
        f"{', '.join(RECURRENT)}.",
        "type": "object",
        "properties": {"type": {"description": "the Keras layer class",
                                "enum": sorted(n for names, _ in recurrent for n in names)}},
        "required": ["type"],
        **_switch(recurrent),
    }

    def change(node: dict) -> dict:
        if "x-specc-union" in node:
            name = node["x-specc-union"]
            return {**{k: v for k, v in node.items() if k != "x-specc-union"},
                    "$ref": f"#/$defs/{name}"}
        union = node.get("oneOf")
        refs = sorted(m.get("$ref", "") for m in union) if isinstance(union, list) else None
        name = next((name for name, members in unions.items() if refs == members), None)
        if name:
            return {**{k: v for k, v in node.items() if k != "oneOf"}, "$ref": f"#/$defs/{name}"}
        return node

    return _walk(schema, change)


# What every layer table may carry besides its arguments (specc/expanding/expand.py reads them).
_LAYER_EXTRAS = {
    "repeat": {"description": "this layer this many times in a chain; {i} counts from 0 in "
               "its names and arguments",
               "anyOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/Template"}]},
    "if": {"description": "leave the layer out when false; a layer that names it in its "
           "inputs takes its input instead",
           "anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/Template"}]},
    "defaults": {"description": "false: none of [defaults] applies to this layer",
                 "const": False},
}
_META = ("title", "description", "default", "examples")


def _templates(schema: dict) -> dict:
    """Let every layer argument be a template ("{4 * filters}"), and every layer carry
    repeat, if and defaults; [defaults] gets its definition."""
    from specc.checking.spec import LAYER_MODELS

    defs = schema["$defs"]
    template = defs["BlockUse"]["properties"]["repeat"]["anyOf"]
    defs["Template"] = next({"title": "Template", **m} for m in template
                            if m.get("type") == "string")
    for name in [*LAYER_MODELS, "Nested", "Apply"]:
        props = defs[name]["properties"]
        for arg, node in props.items():
            if arg != "type":
                props[arg] = _or_template(node)
        props.update(_LAYER_EXTRAS)
        # [defaults] may give any argument, a required one too: the checks after
        # expansion report one that is still missing.
        if "required" in defs[name] and name in LAYER_MODELS:
            kept = [r for r in defs[name]["required"] if r == "type"]
            defs[name]["required"] = kept
    for name in ("InputSpec", "ModelSection"):
        props = defs[name]["properties"]
        for arg, node in props.items():
            props[arg] = _or_template(node)
    for node in defs["Op"]["properties"].values():
        node.update(_or_template(node))
    defs["Op"]["properties"].update(_LAYER_EXTRAS)

    def change(node: dict) -> dict:
        if node.pop("x-specc-defaults", None):
            return {k: v for k, v in node.items() if k in _META} | {"$ref": "#/$defs/Defaults"}
        return node

    return _walk(schema, change)


def _or_template(node: dict) -> dict:
    """node, or a template; the items of a list too (target_shape = [7, "{side}"])."""
    if not isinstance(node, dict):
        return node
    node = _items_or_template(node)
    meta = {k: v for k, v in node.items() if k in _META}
    rest = {k: v for k, v in node.items() if k not in _META}
    if rest.get("$ref") == "#/$defs/Template":
        return node
    ref = {"$ref": "#/$defs/Template"}
    if list(rest) == ["anyOf"]:
        return {**meta, "anyOf": [*rest["anyOf"], ref]}
    return {**meta, "anyOf": [rest, ref]} if rest else node


def _items_or_template(node: dict) -> dict:
    """The items of a list (and of the lists in a union) may each be a template."""
    if isinstance(node.get("items"), dict):
        return {**node, "items": _or_template(node["items"])}
    if isinstance(node.get("anyOf"), list):
        return {**node, "anyOf": [_items_or_template(m) if isinstance(m, dict) else m
                                  for m in node["anyOf"]]}
    return node


def _switch(cases: list[tuple[list[str], str]]) -> dict:
    """if type in (first half) then (switch on it) else (switch on the second half)."""
    if len(cases) == 1:
        names, ref = cases[0]
        return {"if": _type_in(names), "then": {"$ref": ref}}
    half = len(cases) // 2
    left, right = cases[:half], cases[half:]
    return {"if": _type_in([n for names, _ in left for n in names]),
            "then": _switch(left), "else": _switch(right)}


def _type_in(names: list[str]) -> dict:
    match = {"const": names[0]} if len(names) == 1 else {"enum": names}
    return {"properties": {"type": match}, "required": ["type"]}


def _op_def(defs: dict, name: str, info: dict) -> str:
    """One operation's definition: the generic Op, closed to exactly its arguments."""
    key = f"ops.{name}"
    known = {"type": {"const": key}, **{k: True for k in defs["Op"]["properties"] if k != "type"}}
    defs[key] = {
        "title": key,
        "description": f"keras.ops operation {info['class']}",
        "$ref": "#/$defs/Op",
        "properties": {**known, **{arg: {"title": arg} for arg in info["args"]}},
        "additionalProperties": False,
    }
    return key


def _finite_numbers(schema: dict) -> dict:
    """Every number must be finite, as pydantic requires.

    The bounds reject infinities. NaN passes every comparison in Python's
    jsonschema, so a number is also required not to be both >= 0 and < 0,
    which only NaN is; JSON itself has no NaN, but TOML does.
    """

    def change(node: dict) -> dict:
        if node.get("type") != "number":
            return node
        bounds = {"minimum": -_MAX, "maximum": _MAX}
        if any(k in node for k in ("minimum", "exclusiveMinimum")):
            bounds.pop("minimum")
        if any(k in node for k in ("maximum", "exclusiveMaximum")):
            bounds.pop("maximum")
        return {**node, **bounds, "not": {"minimum": 0, "exclusiveMaximum": 0}}

    return _walk(schema, change)


def render() -> str:
    return json.dumps(generate(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != text:
            print(f"{SCHEMA_PATH.name} is stale: run {REGENERATE}")
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
