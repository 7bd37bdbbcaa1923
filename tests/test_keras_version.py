"""The supported Keras versions: the catalog's minor release, stated in pyproject.toml,
and any other installed Keras refused with one line (exit 1) before a spec is checked
or built against arguments it does not have."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib

import pytest

import specc
from conftest import ROOT, SPECS
from specc.vocab import keras_version

MESSAGE = ("Keras {} is installed, but specc supports Keras >=3.15,<3.16 (its catalog of layers "
           "and arguments is Keras 3.15.1's): pip install 'keras>=3.15,<3.16'")


def test_the_range_is_the_catalogs_minor_release_and_pyprojects():
    assert (keras_version.CATALOG_VERSION, keras_version.SUPPORTED) == ("3.15.1", ">=3.15,<3.16")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d for d in dependencies if d.startswith("keras")] == ["keras>=3.15,<3.16"]


def test_the_installed_keras_is_supported():
    assert keras_version.supports(importlib.metadata.version("keras"))


@pytest.mark.parametrize("version, supported", [
    ("3.15.0", True), ("3.15.1", True), ("3.15.2rc1", True), ("3.15.3.dev0", True),
    ("3.14.1", False), ("3.16.0", False), ("3.1.5", False), ("4.15.0", False),
    ("2.15.0", False), ("", False), ("unknown", False),
])
def test_supports(version, supported):
    assert keras_version.supports(version) is supported


def _specc(version_in_metadata: str, *args, prelude: str = ""):
    """``python -m specc ARGS`` in a fresh process whose installed-Keras metadata says
    ``version_in_metadata``; at exit it prints which of keras and tensorflow it imported."""
    code = (
        "import atexit, importlib.metadata, runpy, sys\n"
        "real = importlib.metadata.version\n"
        f"importlib.metadata.version = lambda name: {version_in_metadata!r} if name == 'keras' "
        "else real(name)\n"
        "atexit.register(lambda: print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)))\n"
        f"{prelude}"
        f"sys.argv = ['specc', *{[str(a) for a in args]!r}]\n"
        "runpy.run_module('specc', run_name='__main__', alter_sys=True)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)


def test_validate_refuses_another_keras_once_without_importing_it():
    result = _specc("3.14.1", "validate", SPECS / "cnn.toml", SPECS / "rnn.toml")
    assert (result.returncode, result.stdout) == (1, "[]\n")
    assert result.stderr == MESSAGE.format("3.14.1") + "\n1 problem found\n"


def test_validate_with_the_supported_keras_is_ok():
    result = _specc("3.15.0", "validate", SPECS / "cnn.toml")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{SPECS / 'cnn.toml'}: ok\n[]\n", "")


def test_build_refuses_another_keras_before_importing_tensorflow(tmp_path):
    out = tmp_path / "cnn.keras"
    result = _specc("3.16.0", "build", SPECS / "cnn.toml", "-o", out)
    assert (result.returncode, result.stdout) == (1, "[]\n")
    assert result.stderr == MESSAGE.format("3.16.0") + "\n1 problem found\n"
    assert list(tmp_path.iterdir()) == []


def test_build_refuses_an_imported_keras_its_metadata_does_not_name(tmp_path):
    # A Keras found first on sys.path, whose version is not the installed distribution's.
    out = tmp_path / "cnn.keras"
    result = _specc(importlib.metadata.version("keras"), "build", SPECS / "cnn.toml", "-o", out,
                    prelude="import keras\nkeras.__version__ = '3.14.0'\n")
    assert result.returncode == 1
    # Found while building that spec, the problem is placed in its file (the CLI's way).
    assert result.stderr.splitlines()[-2:] == [f"{SPECS / 'cnn.toml'}: {MESSAGE.format('3.14.0')}",
                                               "1 problem found"]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_python_api_refuses_another_keras(monkeypatch):
    spec = specc.load(SPECS / "tutorial_dropout.toml")
    monkeypatch.setattr(keras_version, "installed", lambda: "3.14.1")
    with pytest.raises(specc.SpecError) as loading:
        specc.load(SPECS / "tutorial_dropout.toml")
    with pytest.raises(specc.SpecError) as building:
        specc.build(spec)
    assert [str(p) for p in loading.value.problems] == [MESSAGE.format("3.14.1")]
    assert [str(p) for p in building.value.problems] == [MESSAGE.format("3.14.1")]


def test_the_readme_states_the_range_and_shows_the_message():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "specc supports Keras 3.15 (`keras>=3.15,<3.16`, as `pyproject.toml` requires)" in readme
    assert f"`{MESSAGE.format('3.14.1')}`" in readme
