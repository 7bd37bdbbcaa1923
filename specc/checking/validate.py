"""Plain data -> typed Spec: the JSON Schema check, the pydantic models, the wiring.

Every problem is collected before anything is reported, and each is placed at
the line and column of the key or value at fault.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError

from specc.vocab import keras_version
from specc.checking.schema_file import SCHEMA_PATH
from specc.checking.spec import Spec
from specc.checking.translate import model_problems
from specc.collector import paused
from specc.errors import Problem, SpecError, limited_suggestions
from specc.expanding.instances import LAYER_KEYS
from specc.reading.load import Document, load_document, plain_data_problems
from specc.reading.places import in_file_order, place


@dataclass(frozen=True)
class Checked:
    """A checked spec and the document it was typed from: defaults applied, blocks
    inlined, every position known, for placing what later stages find at a path."""

    spec: Spec
    document: Document


def load(path, overrides=()) -> Spec:
    """Read, check and type a spec file; raises SpecError listing every problem.

    ``overrides`` change values as ``--set`` does, before anything is checked:

    >>> spec = load("specs/tutorial_dropout.toml", overrides=["layers.dense.units=128"])
    >>> spec.layers[0].units
    128
    """
    return check_file(path, overrides).spec


def check_file(path, overrides=()) -> Checked:
    """``load``, keeping the expanded document beside the spec."""
    with paused():  # linear time on big specs (see specc/collector.py)
        doc = load_document(path)
        if overrides:
            from specc.reading.overrides import apply

            doc = apply(doc, list(overrides))
        return check_document(doc)


def validate_document(doc: Document) -> Spec:
    """Run the schema, model and wiring checks over a parsed document."""
    return check_document(doc).spec


def check_document(doc: Document) -> Checked:
    """``validate_document``, keeping the expanded document beside the spec (refused
    when the installed Keras is one the catalog does not describe)."""
    keras_version.check_installed()
    with limited_suggestions():
        return _check(doc)


def _check(doc: Document) -> Checked:
    limits = plain_data_problems(doc.data)
    if limits:
        raise SpecError(place(doc, path, message) for path, message in limits)
    from specc.expanding.expand import expand_document

    source, doc = doc, expand_document(doc)
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        # The JSON Schema only speaks when pydantic's errors all fold away: the two
        # accept and reject the same files (tests/test_corpus.py), and walking the
        # schema costs more than the rest of validate together.
        problems = model_problems(doc, exc) or _schema_problems(source)
        raise SpecError(in_file_order(problems)) from None
    # The schema describes the file as written: where expansion rewrote it, the
    # source is checked too (blocks and defaults the typed spec no longer holds).
    if source is not doc and (problems := _schema_problems(source, _as_written(source, doc))):
        raise SpecError(in_file_order(problems))
    from specc.checking.calls import call_problems, compile_problems
    from specc.checking.graph import wiring_problems

    problems = [
        place(doc, path, message, suggestion=suggestion)
        for path, message, suggestion in wiring_problems(spec)
    ] + [
        place(doc, path, message, key=True, suggestion=suggestion)
        for path, message, suggestion in call_problems(spec)
    ]
    if not problems:  # the outputs' names are known only once the wiring holds
        problems = [place(doc, path, message, suggestion=suggestion)
                    for path, message, suggestion in compile_problems(spec)]
    if problems:
        raise SpecError(in_file_order(problems))
    return Checked(spec, doc)


# ---- JSON Schema ----------------------------------------------------------

@cache
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_problems(doc: Document, written=None) -> list[Problem]:
    """The schema's problems with doc; ``written``, from ``_as_written``, checks a part
    of it in its place."""
    data, kept = written or (doc.data, None)
    problems = []
    for error in _schema_errors(data):
        path = tuple(error.absolute_path)
        if kept is not None and path[:1] == ("layers",) and len(path) > 1:
            path = ("layers", kept[path[1]], *path[2:])
        problems.append(place(doc, path, f"{error.message} (JSON Schema)"))
    return problems


def _as_written(source: Document, flat: Document) -> tuple[Any, list[int] | None]:
    """The part of the source the typed spec does not vouch for, and the source index
    of each layer it keeps.

    A layer written plainly (no repeat, if, block or template) whose every value is in
    its flat layer unchanged was checked there: the flat layer holds it plus defaults,
    and the schema constrains each argument alone. The rest is checked as written:
    [constants], [defaults], [blocks], and the layers expansion rewrote. Checking only
    that keeps ``load`` of a spec with [defaults] as fast as a flat one's.
    """
    data = source.data
    layers = data.get("layers") if isinstance(data, dict) else None
    origins = getattr(flat, "origins", None)
    if not isinstance(layers, list) or not layers or origins is None:
        return data, None
    flat_of = {origin.path[1]: path[1] for path, origin in origins.items()
               if len(path) == 2 and not origin.uses and len(origin.path) == 2
               and origin.path[0] == "layers"}
    flat_layers = flat.data.get("layers") or []
    kept = [i for i, layer in enumerate(layers)
            if i == 0 or not _unchanged(layer, flat_layers, flat_of.get(i))]
    return {**data, "layers": [layers[i] for i in kept]}, kept


def _unchanged(layer: Any, flat_layers: list, k: int | None) -> bool:
    if k is None or not isinstance(layer, dict) or k >= len(flat_layers):
        return False
    if any(key in layer for key in (*LAYER_KEYS, "block")):
        return False
    flat = flat_layers[k]
    return isinstance(flat, dict) and all(
        key in flat and _same(value, flat[key]) for key, value in layer.items())


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, but not to the schema
    return type(a) is type(b) and a == b


def _schema_errors(data: Any) -> list:
    # jsonschema recurses about 30 frames per level of the data; load refuses
    # data nested more than MAX_DEPTH deep, which this limit covers.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))
    try:
        return list(_validator().iter_errors(data))
    finally:
        sys.setrecursionlimit(limit)
