"""Which shape rule a layer takes: one table from Keras class to rule, merged
from the families' tables, and the wrappers (Bidirectional, TimeDistributed,
SpectralNormalization) whose rule is the wrapped layer's.

A new layer kind gets its rule in its family's module (rules_core,
rules_spatial, rules_merging); an operation in rules_ops.
"""

from __future__ import annotations

from typing import Any, Callable

from specc.vocab import registry
from specc.checking.spec import Nested, Op, parse_layer
from specc.reporting import rules_core, rules_hub, rules_merging, rules_spatial
from specc.reporting.rules_base import Args, Unknown, Weights, is_multi, known
from specc.reporting.rules_hub import MULTI_INPUT as HUB_MULTI_INPUT
from specc.reporting.rules_merging import MULTI_INPUT
from specc.reporting.rules_ops import op_output


def layer_output(layer, shapes) -> tuple[Any, Weights]:
    """A spec layer's (or operation's) output shape and weights, called on tensors of
    these shapes: one shape, a list, or a dict by call argument. Raises Unknown."""
    if isinstance(layer, Op):
        return op_output(layer, shapes)
    args = Args(layer)
    rule = RULES.get(args.type)
    if rule is None:
        raise Unknown(f"specc has no shape rule for {args.type}")
    multi = args.type in MULTI_INPUT or args.type in HUB_MULTI_INPUT
    return rule(args, shapes if multi else _single(shapes, args.type))


def _single(shapes, layer: str):
    if isinstance(shapes, dict):
        # Named inputs: the first call argument (sequences, inputs) is the tensor;
        # the others (initial_state, mask, count_weights) leave the output's shape alone.
        first = registry.call_arguments(layer)["tensors"][0]
        if first not in shapes:
            raise Unknown("called with named inputs")
        shapes = [shapes[first]]
    # One tensor's shape: an LSTM's whole output with return_state is several (a Dense fed
    # with them made a kernel shape of shapes, a TypeError in the parameter count).
    if len(shapes) == 1 and isinstance(shapes[0], tuple) \
            and all(d is None or isinstance(d, int) for d in shapes[0]):
        return shapes[0]
    raise Unknown("expects one input tensor")


def _wrapped(layer, s):
    if isinstance(layer, Nested):
        # A model inside a wrapper: shaped from its own [[inputs]], as when it is a layer.
        from specc.reporting.shapes import nested_summary  # shapes reads these rules

        shape, summary = nested_summary(layer)
        if summary.partial:
            raise Unknown("a layer inside the wrapped model is unknown")
        weights = [((summary.trainable,), True), ((summary.non_trainable,), False)]
        if getattr(layer, "trainable", None) is False:
            weights = [(w, False) for w, _ in weights]
        return shape, weights
    shape, weights = layer_output(layer, [s])
    if getattr(layer, "trainable", None) is False:
        weights = [(w, False) for w, _ in weights]
    return shape, weights


def _bidirectional(args, s):
    forward = parse_layer(args["layer"])
    backward = parse_layer(args["backward_layer"]) if args["backward_layer"] else forward
    f_shape, f_weights = _wrapped(forward, s)
    b_shape, b_weights = _wrapped(backward, s)
    states = ()
    if is_multi(f_shape):
        f_shape, states = f_shape[0], f_shape[1:] + b_shape[1:]
        b_shape = b_shape[0]
    mode = args["merge_mode"]
    if mode is None:
        out = (f_shape, b_shape)
    elif mode == "concat":
        known(f_shape[-1], b_shape[-1])
        out = (*f_shape[:-1], f_shape[-1] + b_shape[-1])
    else:
        out = f_shape
    if states:
        out = (*(out if mode is None else (out,)), *states)
    return out, f_weights + b_weights


def _time_distributed(args, s):
    inner = parse_layer(args["layer"])
    shape, weights = _wrapped(inner, (s[0], *s[2:]))
    if is_multi(shape):
        raise Unknown("the wrapped layer returns several tensors")
    return (shape[0], s[1], *shape[1:]), weights


def _spectral_normalization(args, s):
    inner = parse_layer(args["layer"])
    shape, weights = _wrapped(inner, s)
    kernel = weights[0][0]
    return shape, weights + [((1, kernel[-1]), False)]


RULES: dict[str, Callable] = {
    **rules_core.RULES, **rules_spatial.RULES, **rules_merging.RULES, **rules_hub.RULES,
    "Bidirectional": _bidirectional, "TimeDistributed": _time_distributed,
    "SpectralNormalization": _spectral_normalization,
}
