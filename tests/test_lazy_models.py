"""The unions of initializers, constraints, optimizers, losses and metrics are built only
when a value needs them (scalars.lazy): a name is checked without any model, a table with
a known "type" by its own class's model alone, and both give exactly what the whole union
gives; a value either refuses gets the whole union's errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from conftest import ROOT
from specc.checking import compile as compile_section, objects
from specc.checking.scalars import lazy
from specc.vocab import registry

# name -> (the real union's builder, the quick path's member function, classes, names)
UNIONS = {
    "Initializer": (objects.initializer_union, objects._object_member("Initializer"),
                    registry.INITIALIZERS, registry.INITIALIZER_NAMES),
    "Constraint": (objects.constraint_union, objects._object_member("Constraint"),
                   registry.CONSTRAINTS, registry.CONSTRAINT_NAMES),
    "Optimizer": (compile_section.optimizer_union, compile_section._member("Optimizer"),
                  registry.OPTIMIZERS, [c.lower() for c in registry.OPTIMIZERS]),
    "Loss": (compile_section.loss_union, compile_section._member("Loss"),
             registry.LOSS_CLASSES, registry.LOSSES),
    "Metric": (compile_section.metric_union, compile_section._member("Metric"),
               registry.METRIC_CLASSES, registry.METRICS),
}


def _values(name: str) -> list:
    _, _, classes, names = UNIONS[name]
    tables = [{"type": cls} for cls, info in classes.items()
              if not any(isinstance(facts, dict) and facts.get("required")
                         for facts in info["args"].values())]
    return [*names, *tables]


@pytest.mark.parametrize("name", sorted(UNIONS))
def test_the_quick_path_gives_what_the_union_gives(name):
    union, member, _, _ = UNIONS[name]
    adapter = TypeAdapter(union())
    values = _values(name)
    assert len(values) > 5
    for value in values:
        quick = member(value)
        assert quick is not None, value
        got, expected = quick(value), adapter.validate_python(value)
        assert type(got) is type(expected)
        assert got == expected, value


@pytest.mark.parametrize("name", sorted(UNIONS))
@pytest.mark.parametrize("value", [
    "no_such_name", {"type": "NoSuchClass"}, {"type": 3}, {"no_type": 1}, 7, None,
], ids=repr)
def test_what_no_branch_takes_gets_the_unions_errors(name, value):
    union, member, _, _ = UNIONS[name]
    assert member(value) is None
    quick = _errors(TypeAdapter(lazy(name, union, member)), value)
    assert quick and quick == _errors(TypeAdapter(union()), value)


def _errors(adapter: TypeAdapter, value) -> list[dict]:
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        return exc.errors()
    return []


@pytest.mark.parametrize("name", sorted(UNIONS))
def test_a_table_its_branch_refuses_gets_the_unions_errors(name):
    union, member, classes, _ = UNIONS[name]
    cls = next(c for c, info in classes.items() if info["args"])
    value = {"type": cls, "no_such_argument": 1}
    assert member(value) is not None  # its branch is tried first, and refuses it
    quick = _errors(TypeAdapter(lazy(name, union, member)), value)
    assert quick == _errors(TypeAdapter(union()), value)
    assert [e["loc"] for e in quick] == [(cls, "no_such_argument")]


def test_checking_a_spec_builds_only_the_models_its_values_name(tmp_path):
    """In a fresh process: names in [compile] build no model; one initializer table
    builds its class's model alone (each union has 6 to 40 classes)."""
    spec = tmp_path / "s.toml"
    spec.write_text(
        '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nunits = 2\n'
        'kernel_initializer = { type = "VarianceScaling", scale = 2.0 }\n'
        'bias_initializer = "zeros"\nkernel_constraint = "non_neg"\n\n'
        '[compile]\noptimizer = "adam"\nloss = "mse"\nmetrics = ["mae", "accuracy"]\n')
    code = (
        "import json, sys\n"
        "from specc.checking.validate import check_file\n"
        "from specc.checking import compile, objects\n"
        "check_file(sys.argv[1])\n"
        "print(json.dumps([compile._class_model.cache_info().currsize,"
        " objects._object_model.cache_info().currsize]))\n")
    run = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [0, 1]
