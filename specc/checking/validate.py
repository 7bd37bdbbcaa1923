"""Plain data -> typed Spec: the JSON Schema check, the pydantic models, the wiring.

Every problem is collected before anything is reported, and each is placed at
the line and column of the key or value at fault.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specc.vocab import keras_version, registry
from specc.checking import spec as models
from specc.collector import paused
from specc.errors import Problem, SpecError, limited_suggestions, suggest
from specc.reading.load import Document, format_path, load_document, plain_data_problems

_HERE = Path(__file__).resolve().parent.parent  # the specc package
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
}
# Tables whose keys are a Keras class's constructor arguments.
_OBJECT_KINDS = ("layer", "initializer", "constraint", "optimizer", "schedule", "loss", "metric")
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def load(path, overrides=()) -> models.Spec:
    """Read, check and type a spec file; raises SpecError listing every problem.

    ``overrides`` change values as ``--set`` does, before anything is checked:

    >>> spec = load("specs/tutorial_dropout.toml", overrides=["layers.dense.units=128"])
    >>> spec.layers[0].units
    128
    """
    with paused():  # linear time on big specs (see specc/collector.py)
        doc = load_document(path)
        if overrides:
            from specc.reading.overrides import apply

            doc = apply(doc, list(overrides))
        return validate_document(doc)


def validate_document(doc: Document) -> models.Spec:
    """Run the schema, model and wiring checks over a parsed document (refused when
    the installed Keras is one the catalog does not describe)."""
    keras_version.check_installed()
    with limited_suggestions():
        return _validate_document(doc)


def _validate_document(doc: Document) -> models.Spec:
    limits = plain_data_problems(doc.data)
    if limits:
        raise SpecError(_placed(doc, path, message) for path, message in limits)
    from specc.expanding.expand import expand_document

    source, doc = doc, expand_document(doc)
    try:
        spec = models.Spec.model_validate(doc.data)
    except ValidationError as exc:
        # The JSON Schema only speaks when pydantic's errors all fold away: the two
        # accept and reject the same files (tests/test_corpus.py), and walking the
        # schema costs more than the rest of validate together.
        problems = _model_problems(doc, exc) or _schema_problems(source)
        raise SpecError(_in_file_order(doc, problems)) from None
    # The schema describes the file as written: where expansion rewrote it, the
    # source is checked too (blocks and defaults the typed spec no longer holds).
    if source is not doc and (problems := _schema_problems(source)):
        raise SpecError(_in_file_order(doc, problems))
    from specc.checking.graph import call_problems, compile_problems, wiring_problems

    problems = [
        _placed(doc, path, message, suggestion=suggestion)
        for path, message, suggestion in wiring_problems(spec)
    ] + [
        _placed(doc, path, message, key=True, suggestion=suggestion)
        for path, message, suggestion in call_problems(spec)
    ]
    if not problems:  # the outputs' names are known only once the wiring holds
        problems = [_placed(doc, path, message, suggestion=suggestion)
                    for path, message, suggestion in compile_problems(spec)]
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
        override = doc.override(path)
        if override and not (p.line or p.override):
            placed.append(replace(p, file=p.file or doc.file, override=override))
            continue
        line, column = doc.locate(path)
        shown, note = doc.origin(path) if path else (path, "")
        placed.append(replace(p, message=p.message + note,
                              path=format_path(shown) if path else p.path,
                              file=p.file or doc.file, line=p.line or line,
                              column=p.column or column))
    return placed


# ---- JSON Schema ----------------------------------------------------------

@cache
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_problems(doc: Document) -> list[Problem]:
    return [_schema_problem(doc, e) for e in _schema_errors(doc.data)]


def _schema_errors(data: Any) -> list:
    # jsonschema recurses about 30 frames per level of the data; load refuses
    # data nested more than MAX_DEPTH deep, which this limit covers.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))
    try:
        return list(_validator().iter_errors(data))
    finally:
        sys.setrecursionlimit(limit)


def _schema_problem(doc: Document, error) -> Problem:
    path = tuple(error.absolute_path)
    return _placed(doc, path, f"{error.message} (JSON Schema)")


# ---- pydantic -------------------------------------------------------------

_REGULARIZER_KEYS = ["l1", "l2", "orthogonal", "mode", "expr", "custom"]
# The key that picked a regularizer's form (spec._regularizer_tag), for "cannot be combined".
_REGULARIZER_FORM_KEY = {"L1": "l1", "L2": "l2", "L1L2": "l2", "Orthogonal": "orthogonal",
                         "Expr": "expr"}


def _model_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    found: dict[tuple, list[dict]] = {}
    for error in exc.errors():
        path = _data_path(doc.data, error["loc"], keep_last=error["type"] == "missing")
        found.setdefault(path, []).append(error)
    # A union reports the same value once per branch; keep the deepest paths.
    above = {q[:n] for q in found for n in range(len(q))}
    paths = [p for p in found if p not in above]
    problems: list[Problem] = []
    regularizers: dict[tuple, list[tuple]] = {}
    extras = {p for p in paths if found[p][0]["type"] == "extra_forbidden"}
    for path in paths:
        first = next((e for e in found[path] if e["type"] != "none_required"), found[path][0])
        if first["type"] == "missing" and _misspelt(doc, path, extras):
            continue  # "unknown argument 'unit'. Did you mean 'units'?" says it already
        if first["type"] in ("missing", "extra_forbidden") and _kind(path[:-1]) == "regularizer":
            regularizers.setdefault(path[:-1], []).append((path[-1], first["type"]))
            continue
        problems.append(_problem(doc, path, found[path]))
    for path, keys in regularizers.items():
        problems.extend(_regularizer_keys(doc, path, keys))
    return problems


def _misspelt(doc: Document, missing: tuple, extras: set[tuple]) -> bool:
    owner_kind = _kind(missing[:-1])
    choices = _keys_of(owner_kind, _class_of(owner_kind, _get(doc.data, missing[:-1])))
    return any(e[:-1] == missing[:-1] and suggest(e[-1], choices) == missing[-1] for e in extras)


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


def _kind(path: tuple) -> str | None:
    """What the value at path is: "spec", "layer", "input", "regularizer", "optimizer"..."""
    if not path or path[-1] == "spec":
        return "spec"  # the top, or a nested model's spec
    if "compile" in path[:-1]:  # inside [compile], of the spec or of a nested one
        at = len(path) - 1 - path[::-1].index("compile")
        if _kind(path[:at]) == "spec":
            return _compile_kind(path[at + 1:])
    last = path[-1]
    if isinstance(last, int):  # an entry of [[inputs]] or [[layers]]; other lists hold values
        if len(path) >= 2 and _kind(path[:-2]) == "spec":
            return {"inputs": "input", "layers": "layer"}.get(path[-2])
        return None
    parent_kind = _kind(path[:-1])
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


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _class_of(kind: str | None, value: Any) -> str | None:
    """The class a table names with "type" (canonical), or "Apply" for a shared layer."""
    if not isinstance(value, dict):
        return None
    name = value.get("type")
    if kind == "layer":
        if "apply" in value and name is None:
            return "Apply"
        tag = models._layer_tag(value)
        return name if tag in ("Op", "Nested") else tag
    table = {"initializer": (registry.INITIALIZERS, registry.INITIALIZER_NAMES),
             "constraint": (registry.CONSTRAINTS, registry.CONSTRAINT_NAMES),
             "optimizer": (registry.OPTIMIZERS, {}), "schedule": (registry.SCHEDULES, {}),
             "loss": (registry.LOSS_CLASSES, {}), "metric": (registry.METRIC_CLASSES, {})}.get(kind)
    if table is None or not isinstance(name, str):
        return None
    classes, names = table
    return name if name in classes else names.get(name)


def _keys_of(kind: str | None, cls: str | None) -> list[str]:
    """The keys a table of this kind and class accepts."""
    simple = {"spec": models.Spec, "model": models.ModelSection,
              "compile": models.CompileSpec, "input": models.InputSpec,
              "build": models.BuildSection}
    model = simple.get(kind)
    if kind == "layer":
        model = {"Apply": models.Apply, "Nested": models.Nested}.get(
            models._layer_tag({"type": cls}) if cls not in (None, "Apply") else cls,
            models.LAYER_MODELS.get(cls))
    if model is not None:
        return [f.alias or n for n, f in model.model_fields.items()]
    table = {"initializer": registry.INITIALIZERS, "constraint": registry.CONSTRAINTS,
             "optimizer": registry.OPTIMIZERS, "schedule": registry.SCHEDULES,
             "loss": registry.LOSS_CLASSES, "metric": registry.METRIC_CLASSES}.get(kind, {})
    return ["type", *table.get(cls, {}).get("args", {})]


def _problem(doc: Document, path: tuple, errors: list[dict]) -> Problem:
    # Errors whose branch matched the value's type say more than "expected X";
    # the "None" branch of an optional argument is only worth naming in a shape.
    none_too = any(e["type"] == "none_required" for e in errors) and bool(path) \
        and isinstance(path[-1], int)
    errors = [e for e in errors if e["type"] != "none_required"] or errors
    error = next((e for e in errors if not _is_type_error(e)), errors[0])
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    owner_kind = _kind(path[:-1]) if path else None
    if kind == "missing":
        what = "argument" if owner_kind in _OBJECT_KINDS \
            and _class_of(owner_kind, _get(doc.data, path[:-1])) != "Apply" else "key"
        return _placed(doc, path, f"missing required {what}", at_parent=True)
    if kind == "extra_forbidden":
        return _unknown_key(doc, path, owner_kind)
    if kind == "union_tag_not_found":
        return _unknown_tag(doc, path, value)
    if _kind(path) == "regularizer" and kind in ("literal_error", *_NOUNS):
        shown = "a list" if isinstance(value, list) else _show(value)
        return _placed(doc, path, f"expected 'l1', 'l2' or a table, received {shown}",
                       suggestion=_close(value, ["l1", "l2"]))
    if kind == "literal_error" and isinstance(value, str):
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if len(expected) > 6:
            return _placed(doc, path, f"unknown {_noun(path)} {_show(value)}",
                           suggestion=suggest(value, expected))
        listed = ", ".join(f"'{e}'" for e in expected)
        # A word beside another type (jit_compile: true, false or "auto") names both.
        others = [_NOUNS[e["type"]] for e in errors if e["type"] in _NOUNS]
        listed = f"{' or '.join(others)}, or {listed}" if others else f"one of {listed}"
        return _placed(doc, path, f"expected {listed}, received {_show(value)}",
                       suggestion=suggest(value, expected))
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        bound = ctx[key]
        noun = "a finite number" if isinstance(bound, float) else "an integer"
        return _placed(doc, path,
                       f"expected {noun} {symbol} {_number(bound)}, received {_show(value)}")
    if kind == "string_pattern_mismatch" and len(path) > 1 and path[-2] == "key":
        return _placed(doc, path, "expected an integer, a slice (':', ':2', '1:5:2'), '...' or "
                       f"'None', received {_show(value)}")
    if kind == "finite_number":
        return _placed(doc, path, f"expected a finite number, received {_show(value)}")
    if kind == "too_short":
        return _placed(doc, path, "expected at least one entry, received an empty list")
    if kind == "expr":
        return _expr_problem(doc, path, error["msg"], ctx)
    if kind in ("unknown_op", "unknown_op_arg"):
        arg = ctx.get("arg")
        where = (*path, arg) if arg else (*path, "type")
        return _placed(doc, where, error["msg"], key=bool(arg), suggestion=ctx.get("suggestion"))
    if _is_type_error(error):
        nouns = [_type_noun(e, path) for e in errors if _is_type_error(e)]
        nouns = list(dict.fromkeys(nouns + (["'None'"] if none_too else [])))
        listed = " or ".join(nouns) if len(nouns) < 3 else f"{', '.join(nouns[:-1])} or {nouns[-1]}"
        return _placed(doc, path, f"expected {listed}, received {_show(value)}",
                       suggestion=suggest(value, ["None"]) if none_too else None)
    return _placed(doc, path, error["msg"][0].lower() + error["msg"][1:].rstrip("."))


def _type_noun(error: dict, path: tuple) -> str:
    if error["type"] == "literal_error":
        return f"{_a(_noun(path))} name"
    return _NOUNS[error["type"]]


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _close(name: Any, choices: list[str]) -> str | None:
    """suggest() for two-letter names, which difflib finds only half alike."""
    if not isinstance(name, str):
        return None
    close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.5)
    return close[0] if close else None


def _is_type_error(error: dict) -> bool:
    """True when the value's type did not fit (rather than its value)."""
    if error["type"] == "literal_error":
        return not isinstance(error.get("input"), str)
    return error["type"] in _NOUNS


