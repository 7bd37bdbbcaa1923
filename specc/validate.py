"""Plain data -> typed Spec: the JSON Schema check, the pydantic models, the wiring.

Every problem is collected before anything is reported, and each is placed at
the line and column of the key or value at fault.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from specc import registry, spec as models
from specc.errors import Problem, SpecError, suggest
from specc.load import Document, format_path, load_document

_HERE = Path(__file__).resolve().parent
# A checkout has schemas/ beside the package; an installed wheel carries it inside.
SCHEMA_PATH = next(
    (p for p in (_HERE.parent / "schemas" / "specc.schema.json",
                 _HERE / "schemas" / "specc.schema.json") if p.exists()),
    _HERE.parent / "schemas" / "specc.schema.json",
)

_NOUNS = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "literal_error": "one of the allowed names",
}
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def load(path) -> models.Spec:
    """Read, check and type a spec file; raises SpecError listing every problem.

    >>> spec = load("specs/tutorial_dropout.toml")  # doctest: +SKIP
    """
    return validate_document(load_document(path))


def validate_document(doc: Document) -> models.Spec:
    """Run the schema, model and wiring checks over a parsed document."""
    schema_problems = [_schema_problem(doc, e) for e in _schema_errors(doc.data)]
    try:
        spec = models.Spec.model_validate(doc.data)
    except ValidationError as exc:
        problems = _model_problems(doc, exc) or schema_problems
        raise SpecError(_in_file_order(doc, problems)) from None
    if schema_problems:
        raise SpecError(_in_file_order(doc, schema_problems))
    from specc.graph import wiring_problems

    problems = [
        _placed(doc, path, message, suggestion=suggestion)
        for path, message, suggestion in wiring_problems(spec)
    ]
    if problems:
        raise SpecError(_in_file_order(doc, problems))
    spec._document = doc
    return spec


def place(doc: Document | None, problems: list[Problem]) -> list[Problem]:
    """Give problems found by later stages (which know only the path) a file and line."""
    if doc is None:
        return problems
    placed = []
    for p in problems:
        path = tuple(int(x) if x.isdigit() else x for x in re.findall(r"[^.\[\]]+", p.path))
        line, column = doc.locate(path)
        placed.append(Problem(p.message, p.path, p.file or doc.file, p.line or line,
                              p.column or column, p.suggestion))
    return placed


# ---- JSON Schema ----------------------------------------------------------

@cache
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(data: Any) -> list:
    return list(_validator().iter_errors(data))


def _schema_problem(doc: Document, error) -> Problem:
    path = tuple(error.absolute_path)
    return _placed(doc, path, f"{error.message} (JSON Schema)")


# ---- pydantic -------------------------------------------------------------

def _model_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    found: dict[tuple, list[tuple[dict, tuple]]] = {}
    for error in exc.errors():
        if error["type"] == "none_required":
            continue  # the "None" branch of an optional argument: never the useful error
        path = _data_path(doc.data, error["loc"], keep_last=error["type"] == "missing")
        found.setdefault(path, []).append((error, error["loc"]))
    # A union reports the same value once per branch; keep the deepest paths.
    paths = [p for p in found if not any(q[: len(p)] == p and q != p for q in found)]
    problems: list[Problem] = []
    extras = {p[:-1]: p[-1] for p in paths if found[p][0][0]["type"] == "extra_forbidden"}
    for path in paths:
        errors = found[path]
        error, loc = errors[0]
        if error["type"] == "missing" and _is_misspelling(path, extras, loc):
            continue
        problems.append(_problem(doc, path, error, loc, errors))
    return problems


def _data_path(data: Any, loc: tuple, keep_last: bool) -> tuple:
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


def _is_misspelling(path: tuple, extras: dict, loc: tuple) -> bool:
    extra = extras.get(path[:-1])
    return extra is not None and suggest(extra, _fields_at(loc[:-1], path[:-1])) == path[-1]


def _problem(doc: Document, path: tuple, error: dict, loc: tuple, errors: list) -> Problem:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _placed(doc, path, "missing required argument", at_parent=True)
    if kind == "extra_forbidden":
        choices = _fields_at(loc[:-1], path[:-1])
        owner = _owner(loc[:-1], path[:-1])
        return _placed(doc, path, f"unknown argument '{path[-1]}' for {owner}",
                       key=True, suggestion=suggest(path[-1], choices))
    if kind == "union_tag_not_found":
        return _unknown_tag(doc, path, value, ctx)
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if len(expected) > 6:
            noun = str(path[-1]).replace("_", " ") if path else "value"
            return _placed(doc, path, f"unknown {noun} {_show(value)}",
                           suggestion=suggest(value, expected))
        listed = ", ".join(f"'{e}'" for e in expected)
        return _placed(doc, path, f"expected one of {listed}, received {_show(value)}",
                       suggestion=suggest(value, expected))
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        noun = "an integer" if isinstance(value, int) and "float" not in str(loc) else "a finite number"
        return _placed(doc, path, f"expected {noun} {symbol} {ctx[key]}, received {_show(value)}")
    if kind == "finite_number":
        return _placed(doc, path, f"expected a finite number, received {_show(value)}")
    if kind == "too_short":
        return _placed(doc, path, "expected at least one entry")
    if kind == "expr":
        column = _expr_column(doc, path, ctx.get("column"))
        return _placed(doc, path, error["msg"], suggestion=ctx.get("suggestion"), column=column)
    if kind in _NOUNS:
        nouns = list(dict.fromkeys(_NOUNS[e["type"]] for e, _ in errors if e["type"] in _NOUNS))
        return _placed(doc, path, f"expected {' or '.join(nouns)}, received {_show(value)}")
    return _placed(doc, path, error["msg"][0].lower() + error["msg"][1:])


def _unknown_tag(doc: Document, path: tuple, value: Any, ctx: dict) -> Problem:
    what = {"_layer_tag()": "layer type"}.get(ctx.get("discriminator"))
    if what is None:
        what = "initializer" if "initializer" in str(path) else "constraint"
    if not isinstance(value, dict):
        return _placed(doc, path, f"expected a table with a 'type', received {_show(value)}")
    if "type" not in value:
        return _placed(doc, path, "missing 'type': the Keras class name", at_parent=False)
    name = value["type"]
    where = (*path, "type")
    if what == "layer type" and name in registry.REFUSED:
        return _placed(doc, where, f"layer type '{name}' is not supported: {registry.REFUSED[name]}")
    choices = {
        "layer type": registry.layer_type_names(),
        "initializer": list(registry.INITIALIZERS),
        "constraint": list(registry.CONSTRAINTS),
    }[what]
    return _placed(doc, where, f"unknown {what} {_show(name)}", suggestion=suggest(name, choices))


def _model_at(loc: tuple, path: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the key at loc (found from its union tag or place)."""
    for part in reversed(loc):
        if isinstance(part, str) and part in models.LAYER_MODELS:
            return models.LAYER_MODELS[part]
        if part == "Apply":
            return models.Apply
        if isinstance(part, str) and part in models.REGULARIZER_TAGS:
            return None
    top = {(): models.Spec, ("model",): models.ModelSection, ("compile",): models.CompileSpec}
    if path in top:
        return top[path]
    if len(path) == 2 and path[0] == "inputs":
        return models.InputSpec
    return None


