"""Output shapes and parameter counts of a spec's layers, without TensorFlow.

Each layer type has a small rule: from its arguments and the shapes it is
called on, the shape it returns and the weights it makes (shape and whether
it trains). The rules follow Keras's own ``compute_output_shape`` and
``build`` methods. A layer no rule covers, or whose shape depends on a
dimension that is unknown before run time, is reported as unknown with the
reason; its count is then missing from the totals, which say so.

>>> from specc.checking.validate import load
>>> [(l.name, l.output_shape, l.params) for l in infer(load("specs/tutorial_dropout.toml"))][:2]
[('input_layer', (None, 784), 0), ('dense', (None, 64), 50240)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from specc.vocab import registry
from specc.checking.graph import Graph, graph as resolve, leaves, split_ref
from specc.checking.spec import Apply, Nested, Op, Spec

Shape = tuple  # of int | None; the batch dimension first, as Keras prints it
Weights = list  # of (shape, trainable)


class Unknown(Exception):
    """A layer's shape cannot be worked out before run time (or no rule covers it)."""


@dataclass(frozen=True)
class LayerShape:
    """One row of a summary: a layer (or model input) with its output and weights."""

    name: str
    type: str
    inputs: tuple[str, ...]
    output_shape: Shape | tuple[Shape, ...] | None  # several tensors: a tuple of shapes
    params: int | None                              # None when unknown
    non_trainable: int | None = 0
    reason: str | None = None                       # why the shape or count is unknown
    shares: str | None = None                       # a shared call: the layer it calls again
    layers: tuple["LayerShape", ...] = ()           # a nested model's own rows

    @property
    def trainable(self) -> int | None:
        return None if self.params is None else self.params - (self.non_trainable or 0)


@dataclass(frozen=True)
class Summary:
    """A model's rows and its parameter totals (partial when a layer is unknown)."""

    name: str | None
    layers: tuple[LayerShape, ...]
    total: int
    trainable: int
    non_trainable: int
    partial: bool = False
    unknown: tuple[str, ...] = field(default=())  # the layers whose count is missing
    sequential: bool = True


def infer(spec: Spec) -> list[LayerShape]:
    """Every input and layer of a valid spec with its output shape and parameters.

    >>> from specc.checking.validate import load
    >>> infer(load("specs/tutorial_dropout.toml"))[1]  # doctest: +ELLIPSIS
    LayerShape(name='dense', type='Dense', inputs=('input_layer',), output_shape=(None, 64), params=50240, ...)
    """
    return list(summarize(spec).layers)


def summarize(spec: Spec, name: str | None = None) -> Summary:
    """The rows of ``infer`` with the model's totals, as Keras's model.summary() gives them."""
    wiring = resolve(spec)
    return _totals(name or spec.model.name, _rows(spec, wiring), wiring.sequential)


def _totals(name: str | None, rows: list[LayerShape], sequential: bool) -> Summary:
    known = [r for r in rows if r.params is not None]
    unknown = tuple(r.name for r in rows if r.params is None)
    total = sum(r.params for r in known)
    frozen = sum(r.non_trainable or 0 for r in known)
    return Summary(name, tuple(rows), total, total - frozen, frozen, bool(unknown), unknown,
                   sequential)


def _rows(spec: Spec, wiring: Graph) -> list[LayerShape]:
    tensors: dict[str, Any] = {}  # name -> Shape, tuple of Shapes, or None (unknown)
    rows = []
    for name, spec_input in zip(wiring.inputs, spec.inputs):
        shape = (spec_input.batch_size, *spec_input.shape)
        tensors[name] = shape
        rows.append(LayerShape(name, "InputLayer", (), shape, 0))
    by_name = {node.name: node.layer for node in wiring.nodes}
    for node in wiring.nodes:
        refs = node.refs()
        row = _row(node.name, node.layer, node.inputs, refs, tensors, by_name)
        tensors[node.name] = row.output_shape
        rows.append(row)
    return rows


