"""The published JSON Schema, generated from the pydantic models.

    python -m specc.checking.schema            # rewrite schemas/specc.schema.json
    python -m specc.checking.schema --check    # exit 1 when the committed file is stale

pydantic's output is reshaped for editors, for speed and for size: the unions
every layer repeats (regularizer, initializer, constraint, activation, dtype,
None) become shared definitions, so do the kinds of arguments
(specc/checking/schema_shared.py), the choice of a layer class becomes a switch
on "type", and numbers are checked to be finite as pydantic checks them. The
file grows linearly with the number of classes (tests/test_schema.py).
"""

from __future__ import annotations

import json
import sys

from specc.checking import schema_shared
from specc.checking.schema_shared import def_name
from specc.checking.schema_file import SCHEMA_PATH
from specc.vocab.values import NONE_DOC

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
    # here for their definitions; schema_shared.dispatch_layers writes the switch.
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
    schema = _union_refs(schema)
    schema = _templates(schema)
    schema = _finite_numbers(schema)
    defs = schema["$defs"]
    schema_shared.share_layer_arguments(defs)
    schema_shared.dispatch_layers(defs)
    schema_shared.share_defaults(defs)
    schema_shared.share_object_arguments(defs)
    schema_shared.drop_property_titles(defs)
    return _ref_siblings({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "specc model spec",
        "description": "A Keras model as data: inputs, layers, regularizers and compile settings.",
    })


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
    from specc.vocab.values import NONE_WORD

    shared_defs: dict[str, dict] = {}
    enums = {"NoneToken": [NONE_WORD, None], "ActivationName": registry.ACTIVATIONS,
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
    "NoneToken": {"description": NONE_DOC},
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


def _union_refs(schema: dict) -> dict:
    """The markers spec.py leaves for its hand-made unions become references, and the
    oneOf pydantic writes over every layer class a reference to the switch on "type"
    (schema_shared.dispatch_layers writes both switches)."""
    from specc.checking.spec import LAYER_MODELS, RECURRENT

    unions = {
        "Layer": sorted(f"#/$defs/{def_name(name)}"
                        for name in [*LAYER_MODELS, "Apply", "Op", "Nested"]),
        "RecurrentLayer": sorted(f"#/$defs/{def_name(name)}" for name in RECURRENT),
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
_EXTRA_REFS = {key: {"$ref": f"#/$defs/Layer.{key}"} for key in _LAYER_EXTRAS}
_META = ("title", "description", "default", "examples")


def _templates(schema: dict) -> dict:
    """Let every layer argument be a template ("{4 * filters}"), and every layer carry
    repeat, if and defaults; [defaults] gets its definition."""
    from specc.checking.spec import LAYER_MODELS

    defs = schema["$defs"]
    template = defs["BlockUse"]["properties"]["repeat"]["anyOf"]
    defs["Template"] = next({"title": "Template", **m} for m in template
                            if m.get("type") == "string")
    for layer in [*LAYER_MODELS, "Nested", "Apply"]:
        name = def_name(layer)
        props = defs[name]["properties"]
        for arg, node in props.items():
            if arg != "type":
                props[arg] = _or_template(node)
        props.update(_EXTRA_REFS)
        # [defaults] may give any argument, a required one too: the checks after
        # expansion report one that is still missing.
        if "required" in defs[name] and layer in LAYER_MODELS:
            kept = [r for r in defs[name]["required"] if r == "type"]
            defs[name]["required"] = kept
    for name in ("InputSpec", "ModelSection"):
        props = defs[name]["properties"]
        for arg, node in props.items():
            props[arg] = _or_template(node)
    for node in defs["Op"]["properties"].values():
        node.update(_or_template(node))
    defs["Op"]["properties"].update(_EXTRA_REFS)
    defs.update({f"Layer.{key}": node for key, node in _LAYER_EXTRAS.items()})

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


def _finite_numbers(schema: dict) -> dict:
    """Every number must be finite, as pydantic requires.

    The bounds reject infinities. NaN passes every comparison in Python's
    jsonschema, so a number is also required not to be both >= 0 and < 0,
    which only NaN is; JSON itself has no NaN, but TOML does. (Written in place:
    a shared definition would need a description, which editors would show on
    hover instead of the argument's.)
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


def _ref_siblings(schema: dict) -> dict:
    """A reference goes into an allOf where its siblings check something, or repeat a
    key of its target.

    Some validators (taplo's, for Even Better TOML) read a $ref as older drafts
    did, ignoring what is beside it. Editors merge a $ref's target into the schema
    around it and disagree on which side wins (VS Code's language service changed
    its mind); with no key on both sides, every editor shows the same description
    and default.
    """
    def change(node: dict) -> dict:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        target = schema
        for key in ref.removeprefix("#/").split("/"):
            target = target[key]
        if not set(node) & set(target) - {"$ref"} and set(node) <= {"$ref", *_META}:
            return node
        return {**{k: v for k, v in node.items() if k != "$ref"}, "allOf": [{"$ref": ref}]}

    return _walk(schema, change)


def render() -> str:
    """The schema as committed: one line per definition, each written compactly.

    Indenting every level made up two fifths of the file; a line per definition
    still diffs definition by definition.
    """
    schema = generate()

    def compact(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    lines = [f"{compact(key)}:{compact(value)}" for key, value in sorted(schema.items())
             if key != "$defs"]
    defs = [f" {compact(key)}:{compact(value)}" for key, value in sorted(schema["$defs"].items())]
    return '{"$defs":{\n' + ",\n".join(defs) + "\n},\n" + ",\n".join(lines) + "\n}\n"


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
