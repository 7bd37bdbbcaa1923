"""Shape rules of the layers called on several tensors: merging (Add, Concatenate,
Dot, ...) and attention."""

from __future__ import annotations

from specc.reporting.rules_base import Unknown, axis_of, broadcast, known, tensor_list


def _merge(args, shapes):
    # Keras's merge layers, not numpy: a dimension unknown on either side stays unknown.
    shapes = tensor_list(shapes)
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


def _concatenate(args, shapes):
    shapes = tensor_list(shapes)
    out = list(shapes[0])
    axis = axis_of(shapes[0], args["axis"])
    for s in shapes[1:]:
        if len(s) != len(out):
            raise Unknown(f"inputs of {len(out)} and {len(s)} dimensions")
        if out[axis] is None or s[axis] is None:
            out[axis] = None
            break
        out[axis] += s[axis]
    return tuple(out), []


def _dot(args, shapes):
    shapes = tensor_list(shapes)
    if len(shapes) != 2:
        raise Unknown("expects two input tensors")
    a, b = (list(s) for s in shapes)
    axes = args["axes"]
    if isinstance(axes, int):
        axes = [axes % len(a), axes % len(b)] if axes < 0 else [axes, axes]
    # Keras pops these axes from the shapes: each must be a dimension past the batch.
    if len(axes) != 2 or not all(0 < ax < len(s) or -len(s) < ax < 0
                                 for ax, s in zip(axes, (a, b))):
        raise Unknown(f"axes {list(axes)} do not fit input shapes {shapes[0]} and {shapes[1]}")
    if None not in (a[axes[0]], b[axes[1]]) and a[axes[0]] != b[axes[1]]:
        raise Unknown(f"input shapes do not match along axes {list(axes)}: "
                      f"{shapes[0]} and {shapes[1]}")
    a.pop(axes[0])
    b.pop(axes[1])
    b.pop(0)
    out = a + b
    return tuple(out + [1] if len(out) == 1 else out), []


def _attention(args, shapes):
    shapes = tensor_list(shapes)
    query, value = shapes[0], shapes[1]
    weights = []
    if args["use_scale"]:
        weights.append(((), True))
    if args["score_mode"] == "concat":
        weights.append(((), True))
    return (*query[:-1], value[-1]), weights


def _additive_attention(args, shapes):
    shapes = tensor_list(shapes)
    query, value = shapes[0], shapes[1]
    known(query[-1])
    return (*query[:-1], value[-1]), [((query[-1],), True)] if args["use_scale"] else []


def _attention_inputs(shapes):
    if isinstance(shapes, dict):
        query, value = shapes.get("query"), shapes.get("value")
        key = shapes.get("key") or value
    else:
        shapes = tensor_list(shapes)
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
    if query is None or value is None:
        raise Unknown("needs a query and a value")
    known(query[-1], value[-1], key[-1])
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


def _custom_scale(args, shapes):
    # inputs[0] + inputs[1] * scale, with the broadcasting of keras.ops
    return broadcast(tensor_list(shapes)), []


# Layers called on a list (or a dict) of tensors: their rules get every shape.
MULTI_INPUT = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
               "Dot", "CustomScaleLayer", "Attention", "AdditiveAttention",
               "MultiHeadAttention", "GroupQueryAttention", "HashedCrossing"}


RULES = {
    "Add": _merge, "Subtract": _merge, "Multiply": _merge, "Average": _merge,
    "Maximum": _merge, "Minimum": _merge, "Concatenate": _concatenate, "Dot": _dot,
    "CustomScaleLayer": _custom_scale,
    "Attention": _attention, "AdditiveAttention": _additive_attention,
    "MultiHeadAttention": _multi_head_attention, "GroupQueryAttention": _group_query_attention,
}
