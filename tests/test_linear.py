"""specc's work grows linearly with its input (issue 8), shown without a clock.

Timings belong in benchmarks/ (benchmarks/LINEAR.md, bench_commands.py's
scaling curves); a test counts something that does not depend on the machine:
the Python function calls made while validating or exporting an input, at a
size N and at 8 N. Linear work gives a ratio near 8, quadratic work near 64;
the bound (10) leaves room for fixed costs, not for a walk over pairs.
"""

import json
import sys

import pytest

from specc.writing.dump import dumps
from specc.errors import SpecError
from specc.exporting.export import export_config
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

SMALL, LARGE = 250, 2000  # 8 times as large
BOUND = 10


def _chain(n: int) -> dict:
    return {"inputs": [{"name": "x", "shape": [4]}],
            "layers": [{"type": "Dense", "units": 2, "name": f"d{i}",
                        "inputs": ["x" if i == 0 else f"d{i - 1}"]} for i in range(n)]}


def _reversed(n: int) -> dict:
    data = _chain(n)
    data["layers"].reverse()  # every layer written before the one it reads
    data["model"] = {"outputs": [f"d{n - 1}"]}
    return data


def _misspelt_references(n: int) -> dict:
    data = _chain(n)
    for layer in data["layers"][1:]:
        layer["inputs"] = [layer["inputs"][0] + "x"]  # each one a did-you-mean
    return data


def _misspelt_types(n: int) -> dict:
    data = _chain(n)
    for layer in data["layers"]:
        layer["type"] = "Dence"
    return data


def _keras_config(n: int) -> dict:
    """A Sequential's config.json as Keras writes it (plain data, no TensorFlow)."""
    def dense(i):
        return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                "config": {"name": f"dense_{i}" if i else "dense", "units": 2,
                           "activation": "relu", "trainable": True, "dtype": "float32"}}

    first = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"}}
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "trainable": True, "dtype": "float32",
                       "layers": [first, *(dense(i) for i in range(n))]}}


def _calls(work) -> int:
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event == "call"

    sys.setprofile(profile)
    try:
        work()
    except SpecError:
        pass
    finally:
        sys.setprofile(None)
    return count


def _validate(make):
    def work(n):
        text = json.dumps(make(n))
        return lambda: validate_document(parse_text(text, "json", "spec.json"))
    return work


def _export(n):
    config = _keras_config(n)
    return lambda: dumps(export_config(config))


CASES = {
    "validate a chain": _validate(_chain),
    "validate a chain written in reverse": _validate(_reversed),
    "validate misspelt references": _validate(_misspelt_references),
    "validate misspelt types": _validate(_misspelt_types),
    "export and dump a Sequential": _export,
}


@pytest.mark.parametrize("case", CASES)
def test_work_grows_linearly(case):
    work = CASES[case]
    _calls(work(10))  # caches, lazily built models
    small, large = _calls(work(SMALL)), _calls(work(LARGE))
    assert large / small <= BOUND, f"{case}: {small:,} calls at {SMALL}, {large:,} at {LARGE}"


def test_the_reverse_chain_is_valid_and_the_misspelt_ones_are_not():
    # The growth above is measured on the paths the names say.
    validate_document(parse_text(json.dumps(_reversed(50)), "json", "spec.json"))
    for make in (_misspelt_references, _misspelt_types):
        with pytest.raises(SpecError) as caught:
            validate_document(parse_text(json.dumps(make(50)), "json", "spec.json"))
        assert len(caught.value.problems) >= 49


@pytest.mark.slow
def test_building_a_sequential_grows_linearly_and_goes_past_keras_recursion():
    # Sequential.add rebuilt the model after every layer (quadratic), and Keras's
    # recursive graph walk stopped chains of about 900 layers (issue 8).
    import keras

    from specc.building.build import build

    def work(n):
        spec = validate_document(parse_text(json.dumps(
            {"inputs": [{"shape": [4]}], "layers": [{"type": "Dense", "units": 4}] * n}),
            "json", "spec.json"))
        return lambda: build(spec)

    keras.backend.clear_session()
    _calls(work(10))
    small, large = _calls(work(100)), _calls(work(800))
    assert large / small <= BOUND, f"{small:,} calls at 100 layers, {large:,} at 800"
    model = work(2000)()
    assert len(model.layers) == 2000 and model.count_params() == 2000 * (4 * 4 + 4)
