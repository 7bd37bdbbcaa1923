"""The hooks of .pre-commit-hooks.yaml, run by pre-commit itself in a scratch git repository.

pre-commit would install specc (and TensorFlow) into an environment of its own
for ``language: python``; here each hook runs with the same id, entry and
files as ``language: unsupported`` (a command on PATH), the specc under test,
so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

HERE = Path(__file__).resolve().parent
GOOD = '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nunits = 2\n'
BAD = '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dence"\nunits = 2\n'

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def hooks() -> list[dict]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


@pytest.fixture
def repo(tmp_path):
    """A git repository whose .pre-commit-config.yaml uses specc's hooks as they are written."""
    local = [{**hook, "language": "unsupported"} for hook in hooks()]
    (tmp_path / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}))
    (tmp_path / "specs").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'not a spec'\n")  # out of `files`
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"],
                 ["config", "user.name", "t"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    return tmp_path


def pre_commit(repo: Path, hook: str) -> subprocess.CompletedProcess:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
           # `specc` on PATH is the console script of the environment running the tests.
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", hook, "--all-files",
                           "--color", "never"], cwd=repo, env=env, capture_output=True, text=True)


def test_the_hooks_offered():
    assert [(h["id"], h["entry"], h["language"]) for h in hooks()] == [
        ("specc-validate", "specc validate", "python"), ("specc-fmt", "specc fmt", "python")]


def test_validate_passes_a_good_spec_and_fails_a_bad_one(repo):
    (repo / "specs" / "good.toml").write_text(GOOD)
    passed = pre_commit(repo, "specc-validate")
    assert passed.returncode == 0, passed.stdout
    assert "specc validate" in passed.stdout and "Passed" in passed.stdout

    (repo / "specs" / "bad.toml").write_text(BAD)
    failed = pre_commit(repo, "specc-validate")
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "specs/bad.toml:5:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?" \
        in failed.stdout


def test_fmt_rewrites_a_spec_then_passes(repo):
    messy = repo / "specs" / "messy.toml"
    shutil.copy(HERE / "fmt" / "messy.toml", messy)
    (repo / "specs" / "good.toml").write_text(GOOD)
    first = pre_commit(repo, "specc-fmt")
    assert first.returncode == 1  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in first.stdout
    assert "reformatted specs/messy.toml" in first.stdout
    assert messy.read_text() == (HERE / "fmt" / "messy.toml.expected").read_text()
    assert (repo / "specs" / "good.toml").read_text() == GOOD
    second = pre_commit(repo, "specc-fmt")
    assert second.returncode == 0, second.stdout


def test_fmt_leaves_a_bad_spec_alone_and_fails(repo):
    (repo / "specs" / "bad.toml").write_text(BAD.replace("shape = [4]", "shape = [ 4 ]"))
    failed = pre_commit(repo, "specc-fmt")
    assert failed.returncode == 1
    assert "unknown layer type 'Dence'" in failed.stdout
    assert (repo / "specs" / "bad.toml").read_text() == BAD.replace("shape = [4]", "shape = [ 4 ]")
