"""The package's layout is its architecture: a one-way pipeline of stages.

Each module of a stage may import the base modules, its own stage and earlier
stages, never a later one (imports inside functions count too); no module is
over 400 lines. docs/architecture.md describes the stages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "specc"

# In pipeline order. The base modules may be imported by every stage.
STAGES = ["base", "vocab", "reading", "expanding", "checking", "building", "exporting",
          "writing", "reporting", "cli"]
BASE = {"errors", "files", "collector"}
# The public API facade and ``python -m specc`` sit above every stage.
FACADES = {"specc", "specc.__main__"}

MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 2 and parts[1] in BASE:
        return "base"
    return parts[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from specc.x import y" may import the module specc.x.y.
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.startswith("specc.")}


def test_every_module_belongs_to_a_stage():
    stray = [_name(p) for p in MODULES
             if _name(p) not in FACADES and _stage(_name(p)) not in STAGES]
    assert not stray


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_stage_imports_a_later_stage(path):
    module = _name(path)
    if module in FACADES:
        return
    rank = STAGES.index(_stage(module))
    later = sorted(name for name in _imports(path)
                   if _stage(name) in STAGES and STAGES.index(_stage(name)) > rank)
    assert not later, f"{module} ({_stage(module)}) imports later stages: {later}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_module_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_stage_packages_export_nothing():
    """A stage's __init__ is its docstring: names are imported from their own module."""
    for init in PACKAGE.glob("*/__init__.py"):
        body = ast.parse(init.read_text()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), init


def test_the_layout_check_sees_a_violation(tmp_path):
    """The walker finds an import inside a function (so the test above can fail)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from specc.cli.main import run\n")
    assert _imports(module) == {"specc.cli.main", "specc.cli.main.run"}


def test_every_stage_package_is_installed():
    """A wheel carries only the packages pyproject.toml lists: a new stage must be there."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    present = {_name(init) for init in PACKAGE.rglob("__init__.py")}
    assert present <= listed, present - listed