def _unknown_key(doc: Document, path: tuple, owner_kind: str | None) -> Problem:
    owner = _class_of(owner_kind, _get(doc.data, path[:-1]))
    key = path[-1]
    choices = [k for k in _keys_of(owner_kind, owner) if k not in _get(doc.data, path[:-1])]
    if owner == "Apply":
        return _placed(doc, path, f"unknown key '{key}': a shared layer (apply) takes only "
                       "name and inputs", key=True)
    if owner_kind == "layer" and owner in registry.LAYERS:
        renamed, hint = registry.old_arg(owner, key)
        if renamed or hint:
            return _placed(doc, path, f"unknown argument '{key}' for {owner}: "
                           f"{hint or 'Keras 3 renamed it'}", key=True, suggestion=renamed)
    if owner_kind in _OBJECT_KINDS:
        return _placed(doc, path, f"unknown argument '{key}' for {owner}", key=True,
                       suggestion=suggest(key, choices))
    return _placed(doc, path, f"unknown key '{key}'", key=True, suggestion=suggest(key, choices))


def _regularizer_keys(doc: Document, path: tuple, keys: list[tuple]) -> list[Problem]:
    """Unknown or misplaced keys of a regularizer table, given as (key, error type)."""
    extras = [k for k, kind in keys if kind == "extra_forbidden"]
    if not extras:
        return [_placed(doc, path, "expected a key 'l1', 'l2', 'orthogonal', 'expr' or 'custom', "
                        "received an empty table")]
    table = _get(doc.data, path)
    form = _REGULARIZER_FORM_KEY.get(models._regularizer_tag(table))
    problems = []
    for key in extras:
        if key not in _REGULARIZER_KEYS:
            problems.append(_placed(doc, (*path, key), f"unknown regularizer key '{key}'",
                                    key=True, suggestion=_close(key, _REGULARIZER_KEYS)))
        elif key == "mode":
            problems.append(_placed(doc, (*path, key), "'mode' goes only with 'orthogonal'",
                                    key=True))
        else:
            problems.append(_placed(doc, (*path, key), f"'{key}' cannot be combined with '{form}'",
                                    key=True))
    return problems


