"""The conformance corpus: specs that must load, and specs that must fail with exact messages.

    tests/corpus/valid/NAME.toml|json           loads
    tests/corpus/invalid/NAME.toml|json         fails; NAME.toml.expected holds every line
                                                it prints, with the path written as the
                                                test passes it: relative to invalid/

The pydantic models and the JSON Schema must agree on accept/reject for every
file, except in the folders below, whose mistakes the schema cannot see.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from specc.errors import SpecError
from specc.expanding.expand import expand
from specc.checking.spec import Spec
from specc.checking.validate import load
from specc.checking.schema_shared import def_name
from specc.vocab import registry

CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = CORPUS / "valid"
INVALID = CORPUS / "invalid"
SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "specc.schema.json"
# Folder -> why the JSON Schema cannot judge its files.
BEYOND_SCHEMA = {
    "wiring": "names, references and cycles between layers: the data is well-formed",
    "expr": "an expression: the schema has no pattern for it (a regular expression for "
            "its words backtracked exponentially on some inputs); the parser checks it",
    "syntax": "the text is not TOML or JSON, so there is no data to check",
    "expand": "block parameters, names and values computed by expressions: the schema "
              "sees the text of an expression, not its value",
    "required": "a required argument may come from [defaults], so the schema of a layer "
                "requires only its type",
}


def _specs(folder: Path) -> list[str]:
    found = [p for p in folder.rglob("*") if p.suffix in (".toml", ".json")]
    return sorted(p.relative_to(folder).as_posix() for p in found)


def _data(path: Path):
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())
    return json.loads(path.read_text())


@cache
def _schema() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def _verdicts(path: Path) -> tuple[bool, bool]:
    """(JSON Schema accepts, pydantic accepts) for the data in path."""
    data = _data(path)
    try:
        # The schema reads the spec as written; the models read it expanded.
        Spec.model_validate(expand(data))
        typed = True
    except (ValidationError, SpecError):
        typed = False
    return _schema().is_valid(data), typed


def test_the_corpus_is_large_enough():
    assert len(_specs(VALID)) >= 50
    assert len(_specs(INVALID)) >= 100


def test_every_invalid_spec_has_its_expected_output():
    specs = {f"{name}.expected" for name in _specs(INVALID)}
    expected = {p.relative_to(INVALID).as_posix() for p in INVALID.rglob("*.expected")}
    assert sorted(expected - specs) == [], "expected output without a spec"
    assert sorted(specs - expected) == [], "spec without its expected output"


@pytest.mark.parametrize("name", _specs(VALID))
def test_valid_spec_loads(name):
    load(VALID / name)


def corpus_penalty(w, factor=1.0, power=1):
    """The penalty regularizer_custom.toml names."""
    from keras import ops

    return factor * ops.sum(ops.abs(w) ** power)


@pytest.mark.parametrize("name", _specs(VALID))
def test_valid_spec_builds_exports_and_builds_again_the_same(name):
    """build -> export -> build: the same layers, configs, weights' shapes, parameters
    and compile config (conftest.round_trip), in the spec's own format."""
    import specc
    from conftest import round_trip
    from specc.building.build import build

    specc.register_regularizer("my_penalty")(corpus_penalty)
    round_trip(build(load(VALID / name)), "json" if name.endswith(".json") else "toml")


@pytest.mark.parametrize("name", _specs(INVALID))
def test_invalid_spec_gives_exactly_its_messages(name, monkeypatch):
    monkeypatch.chdir(INVALID)
    with pytest.raises(SpecError) as caught:
        load(name)
    printed = [str(problem) for problem in caught.value.problems]
    assert printed == (INVALID / f"{name}.expected").read_text().splitlines()


@pytest.mark.parametrize("name", _specs(VALID))
def test_schema_and_models_accept_valid_spec(name):
    assert _verdicts(VALID / name) == (True, True)


@pytest.mark.parametrize(
    "name", [n for n in _specs(INVALID) if n.split("/")[0] not in BEYOND_SCHEMA]
)
def test_schema_and_models_reject_invalid_spec(name):
    assert _verdicts(INVALID / name) == (False, False)


@pytest.mark.parametrize("name", _specs(INVALID / "wiring"))
def test_wiring_mistakes_are_well_formed_data(name):
    assert _verdicts(INVALID / "wiring" / name) == (True, True)


@pytest.mark.parametrize("name", _specs(INVALID / "required"))
def test_a_missing_argument_is_left_to_the_models(name):
    assert _verdicts(INVALID / "required" / name) == (True, False)


@pytest.mark.parametrize("name", _specs(INVALID / "expr"))
def test_expression_grammar_is_left_to_the_models(name):
    assert _verdicts(INVALID / "expr" / name) == (True, False)


# ---- the schema that editors read --------------------------------------------

def _definitions() -> dict:
    return json.loads(SCHEMA.read_text())["$defs"]


def _as_editors_see(node: dict, defs: dict) -> dict:
    """node with what its reference and the members of its allOf bring: editors show
    a description or default found there."""
    seen = {}
    for part in node.get("allOf", []):
        seen.update(_as_editors_see(part, defs))
    if "$ref" in node:
        target = {"$defs": defs}
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        seen.update(_as_editors_see(target, defs))
    return {**seen, **node}


def test_every_definition_and_argument_is_described():
    defs = _definitions()
    undescribed = [
        f"{name}.{prop}" if prop else name
        for name, node in defs.items()
        for prop in [None, *(node.get("properties", {}) if not name.startswith("ops.") else [])]
        if "description" not in _as_editors_see(node["properties"][prop] if prop else node, defs)
    ]
    assert undescribed == []
    assert "kind: " not in SCHEMA.read_text()


