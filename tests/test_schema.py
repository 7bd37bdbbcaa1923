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
    if gen_catalog.CATALOG.read_text() != fresh:
        stale(gen_catalog.CATALOG, fresh, "python tools/gen_catalog.py")
