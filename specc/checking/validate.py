"""Plain data -> typed Spec: the JSON Schema check, the pydantic models, the wiring.

Every problem is collected before anything is reported, and each is placed at
the line and column of the key or value at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from specc.vocab import keras_version
from specc.checking.source import schema_problems, source_problems
from specc.checking.spec import Spec
from specc.checking.translate import model_problems
from specc.collector import paused
from specc.errors import SpecError, limited_suggestions
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
        problems = model_problems(doc, exc) or schema_problems(source)
        raise SpecError(in_file_order(problems)) from None
    # The schema describes the file as written: where expansion rewrote it, the
    # source is checked too (blocks and defaults the typed spec no longer holds).
    if source is not doc and (problems := source_problems(source, doc)):
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
