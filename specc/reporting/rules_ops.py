"""Shape rules of operations written in a spec (``x + y``, ``keras.ops.*``)."""

from __future__ import annotations

import math
from typing import Any

from specc.reporting.rules_base import Unknown, Weights, axis_of, broadcast, tensor_list

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


def op_output(op, shapes) -> tuple[Any, Weights]:
    """The output shape of an operation called on operands of these shapes (no weights)."""
    kind = op.type.removeprefix("ops.")
    args = op.model_extra or {}
    if isinstance(shapes, dict):
        raise Unknown(f"specc has no shape rule for {op.type} with named inputs")
    if kind in ELEMENTWISE:
        tensors = [s for s in shapes if s != ()]
        scalars = [() for s in shapes if s == ()]
        return broadcast(tensors + scalars), []
    if kind in UNARY and len(shapes) == 1:
        return shapes[0], []
    if kind in REDUCTIONS and len(shapes) == 1:
        s, axis = shapes[0], args.get("axis")
        keep = args.get("keepdims", False)
        axes = range(len(s)) if axis is None else [axis_of(s, a) for a in
                                                  ([axis] if isinstance(axis, int) else axis)]
        return tuple(1 if i in axes else d for i, d in enumerate(s) if keep or i not in axes), []
    if kind == "Reshape" and len(shapes) == 1:
        return _reshape_op(shapes[0], list(args.get("newshape", args.get("new_shape", [])))), []
    if kind == "Transpose" and len(shapes) == 1:
        s, axes = shapes[0], args.get("axes")
        return tuple(s[axis_of(s, a)] for a in axes) if axes else tuple(reversed(s)), []
    if kind == "ExpandDims" and len(shapes) == 1:
        s, axis = list(shapes[0]), args.get("axis")
        s.insert(axis if axis >= 0 else len(s) + axis + 1, 1)
        return tuple(s), []
    if kind == "Concatenate":
        parts = tensor_list(shapes)
        axis = axis_of(parts[0], args.get("axis", 0))
        if any(len(p) != len(parts[0]) for p in parts):
            raise Unknown("operands of different ranks")
        out = list(parts[0])
        out[axis] = None if any(p[axis] is None for p in parts) else sum(p[axis] for p in parts)
        return tuple(out), []
    if kind == "GetItem" and len(shapes) == 1:
        return _get_item(shapes[0], op.key), []
    if kind == "Matmul" and len(shapes) == 2:
        a, b = shapes
        if len(a) < 2 or len(b) < 2:
            raise Unknown("specc has no shape rule for a matmul of vectors")
        batch = broadcast([a[:-2], b[:-2]])
        return (*batch, a[-2], b[-1]), []
    raise Unknown(f"specc has no shape rule for {op.type}")


def _reshape_op(s, target):
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        total = None if any(d is None for d in s) else math.prod(s)
        target[target.index(-1)] = None if total is None else total // rest
    return tuple(target)
