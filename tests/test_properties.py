"""Property-based tests (hypothesis).

- Valid specs made at random (layer stacks, branching graphs, every regularizer
  form, expressions) go validate -> build -> export -> build and give the same model.
- Any document, any text and any bytes give a Spec or specc's SpecError: never
  another exception. tools/fuzz.py runs the same promise for longer.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import configs
from specc.writing.dump import dumps
from specc.errors import SpecError
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUILDS = settings(max_examples=12, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---- valid specs ----------------------------------------------------------------

factor = st.sampled_from([0.0, 0.001, 0.01, 0.5])
elementwise = st.recursive(
    st.just("w"),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["abs", "square", "tanh"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.sampled_from(["0.5", "2", "1e-3"])).map(lambda t: f"({t[0]} * {t[1]})"),
    ),
    max_leaves=5,
)
expr = st.tuples(factor, st.sampled_from(["sum", "mean"]), elementwise).map(
    lambda t: {"expr": f"{t[0]} * {t[1]}({t[2]})"})
regularizer = st.one_of(
    st.just("l1"), st.just("l2"),
    factor.map(lambda f: {"l1": f}), factor.map(lambda f: {"l2": f}),
    st.tuples(factor, factor).map(lambda t: {"l1": t[0], "l2": t[1]}),
    factor.map(lambda f: {"orthogonal": f}),
    expr,
)


@st.composite
def dense(draw, name=None):
    layer = {"type": "Dense", "units": draw(st.integers(1, 6))}
    if draw(st.booleans()):
        layer["activation"] = draw(st.sampled_from(["relu", "tanh", "sigmoid", "linear"]))
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        if draw(st.integers(0, 2)) == 0:
            layer[key] = draw(regularizer)
    if draw(st.booleans()):
        layer["use_bias"] = draw(st.booleans())
    if name:
        layer["name"] = name
    return layer


other = st.one_of(
    st.floats(0, 0.9).map(lambda r: {"type": "Dropout", "rate": round(r, 2)}),
    st.just({"type": "LayerNormalization"}),
    st.just({"type": "BatchNormalization"}),
    st.sampled_from(["relu", "tanh"]).map(lambda a: {"type": "Activation", "activation": a}),
)


@st.composite
def stack_spec(draw):
    layers = draw(st.lists(st.one_of(dense(), other), min_size=1, max_size=6))
    layers.append(draw(dense()))
    return {"model": {"name": "stack"}, "inputs": [{"shape": [draw(st.integers(1, 5))]}],
            "layers": layers}


@st.composite
def graph_spec(draw):
    """Two branches from one input, merged, then a head."""
    width = draw(st.integers(1, 4))
    left = [draw(dense(f"left{i}")) for i in range(draw(st.integers(1, 3)))]
    right = [draw(dense(f"right{i}")) for i in range(draw(st.integers(1, 3)))]
    for branch in (left, right):
        branch[-1]["units"] = width
        for i, layer in enumerate(branch):
            layer["inputs"] = ["x"] if i == 0 else [branch[i - 1]["name"]]
    merge = {"type": draw(st.sampled_from(["Add", "Concatenate", "Multiply", "Average"])),
             "name": "merge", "inputs": [left[-1]["name"], right[-1]["name"]]}
    head = draw(dense("head"))
    head["inputs"] = ["merge"]
    return {"model": {"name": "graph", "outputs": ["head"]},
            "inputs": [{"name": "x", "shape": [draw(st.integers(1, 5))]}],
            "layers": [*left, *right, merge, head]}


def _validated(data: dict, fmt: str):
    text = json.dumps(data) if fmt == "json" else _toml(data)
    return validate_document(parse_text(text, fmt))


def _toml(data: dict) -> str:
    from specc.checking.spec import Spec

    return dumps(Spec.model_validate(data))


@pytest.mark.slow
@BUILDS
@given(data=st.one_of(stack_spec(), graph_spec()), fmt=st.sampled_from(["toml", "json"]))
def test_valid_specs_survive_validate_build_export_build(data, fmt):
    from specc.building.build import build
    from specc.exporting.export import export

    spec = _validated(data, fmt)
    first = build(spec)
    again = build(_validated(json.loads(json.dumps(_plain(export(first)))), fmt))
    assert _comparable(again) == _comparable(first)
    assert again.count_params() == first.count_params()
    assert [w.shape for w in again.weights] == [w.shape for w in first.weights]


def _comparable(model) -> list:
    """Layer classes and configs, each regularizer replaced by its penalty on a fixed
    tensor: export writes L1L2(l1=0.01, l2=0) as {l1 = 0.01}, the same penalty."""
    import numpy

    probe = numpy.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)
    out = []
    for (cls, config), layer in zip(configs(model), model.layers):
        for key in [k for k in config if k.endswith("_regularizer")]:
            penalty = getattr(layer, key, None)
            config[key] = None if penalty is None else round(float(penalty(probe)), 5)
        out.append((cls, config))
    return out


def _plain(spec) -> dict:
    from specc.writing.dump import to_data

    return to_data(spec)


# ---- anything else ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["Dense", "None", "ops.Add", "Model", "x", "l2"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "name", "inputs", "layers", "units", "shape", "spec", "model",
                         "outputs", "kernel_regularizer", "expr", "l1", "call", "layer",
                         "compile", "optimizer", "loss"]) | st.text(max_size=6), inner, max_size=5),
    max_leaves=30,
)


def _spec_or_spec_error(text: str, fmt: str) -> None:
    try:
        validate_document(parse_text(text, fmt))
    except SpecError as exc:
        assert exc.problems and all(str(p) and "\n" not in str(p) for p in exc.problems)


@QUICK
@given(st.dictionaries(st.sampled_from(["inputs", "layers", "model", "compile"]), json_values))
# Found by this test: a loss for an output named "compile" was taken for [compile] itself.
@example(document={"inputs": None, "compile": {"loss": {"compile": None}}})
def test_any_document_gives_a_spec_or_a_spec_error(document):
    _spec_or_spec_error(json.dumps(document), "json")


@QUICK
@given(document=json_values)
def test_any_json_value_gives_a_spec_or_a_spec_error(document):
    _spec_or_spec_error(json.dumps(document), "json")


@QUICK
@given(text=st.text(max_size=300), fmt=st.sampled_from(["toml", "json"]))
def test_any_text_gives_a_spec_or_a_spec_error(text, fmt):
    _spec_or_spec_error(text, fmt)


@QUICK
@given(raw=st.binary(max_size=300), fmt=st.sampled_from(["toml", "json"]))
def test_any_bytes_give_a_spec_or_a_spec_error(tmp_path_factory, raw, fmt):
    from specc.checking.validate import load

    path = tmp_path_factory.mktemp("bytes") / f"s.{fmt}"
    path.write_bytes(raw)
    try:
        load(path)
    except SpecError as exc:
        assert exc.problems


@QUICK
@given(config=json_values)
def test_any_config_json_gives_a_spec_or_a_spec_error(config):
    from specc.exporting.export import export_config

    try:
        export_config(config)
    except SpecError as exc:
        assert exc.problems


def _zip(config_bytes: bytes, method: int) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("config.json", config_bytes)
    return buffer.getvalue()


keras_files = st.one_of(
    st.binary(max_size=400),
    st.tuples(json_values.map(lambda v: json.dumps(v).encode()),
              st.sampled_from([0, 8, 12, 14])).map(lambda t: _zip(*t)),
    # a valid zip with some of its bytes changed
    st.tuples(json_values.map(lambda v: _zip(json.dumps(v).encode(), 8)),
              st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4)).map(
        lambda t: bytes(_flip(bytearray(t[0]), t[1]))),
)


def _flip(data: bytearray, changes) -> bytearray:
    for at, value in changes:
        if data:
            data[at % len(data)] = value
    return data


@QUICK
@given(raw=keras_files)
def test_any_keras_file_gives_a_spec_or_a_spec_error(tmp_path_factory, raw):
    from specc.exporting.export import export_file

    path = tmp_path_factory.mktemp("keras") / "m.keras"
    path.write_bytes(raw)
    try:
        export_file(path)
    except SpecError as exc:
        assert exc.problems and all("\n" not in str(p) for p in exc.problems)