def _unknown_tag(doc: Document, path: tuple, value: Any) -> Problem:
    what = _kind(path)
    if not isinstance(value, dict):
        named = "" if what == "layer" else f"{_a(what)} name or "
        return _placed(doc, path,
                       f"expected {named}a table with a 'type', received {_show(value)}")
    if "type" not in value:
        return _placed(doc, path, f"missing 'type': the {what} class name")
    name = value["type"]
    where = (*path, "type")
    if not isinstance(name, str):
        return _placed(doc, where, f"expected a string, received {_show(name)}")
    if what == "layer" and name in registry.REFUSED:
        return _placed(doc, where,
                       f"layer type '{name}' is not supported: {registry.REFUSED[name]}")
    owner = _class_of("layer", _get(doc.data, path[:-1])) if len(path) > 2 else None
    if what == "layer" and (owner, path[-1]) in models.RECURRENT_SLOTS \
            and (registry.canonical_layer(name) or models._layer_tag(value) == "Nested"):
        recurrent = ", ".join(models.RECURRENT)
        return _placed(doc, where, f"{owner} wraps a recurrent layer ({recurrent}), "
                       f"received '{name}'")
    choices = {
        "layer": registry.layer_type_names,
        "initializer": lambda: list(registry.INITIALIZERS),
        "constraint": lambda: list(registry.CONSTRAINTS),
        "optimizer": lambda: list(registry.OPTIMIZERS),
        "schedule": lambda: list(registry.SCHEDULES),
        "loss": lambda: list(registry.LOSS_CLASSES),
        "metric": lambda: list(registry.METRIC_CLASSES),
    }[what]()
    noun = {"layer": "layer type", "schedule": "learning-rate schedule"}.get(what, what)
    return _placed(doc, where, f"unknown {noun} {_show(name)}", suggestion=suggest(name, choices))


