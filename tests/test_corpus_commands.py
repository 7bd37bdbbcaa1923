"""Every corpus spec through every command that reads a spec: a result or problems, never a
traceback, an internal error or a Python warning.

One fresh interpreter runs the real command line (``specc.cli.main.main``, what the
console script calls) over each file and each command, and reports what it printed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

CORPUS = ROOT / "tests" / "corpus"
# Run in this order for each spec: the diff compares the spec with its expanded TOML.
COMMANDS = [["validate"], ["summary"], ["summary", "--format", "json"], ["expand"],
            ["expand", "-o", "{out}/flat.toml"], ["diff", "{out}/flat.toml"],
            ["fmt", "--check"], ["graph", "-o", "{out}/g.dot"],
            ["validate", "--set", "layers[0].name=renamed"]]
# diff's exit codes: 0 same, 1 different, 2 unreadable input (an invalid spec).
CODES = {"diff": (0, 1, 2)}

RUNNER = """
import contextlib, io, json, sys, tempfile, warnings
from specc.cli.main import main

warnings.simplefilter("always")
warnings.simplefilter("ignore", DeprecationWarning)
specs, commands = json.loads(sys.argv[1]), json.loads(sys.argv[2])
results = []
with tempfile.TemporaryDirectory() as out:
    for spec in specs:
        for command in commands:
            argv = [command[0], spec, *(a.format(out=out, spec=spec) for a in command[1:])]
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                code = main(argv)
            results.append({"argv": argv, "code": code, "printed": printed.getvalue()})
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def results() -> list[dict]:
    specs = sorted(str(p) for p in CORPUS.rglob("*") if p.suffix in (".toml", ".json"))
    assert len(specs) > 250
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(specs), json.dumps(COMMANDS)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_no_command_prints_a_traceback_for_any_corpus_spec(results):
    bad = [(r["argv"], r["code"], r["printed"][-500:]) for r in results
           if r["code"] not in CODES.get(r["argv"][0], (0, 1)) or "Traceback" in r["printed"]
           or "internal error" in r["printed"] or "Warning:" in r["printed"]]
    assert not bad, bad[:5]


@pytest.mark.slow
def test_valid_specs_pass_and_invalid_ones_fail_in_every_checking_command(results):
    """And the expanded TOML of a valid spec (JSON's nulls written "None") is the same model."""
    for r in results:
        command, spec = r["argv"][0], r["argv"][1]
        valid = "/valid/" in spec
        if command in ("validate", "summary", "expand", "graph") and "--set" not in r["argv"]:
            assert r["code"] == (0 if valid else 1), (r["argv"], r["printed"][-500:])
        if command == "diff" and valid:  # the expanded TOML is the same model
            assert r["code"] == 0, (r["argv"], r["printed"][-500:])
