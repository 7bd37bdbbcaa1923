"""The published JSON Schema, generated from the pydantic models.

    python -m specc.schema            # rewrite schemas/specc.schema.json
    python -m specc.schema --check    # exit 1 when the committed file is stale
"""

from __future__ import annotations

import json
import sys

from specc.validate import SCHEMA_PATH

SCHEMA_ID = "https://specc.dev/schemas/specc.schema.json"
REGENERATE = "python -m specc.schema"


def generate() -> dict:
    """The schema as a dict; ``generate()["title"] == "specc model spec"``."""
    from specc.spec import Spec

    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    schema = _dispatch_layers(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "specc model spec",
        "description": "A Keras model as data: inputs, layers, regularizers and compile settings.",
    }


def _dispatch_layers(schema: dict) -> dict:
    """Replace pydantic's 130-way oneOf for a layer by a switch on "type".

    A oneOf makes validators try every layer class and report "not valid under
    any of the given schemas"; a switch checks one class, and editors complete
    "type" from a single enum.
    """
    from specc import registry
    from specc.spec import LAYER_MODELS

    defs = schema["$defs"]
    refs = sorted(f"#/$defs/{name}" for name in [*LAYER_MODELS, "Apply", "Op", "Nested"])
    cases = [
        {
            "if": {"properties": {"type": {"enum": [name, *info.get("aliases", [])]}},
                   "required": ["type"]},
            "then": {"$ref": f"#/$defs/{name}"},
        }
        for name, info in registry.LAYERS.items()
    ] + [
        {"if": {"properties": {"type": {"pattern": "^ops\\."}}, "required": ["type"]},
         "then": {"$ref": "#/$defs/Op"}},
        {"if": {"properties": {"type": {"enum": ["Model", "Sequential", "Functional"]}},
                "required": ["type"]},
         "then": {"$ref": "#/$defs/Nested"}},
    ]
    defs["Layer"] = {
        "title": "Layer",
        "description": 'A Keras layer: "type" names the class, the other keys are its arguments; '
        'or {apply = "name"} to call an earlier layer again.',
        "type": "object",
        "properties": {"type": {"anyOf": [
            {"enum": [*registry.layer_type_names(), "Model", "Sequential", "Functional"]},
            {"pattern": "^ops\\.", "description": "a Keras operation node, e.g. ops.Add"},
        ]}},
        "if": {"required": ["apply"], "not": {"required": ["type"]}},
        "then": {"$ref": "#/$defs/Apply"},
        "else": {"required": ["type"], "allOf": cases},
    }

    def swap(node):
        if isinstance(node, dict):
            union = node.get("oneOf")
            if isinstance(union, list) and sorted(m.get("$ref", "") for m in union) == refs:
                rest = {k: v for k, v in node.items() if k != "oneOf"}
                return {**rest, "$ref": "#/$defs/Layer"}
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    return swap(schema)


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
