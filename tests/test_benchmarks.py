"""The benchmark command runs (a smoke run at tiny sizes; no timing is asserted here:
timing belongs in benchmarks/RESULTS.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT

BENCH = ROOT / "benchmarks" / "bench_commands.py"


@pytest.mark.slow
def test_bench_commands_smoke_run(tmp_path):
    results = tmp_path / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--models", "MLP", "--sizes", "4", "12", "--repeat", "1",
         "--build-repeat", "1", "--scale-repeat", "1", "--scale-build-repeat", "1", "--results", str(results)],
        capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    report = results.read_text()
    for section in ("## Targets (issue 11)", "## 1. `specc validate M.toml`",
                    "## 2. `specc export M.keras`", "## 3. `specc build M.toml`",
                    "## 3b. (c) Load time", "## 4. (a) Size", "## 5. Scaling in process",
                    "`specc --version` and `specc --help`"):
        assert section in report
    # The import check is a fact, not a timing: validate and export load no TensorFlow.
    assert "| no TensorFlow/Keras module imported by validate or export | 0 modules | yes |" in report
    # One row per model and step, each curve with its fitted exponent.
    for kind in ("chain", "residual"):
        for step in ("validate", "build", "export", "dump"):
            assert f"| {kind} | {step} |" in report
    assert "| MLP | 10 |" in report  # 10 layers, in each process table
    # The in-process build target is shown next to the floor of building through Keras.
    assert "its own Keras code, weights made as specc does:" in report


@pytest.mark.slow
def test_bench_commands_only_validate(tmp_path):
    """--only validate: the validate and start-up figures alone, each with its target."""
    results = tmp_path / "RESULTS.md"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--only", "validate", "--models", "MLP", "--repeat", "1",
         "--results", str(results)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    report = results.read_text()
    assert "## 1. `specc validate M.toml`" in report and "| MLP | 10 |" in report
    assert "`specc --version` and `specc --help`" in report
    assert "| no TensorFlow/Keras module imported by validate | 0 modules | yes |" in report
    for absent in ("## 2. ", "## 3. ", "## 4. ", "## 5. ", "export <=", "build (processes)"):
        assert absent not in report


def test_bench_checks_smoke_run():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_checks.py"), "--sizes", "10", "20",
         "--repeat", "1"], capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line.split(" | ")[:2] for line in run.stdout.splitlines()[2:]]
    assert rows == [
        ["| JSON Schema: load the schema, make the validator (s)", "-"],
        ["| JSON Schema: check a spec of N layers (s, median)", "10"],
        ["| JSON Schema: check a spec of N layers (s, median)", "20"],
        ["| budget: build() refuses a 10,000,100,000-parameter Dense (s, median)", "1"],
        ["| budget: peak memory grown while refusing it (MB)", "1"],
    ]


def test_bench_build_smoke_run():
    """bench_build.py on the MLP, in process only: one row, specc and Keras side by side."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), "--models", "MLP",
         "--repeat", "1", "--process-repeat", "0"], capture_output=True, text=True, cwd=ROOT,
        timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line.split(" | ") for line in run.stdout.splitlines() if line.startswith("| MLP |")]
    assert len(rows) == 1 and len(rows[0]) == 6
    assert "Processes" not in run.stdout  # --process-repeat 0: no process table


def test_bench_catalogs_smoke_run():
    """bench_catalogs.py: a row per supported Keras minor, each against import tensorflow."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_catalogs.py"), "--repeat", "1",
         "--results", "-"], capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line.split(" | ")[0] for line in run.stdout.splitlines() if line.startswith("| specc")]
    assert rows == [f"| specc validate, Keras {r}" for r in ("3.12.4", "3.13.2", "3.14.1", "3.15.1")]
