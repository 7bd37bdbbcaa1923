"""Generated files are committed; each test names the command that regenerates it."""

import difflib
import importlib.util

import pytest

from conftest import ROOT, SCHEMA


def stale(path, fresh: str, command: str):
    """Fail with the command to run and the first lines that differ."""
    diff = difflib.unified_diff(path.read_text().splitlines(), fresh.splitlines(),
                                "committed", "generated", lineterm="", n=1)
    lines = list(diff)
    pytest.fail(f"{path.relative_to(ROOT)} is stale: run {command}\n" + "\n".join(lines[:30]))


def test_committed_schema_is_current():
    from specc.checking import schema

    fresh = schema.render()
    if SCHEMA.read_text() != fresh:
        stale(SCHEMA, fresh, "python -m specc.checking.schema")


def test_committed_catalog_is_current():
    pytest.importorskip("keras")
    spec = importlib.util.spec_from_file_location("gen_catalog", ROOT / "tools" / "gen_catalog.py")
    gen_catalog = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_catalog)
    fresh = gen_catalog.render(gen_catalog.generate())
    # The catalog specc uses for this Keras: catalog.json, patched for an older minor
    # (so that each supported Keras's CI run checks its own patch).
    if gen_catalog.render(gen_catalog.for_installed()) != fresh:
        stale(gen_catalog.CATALOG, fresh, "python tools/gen_catalog.py (or --versions DIR)")
    pytest.importorskip("keras_hub")
    fresh = gen_catalog.render(gen_catalog.generate_hub())
    if gen_catalog.HUB_CATALOG.read_text() != fresh:
        stale(gen_catalog.HUB_CATALOG, fresh, "python tools/gen_catalog.py")


# ---- the schema's size and shape (issue 9) ---------------------------------------

def _switch_names(node) -> list[str]:
    """Every class name a switch tests for equality, as often as it is written."""
    if isinstance(node, list):
        return [n for item in node for n in _switch_names(item)]
    if not isinstance(node, dict):
        return []
    found = []
    match = node.get("if", {}).get("properties", {}).get("type", {})
    found += [match["const"]] if "const" in match else match.get("enum", [])
    for key in ("then", "else", "allOf"):
        found += _switch_names(node.get(key, []))
    return found


def test_the_schema_is_at_most_520_kb():
    # Keras's 130 layer classes took 380 KB; keras-hub's 69 (31 of them image converters
    # sharing one signature) about 110 KB more.
    assert SCHEMA.stat().st_size <= 520_000


def test_the_switch_on_type_writes_each_class_name_once():
    import json
    from collections import Counter

    defs = json.loads(SCHEMA.read_text())["$defs"]
    for union in ("Layer", "RecurrentLayer"):
        node = defs[union]
        while "required" not in node.get("if", {}) or "not" in node["if"]:
            node = node["else"]  # past {apply = ...} and {block = ...}
        written = Counter(_switch_names(node["then"]))
        kind = defs[union]["properties"]["type"]
        names = kind["enum"] if "enum" in kind else kind["anyOf"][0]["enum"]  # Layer: or a plugin's
        assert set(written) == set(names)
        assert set(written.values()) == {1}, union


def test_each_layer_class_adds_a_bounded_number_of_bytes(monkeypatch):
    # Half the classes, then all: a class adds its definition, a leaf of the switch and
    # its [defaults] entry (about 1.3 KB; 7 KB before issue 9), whatever else is there.
    from specc.checking import schema
    from specc.checking.spec import RECURRENT
    from specc.vocab import registry

    everything = dict(registry.LAYERS)
    half = {n: info for i, (n, info) in enumerate(sorted(everything.items()))
            if i % 2 == 0 or n in RECURRENT or n == "Bidirectional"}
    sizes = {}
    for layers in (half, everything):
        monkeypatch.setattr(registry, "LAYERS", layers)
        sizes[len(layers)] = len(schema.render().encode())
    (n1, s1), (n2, s2) = sorted(sizes.items())
    assert (s2 - s1) / (n2 - n1) <= 2_000, sizes


def test_a_reference_stands_alone_or_in_an_allof():
    # Editors merge a $ref's target into what is beside it and disagree on which
    # side wins; taplo (Even Better TOML) ignores what is beside it. So beside a
    # $ref there are only notes its target does not have.
    import json

    schema = json.loads(SCHEMA.read_text())
    notes = {"$ref", "default", "description", "examples", "title"}

    def target(ref: str) -> dict:
        node = schema
        for key in ref.removeprefix("#/").split("/"):
            node = node[key]
        return node

    def clashes(node) -> list:
        if isinstance(node, list):
            return [c for item in node for c in clashes(item)]
        if not isinstance(node, dict):
            return []
        found = [c for value in node.values() for c in clashes(value)]
        if "$ref" in node and (set(node) - notes or set(node) & set(target(node["$ref"])) - {"$ref"}):
            found.append(node)
        return found

    assert clashes(schema) == []


def test_an_operation_takes_the_keys_of_every_layer_and_only_its_own_arguments():
    # Expansion reads "if" and "repeat" on an operation as on any layer; the schema
    # once refused them there, and now checks an operation's own arguments.
    import json

    import jsonschema

    from specc.checking.validate import validate_document
    from specc.reading.load import parse_text

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))

    def spec(op: dict) -> dict:
        return {"inputs": [{"name": "x", "shape": [4]}],
                "layers": [{"type": "Dense", "units": 4, "name": "d"},
                           {"type": "ops.Sum", "inputs": ["d"], "name": "s", **op}]}

    accepted = spec({"axis": 1, "if": True})
    validate_document(parse_text(json.dumps(accepted), "json", "spec.json"))
    assert validator.is_valid(accepted)
    assert [e.message for e in validator.iter_errors(spec({"axes": 1}))] == [
        "Additional properties are not allowed ('axes' was unexpected)"]


def test_a_plugin_s_layer_class_passes_the_schema_with_any_arguments():
    # The committed schema cannot know the user's classes: an editor must not flag them
    # (specc validate --plugin checks their arguments). A misspelt Keras or keras-hub
    # class is still an error.
    import json

    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))

    def problems(kind: str) -> list:
        spec = {"inputs": [{"shape": [8]}], "layers": [{"type": kind, "embed_dim": 8}],
                "defaults": {kind: {"rate": 0.1}}}
        return sorted("/".join(map(str, e.absolute_path)) for e in validator.iter_errors(spec))

    assert problems("demo>TransformerBlock") == []
    assert problems("my.pkg>Block2") == []
    for wrong in ("keras_hub>TransformerEncodr", "Dens", "demo>", ">Block", "a>b>c"):
        assert problems(wrong) == ["defaults", "layers/0/type"], wrong
    assert problems("Dense") == ["defaults/Dense", "layers/0"]  # Dense has neither argument