def _fields_at(loc: tuple, path: tuple) -> list[str]:
    if any(isinstance(p, str) and p in models.REGULARIZER_TAGS for p in loc):
        return ["l1", "l2", "orthogonal", "mode", "expr", "custom"]
    model = _model_at(loc, path)
    if model is None:
        tag = next((p for p in reversed(loc) if isinstance(p, str) and p in models.UNION_TAGS), None)
        table = {**registry.INITIALIZERS, **registry.CONSTRAINTS, **registry.OPTIMIZERS}
        return ["type", *table.get(tag, {}).get("args", {})]
    return [f.alias or n for n, f in model.model_fields.items()]


def _owner(loc: tuple, path: tuple) -> str:
    tag = next((p for p in reversed(loc) if isinstance(p, str) and p in models.UNION_TAGS), None)
    if tag in models.REGULARIZER_TAGS:
        return "a regularizer"
    if tag:
        return tag
    return {(): "the spec", ("model",): "[model]", ("compile",): "[compile]"}.get(
        path, "[[inputs]]" if path[:1] == ("inputs",) else "this table"
    )


def _expr_column(doc: Document, path: tuple, offset: int | None) -> int | None:
    line, column = doc.locate(path)
    if column is None or offset is None:
        return column
    return column + offset  # +1 for the opening quote, -1 for a 1-based offset


# ---- placing and ordering -------------------------------------------------

def _placed(doc: Document, path: tuple, message: str, *, key: bool = False,
            at_parent: bool = False, suggestion: str | None = None,
            column: int | None = None) -> Problem:
    line, col = doc.locate(path[:-1] if at_parent else path, key=key)
    return Problem(message, path=format_path(path), file=doc.file, line=line,
                   column=column if column is not None else col, suggestion=suggestion)


def _in_file_order(doc: Document, problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value)
