"""Generated files are committed; each test names the command that regenerates it."""

import importlib.util

import pytest

from conftest import ROOT, SCHEMA


def test_committed_schema_is_current():
    from specc import schema

    if SCHEMA.read_text() != schema.render():
        pytest.fail(f"{SCHEMA.relative_to(ROOT)} is stale: run python -m specc.schema")


def test_committed_catalog_is_current():
    pytest.importorskip("keras")
    spec = importlib.util.spec_from_file_location("gen_catalog", ROOT / "tools" / "gen_catalog.py")
    gen_catalog = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_catalog)
    if gen_catalog.CATALOG.read_text() != gen_catalog.render(gen_catalog.generate()):
        pytest.fail("specc/catalog.json is stale: run python tools/gen_catalog.py")