def _row(name, layer, inputs, refs, tensors, by_name) -> LayerShape:
    refs = tuple(refs)
    missing = [r for r in refs if _tensor(tensors, r) is None]
    shares = layer.apply if isinstance(layer, Apply) else None
    target = by_name[shares] if shares else layer
    kind = _kind(target)
    if missing:
        return LayerShape(name, kind, refs, None, None if not shares else 0, None,
                          f"the shape of its input '{missing[0]}' is unknown", shares)
    try:
        if isinstance(target, Nested):
            nested = summarize(target.spec, target.name or name)
            shape = _nested_output(target.spec, nested)
            return LayerShape(name, kind, refs, shape, 0 if shares else
                              (None if nested.partial else nested.total),
                              0 if shares else nested.non_trainable,
                              "a layer inside it is unknown" if nested.partial else None,
                              shares, nested.layers)
        shape, weights = _apply(target, _operands(inputs, tensors))
        params, frozen = _count(weights, getattr(target, "trainable", None) is False)
    except Unknown as exc:
        return LayerShape(name, kind, refs, None, 0 if shares else None, None, str(exc), shares)
    if shares:  # the weights are counted once, on the layer's first call
        return LayerShape(name, kind, refs, shape, 0, 0, None, shares)
    return LayerShape(name, kind, refs, shape, params, frozen)


def _kind(layer) -> str:
    if isinstance(layer, (Nested, Op)):
        return layer.type
    return registry.canonical_layer(layer.type) or layer.type


def _nested_output(spec: Spec, nested: Summary):
    wiring = resolve(spec)
    shapes = {r.name: r.output_shape for r in nested.layers}
    found = [_tensor(shapes, ref) for _, ref in leaves(wiring.outputs)]
    if any(s is None for s in found):
        raise Unknown("an output of the nested model is unknown")
    return found[0] if len(found) == 1 else tuple(found)


def _tensor(tensors: dict, ref):
    if not isinstance(ref, str):
        return ()  # a number: a scalar operand
    name, index = split_ref(ref)
    value = tensors.get(name)
    if value is None or index is None:
        return value
    return value[index] if _is_multi(value) and index < len(value) else None


def _is_multi(value) -> bool:
    return bool(value) and isinstance(value[0], tuple)


def _operands(inputs, tensors):
    """The shapes a layer is called on: one shape, a list, or a dict by call argument."""
    if isinstance(inputs, dict):
        return {k: [_tensor(tensors, r) for r in v] if isinstance(v, list) else _tensor(tensors, v)
                for k, v in inputs.items()}
    shapes = [_tensor(tensors, r) if not isinstance(r, list) else [_tensor(tensors, x) for x in r]
              for r in inputs]
    return shapes


def _count(weights: Weights, frozen: bool) -> tuple[int, int]:
    total = non_trainable = 0
    for shape, trainable in weights:
        if any(d is None for d in shape):
            raise Unknown("a weight's shape depends on a dimension unknown before run time")
        n = math.prod(shape)
        total += n
        if frozen or not trainable:
            non_trainable += n
    return total, non_trainable


# ---- the rules -----------------------------------------------------------------

class Args:
    """A spec layer's arguments, with Keras's defaults for those it leaves out."""

    def __init__(self, layer) -> None:
        self.type = registry.canonical_layer(layer.type)
        self.given = layer.model_dump(exclude_unset=True, by_alias=True)
        self.catalog = registry.LAYERS[self.type]["args"]

    def __getitem__(self, arg: str):
        if arg in self.given:
            return self.given[arg]
        return self.catalog.get(arg, {}).get("default")

    def tuple(self, arg: str, n: int, default=None) -> tuple:
        value = self[arg]
        if value is None:
            value = default
        if isinstance(value, int):
            return (value,) * n
        return tuple(value)

    def channels_first(self) -> bool:
        return self["data_format"] == "channels_first"


def _apply(layer, shapes) -> tuple[Any, Weights]:
    if isinstance(layer, Op):
        return _op(layer, shapes)
    args = Args(layer)
    rule = RULES.get(args.type)
    if rule is None:
        raise Unknown(f"specc has no shape rule for {args.type}")
    return rule(args, _single(shapes, args.type) if args.type not in MULTI_INPUT else shapes)


def _single(shapes, layer: str):
    if isinstance(shapes, dict):
        # Named inputs: the first call argument (sequences, inputs) is the tensor;
        # the others (initial_state, mask, count_weights) leave the output's shape alone.
        first = registry.call_arguments(layer)["tensors"][0]
        if first not in shapes:
            raise Unknown("called with named inputs")
        shapes = [shapes[first]]
    if len(shapes) == 1 and not isinstance(shapes[0], list):
        return shapes[0]
    raise Unknown("expects one input tensor")


def wrapped_layer(value) -> Any:
    """A wrapped layer (Bidirectional, TimeDistributed) as a spec layer."""
    from specc.checking.spec import parse_layer

    return parse_layer(value)


