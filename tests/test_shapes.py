"""specc.reporting.shapes against Keras: every output shape and parameter count of every spec
in specs/ and in the valid corpus is what the built Keras model says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import ROOT, spec_files
from specc.reporting.shapes import summarize
from specc.checking.validate import load

VALID = ROOT / "tests" / "corpus" / "valid"
FILES = spec_files() + sorted(p for p in VALID.rglob("*") if p.suffix in (".toml", ".json"))
ids = [p.relative_to(ROOT).as_posix() for p in FILES]


def _size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _shapes(tensors):
    found = [tuple(t.shape) for t in (tensors if isinstance(tensors, (list, tuple)) else [tensors])]
    return found[0] if len(found) == 1 else tuple(found)


def keras_rows(model) -> dict[str, tuple]:
    """Every call in a built model by the name specc gives it: output shape(s) and
    (parameters, non-trainable) of the layer or operation it calls."""
    rows = {}
    for tensor in model.inputs:
        name = tensor._keras_history.operation.name
        rows[name] = (tuple(tensor.shape), (0, 0))
    operations = model.layers if not hasattr(model, "operations") else model.operations
    for op in operations:
        if type(op).__name__ == "InputLayer":
            continue
        weights = getattr(op, "weights", [])  # operations (x + y) have none
        count = (op.count_params() if weights else 0, _size(getattr(op, "non_trainable_weights", [])))
        rows[op.name] = (_shapes(op._inbound_nodes[-1].output_tensors) if len(op._inbound_nodes) == 1
                         else None, count)
        rows[op.name + "#calls"] = [_shapes(n.output_tensors) for n in op._inbound_nodes]
    return rows


def compare(spec, model) -> None:
    summary = summarize(spec)
    assert not summary.partial, [(r.name, r.reason) for r in summary.layers if r.reason]
    rows = keras_rows(model)
    calls: dict[str, int] = {}
    for row in summary.layers:
        if row.shares:
            # A shared layer's later calls: its k-th call in order, no weights of its own.
            k = calls[row.shares] = calls.get(row.shares, 0) + 1
            assert row.output_shape == rows[row.shares + "#calls"][k], row.name
            assert row.params == 0
            continue
        shape, (params, frozen) = rows[row.name]
        if shape is None:  # called again later: this row is its first call
            shape = rows[row.name + "#calls"][0]
        assert (row.name, row.output_shape) == (row.name, shape)
        assert (row.name, row.params, row.non_trainable) == (row.name, params, frozen)
    assert (summary.total, summary.trainable, summary.non_trainable) == (
        model.count_params(), _size(model.trainable_weights), _size(model.non_trainable_weights))


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_agrees_with_keras(path: Path):
    keras = pytest.importorskip("keras")
    from specc.building.build import build

    import specc
    from test_corpus import corpus_penalty

    specc.register_regularizer("my_penalty")(corpus_penalty)  # regularizer_custom.toml's
    keras.backend.clear_session()
    spec = load(path)
    compare(spec, build(spec, compile=False))


# One layer (or a few) per rule, with the arguments that change its shape or weights.
# id -> (input shapes, layers); a layer without inputs takes the previous one.
CASES = {
    "dense_3d": ([[5, 7]], [{"type": "Dense", "units": 3, "use_bias": False}]),
    "dense_lora": ([[6]], [{"type": "Dense", "units": 4, "lora_rank": 2}]),
    "dense_frozen": ([[6]], [{"type": "Dense", "units": 4, "trainable": False}]),
    "einsum": ([[5, 7]], [{"type": "EinsumDense", "equation": "abc,cd->abd",
                           "output_shape": [5, 3], "bias_axes": "d"}]),
    "einsum_ellipsis": ([[4, 5, 7]], [{"type": "EinsumDense", "equation": "...b,bc->...c",
                                       "output_shape": [3], "bias_axes": "c"}]),
    "embedding_lora": ([[None]], [{"type": "Embedding", "input_dim": 50, "output_dim": 8,
                                   "lora_rank": 2}]),
    "conv1d_causal_dilated": ([[20, 3]], [{"type": "Conv1D", "filters": 4, "kernel_size": 3,
                                           "padding": "causal", "dilation_rate": 2}]),
    "conv2d_strided_groups": ([[17, 15, 4]], [{"type": "Conv2D", "filters": 6, "kernel_size": [3, 2],
                                               "strides": [2, 3], "groups": 2}]),
    "conv2d_channels_first": ([[3, 16, 16]], [{"type": "Conv2D", "filters": 5, "kernel_size": 3,
                                               "data_format": "channels_first", "padding": "same",
                                               "strides": 2}]),
    "conv3d": ([[6, 8, 8, 2]], [{"type": "Conv3D", "filters": 3, "kernel_size": 2}]),
    "conv1d_transpose": ([[9, 3]], [{"type": "Conv1DTranspose", "filters": 4, "kernel_size": 3,
                                     "strides": 2}]),
    "conv2d_transpose_same": ([[7, 7, 3]], [{"type": "Conv2DTranspose", "filters": 4,
                                             "kernel_size": 3, "strides": 2, "padding": "same"}]),
    "conv2d_transpose_output_padding": ([[7, 7, 3]], [{"type": "Conv2DTranspose", "filters": 2,
                                                       "kernel_size": 3, "strides": 2,
                                                       "output_padding": 1}]),
    "conv3d_transpose": ([[4, 4, 4, 2]], [{"type": "Conv3DTranspose", "filters": 2,
                                           "kernel_size": 2, "strides": 2}]),
    "separable1d": ([[12, 4]], [{"type": "SeparableConv1D", "filters": 6, "kernel_size": 3,
                                 "depth_multiplier": 2}]),
    "separable2d": ([[12, 12, 4]], [{"type": "SeparableConv2D", "filters": 6, "kernel_size": 3,
                                     "padding": "same"}]),
    "depthwise1d": ([[12, 4]], [{"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 3}]),
    "depthwise2d": ([[12, 12, 4]], [{"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2}]),
    "conv_lstm1d": ([[5, 10, 3]], [{"type": "ConvLSTM1D", "filters": 4, "kernel_size": 3}]),
    "conv_lstm2d_sequences": ([[5, 8, 8, 3]], [{"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3,
                                               "padding": "same", "return_sequences": True}]),
    "pool_same_strides": ([[11, 11, 2]], [{"type": "MaxPooling2D", "pool_size": 3, "strides": 2,
                                           "padding": "same"}]),
    "pool1d": ([[11, 2]], [{"type": "AveragePooling1D", "pool_size": 2}]),
    "pool3d": ([[6, 6, 6, 1]], [{"type": "MaxPooling3D"}]),
    "adaptive_pool": ([[13, 9, 2]], [{"type": "AdaptiveAveragePooling2D", "output_size": [4, 3]}]),
    "global_pool_keepdims": ([[5, 5, 3]], [{"type": "GlobalMaxPooling2D", "keepdims": True}]),
    "global_pool_channels_first": ([[3, 5, 5]], [{"type": "GlobalAveragePooling2D",
                                                  "data_format": "channels_first"}]),
    "batch_norm_axis1": ([[4, 6]], [{"type": "BatchNormalization", "axis": 1, "center": False}]),
    "layer_norm_axes": ([[4, 6]], [{"type": "LayerNormalization", "axis": [1, 2]}]),
    "group_norm": ([[8, 6]], [{"type": "GroupNormalization", "groups": 3}]),
    "rms_norm": ([[8, 6]], [{"type": "RMSNormalization"}]),
    "normalization": ([[4, 6]], [{"type": "Normalization"}]),
    "normalization_given": ([[3]], [{"type": "Normalization", "mean": [1, 2, 3],
                                     "variance": [1, 1, 1]}]),
    "prelu_shared": ([[5, 5, 3]], [{"type": "PReLU", "shared_axes": [1, 2]}]),
    "layer_scale": ([[5, 8]], [{"type": "LayerScale", "init_values": 0.1, "projection_dim": 8}]),
    "spectral_norm": ([[6]], [{"type": "SpectralNormalization",
                               "layer": {"type": "Dense", "units": 3}}]),
    "flatten_channels_first": ([[3, 4, 5]], [{"type": "Flatten", "data_format": "channels_first"}]),
    "reshape_minus_one": ([[4, 6]], [{"type": "Reshape", "target_shape": [-1, 3]}]),
    "permute": ([[4, 6, 2]], [{"type": "Permute", "dims": [3, 1, 2]}]),
    "repeat_vector": ([[6]], [{"type": "RepeatVector", "n": 4}]),
    "cropping2d": ([[10, 10, 1]], [{"type": "Cropping2D", "cropping": [[1, 2], [3, 0]]}]),
    "cropping1d": ([[10, 2]], [{"type": "Cropping1D", "cropping": [1, 3]}]),
    "zero_padding3d": ([[4, 4, 4, 1]], [{"type": "ZeroPadding3D", "padding": 2}]),
    "upsampling": ([[4, 5, 2]], [{"type": "UpSampling2D", "size": [2, 3]}]),
    "upsampling1d": ([[4, 2]], [{"type": "UpSampling1D", "size": 3}]),
    "upsampling3d": ([[2, 2, 2, 1]], [{"type": "UpSampling3D"}]),
    "resizing": ([[20, 30, 3]], [{"type": "Resizing", "height": 8, "width": 9}]),
    "center_crop": ([[20, 30, 3]], [{"type": "CenterCrop", "height": 8, "width": 9}]),
    "category_encoding": ([[3]], [{"type": "CategoryEncoding", "num_tokens": 10}]),
    "hashing_one_hot": ([[1]], [{"type": "Hashing", "num_bins": 5, "output_mode": "one_hot"}]),
    "discretization": ([[4]], [{"type": "Discretization", "bin_boundaries": [0.0, 1.0]}]),
    "lstm_state": ([[7, 3]], [{"type": "LSTM", "units": 4, "return_state": True,
                               "return_sequences": True}]),
    "gru_v1_state": ([[7, 3]], [{"type": "GRU", "units": 4, "reset_after": False,
                                 "return_state": True}]),
    "simple_rnn": ([[7, 3]], [{"type": "SimpleRNN", "units": 5}]),
    "bidirectional_none": ([[7, 3]], [{"type": "Bidirectional", "merge_mode": "None",
                                       "layer": {"type": "GRU", "units": 2}}]),
    "bidirectional_state": ([[7, 3]], [{"type": "Bidirectional", "merge_mode": "sum",
                                        "layer": {"type": "LSTM", "units": 2, "return_state": True}}]),
    "bidirectional_concat_state": ([[7, 3]], [{"type": "Bidirectional",
                                               "layer": {"type": "SimpleRNN", "units": 2,
                                                         "return_state": True}}]),
    "time_distributed_conv": ([[5, 8, 8, 3]], [{"type": "TimeDistributed",
                                                "layer": {"type": "Conv2D", "filters": 2,
                                                          "kernel_size": 3}}]),
    "activations": ([[4]], [{"type": "LeakyReLU"}, {"type": "ELU"}, {"type": "Softmax"},
                            {"type": "GaussianNoise", "stddev": 0.1}, {"type": "Identity"},
                            {"type": "UnitNormalization"}]),
    "image_augmentation": ([[8, 8, 3]], [{"type": "RandomFlip"}, {"type": "RandomRotation",
                                                                  "factor": 0.1},
                                         {"type": "RandomGrayscale"}, {"type": "Rescaling",
                                                                       "scale": 0.5}]),
}

# Layers on two inputs: id -> (input shapes, the layer, its inputs).
MULTI = {
    "add_broadcast": ([[4, 6], [1, 6]], {"type": "Add"}, ["a", "b"]),
    "multiply_unknown_dim": ([["None", 6], [3, 6]], {"type": "Multiply"}, ["a", "b"]),
    "maximum_ranks": ([[2, 4, 6], [6]], {"type": "Maximum"}, ["a", "b"]),
    "concatenate_axis1": ([[4, 6], [3, 6]], {"type": "Concatenate", "axis": 1}, ["a", "b"]),
    "dot": ([[4, 6], [5, 6]], {"type": "Dot", "axes": 2}, ["a", "b"]),
    "dot_vectors": ([[6], [6]], {"type": "Dot", "axes": 1}, ["a", "b"]),
    "attention": ([[4, 6], [5, 6]], {"type": "Attention", "use_scale": True,
                                     "score_mode": "concat"}, ["a", "b"]),
    "additive_attention": ([[4, 6], [5, 6]], {"type": "AdditiveAttention"}, ["a", "b"]),
    "multi_head": ([[4, 6], [5, 3]], {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3,
                                      "value_dim": 5}, {"query": "a", "value": "b"}),
    "multi_head_output_shape": ([[4, 6], [5, 6]], {"type": "MultiHeadAttention", "num_heads": 2,
                                                   "key_dim": 4, "output_shape": [7],
                                                   "use_bias": False},
                                {"query": "a", "value": "b", "key": "b"}),
    "group_query": ([[4, 8], [5, 8]], {"type": "GroupQueryAttention", "head_dim": 4,
                                       "num_query_heads": 4, "num_key_value_heads": 2},
                    {"query": "a", "value": "b"}),
}


def _spec(shapes, layers, inputs=None):
    from specc.checking.spec import Spec

    names = ["a", "b"][: len(shapes)]
    data = {"inputs": [{"name": n, "shape": s} for n, s in zip(names, shapes)], "layers": layers}
    if inputs is not None:
        data["layers"] = [{**layers[0], "inputs": inputs}]
    data = {"inputs": [{"shape": shapes[0]}], "layers": layers} if len(shapes) == 1 else data
    return Spec.model_validate(data)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_layer_rule_agrees_with_keras(case):
    keras = pytest.importorskip("keras")
    from specc.building.build import build

    keras.backend.clear_session()
    spec = _spec(*CASES[case])
    compare(spec, build(spec, compile=False))


@pytest.mark.parametrize("case", MULTI, ids=list(MULTI))
def test_merge_rule_agrees_with_keras(case):
    keras = pytest.importorskip("keras")
    from specc.building.build import build

    keras.backend.clear_session()
    shapes, layer, inputs = MULTI[case]
    spec = _spec(shapes, [layer], inputs)
    compare(spec, build(spec, compile=False))


# All 40 take about 5 minutes on 2 cores, too much for every CI run: four families
# by default, every keras.applications model with SPECC_ALL_APPLICATIONS=1.
FOUR = ["DenseNet121", "EfficientNetB0", "MobileNetV2", "ResNet50"]


def _applications() -> list[str]:
    import inspect
    import os

    if not os.environ.get("SPECC_ALL_APPLICATIONS"):
        return FOUR
    keras = pytest.importorskip("keras")
    return sorted(n for n, f in inspect.getmembers(keras.applications) if callable(f) and n[0].isupper())


@pytest.mark.slow
@pytest.mark.parametrize("name", _applications())
def test_application_summary_agrees_with_keras(name):
    """The spec specc export writes for each keras.applications model (weights=None)."""
    import keras

    from specc.writing.dump import dumps
    from specc.exporting.export import export
    from specc.reading.load import parse_text
    from specc.checking.validate import validate_document

    keras.backend.clear_session()
    original = getattr(keras.applications, name)(weights=None)
    spec = validate_document(parse_text(dumps(export(original)), "toml", file=f"{name}.toml"))
    compare(spec, original)


def test_unknown_shapes_say_why_and_totals_say_partial():
    spec = _spec([[16000]], [{"type": "MelSpectrogram"}, {"type": "Dense", "units": 4},
                             {"type": "Dense", "units": 2}])
    summary = summarize(spec)
    rows = {r.name: r for r in summary.layers}
    assert (rows["mel_spectrogram"].output_shape, rows["mel_spectrogram"].params) == (None, None)
    assert rows["mel_spectrogram"].reason == "specc has no shape rule for MelSpectrogram"
    assert rows["dense"].reason == "the shape of its input 'mel_spectrogram' is unknown"
    assert rows["dense_1"].reason == "the shape of its input 'dense' is unknown"
    assert summary.partial and summary.unknown == ("mel_spectrogram", "dense", "dense_1")
    assert summary.total == 0


def test_operation_rules_agree_with_keras():
    keras = pytest.importorskip("keras")
    from specc.building.build import build
    from specc.checking.spec import Spec

    ops = [
        {"type": "ops.Reshape", "name": "reshaped", "newshape": [-1, 24], "inputs": ["a"]},
        {"type": "ops.Transpose", "name": "transposed", "axes": [0, 2, 1], "inputs": ["a"]},
        {"type": "ops.Mean", "name": "mean", "axis": 1, "keepdims": True, "inputs": ["a"]},
        {"type": "ops.Sum", "name": "sum", "axis": [1, 2], "inputs": ["a"]},
        {"type": "ops.ExpandDims", "name": "expanded", "axis": -1, "inputs": ["a"]},
        {"type": "ops.Matmul", "name": "product", "inputs": ["a", "b"]},
        {"type": "ops.Concatenate", "name": "joined", "axis": 1, "inputs": [["a", "a"]]},
        {"type": "ops.Softmax", "name": "softmax", "inputs": ["a"]},
        {"type": "ops.Multiply", "name": "scaled", "inputs": ["a", 0.5]},
        {"type": "ops.Where", "name": "chosen", "inputs": ["mask", "a", "a"]},
    ]
    spec = Spec.model_validate({
        "model": {"outputs": [op["name"] for op in ops]},
        "inputs": [{"name": "a", "shape": [4, 6]}, {"name": "b", "shape": [6, 5]},
                   {"name": "mask", "shape": [1, 6], "dtype": "bool"}],
        "layers": ops,
    })
    keras.backend.clear_session()
    compare(spec, build(spec, compile=False))


def test_a_weight_of_unknown_size_is_unknown_not_a_crash():
    rows = {r.name: r for r in summarize(_spec([["None", 3]], [{"type": "PReLU"}])).layers}
    assert (rows["p_re_lu"].params, rows["p_re_lu"].reason) == (
        None, "a weight's shape depends on a dimension unknown before run time")
    rows = {r.name: r for r in summarize(_spec([["None"]], [{"type": "Dense", "units": 2}])).layers}
    assert rows["dense"].reason == "a dimension it needs is unknown before run time"


# The fuzzer's finding: a BatchNormalization axis the input lacks was an IndexError in
# the rule (specc summary and graph ended with exit 3). Every rule that reads an axis.
AXIS_PAST_RANK = {
    "BatchNormalization": ({"type": "BatchNormalization", "axis": 7}, [[4, 4, 3]], 7, 4),
    "BatchNormalization 1e300": ({"type": "BatchNormalization", "axis": 1e300}, [[4, 3]],
                                 int(1e300), 3),
    "LayerNormalization": ({"type": "LayerNormalization", "axis": -9}, [[4, 3]], -9, 3),
    "Normalization": ({"type": "Normalization", "axis": 9}, [[4, 3]], 9, 3),
    "PReLU": ({"type": "PReLU", "shared_axes": [9]}, [[4, 3]], 9, 3),
    "Concatenate": ({"type": "Concatenate", "axis": 5}, [[4], [4]], 5, 2),
    "ops.Mean": ({"type": "ops.Mean", "axis": 5}, [[4, 3]], 5, 3),
    "ops.Transpose": ({"type": "ops.Transpose", "axes": [0, 7, 1]}, [[4, 3]], 7, 3),
    "ops.Concatenate": ({"type": "ops.Concatenate", "axis": 4}, [[4, 3], [4, 3]], 4, 3),
}


@pytest.mark.parametrize("case", AXIS_PAST_RANK, ids=list(AXIS_PAST_RANK))
def test_an_axis_past_the_inputs_rank_leaves_the_shape_unknown(case):
    import json

    from specc.checking.validate import validate_document
    from specc.reading.load import parse_text

    layer, shapes, axis, rank = AXIS_PAST_RANK[case]
    names = [f"x{n}" for n in range(len(shapes))]
    inputs = [names] if layer["type"] == "ops.Concatenate" else names
    spec = validate_document(parse_text(json.dumps({
        "inputs": [{"name": n, "shape": s} for n, s in zip(names, shapes)],
        "layers": [{**layer, "name": "subject", "inputs": inputs}]}), "json"))
    row = next(r for r in summarize(spec).layers if r.name == "subject")
    assert row.output_shape is None
    assert row.reason == f"axis {axis} does not fit an input of {rank} dimensions"


EINSUM_MISFITS = {  # (equation, output_shape, bias_axes, reason) on a (None, 4, 8) input
    "more input axes": ("aspecbc,cd->abd", [4, 16], "d",
                        "its equation names 7 input axes, its input has 3"),
    "fewer input axes": ("ab,bc->ac", [16], None, "its equation names 2 input axes, its input has 3"),
    "kernel axis nowhere": ("abc,cz->abd", [4, 16], None,
                            "its equation does not fit its input, output_shape and bias_axes"),
    "bias axis not out": ("abc,cd->abd", [4, 16], "q",
                          "its equation does not fit its input, output_shape and bias_axes"),
    "output_shape short": ("abc,cd->abd", [], None,
                           "its equation does not fit its input, output_shape and bias_axes"),
}


@pytest.mark.parametrize("case", EINSUM_MISFITS, ids=list(EINSUM_MISFITS))
def test_an_einsum_equation_that_misfits_its_input_leaves_the_shape_unknown(case):
    import json

    from specc.checking.validate import validate_document
    from specc.reading.load import parse_text

    equation, output_shape, bias_axes, reason = EINSUM_MISFITS[case]
    layer = {"type": "EinsumDense", "name": "subject", "equation": equation,
             "output_shape": output_shape, **({"bias_axes": bias_axes} if bias_axes else {})}
    spec = validate_document(parse_text(json.dumps(
        {"inputs": [{"shape": [4, 8]}], "layers": [layer]}), "json"))
    row = next(r for r in summarize(spec).layers if r.name == "subject")
    assert row.output_shape is None and row.reason == reason
