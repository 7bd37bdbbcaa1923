"""Plain data -> plain data: ``--set PATH=VALUE`` overrides applied to a spec as read.

An override changes one value without editing the file, as Hydra's overrides
do: ``layers.dense_1.units=128`` (a layer by its name, Keras's default names
included), ``layers[3].rate=0.3``, ``compile.optimizer.learning_rate=1e-4``,
``layers.*.kernel_regularizer={ l2 = 0.001 }`` (every layer that takes the
argument). The value is read as a TOML value; a bare word is a string.

The overridden document remembers which paths each override set, so that the
check stage reports a problem with such a value at the ``--set`` argument
rather than at the file's line.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, replace
from typing import Any

from specc.vocab import registry
from specc.errors import Problem, SpecError, suggest
from specc.reading.load import Document, Path, format_path
from specc.vocab.names import keras_names

_PART = re.compile(r'(?:^|\.)(?:(?P<key>[A-Za-z0-9_-]+|\*)|"(?P<quoted>[^"]*)")'
                   r'|\[(?P<index>-?\d+|\*)\]')
# Lists whose entries a path may name instead of indexing them.
_NAMED_LISTS = ("layers", "inputs")
WILDCARD = "*"


@dataclass(frozen=True)
class Override:
    """One ``PATH=VALUE``, parsed: ``keys`` holds strings, list indexes and ``*``."""

    keys: tuple
    value: Any
    label: str  # how the user wrote it, for messages: "--set layers.dense_1.units=128"


def parse(text: str, option: str = "--set") -> Override:
    """Read ``PATH=VALUE``; raises SpecError naming the argument.

    >>> parse("layers[3].rate=0.3").keys
    ('layers', 3, 'rate')
    """
    label = f"{option} {text}"
    path, eq, raw = text.partition("=")
    if not eq:
        raise SpecError(Problem("expected PATH=VALUE, such as layers.dense.units=128",
                                override=label))
    keys = _keys(path.strip(), label)
    return Override(keys, _value(raw.strip(), label), label)


def _keys(path: str, label: str) -> tuple:
    keys: list = []
    pos = 0
    while pos < len(path):
        match = _PART.match(path, pos)
        if match is None or (pos == 0 and match.group(0).startswith(".")) or match.end() == pos:
            raise SpecError(Problem(f"cannot read the path at {path[pos:]!r}: expected "
                                    "name.name, [index] or *", override=label))
        key, quoted, index = match.group("key", "quoted", "index")
        if index is not None and index != WILDCARD and len(index.lstrip("-+")) > 18:
            # Beyond 64 bits no list is that long (and past 4,300 digits int() refuses).
            raise SpecError(Problem(f"index {index[:20]}... is out of range", override=label))
        if index is not None:
            keys.append(WILDCARD if index == WILDCARD else int(index))
        else:
            keys.append(quoted if quoted is not None else key)
        pos = match.end()
    if not keys:
        raise SpecError(Problem("the path is empty", override=label))
    if keys[0] == WILDCARD or isinstance(keys[0], int):
        raise SpecError(Problem("the path starts with a key of the spec, such as layers",
                                override=label))
    return tuple(keys)


def _value(raw: str, label: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except ValueError as exc:  # TOMLDecodeError, and int()'s 4,300-digit limit
        # A bare word is a string (relu, adam); anything that starts like a TOML
        # value and does not parse is a mistake worth showing.
        if raw and raw[0] not in "[{\"'+-.0123456789" and "\n" not in raw:
            return raw
        reason = re.sub(r" \(at .*\)$", "", str(exc))
        raise SpecError(Problem(f"invalid TOML value {raw!r}: {reason}", override=label)) \
            from None


def apply(doc: Document, overrides: list) -> Document:
    """The document with every override applied, in order; raises SpecError listing
    every override that does not fit the spec. Strings are parsed first.

    >>> from specc.reading.load import parse_text
    >>> doc = parse_text('[[inputs]]\\nshape = [4]\\n[[layers]]\\ntype = "Dense"\\nunits = 8\\n', "toml")
    >>> apply(doc, ["layers.dense.units=128"]).data["layers"]
    [{'type': 'Dense', 'units': 128}]
    """
    parsed, problems = [], []
    for item in overrides:
        try:
            parsed.append(item if isinstance(item, Override) else parse(item))
        except SpecError as exc:
            problems.extend(exc.problems)
    data = copy.deepcopy(doc.data)
    where = dict(doc.overrides)
    for override in parsed:
        try:
            for path in _set(data, override):
                where[path] = override.label
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError([replace(p, file=p.file or doc.file) for p in problems])
    return replace(doc, data=data, overrides=where)


def _set(data: dict, override: Override) -> list[Path]:
    """Set the value at every place the path names; returns those places and the
    tables made on the way."""
    places = [((), data)]
    created: list[Path] = []
    keys = override.keys
    for depth, key in enumerate(keys[:-1]):
        following = keys[depth + 1]
        places = [(at + (step,), child)
                  for at, node in places
                  for step, child in _children(data, node, at, key, following, override, created)]
        if not places:
            raise SpecError(Problem(f"no layer takes '{following}'", override=override.label))
    found = []
    for at, node in places:
        step = _final(data, node, at, keys[-1], override)
        node[step] = copy.deepcopy(override.value)
        found.append(at + (step,))
    return found + created


def _children(data: dict, node: Any, at: Path, key: Any, following: Any, override: Override,
              created: list[Path]):
    """The (step, child) pairs that key names in node, creating missing tables."""
    if isinstance(node, list):
        if key == WILDCARD:
            wanted = [(i, child) for i, child in enumerate(node) if isinstance(child, dict)]
            if at[-1:] == ("layers",):
                wanted = [(i, child) for i, child in wanted if _takes(child, following)]
            return wanted
        step = _list_step(data, node, at, key, override)
        return [(step, _table(node, step, at, override))]
    if key == WILDCARD or isinstance(key, int):
        raise SpecError(_not_a(node, at, "a list", override))
    if not isinstance(node, dict):
        raise SpecError(_not_a(node, at, "a table", override))
    if key not in node:
        node[key] = {}
        created.append(at + (key,))
    return [(key, _table(node, key, at, override))]


def _final(data: dict, node: Any, at: Path, key: Any, override: Override) -> Any:
    if isinstance(node, list):
        if key == WILDCARD:
            raise SpecError(Problem("* names list entries, not the last key of the path",
                                    override=override.label))
        return _list_step(data, node, at, key, override)
    if not isinstance(node, dict) or key == WILDCARD or isinstance(key, int):
        raise SpecError(_not_a(node, at, "a list" if isinstance(key, int) else "a table",
                               override))
    return key


def _table(node: Any, step: Any, at: Path, override: Override) -> Any:
    """node[step], which the path goes into: a table or a list.

    A name where a table may stand (``optimizer = "adam"``, ``kernel_initializer =
    "he_normal"``) becomes that table, so that one of its arguments can be set.
    """
    child = node[step]
    if isinstance(child, str):
        table = _named_table(at + (step,), child)
        if table is not None:
            node[step] = child = table
    if not isinstance(child, (dict, list)):
        raise SpecError(_not_a(child, at + (step,), "a table", override))
    return child


def _named_table(path: Path, name: str) -> dict | None:
    last = path[-1]
    if path == ("compile", "optimizer"):
        cls = next((c for c in registry.OPTIMIZERS if c.lower() == name.lower()), None)
        return {"type": cls} if cls else None
    if isinstance(last, str) and last.endswith(("_initializer", "_constraint")):
        return {"type": name}
    return None


def _list_step(data: dict, node: list, at: Path, key: Any, override: Override) -> int:
    if isinstance(key, int):
        if -len(node) <= key < len(node):
            return key % len(node)
        raise SpecError(Problem(f"index {key} is out of range: {format_path(at)} has "
                                f"{len(node)} entr{'y' if len(node) == 1 else 'ies'}",
                                override=override.label))
    if at[-1:] and at[-1] in _NAMED_LISTS:
        spec = data
        for part in at[:-1]:
            spec = spec[part]
        names = entry_names(spec, at[-1])
        if key in names:
            return names.index(key)
        noun = "layer" if at[-1] == "layers" else "input"
        raise SpecError(Problem(f"no {noun} named '{key}' in {format_path(at)}",
                                override=override.label,
                                suggestion=suggest(key, [n for n in names if n])))
    raise SpecError(_not_a(node, at, "a table", override))


def entry_names(spec: dict, kind: str) -> list[str | None]:
    """The names of a spec table's [[layers]] or [[inputs]] as Keras will call them
    (written names, else Keras's defaults: dense, dense_1, input_layer...)."""
    inputs, layers = keras_names(spec)
    return inputs if kind == "inputs" else layers


def _takes(layer: dict, key: Any) -> bool:
    """Whether a layer table has, or its class takes, the argument key."""
    if key in layer:
        return True
    cls = registry.canonical_layer(layer.get("type")) if isinstance(layer.get("type"), str) \
        else None
    return cls is not None and key in registry.LAYERS[cls]["args"]


def _not_a(value: Any, at: Path, wanted: str, override: Override) -> Problem:
    shown = {dict: "a table", list: "a list"}.get(type(value), repr(value))
    return Problem(f"{format_path(at) or 'the spec'} is {shown}, not {wanted}",
                   override=override.label)