def _known(*dims) -> None:
    if any(d is None for d in dims):
        raise Unknown("a dimension it needs is unknown before run time")


def _same(args, s):
    return s, []


def _dense(args, s):
    _known(s[-1])
    units = args["units"]
    return s[:-1] + (units,), _lora(args, [((s[-1], units), True)], (s[-1], units)) + \
        ([((units,), True)] if args["use_bias"] else [])


def _lora(args, weights, kernel):
    rank = args["lora_rank"]
    if not rank:
        return weights
    # Keras freezes the kernel and trains two small factors instead.
    return [(w, False) for w, _ in weights] + [((*kernel[:-1], rank), True), ((rank, kernel[-1]), True)]


def _embedding(args, s):
    dims = (args["input_dim"], args["output_dim"])
    return s + (args["output_dim"],), _lora(args, [(dims, True)], dims)


def _reversible_embedding(args, s):
    dims = (args["input_dim"], args["output_dim"])
    weights = [(dims, True)]
    if not args["tie_weights"]:
        weights.append(((args["output_dim"], args["input_dim"]), True))
    return s + (args["output_dim"],), weights


def _split(args, s):
    """(spatial dims, channels) of a convolution-like layer's input."""
    if args.channels_first():
        return list(s[2:]), s[1]
    return list(s[1:-1]), s[-1]


def _join(args, s, spatial, channels):
    if args.channels_first():
        return (s[0], channels, *spatial)
    return (s[0], *spatial, channels)


def _conv_length(n, k, stride, padding, dilation=1):
    if n is None:
        return None
    if padding == "valid":
        out = (n - dilation * (k - 1) - 1) // stride + 1
        if out <= 0:
            raise Unknown(f"the output would be empty (input {n}, kernel {k}, stride {stride})")
        return out
    return (n - 1) // stride + 1


def _conv_spatial(args, spatial, kernel):
    n = len(spatial)
    strides, dilation = args.tuple("strides", n, 1), args.tuple("dilation_rate", n, 1)
    return [_conv_length(d, k, st, args["padding"], dl)
            for d, k, st, dl in zip(spatial, kernel, strides, dilation)]


