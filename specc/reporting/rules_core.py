"""Shape rules of the core layers: dense and embedding layers, normalization,
recurrent layers, reshaping and the preprocessing layers that count or bin.
Each follows the Keras layer's ``compute_output_shape`` and ``build``."""

from __future__ import annotations

import math

from specc.reporting.rules_base import Unknown, axis_of, bias, known

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


def _same(args, s):
    return s, []


def _dense(args, s):
    known(s[-1])
    units = args["units"]
    kernel = (s[-1], units)
    return s[:-1] + (units,), _lora(args, [(kernel, True)], kernel) + bias(args, units)


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


def _einsum_dense(args, s):
    # Keras's _analyze_split_string, quirks included: with "..." on the left it lists
    # the elided dimensions in reverse, and layer.output.shape says so.
    equation = args["equation"].replace(" ", "")
    inputs, _, output = equation.partition("->")
    source, _, kernel = inputs.partition(",")
    left, ellipsis = source.startswith("..."), "..." in source
    source, output = source.replace("...", ""), output.replace("...", "")
    elided = len(s) - len(source)
    if elided < 0 or (elided and not ellipsis):
        # Keras refuses it when it builds; the fuzzer's "aspecbc,cd->abd" on a 3-D input
        # was an IndexError here.
        raise Unknown(f"its equation names {len(source)} input axes, its input has {len(s)}")
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
    if any(i >= len(full) for i in at_out.values()) \
            or any(c not in at_out and c not in at_in for c in kernel) \
            or any(c not in at_out for c in args["bias_axes"] or ""):
        raise Unknown("its equation does not fit its input, output_shape and bias_axes")
    kernel_shape = tuple(full[at_out[c]] if c in at_out else s[at_in[c]] for c in kernel)
    weights = [(kernel_shape, True)]
    if args["bias_axes"]:
        weights.append((tuple(full[at_out[c]] for c in args["bias_axes"]), True))
    return tuple(full), _lora(args, weights, kernel_shape)


def _axis_dims(s, axes) -> tuple:
    axes = [axes] if isinstance(axes, int) else axes
    dims = tuple(s[axis_of(s, a)] for a in axes)
    known(*dims)
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
    dims = tuple(s[axis_of(s, a)] for a in axes)
    known(*dims)
    return s, [(dims, False), (dims, False), ((), False)]


def _prelu(args, s):
    alpha = list(s[1:])
    for axis in ([args["shared_axes"]] if isinstance(args["shared_axes"], int)
                 else args["shared_axes"] or []):
        if axis_of(s, axis) == 0:
            raise Unknown("shared_axes cannot name the batch axis")
        alpha[axis_of(s, axis) - 1] = 1
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


GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def _recurrent(args, s):
    known(s[-1])
    units, gates = args["units"], GATES[args.type]
    reset_after = args.type == "GRU" and args["reset_after"]  # two biases a gate
    weights = [((s[-1], gates * units), True), ((units, gates * units), True)] + \
        bias(args, *((2, gates * units) if reset_after else (gates * units,)))
    out = (s[0], s[1], units) if args["return_sequences"] else (s[0], units)
    if args["return_state"]:
        states = 2 if args.type == "LSTM" else 1
        return (out, *[(s[0], units)] * states), weights
    return out, weights


RULES = {
    **{name: _same for name in SHAPE_PRESERVING},
    "Dense": _dense, "EinsumDense": _einsum_dense,
    "Embedding": _embedding, "ReversibleEmbedding": _reversible_embedding,
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm, "RMSNormalization": _rms_norm,
    "Normalization": _normalization, "PReLU": _prelu, "LayerScale": _layer_scale,
    "Flatten": _flatten, "Reshape": _reshape, "Permute": _permute, "RepeatVector": _repeat,
    "CategoryEncoding": _category_encoding, "Hashing": _binned("num_bins"),
    "Discretization": _binned("num_bins"),
    "LSTM": _recurrent, "GRU": _recurrent, "SimpleRNN": _recurrent,
}
