"""The parameter budget: counted before any weight exists, refused with the estimate."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from keras.src.backend.common import global_state

import specc
from conftest import ROOT, spec_files
from specc.building import budget
from specc.building.build import build
from specc.errors import SpecError

HUGE = """\
[model]
name = "huge"

[[inputs]]
shape = [100000]

[[layers]]
type = "Dense"
units = 100000
"""
# Dense(100000) on 100000 inputs: 10,000,100,000 float32 parameters, 40 GB.
HUGE_MESSAGE = (
    ":1:1: model: the model has about 10,000,100,000 parameters (40.0 GB as float32), "
    "over the budget of 1,000,000,000; most are in layer 'dense' (10,000,100,000); "
    "raise it with --max-params"
)


def _weights(model) -> list:
    return [w.numpy() for w in model.weights]


# Decimal units, as the messages print sizes: a number with one decimal, under 1000
# of its unit (whole bytes under 1 kB).
UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _bytes_shown(number: str, unit: str) -> float:
    assert re.fullmatch(r"\d+" if unit == "B" else r"\d{1,3}\.\d", number), (number, unit)
    assert 1 <= float(number) < 1000 or unit == "TB"
    return float(number) * UNITS[unit]


def _rounding(unit: str) -> float:
    return 0 if unit == "B" else 0.05 * UNITS[unit]


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_the_estimate_is_the_built_models_size(path):
    spec = specc.load(path)
    real = build(spec, max_params=None)  # no budget: Keras's own build, every weight made
    params = real.count_params()
    nbytes = sum(w.nbytes for w in _weights(real))
    with pytest.raises(SpecError) as refused:
        build(spec, max_params=params - 1)
    message = str(refused.value)
    shown = re.search(rf"about {params:,} parameters \((\S+) (\S+) as float32\)", message)
    assert shown is not None, message
    assert _bytes_shown(shown[1], shown[2]) == pytest.approx(nbytes, abs=_rounding(shown[2]))
    assert f"over the budget of {params - 1:,};" in message
    assert build(spec, max_params=params).count_params() == params


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_deferred_weights_are_the_weights_keras_makes(path):
    spec = specc.load(path)
    made = []
    for max_params in (None, budget.DEFAULT_MAX_PARAMS):
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        made.append(_weights(build(spec, max_params=max_params)))
    assert len(made[0]) == len(made[1])
    for plain, deferred in zip(*made):
        np.testing.assert_array_equal(plain, deferred)


def test_the_message_and_exit_code(cli, tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    result = cli("build", path, "-o", tmp_path / "huge.keras")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{path}{HUGE_MESSAGE}", "1 problem found"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.toml"]


@pytest.mark.parametrize("value", ["55050", "55_050", "5.505e4"])
def test_max_params_on_the_command_line(cli, tmp_path, value):
    spec = ROOT / "specs" / "tutorial_dropout.toml"  # 55,050 parameters
    result = cli("build", spec, "-o", tmp_path / "ok.keras", "--max-params", value)
    assert result.exit_code == 0, result.output
    result = cli("build", spec, "-o", tmp_path / "over.keras", "--max-params", "55049")
    assert result.exit_code == 1
    assert "the model has about 55,050 parameters (220.2 kB as float32), over the budget of 55,049" \
        in result.stderr
    assert not (tmp_path / "over.keras").exists()


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "many", "inf", "nan"])
def test_max_params_must_be_a_positive_whole_number(cli, value):
    result = cli("build", ROOT / "specs" / "cnn.toml", "--max-params", value)
    assert result.exit_code == 2, result.output
    assert "expected a positive whole number" in result.output


def test_python_api_takes_max_params():
    spec = specc.load(ROOT / "specs" / "tutorial_dropout.toml")
    with pytest.raises(SpecError, match="over the budget of 1,000;"):
        specc.build(spec, max_params=1000)
    assert specc.build(spec, max_params=55_050).count_params() == 55_050


def test_a_refused_model_leaves_no_deferred_weight_behind():
    pending = global_state.get_global_attribute("uninitialized_variables", [])
    before = list(pending)
    with pytest.raises(SpecError):
        build(specc.load(ROOT / "specs" / "cnn.toml"), max_params=10)
    assert global_state.get_global_attribute("uninitialized_variables", []) == before
    # Keras's next StatelessScope would make every weight it finds on that list.
    with keras.StatelessScope():
        pass


def test_running_out_of_memory_is_a_problem_not_a_traceback(monkeypatch):
    import keras.src.backend.common.variables as variables

    def exhausted():
        raise MemoryError()

    monkeypatch.setattr(variables, "initialize_all_variables", exhausted)
    with pytest.raises(SpecError) as error:
        build(specc.load(ROOT / "specs" / "tutorial_dropout.toml"))
    assert str(error.value).endswith(
        "model: not enough memory to make the weights of 55,050 parameters (220.2 kB as float32)"
    )


def test_a_huge_spec_is_refused_without_allocating(tmp_path):
    # A process of its own: ru_maxrss is a high-water mark that earlier tests have raised.
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    script = textwrap.dedent(f"""
        import resource
        import specc
        from specc.building.build import build
        build(specc.load("specs/cnn.toml"))  # TensorFlow imported and warm
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            specc.build({str(path)!r})  # a file: the problem is placed at its line
        except specc.SpecError as exc:
            print(exc)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
        print(grown)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    message, grown_kib = done.stdout.strip().splitlines()
    assert message == f"{path}{HUGE_MESSAGE}"
    # Under 100 MB, where the weights would be 40 GB. How long the refusal takes is
    # measured in benchmarks/bench_checks.py (CHECKS.md), not asserted here.
    assert int(grown_kib) < 100 * 1024


class _AssignsWhenBuilt(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(2,), initializer="zeros")
        self.w.assign([1.0, 2.0])

    def call(self, x):
        return x * self.w


def test_a_layer_that_assigns_while_built_keeps_its_value():
    # Inside the scope the assignment would be lost: the model is built again, plainly.
    model = budget.within(lambda: keras.Sequential([keras.Input((2,)), _AssignsWhenBuilt()]), 100)
    np.testing.assert_array_equal(model.layers[-1].w.numpy(), [1.0, 2.0])
    with pytest.raises(SpecError, match="about 2 parameters"):
        budget.within(lambda: keras.Sequential([keras.Input((2,)), _AssignsWhenBuilt()]), 1)