def _conv(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        _known(channels)
        kernel = args.tuple("kernel_size", rank)
        filters = args["filters"]
        weights = [((*kernel, channels // (args["groups"] or 1), filters), True)]
        if args["use_bias"]:
            weights.append(((filters,), True))
        return _join(args, s, _conv_spatial(args, spatial, kernel), filters), weights
    return rule


def _transpose_length(n, k, stride, padding, output_padding, dilation):
    if n is None:
        return None
    k = (k - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return (n - 1) * stride + k + extra
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + k % 2 + output_padding


def _conv_transpose(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        _known(channels)
        kernel, filters = args.tuple("kernel_size", rank), args["filters"]
        strides, dilation = args.tuple("strides", rank, 1), args.tuple("dilation_rate", rank, 1)
        pads = args["output_padding"]
        pads = (None,) * rank if pads is None else args.tuple("output_padding", rank)
        out = [_transpose_length(d, k, st, args["padding"], p, dl)
               for d, k, st, p, dl in zip(spatial, kernel, strides, pads, dilation)]
        weights = [((*kernel, filters, channels), True)]
        if args["use_bias"]:
            weights.append(((filters,), True))
        return _join(args, s, out, filters), weights
    return rule


def _separable(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        _known(channels)
        kernel, dm, filters = args.tuple("kernel_size", rank), args["depth_multiplier"], args["filters"]
        weights = [((*kernel, channels, dm), True), (((1,) * rank + (channels * dm, filters)), True)]
        if args["use_bias"]:
            weights.append(((filters,), True))
        return _join(args, s, _conv_spatial(args, spatial, kernel), filters), weights
    return rule


def _depthwise(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        _known(channels)
        kernel, dm = args.tuple("kernel_size", rank), args["depth_multiplier"]
        weights = [((*kernel, channels, dm), True)]
        if args["use_bias"]:
            weights.append(((channels * dm,), True))
        return _join(args, s, _conv_spatial(args, spatial, kernel), channels * dm), weights
    return rule


def _conv_lstm(rank):
    def rule(args, s):
        # (batch, time, *spatial, channels) with channels last
        step = (s[0], *s[2:])
        spatial, channels = _split(args, step)
        _known(channels)
        kernel, filters = args.tuple("kernel_size", rank), args["filters"]
        out_spatial = _conv_spatial(args, spatial, kernel)
        weights = [((*kernel, channels, 4 * filters), True),
                   ((*kernel, filters, 4 * filters), True)]
        if args["use_bias"]:
            weights.append(((4 * filters,), True))
        state = _join(args, step, out_spatial, filters)
        out = (s[0], s[1], *state[1:]) if args["return_sequences"] else state
        if args["return_state"]:
            return (out, state, state), weights
        return out, weights
    return rule


def _pool(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        pool = args.tuple("pool_size", rank)
        strides = args.tuple("strides", rank, pool)  # Keras: the pool size when not given
        out = []
        for n, p, st in zip(spatial, pool, strides):
            if n is None:
                out.append(None)
            elif args["padding"] == "valid":
                if (n - p) // st + 1 <= 0:
                    raise Unknown(f"the output would be empty (input {n}, pool {p})")
                out.append((n - p) // st + 1)
            else:
                out.append((n - 1) // st + 1)
        return _join(args, s, out, channels), []
    return rule


def _adaptive_pool(rank):
    def rule(args, s):
        _, channels = _split(args, s)
        return _join(args, s, list(args.tuple("output_size", rank)), channels), []
    return rule


def _global_pool(args, s):
    _, channels = _split(args, s)
    if args["keepdims"]:
        return _join(args, s, [1] * (len(s) - 2), channels), []
    return (s[0], channels), []


def _axis_dims(s, axes) -> tuple:
    axes = [axes] if isinstance(axes, int) else axes
    dims = tuple(s[a] for a in axes)
    _known(*dims)
    return dims


def _batch_norm(args, s):
    dims = _axis_dims(s, args["axis"])
    weights = [(dims, True)] * (bool(args["scale"]) + bool(args["center"]))
    return s, weights + [(dims, False), (dims, False)]


def _layer_norm(args, s):
    dims = _axis_dims(s, args["axis"])
    return s, [(dims, True)] * (bool(args["scale"]) + bool(args["center"]))


def _rms_norm(args, s):
    return s, [(_axis_dims(s, args["axis"]), True)]


def _group_norm(args, s):
    return _layer_norm(args, s)


def _normalization(args, s):
    if args["mean"] is not None:
        return s, []  # the statistics are constants, not weights
    axis = args["axis"]
    axes = () if axis is None else ([axis] if isinstance(axis, int) else axis)
    dims = tuple(s[a] for a in axes)
    _known(*dims)
    return s, [(dims, False), (dims, False), ((), False)]


def _prelu(args, s):
    alpha = list(s[1:])
    for axis in ([args["shared_axes"]] if isinstance(args["shared_axes"], int)
                 else args["shared_axes"] or []):
        alpha[axis - 1] = 1
    return s, [(tuple(alpha), True)]


def _layer_scale(args, s):
    return s, [((args["projection_dim"],), True)]


def _flatten(args, s):
    if args.channels_first() and len(s) > 2:
        s = (s[0], *s[2:], s[1])
    rest = s[1:]
    return (s[0], None if any(d is None for d in rest) else math.prod(rest)), []


def _reshape(args, s):
    target = list(args["target_shape"])
    if -1 in target:
        known = [d for d in s[1:]]
        if any(d is None for d in known):
            target[target.index(-1)] = None
        else:
            rest = math.prod(d for d in target if d != -1)
            target[target.index(-1)] = math.prod(known) // rest
    return (s[0], *target), []


def _permute(args, s):
    return (s[0], *(s[d] for d in args["dims"])), []


def _repeat(args, s):
    return (s[0], args["n"], *s[1:]), []


def _pairs(args, arg, rank, default):
    value = args[arg]
    if value is None:
        value = default
    if isinstance(value, int):
        return [(value, value)] * rank
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    return [(v, v) if isinstance(v, int) else tuple(v) for v in value]


def _resize_spatial(arg, rank, sign):
    def rule(args, s):
        spatial, channels = _split(args, s)
        pads = _pairs(args, arg, rank, 1)
        out = [None if n is None else n + sign * (a + b) for n, (a, b) in zip(spatial, pads)]
        return _join(args, s, out, channels), []
    return rule


def _upsampling(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        size = args.tuple("size", rank)
        return _join(args, s, [None if n is None else n * f for n, f in zip(spatial, size)],
                     channels), []
    return rule


def _upsampling1d(args, s):
    return (s[0], None if s[1] is None else s[1] * args["size"], *s[2:]), []


def _image_size(args, s):
    spatial, channels = _split(args, s)
    return _join(args, s, [args["height"], args["width"]], channels), []


def _category_encoding(args, s):
    tokens = args["num_tokens"]
    if args["output_mode"] == "one_hot" and len(s) > 1 and s[-1] != 1:
        return (*s, tokens), []
    if len(s) == 1:
        return (s[0], tokens), []
    return (*s[:-1], tokens), []


def _binned(count_arg):
    def rule(args, s):
        if args["output_mode"] == "int":
            return s, []
        bins = args[count_arg]
        if bins is None:
            bins = len(args["bin_boundaries"] or []) + 1
        if args["output_mode"] == "one_hot" and s[-1] != 1:
            return (*s, bins), []
        return (*s[:-1], bins) if len(s) > 1 else (s[0], bins), []
    return rule


def _merge(args, shapes):
    # Keras's merge layers, not numpy: a dimension unknown on either side stays unknown.
    shapes = _list(shapes)
    out = shapes[0][1:]
    for s in shapes[1:]:
        out = _elementwise(out, s[1:], shapes)
    batches = {s[0] for s in shapes} - {None}
    return (batches.pop() if len(batches) == 1 else None, *out), []


def _elementwise(a: tuple, b: tuple, shapes) -> tuple:
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return a
    out = list(a[: -len(b)])
    for i, j in zip(a[-len(b):], b):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(j if i == 1 else i)
        else:
            raise Unknown(f"input shapes do not match: {', '.join(map(str, shapes))}")
    return tuple(out)


def _list(shapes):
    if isinstance(shapes, dict) or len(shapes) < 1:
        raise Unknown("expects a list of input tensors")
    if len(shapes) == 1 and isinstance(shapes[0], list):
        shapes = shapes[0]
    return shapes


def _concatenate(args, shapes):
    shapes = _list(shapes)
    axis = args["axis"]
    out = list(shapes[0])
    for s in shapes[1:]:
        if out[axis] is None or s[axis] is None:
            out[axis] = None
            break
        out[axis] += s[axis]
    return tuple(out), []


def _dot(args, shapes):
    a, b = (list(s) for s in _list(shapes))
    axes = args["axes"]
    if isinstance(axes, int):
        axes = [axes % len(a), axes % len(b)] if axes < 0 else [axes, axes]
    a.pop(axes[0])
    b.pop(axes[1])
    b.pop(0)
    out = a + b
    return tuple(out + [1] if len(out) == 1 else out), []


def _attention(args, shapes):
    shapes = _list(shapes)
    query, value = shapes[0], shapes[1]
    weights = []
    if args["use_scale"]:
        weights.append(((), True))
    if args["score_mode"] == "concat":
        weights.append(((), True))
    return (*query[:-1], value[-1]), weights


def _additive_attention(args, shapes):
    shapes = _list(shapes)
    query, value = shapes[0], shapes[1]
    _known(query[-1])
    return (*query[:-1], value[-1]), [((query[-1],), True)] if args["use_scale"] else []


def _attention_inputs(shapes):
    if isinstance(shapes, dict):
        query, value = shapes.get("query"), shapes.get("value")
        key = shapes.get("key") or value
    else:
        shapes = _list(shapes)
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
    if query is None or value is None:
        raise Unknown("needs a query and a value")
    _known(query[-1], value[-1], key[-1])
    return query, value, key


def _multi_head_attention(args, shapes):
    if args["use_gate"]:
        raise Unknown("specc has no shape rule for a gated MultiHeadAttention")
    query, value, key = _attention_inputs(shapes)
    heads, key_dim = args["num_heads"], args["key_dim"]
    value_dim = args["value_dim"] or key_dim
    out = args["output_shape"]
    out = (query[-1],) if out is None else ((out,) if isinstance(out, int) else tuple(out))
    bias = args["use_bias"]
    weights = []
    for dim, size in ((query[-1], key_dim), (key[-1], key_dim), (value[-1], value_dim)):
        weights.append(((dim, heads, size), True))
        if bias:
            weights.append(((heads, size), True))
    weights.append(((heads, value_dim, *out), True))
    if bias:
        weights.append((out, True))
    return (*query[:-1], *out), weights


def _group_query_attention(args, shapes):
    if args["use_gate"]:
        raise Unknown("specc has no shape rule for a gated GroupQueryAttention")
    query, value, key = _attention_inputs(shapes)
    nq, nkv, hd = args["num_query_heads"], args["num_key_value_heads"], args["head_dim"]
    weights = []
    for dim, heads in ((query[-1], nq), (key[-1], nkv), (value[-1], nkv)):
        weights.append(((dim, heads, hd), True))
        if args["use_bias"]:
            weights.append(((heads, hd), True))
    weights.append(((nq, hd, query[-1]), True))
    if args["use_bias"]:
        weights.append(((query[-1],), True))
    return query, weights


GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _recurrent(args, s):
    _known(s[-1])
    units, gates = args["units"], GATES[args.type]
    weights = [((s[-1], gates * units), True), ((units, gates * units), True)]
    if args["use_bias"]:
        reset_after = args.type == "GRU" and args["reset_after"]
        weights.append(((2, gates * units) if reset_after else (gates * units,), True))
    out = (s[0], s[1], units) if args["return_sequences"] else (s[0], units)
    if args["return_state"]:
        states = 2 if args.type == "LSTM" else 1
        return (out, *[(s[0], units)] * states), weights
    return out, weights


def _wrapped(layer, s):
    if isinstance(layer, Nested):
        raise Unknown("specc has no shape rule for a model inside a wrapper")
    shape, weights = _apply(layer, [s])
    if getattr(layer, "trainable", None) is False:
        weights = [(w, False) for w, _ in weights]
    return shape, weights


def _bidirectional(args, s):
    forward = wrapped_layer(args["layer"])
    backward = wrapped_layer(args["backward_layer"]) if args["backward_layer"] else forward
    f_shape, f_weights = _wrapped(forward, s)
    b_shape, b_weights = _wrapped(backward, s)
    states = ()
    if _is_multi(f_shape):
        f_shape, states = f_shape[0], f_shape[1:] + b_shape[1:]
        b_shape = b_shape[0]
    mode = args["merge_mode"]
    if mode is None:
        out = (f_shape, b_shape)
    elif mode == "concat":
        _known(f_shape[-1], b_shape[-1])
        out = (*f_shape[:-1], f_shape[-1] + b_shape[-1])
    else:
        out = f_shape
    if states:
        out = (*(out if mode is None else (out,)), *states)
    return out, f_weights + b_weights


def _time_distributed(args, s):
    inner = wrapped_layer(args["layer"])
    shape, weights = _wrapped(inner, (s[0], *s[2:]))
    if _is_multi(shape):
        raise Unknown("the wrapped layer returns several tensors")
    return (shape[0], s[1], *shape[1:]), weights


def _spectral_normalization(args, s):
    inner = wrapped_layer(args["layer"])
    shape, weights = _wrapped(inner, s)
    kernel = weights[0][0]
    return shape, weights + [((1, kernel[-1]), False)]


def _custom_scale(args, shapes):
    # inputs[0] + inputs[1] * scale, with the broadcasting of keras.ops
    return _broadcast(_list(shapes)), []


def _einsum_dense(args, s):
    # Keras's _analyze_split_string, quirks included: with "..." on the left it lists
    # the elided dimensions in reverse, and layer.output.shape says so.
    equation = args["equation"].replace(" ", "")
    inputs, _, output = equation.partition("->")
    source, _, kernel = inputs.partition(",")
    left = source.startswith("...")
    source, output = source.replace("...", ""), output.replace("...", "")
    elided = len(s) - len(source)
    given = args["output_shape"]
    full = [s[0], *([given] if isinstance(given, int) else given)]
    if elided > 0 and left:
        for i in range(1, elided):
            full.insert(1, s[i])
    elif elided > 0:
        full += s[len(s) - elided:]
    shift = elided if left else 0
    at_in = {c: (i + elided - len(s) if left else i) for i, c in enumerate(source)}
    at_out = {c: i + shift for i, c in enumerate(output)}
    kernel_shape = tuple(full[at_out[c]] if c in at_out else s[at_in[c]] for c in kernel)
    weights = [(kernel_shape, True)]
    if args["bias_axes"]:
        weights.append((tuple(full[at_out[c]] for c in args["bias_axes"]), True))
    return tuple(full), _lora(args, weights, kernel_shape)


def _unsupported(reason):
    def rule(args, s):
        raise Unknown(reason)
    return rule


SHAPE_PRESERVING = [
    "Activation", "ActivityRegularization", "AlphaDropout", "Dropout", "GaussianDropout",
    "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "ELU",
    "LeakyReLU", "ReLU", "Softmax", "Masking", "Identity", "Rescaling", "UnitNormalization",
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "MixUp",
    "RandAugment", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
    "RandomContrast", "RandomElasticTransform", "RandomErasing", "RandomFlip",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective",
    "RandomPosterization", "RandomRotation", "RandomSaturation", "RandomSharpness",
    "RandomShear", "RandomTranslation", "RandomZoom", "Solarization",
]

RULES: dict[str, Callable] = {
    **{name: _same for name in SHAPE_PRESERVING},
    "Dense": _dense, "EinsumDense": _einsum_dense,
    "Embedding": _embedding, "ReversibleEmbedding": _reversible_embedding,
    "Conv1D": _conv(1), "Conv2D": _conv(2), "Conv3D": _conv(3),
    "Conv1DTranspose": _conv_transpose(1), "Conv2DTranspose": _conv_transpose(2),
    "Conv3DTranspose": _conv_transpose(3),
    "SeparableConv1D": _separable(1), "SeparableConv2D": _separable(2),
    "DepthwiseConv1D": _depthwise(1), "DepthwiseConv2D": _depthwise(2),
    "ConvLSTM1D": _conv_lstm(1), "ConvLSTM2D": _conv_lstm(2), "ConvLSTM3D": _conv_lstm(3),
    "MaxPooling1D": _pool(1), "MaxPooling2D": _pool(2), "MaxPooling3D": _pool(3),
    "AveragePooling1D": _pool(1), "AveragePooling2D": _pool(2), "AveragePooling3D": _pool(3),
    "AdaptiveAveragePooling1D": _adaptive_pool(1), "AdaptiveAveragePooling2D": _adaptive_pool(2),
    "AdaptiveAveragePooling3D": _adaptive_pool(3), "AdaptiveMaxPooling1D": _adaptive_pool(1),
    "AdaptiveMaxPooling2D": _adaptive_pool(2), "AdaptiveMaxPooling3D": _adaptive_pool(3),
    **{f"Global{kind}Pooling{n}D": _global_pool for kind in ("Average", "Max") for n in (1, 2, 3)},
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm, "RMSNormalization": _rms_norm,
    "Normalization": _normalization, "PReLU": _prelu, "LayerScale": _layer_scale,
    "Flatten": _flatten, "Reshape": _reshape, "Permute": _permute, "RepeatVector": _repeat,
    "Cropping1D": _resize_spatial("cropping", 1, -1), "Cropping2D": _resize_spatial("cropping", 2, -1),
    "Cropping3D": _resize_spatial("cropping", 3, -1),
    "ZeroPadding1D": _resize_spatial("padding", 1, 1), "ZeroPadding2D": _resize_spatial("padding", 2, 1),
    "ZeroPadding3D": _resize_spatial("padding", 3, 1),
    "UpSampling1D": _upsampling1d, "UpSampling2D": _upsampling(2), "UpSampling3D": _upsampling(3),
    "Resizing": _image_size, "CenterCrop": _image_size, "RandomCrop": _image_size,
    "CategoryEncoding": _category_encoding, "Hashing": _binned("num_bins"),
    "Discretization": _binned("num_bins"),
    "Add": _merge, "Subtract": _merge, "Multiply": _merge, "Average": _merge,
    "Maximum": _merge, "Minimum": _merge, "Concatenate": _concatenate, "Dot": _dot,
    "CustomScaleLayer": _custom_scale,
    "Attention": _attention, "AdditiveAttention": _additive_attention,
    "MultiHeadAttention": _multi_head_attention, "GroupQueryAttention": _group_query_attention,
    "LSTM": _recurrent, "GRU": _recurrent, "SimpleRNN": _recurrent,
    "Bidirectional": _bidirectional, "TimeDistributed": _time_distributed,
    "SpectralNormalization": _spectral_normalization,
}
# Layers called on a list (or a dict) of tensors.
MULTI_INPUT = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
               "Dot", "CustomScaleLayer", "Attention", "AdditiveAttention",
               "MultiHeadAttention", "GroupQueryAttention", "HashedCrossing"}


# ---- operations (x + y, keras.ops.*) ---------------------------------------------

ELEMENTWISE = {
    "Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Power",
    "Mod", "FloorDivide", "Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual",
    "LogicalAnd", "LogicalOr", "LogicalXor", "Where",
}
UNARY = {
    "Abs", "Absolute", "Negative", "Exp", "Log", "Log1p", "Sqrt", "Square", "Rsqrt", "Sin",
    "Cos", "Tanh", "Sigmoid", "Relu", "Relu6", "Gelu", "Silu", "Elu", "Selu", "Softplus",
    "Softsign", "LeakyRelu", "HardSigmoid", "HardSilu", "LogSigmoid", "Cast", "Round", "Floor",
    "Ceil", "Sign", "Reciprocal", "Erf", "Clip", "StopGradient", "Softmax", "LogSoftmax",
    "ConvertToTensor", "Copy", "LogicalNot", "Isnan", "Isinf", "Isfinite", "NanToNum",
}
REDUCTIONS = {"Mean", "Sum", "Max", "Min", "Prod", "Std", "Var", "Any", "All", "Amax", "Amin"}


def _get_item(s: tuple, key: list) -> tuple:
    """The shape of x[key]: an integer drops its axis, None adds one, a slice cuts one."""
    key = list(key)
    used = sum(1 for k in key if k is not None and k != "...")
    if used > len(s):
        raise Unknown(f"an index of {used} axes on a tensor of {len(s)}")
    fill = [":"] * (len(s) - used)
    if "..." in key:
        at = key.index("...")
        key[at:at + 1] = fill
    else:
        key += fill
    out, axis = [], 0
    for k in key:
        if k is None:
            out.append(1)
            continue
        d, axis = s[axis], axis + 1
        if isinstance(k, str):
            start, stop, step = ((k.split(":") + [""])[:3])
            cut = slice(*(int(p) if p else None for p in (start, stop, step)))
            out.append(None if d is None else len(range(d)[cut]))
    return tuple(out)


def _op(op, shapes) -> tuple[Any, Weights]:
    kind = op.type.removeprefix("ops.")
    args = op.model_extra or {}
    if isinstance(shapes, dict):
        raise Unknown(f"specc has no shape rule for {op.type} with named inputs")
    if kind in ELEMENTWISE:
        tensors = [s for s in shapes if s != ()]
        scalars = [() for s in shapes if s == ()]
        return _broadcast(tensors + scalars), []
    if kind in UNARY and len(shapes) == 1:
        return shapes[0], []
    if kind in REDUCTIONS and len(shapes) == 1:
        s, axis = shapes[0], args.get("axis")
        keep = args.get("keepdims", False)
        axes = range(len(s)) if axis is None else [a % len(s) for a in
                                                  ([axis] if isinstance(axis, int) else axis)]
        return tuple(1 if i in axes else d for i, d in enumerate(s) if keep or i not in axes), []
    if kind == "Reshape" and len(shapes) == 1:
        return _reshape_op(shapes[0], list(args.get("newshape", args.get("new_shape", [])))), []
    if kind == "Transpose" and len(shapes) == 1:
        s, axes = shapes[0], args.get("axes")
        return tuple(s[a] for a in axes) if axes else tuple(reversed(s)), []
    if kind == "ExpandDims" and len(shapes) == 1:
        s, axis = list(shapes[0]), args.get("axis")
        s.insert(axis if axis >= 0 else len(s) + axis + 1, 1)
        return tuple(s), []
    if kind == "Concatenate":
        axis = args.get("axis", 0)
        parts = _list(shapes)
        out = list(parts[0])
        out[axis] = None if any(p[axis] is None for p in parts) else sum(p[axis] for p in parts)
        return tuple(out), []
    if kind == "GetItem" and len(shapes) == 1:
        return _get_item(shapes[0], op.key), []
    if kind == "Matmul" and len(shapes) == 2:
        a, b = shapes
        if len(a) < 2 or len(b) < 2:
            raise Unknown("specc has no shape rule for a matmul of vectors")
        batch = _broadcast([a[:-2], b[:-2]])
        return (*batch, a[-2], b[-1]), []
    raise Unknown(f"specc has no shape rule for {op.type}")


def _broadcast(shapes) -> tuple:
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise Unknown(f"operand shapes do not broadcast: {', '.join(map(str, shapes))}")
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


def _reshape_op(s, target):
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        total = None if any(d is None for d in s) else math.prod(s)
        target[target.index(-1)] = None if total is None else total // rest
    return tuple(target)
