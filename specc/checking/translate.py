"""pydantic's errors -> one problem per value at fault, in the spec's own words.

A union reports one error per branch it tried; these keep the errors of the
deepest places, name what was expected there (checking/paths.py says what each
place is) and place each problem in the document (reading/places.py).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from pydantic import ValidationError

from specc.checking.layers import layer_tag
from specc.checking.paths import OBJECT_KINDS, class_of, data_path, keys_of, kind_at, value_at
from specc.errors import Problem, suggest
from specc.reading.load import Document
from specc.reading.places import inside_string, place
from specc.vocab import penalties, registry
from specc.vocab.catalogs import elsewhere
from specc.vocab.kinds import RECURRENT, RECURRENT_SLOTS
from specc.vocab.plugins import plugin_hint
from specc.vocab.values import NONE_WORD

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
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def model_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    """One problem per value at fault among pydantic's errors, placed in the document."""
    found: dict[tuple, list[dict]] = {}
    for error in exc.errors():
        path = data_path(doc.data, error["loc"], keep_last=error["type"] == "missing")
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
        if first["type"] in ("missing", "extra_forbidden") and kind_at(path[:-1]) == "regularizer":
            regularizers.setdefault(path[:-1], []).append((path[-1], first["type"]))
            continue
        problems.append(_problem(doc, path, found[path]))
    for path, keys in regularizers.items():
        problems.extend(_regularizer_keys(doc, path, keys))
    return problems


def _misspelt(doc: Document, missing: tuple, extras: set[tuple]) -> bool:
    owner_kind = kind_at(missing[:-1])
    choices = keys_of(owner_kind, class_of(owner_kind, value_at(doc.data, missing[:-1])))
    return any(e[:-1] == missing[:-1] and suggest(e[-1], choices) == missing[-1] for e in extras)


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
    owner_kind = kind_at(path[:-1]) if path else None
    if kind == "missing":
        what = "argument" if owner_kind in OBJECT_KINDS \
            and class_of(owner_kind, value_at(doc.data, path[:-1])) != "Apply" else "key"
        return place(doc, path, f"missing required {what}", at_parent=True)
    if kind == "extra_forbidden":
        return _unknown_key(doc, path, owner_kind)
    if kind == "union_tag_not_found":
        return _unknown_tag(doc, path, value)
    if kind_at(path) == "regularizer" and kind in ("literal_error", *_NOUNS):
        shown = "a list" if isinstance(value, list) else _show(value)
        return place(doc, path, f"expected 'l1', 'l2' or a table, received {shown}",
                     suggestion=_close(value, penalties.NAMES))
    if kind == "literal_error" and isinstance(value, str):
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if len(expected) > 6:
            return place(doc, path, f"unknown {_noun(path)} {_show(value)}",
                         suggestion=suggest(value, expected))
        listed = ", ".join(f"'{e}'" for e in expected)
        # A word beside another type (jit_compile: true, false or "auto") names both.
        others = [_NOUNS[e["type"]] for e in errors if e["type"] in _NOUNS]
        listed = f"{' or '.join(others)}, or {listed}" if others else f"one of {listed}"
        return place(doc, path, f"expected {listed}, received {_show(value)}",
                     suggestion=suggest(value, expected))
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        bound = ctx[key]
        noun = "a finite number" if isinstance(bound, float) else "an integer"
        return place(doc, path,
                     f"expected {noun} {symbol} {_number(bound)}, received {_show(value)}")
    if kind == "string_pattern_mismatch" and len(path) > 1 and path[-2] == "key":
        return place(doc, path, "expected an integer, a slice (':', ':2', '1:5:2'), '...' or "
                     f"'None', received {_show(value)}")
    if kind == "finite_number":
        return place(doc, path, f"expected a finite number, received {_show(value)}")
    if kind == "too_short":
        return place(doc, path, "expected at least one entry, received an empty list")
    if kind == "expr":
        return _expr_problem(doc, path, error["msg"], ctx)
    if kind == "keras_name":
        return place(doc, path, error["msg"], suggestion=ctx.get("suggestion"))
    if kind in ("unknown_op", "unknown_op_arg"):
        arg = ctx.get("arg")
        where = (*path, arg) if arg else (*path, "type")
        return place(doc, where, error["msg"], key=bool(arg), suggestion=ctx.get("suggestion"))
    if _is_type_error(error):
        nouns = [_type_noun(e, path) for e in errors if _is_type_error(e)]
        nouns = list(dict.fromkeys(nouns + ([f"'{NONE_WORD}'"] if none_too else [])))
        listed = " or ".join(nouns) if len(nouns) < 3 else f"{', '.join(nouns[:-1])} or {nouns[-1]}"
        return place(doc, path, f"expected {listed}, received {_show(value)}",
                     suggestion=suggest(value, [NONE_WORD]) if none_too else None)
    return place(doc, path, error["msg"][0].lower() + error["msg"][1:].rstrip("."))


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
    owner = class_of(owner_kind, value_at(doc.data, path[:-1]))
    key = path[-1]
    choices = [k for k in keys_of(owner_kind, owner) if k not in value_at(doc.data, path[:-1])]
    if owner == "Apply":
        return place(doc, path, f"unknown key '{key}': a shared layer (apply) takes only "
                     "name and inputs", key=True)
    if owner_kind == "layer" and owner in registry.LAYERS:
        message, suggestion = unknown_argument(owner, key, choices)
        return place(doc, path, message, key=True, suggestion=suggestion)
    if owner_kind in OBJECT_KINDS:
        return place(doc, path, f"unknown argument '{key}' for {owner}", key=True,
                     suggestion=suggest(key, choices))
    return place(doc, path, f"unknown key '{key}'", key=True, suggestion=suggest(key, choices))