def _noun(path: tuple) -> str:
    """What a value is called in "unknown activation 'x'": its key, or its list's key."""
    name = next((p for p in reversed(path) if isinstance(p, str)), "value")
    if path[:1] == ("compile",) and len(path) > 1:
        name = {"metrics": "metric"}.get(path[1], path[1])
    return name.replace("_", " ")


def _expr_problem(doc: Document, path: tuple, message: str, ctx: dict) -> Problem:
    """An expr problem, placed at the character of the expression that is at fault."""
    problem = _placed(doc, path, message, suggestion=ctx.get("suggestion"))
    offset = ctx.get("column")
    if problem.line is None or offset is None or not doc.text:
        return problem
    line, column = _inside_string(doc.text, problem.line, problem.column, offset)
    return Problem(message, problem.path, problem.file, line, column, problem.suggestion)


def _inside_string(text: str, line: int, column: int, offset: int) -> tuple[int, int]:
    """Line and column of the offset-th character (1-based) of the string literal at line:column.

    Escapes and TOML's multi-line forms make the decoded text shorter than its source.
    """
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    i = starts[line - 1] + column - 1
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    i += 3 if triple else 1
    if triple and text.startswith("\n", i):
        i += 1  # TOML drops a newline right after the opening quotes
    elif triple and text.startswith("\r\n", i):
        i += 2
    for _ in range(offset - 1):
        if i >= len(text):
            break
        if quote == '"' and text[i] == "\\":
            nxt = text[i + 1 : i + 2]
            if triple and nxt in (" ", "\t", "\r", "\n"):
                # A line-ending backslash swallows the blanks and line breaks after it.
                i += 1
                while i < len(text) and text[i] in " \t\r\n":
                    i += 1
                i += 1
                continue
            i += {"u": 6, "U": 10}.get(nxt, 2)
            if nxt == "u" and 0xD800 <= int(text[i - 4 : i], 16) < 0xDC00 \
                    and text.startswith("\\u", i):
                i += 6  # a JSON surrogate pair decodes to one character
        elif text.startswith("\r\n", i):
            i += 2
        else:
            i += 1
    line = bisect.bisect_right(starts, i)
    return line, i - starts[line - 1] + 1


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# ---- placing and ordering -------------------------------------------------

def _placed(doc: Document, path: tuple, message: str, *, key: bool = False,
            at_parent: bool = False, suggestion: str | None = None) -> Problem:
    at = path[:-1] if at_parent else path
    override = doc.override(path)
    if override:  # the value came from the command line, not from the file
        return Problem(message, path=format_path(path), file=doc.file, suggestion=suggestion,
                       override=override)
    line, column = doc.locate(at, key=key)
    if line is None and not at:
        line, column = 1, 1  # the top level of the file
    shown, note = doc.origin(path)  # a block instance or [defaults]: where it was written
    return Problem(message + note, path=format_path(shown), file=doc.file, line=line,
                   column=column, suggestion=suggestion)


def _in_file_order(doc: Document, problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a table"
    text = json.dumps(value)
    return text if len(text) <= 40 else "a list"
