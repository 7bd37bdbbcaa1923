"""The spec as written: the JSON Schema's check of what the typed spec does not vouch for.

The pydantic models check the flat spec that expansion made. The schema
describes the file as written, so where expansion rewrote the file, the source
is checked too: [blocks] and [constants], layers a repeat, an if, a block use
or a template made, and [defaults]. A layer written plainly and left as it was
(defaults only added) was checked in its flat form already, argument by
argument as the schema checks it; so was any other section left as it was.
Most big specs are of that kind (what ``specc export`` writes): their [defaults]
names are then checked here directly, and jsonschema is not even imported.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from specc.checking.schema_file import SCHEMA_PATH
from specc.checking.translate import unknown_argument
from specc.errors import Problem
from specc.expanding.expand import SECTIONS
from specc.expanding.instances import LAYER_KEYS
from specc.reading.load import Document
from specc.reading.places import place
from specc.vocab import registry


def source_problems(source: Document, flat: Document) -> list[Problem]:
    """What is wrong in the source of a flat spec the models accepted."""
    rewritten = _rewritten_layers(source, flat)
    if rewritten is not None and not rewritten and _sections_kept(source.data, flat.data):
        return _default_name_problems(source)
    return schema_problems(source, rewritten)


def schema_problems(doc: Document, layers: list[int] | None = None) -> list[Problem]:
    """The JSON Schema's problems with doc; with ``layers``, with those of its layers
    only (and the first: the schema wants one). A misspelt argument in [defaults] is
    named with a suggestion, rather than with the schema's list of every argument."""
    data = _without_plugin_layers(doc.data)
    if layers is not None:
        layers = sorted({0, *layers})
        data = {**data, "layers": [data["layers"][i] for i in layers]}
    problems = []
    for error in _schema_errors(data):
        path = tuple(error.absolute_path)
        if path[:1] == ("defaults",) and "propertyNames" in error.absolute_schema_path:
            continue  # a misspelt argument in [defaults]: said with a suggestion below
        if layers is not None and path[:1] == ("layers",) and len(path) > 1:
            path = ("layers", layers[path[1]], *path[2:])
        problems.append(place(doc, path, f"{error.message} (JSON Schema)"))
    return problems + _default_name_problems(doc)


# The keys of a layer table the schema checks whatever its type.
_PLACEHOLDER_KEYS = ("name", "inputs", "call", *LAYER_KEYS)


def _without_plugin_layers(data: Any) -> Any:
    """The data with each layer of a plugin's class (which the committed schema cannot
    know) as an Identity layer of the same name, inputs and expansion keys, and
    [defaults] without their tables: the typed spec checked their arguments."""
    plugins = {name for name, info in registry.LAYERS.items() if "plugin" in info}
    if not plugins:
        return data

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("type")
        if isinstance(kind, str) and kind in plugins:
            return {"type": "Identity", **{k: walk(value[k]) for k in _PLACEHOLDER_KEYS
                                           if k in value}}
        return {k: walk(v) for k, v in value.items()}

    data = walk(data)
    if isinstance(data, dict) and isinstance(data.get("defaults"), dict):
        data["defaults"] = {k: v for k, v in data["defaults"].items() if k not in plugins}
    return data


@cache
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(data: Any) -> list:
    # jsonschema recurses about 30 frames per level of the data; load refuses
    # data nested more than MAX_DEPTH deep, which this limit covers.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))
    try:
        return list(_validator().iter_errors(data))
    finally:
        sys.setrecursionlimit(limit)


# ---- what the flat spec vouches for ---------------------------------------------


def _rewritten_layers(source: Document, flat: Document) -> list[int] | None:
    """The indexes of the source's layers that expansion rewrote (None: the layers
    cannot be matched to the flat ones; check them all)."""
    data = source.data
    layers = data.get("layers") if isinstance(data, dict) else None
    origins = getattr(flat, "origins", None)
    if not isinstance(layers, list) or not layers or origins is None:
        return None
    flat_of = {origin.path[1]: path[1] for path, origin in origins.items()
               if len(path) == 2 and not origin.uses and len(origin.path) == 2
               and origin.path[0] == "layers"}
    flat_layers = flat.data.get("layers") or []
    return [i for i, layer in enumerate(layers)
            if not _unchanged(layer, flat_layers, flat_of.get(i))]


def _unchanged(layer: Any, flat_layers: list, k: int | None) -> bool:
    """Whether a source layer is its flat layer k less some arguments (its defaults)."""
    if k is None or not isinstance(layer, dict) or k >= len(flat_layers):
        return False
    if any(key in layer for key in (*LAYER_KEYS, "block")):
        return False
    flat = flat_layers[k]
    return isinstance(flat, dict) and all(
        key in flat and _same(value, flat[key]) for key, value in layer.items())


def _sections_kept(source: dict, flat: dict) -> bool:
    """Whether every section but [[layers]] and [defaults] is in the flat spec as written."""
    return all(key in ("layers", "defaults") or (
        key not in SECTIONS and key in flat and _same(value, flat[key]))
        for key, value in source.items())


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types throughout (True == 1 in Python, not to the schema)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def _default_name_problems(source: Document) -> list[Problem]:
    """The schema's only rule on [defaults] that expansion and the models leave out:
    an argument given for a layer type (that no layer of the type may have used) is
    one of the type's arguments."""
    section = source.data.get("defaults") if isinstance(source.data, dict) else None
    if not isinstance(section, dict):
        return []
    problems = []
    for key, table in section.items():
        layer_type = registry.canonical_layer(key)
        if layer_type is None or not isinstance(table, dict):
            continue  # expansion has refused it already
        args = registry.layer_args(layer_type)
        for arg in table:
            if arg not in args:
                others = [a for a in sorted(args) if a not in table]
                message, suggestion = unknown_argument(layer_type, arg, others)
                problems.append(place(source, ("defaults", key, arg), message, key=True,
                                      suggestion=suggestion))
    return problems