def unknown_argument(layer: str, key: str, choices: list[str]) -> tuple[str, str | None]:
    """What to say of an argument a layer class does not take, and the closest one.

    >>> unknown_argument("LeakyReLU", "alpha", ["negative_slope"])
    ("unknown argument 'alpha' for LeakyReLU: Keras 3 renamed it", 'negative_slope')
    """
    renamed, hint = registry.old_arg(layer, key)
    if renamed or hint:
        return f"unknown argument '{key}' for {layer}: {hint or 'Keras 3 renamed it'}", renamed
    other = elsewhere(layer, key) if isinstance(key, str) else None  # another Keras has it
    if other is not None:
        return f"unknown argument '{key}' for {layer}: {other}", None
    return f"unknown argument '{key}' for {layer}", suggest(key, choices)


def _regularizer_keys(doc: Document, path: tuple, keys: list[tuple]) -> list[Problem]:
    """Unknown or misplaced keys of a regularizer table, given as (key, error type)."""
    extras = [k for k, kind in keys if kind == "extra_forbidden"]
    if not extras:
        return [place(doc, path, "expected a key 'l1', 'l2', 'orthogonal', 'expr' or 'custom', "
                      "received an empty table")]
    table = value_at(doc.data, path)
    picks = penalties.TABLE_FORMS[penalties.form_of(table)][0]
    form = next(k for k in penalties.KEYS if k in picks)  # the key that picked the table's form
    problems = []
    for key in extras:
        if key not in penalties.KEYS:
            problems.append(place(doc, (*path, key), f"unknown regularizer key '{key}'",
                                  key=True, suggestion=_close(key, penalties.KEYS)))
        elif key == "mode":
            problems.append(place(doc, (*path, key), "'mode' goes only with 'orthogonal'",
                                  key=True))
        else:
            problems.append(place(doc, (*path, key), f"'{key}' cannot be combined with '{form}'",
                                  key=True))
    return problems


def _unknown_tag(doc: Document, path: tuple, value: Any) -> Problem:
    what = kind_at(path) or "value"
    if not isinstance(value, dict):
        named = "" if what == "layer" else f"{_a(what)} name or "
        return place(doc, path,
                     f"expected {named}a table with a 'type', received {_show(value)}")
    if "type" not in value:
        return place(doc, path, f"missing 'type': the {what} class name")
    name = value["type"]
    where = (*path, "type")
    if not isinstance(name, str):
        return place(doc, where, f"expected a string, received {_show(name)}")
    if what == "layer" and name in registry.REFUSED:
        return place(doc, where,
                     f"layer type '{name}' is not supported: {registry.REFUSED[name]}")
    owner = class_of("layer", value_at(doc.data, path[:-1])) if len(path) > 2 else None
    if what == "layer" and (owner, path[-1]) in RECURRENT_SLOTS \
            and (registry.canonical_layer(name) or layer_tag(value) == "Nested"):
        recurrent = ", ".join(RECURRENT)
        return place(doc, where, f"{owner} wraps a recurrent layer ({recurrent}), "
                     f"received '{name}'")
    choices = registry.layer_type_names() if what == "layer" else list(registry.OBJECTS[what][0])
    noun = {"layer": "layer type", "schedule": "learning-rate schedule"}.get(what, what)
    # The user's own class (nothing a spec names is ever imported), or another Keras's.
    hint = (plugin_hint(name) or elsewhere(name)) if what == "layer" else None
    if hint is not None:
        return place(doc, where, f"unknown {noun} {_show(name)}: {hint}")
    # keras-hub's TransformerEncoder is written by its registered name.
    packaged = registry.PACKAGED_CLASSES.get(name) if what == "layer" else None
    return place(doc, where, f"unknown {noun} {_show(name)}",
                 suggestion=packaged or suggest(name, choices))


def _noun(path: tuple) -> str:
    """What a value is called in "unknown activation 'x'": its key, or its list's key."""
    name = next((p for p in reversed(path) if isinstance(p, str)), "value")
    if path[:1] == ("compile",) and len(path) > 1:
        name = {"metrics": "metric"}.get(path[1], path[1])
    return name.replace("_", " ")


def _expr_problem(doc: Document, path: tuple, message: str, ctx: dict) -> Problem:
    """An expr problem, placed at the character of the expression that is at fault."""
    problem = place(doc, path, message, suggestion=ctx.get("suggestion"))
    offset = ctx.get("column")
    if problem.line is None or offset is None or not doc.text:
        return problem
    line, column = inside_string(doc.text, problem.line, problem.column, offset)
    return Problem(message, problem.path, problem.file, line, column, problem.suggestion)


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a table"
    text = json.dumps(value)
    return text if len(text) <= 40 else "a list"
