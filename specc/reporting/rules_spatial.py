"""Shape rules of the layers over spatial axes: convolutions (ConvLSTM included),
pooling, cropping and padding, upsampling and image resizing. ``data_format``
decides whether the channels come first or last."""

from __future__ import annotations

from specc.reporting.rules_base import Unknown, bias, known


def _split(args, s):
    """(spatial dims, channels) of a convolution-like layer's input."""
    if args.channels_first():
        return list(s[2:]), s[1]
    return list(s[1:-1]), s[-1]


def _join(args, s, spatial, channels):
    if args.channels_first():
        return (s[0], channels, *spatial)
    return (s[0], *spatial, channels)


def _window(n, k, stride, padding, dilation, shown):
    """The output length of a window (a kernel or a pool) sliding over ``n`` positions."""
    if n is None:
        return None
    if padding == "valid":
        out = (n - dilation * (k - 1) - 1) // stride + 1
        if out <= 0:
            raise Unknown(f"the output would be empty (input {n}, {shown})")
        return out
    return (n - 1) // stride + 1


def _conv_spatial(args, spatial, kernel):
    n = len(spatial)
    strides, dilation = args.tuple("strides", n, 1), args.tuple("dilation_rate", n, 1)
    return [_window(d, k, st, args["padding"], dl, f"kernel {k}, stride {st}")
            for d, k, st, dl in zip(spatial, kernel, strides, dilation)]


def _conv(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        known(channels)
        kernel = args.tuple("kernel_size", rank)
        filters = args["filters"]
        weights = [((*kernel, channels // (args["groups"] or 1), filters), True)]
        weights += bias(args, filters)
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
        known(channels)
        kernel, filters = args.tuple("kernel_size", rank), args["filters"]
        strides, dilation = args.tuple("strides", rank, 1), args.tuple("dilation_rate", rank, 1)
        pads = args["output_padding"]
        pads = (None,) * rank if pads is None else args.tuple("output_padding", rank)
        out = [_transpose_length(d, k, st, args["padding"], p, dl)
               for d, k, st, p, dl in zip(spatial, kernel, strides, pads, dilation)]
        weights = [((*kernel, filters, channels), True)] + bias(args, filters)
        return _join(args, s, out, filters), weights
    return rule


def _separable(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        known(channels)
        kernel, dm, filters = args.tuple("kernel_size", rank), args["depth_multiplier"], args["filters"]
        weights = [((*kernel, channels, dm), True), (((1,) * rank + (channels * dm, filters)), True)]
        weights += bias(args, filters)
        return _join(args, s, _conv_spatial(args, spatial, kernel), filters), weights
    return rule


def _depthwise(rank):
    def rule(args, s):
        spatial, channels = _split(args, s)
        known(channels)
        kernel, dm = args.tuple("kernel_size", rank), args["depth_multiplier"]
        weights = [((*kernel, channels, dm), True)] + bias(args, channels * dm)
        return _join(args, s, _conv_spatial(args, spatial, kernel), channels * dm), weights
    return rule


def _conv_lstm(rank):
    def rule(args, s):
        # (batch, time, *spatial, channels) with channels last
        step = (s[0], *s[2:])
        spatial, channels = _split(args, step)
        known(channels)
        kernel, filters = args.tuple("kernel_size", rank), args["filters"]
        out_spatial = _conv_spatial(args, spatial, kernel)
        weights = [((*kernel, channels, 4 * filters), True),
                   ((*kernel, filters, 4 * filters), True)] + bias(args, 4 * filters)
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
        out = [_window(n, p, st, args["padding"], 1, f"pool {p}")
               for n, p, st in zip(spatial, pool, strides)]
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


def _pairs(args, arg, rank, default):
    value = args[arg]
    if value is None:
        value = default
    if isinstance(value, int):
        return [(value, value)] * rank
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    pairs = [(v, v) if isinstance(v, int) else tuple(v) if isinstance(v, (list, tuple)) else ()
             for v in value]
    # [[1] * 18, [2, 2]] passes the spec's types; Keras refuses it when it builds.
    if len(pairs) != rank or any(len(p) != 2 or not all(isinstance(n, int) for n in p)
                                 for p in pairs):
        raise Unknown(f"{arg} is not {rank} pairs of integers")
    return pairs


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


RULES = {
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
    "Cropping1D": _resize_spatial("cropping", 1, -1), "Cropping2D": _resize_spatial("cropping", 2, -1),
    "Cropping3D": _resize_spatial("cropping", 3, -1),
    "ZeroPadding1D": _resize_spatial("padding", 1, 1), "ZeroPadding2D": _resize_spatial("padding", 2, 1),
    "ZeroPadding3D": _resize_spatial("padding", 3, 1),
    "UpSampling1D": _upsampling1d, "UpSampling2D": _upsampling(2), "UpSampling3D": _upsampling(3),
    "Resizing": _image_size, "CenterCrop": _image_size, "RandomCrop": _image_size,
}