def test_every_layer_names_its_keras_class_and_optional_arguments_have_defaults():
    from specc.checking.spec import LAYER_MODELS

    defs = _definitions()
    for name, model in LAYER_MODELS.items():
        package = registry.package_of(name) or "keras"
        node = defs[def_name(name)]
        assert node["description"].startswith(f"{package}.layers.{registry.class_name(name)}")
        for arg, field in model.model_fields.items():
            if not field.is_required():
                assert "default" in _as_editors_see(node["properties"][arg], defs), \
                    f"{name}.{arg}"


def test_layer_examples_are_valid_specs():
    from specc.checking.spec import LAYER_MODELS

    defs = _definitions()
    examples = [ex for name in LAYER_MODELS for ex in defs[def_name(name)].get("examples", [])]
    # A few need a string only Keras can give; 10 of keras-hub's a value of no kind
    # (bounding-box formats, token ids, SAM's image shapes).
    assert len(examples) >= len(LAYER_MODELS) - 15
    for example in examples:
        spec = {"inputs": [{"shape": [4]}], "layers": [example]}
        assert _schema().is_valid(spec), example
        Spec.model_validate(spec)


def test_schema_accepts_a_large_spec_and_finds_one_mistake_in_it():
    # How long the check takes is measured in benchmarks/bench_checks.py (CHECKS.md).
    layers = [{"type": "Dense", "units": 8, "activation": "relu",
               "kernel_regularizer": {"l2": 0.01}, "kernel_initializer": "he_normal"},
              {"type": "Dropout", "rate": 0.1}] * 100
    spec = {"inputs": [{"shape": [8]}], "layers": layers}
    assert _schema().is_valid(spec)
    spec["layers"] = [*layers[:150], {"type": "Dropout", "rate": 1.5}, *layers[151:]]
    assert [list(e.absolute_path)[:2] for e in _schema().iter_errors(spec)] == [["layers", 150]]


# ---- the source check of an expanded spec ---------------------------------------


def _problems_both_ways(path: Path):
    """The paths of the schema's problems with a spec as written, checking all of it,
    and of those load finds checking what the flat spec does not vouch for (None when
    the spec does not expand and type)."""
    from specc.checking.source import (_rewritten_layers, _schema_errors, _sections_kept,
                                       source_problems)
    from specc.expanding.expand import expand_document
    from specc.reading.load import format_path, load_document

    try:
        source = load_document(path)
        flat = expand_document(source)
        Spec.model_validate(flat.data)
    except (SpecError, ValidationError):
        return None
    if flat is source:
        return None
    everything = []
    for error in _schema_errors(source.data):
        at = tuple(error.absolute_path)
        if "propertyNames" in error.absolute_schema_path:  # the name is the value at fault
            at += (error.instance,)
        everything.append(format_path(at))
    quick = _rewritten_layers(source, flat) == [] and _sections_kept(source.data, flat.data)
    return sorted(everything), sorted(p.path for p in source_problems(source, flat)), quick


def _with_layer_left_out(data: dict, at: int) -> dict:
    """data with a misspelt layer, left out by `if = false`, inserted at index at."""
    layers = list(data["layers"])
    layers.insert(at, {"type": "Dense", "unitz": 3, "if": False})
    return {**data, "layers": layers}


def test_load_checks_as_written_what_expansion_rewrote_and_nothing_less(tmp_path):
    """`load` checks against the schema only the layers expansion rewrote, [defaults],
    [blocks] and [constants] (a plain layer unchanged in the flat spec was checked
    there), and only the names of [defaults] when nothing else was rewritten. Every
    corpus spec that expands and types, and each with a misspelt layer that expansion
    leaves out put at its start, middle and end, and each with a misspelt argument in
    a [defaults] table no layer uses, has problems at the same paths either way."""
    from specc.writing.factor import dumps_factored

    compared = found = quick = 0
    for folder in (VALID, INVALID):
        for name in _specs(folder):
            try:
                data = _data(folder / name)
            except ValueError:  # not TOML or JSON: nothing to expand
                continue
            cases = [folder / name]
            if folder is VALID:  # as `specc export` writes it: shared arguments in [defaults]
                data = json.loads(dumps_factored(load(folder / name), "json", blocks=False))
                cases.append(tmp_path / f"factored_{name.replace('/', '_')}.json")
                cases[-1].write_text(json.dumps(data))
            if isinstance(data, dict) and isinstance(data.get("layers"), list) and data["layers"]:
                variants = [_with_layer_left_out(data, at)
                            for at in sorted({0, len(data["layers"]) // 2, len(data["layers"])})]
                if isinstance(data.get("defaults"), dict):  # for a type no layer is of
                    defaults = {**data["defaults"], "ZeroPadding3D": {"paddin": 1}}
                    variants.append({**data, "defaults": defaults})
                for variant in variants:
                    case = tmp_path / f"{len(cases)}_{name.replace('/', '_')}.json"
                    case.write_text(json.dumps(variant))
                    cases.append(case)
            for case in cases:
                both = _problems_both_ways(case)
                if both is None:
                    continue
                compared += 1
                found += bool(both[0])
                quick += both[2]
                assert both[1] == both[0], case
    assert compared >= 200 and found >= 200 and quick >= 10, (compared, found, quick)
