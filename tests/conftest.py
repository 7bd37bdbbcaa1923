"""Shared paths and helpers for the tests of specs, the tutorial and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TensorFlow's C++ start-up chatter would drown pytest's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SCHEMA = ROOT / "schemas" / "specc.schema.json"


def spec_files() -> list[Path]:
    return sorted(p for p in SPECS.iterdir() if p.suffix in (".toml", ".json"))


def configs(model) -> list[tuple[str, dict]]:
    """Class name and config of every layer, without the names Keras gives them."""
    out = []
    for layer in model.layers:
        config = layer.get_config()
        config.pop("name", None)
        out.append((type(layer).__name__, config))
    return out


@pytest.fixture
def cli():
    """Run the specc CLI in-process: ``cli("validate", path)`` -> click Result."""
    from typer.testing import CliRunner

    from specc.cli import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], prog_name="specc")

    return invoke


def run_specc(*args, cwd=ROOT, **env):
    """The real command line in a fresh process: ``python -m specc ARGS`` -> CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **env})
