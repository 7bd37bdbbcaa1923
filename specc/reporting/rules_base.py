"""What every shape rule shares: the signal for an unknown shape, a layer's
arguments with Keras's defaults, and the shape helpers several families use.

A rule is ``rule(args, s) -> (output shape, weights)``: ``s`` is the input's
shape (a tuple of int or None, batch first), or a list of shapes for a layer
called on several tensors; the weights are (shape, trainable) pairs.
"""

from __future__ import annotations

from specc.vocab import registry

Shape = tuple  # of int | None; the batch dimension first, as Keras prints it
Weights = list  # of (shape, trainable)


class Unknown(Exception):
    """A layer's shape cannot be worked out before run time (or no rule covers it)."""


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
        if not isinstance(value, (list, tuple)):  # UpSampling3D size = "None": Keras refuses it
            raise Unknown(f"{arg} is not given" if value is None else f"{arg} is not {n} integers")
        return tuple(value)

    def channels_first(self) -> bool:
        return self["data_format"] == "channels_first"


def axis_of(s: Shape, axis: int) -> int:
    """``axis`` of a shape as an index from 0 (negative counts from the end); Unknown when
    the shape has no such axis (axis = 7 of a 4-D input was an IndexError).

    >>> axis_of((None, 4, 3), -1)
    2
    """
    if not -len(s) <= axis < len(s):
        raise Unknown(f"axis {axis} does not fit an input of {len(s)} dimensions")
    return axis % len(s)


def known(*dims) -> None:
    if any(d is None for d in dims):
        raise Unknown("a dimension it needs is unknown before run time")


def bias(args: Args, *shape: int) -> Weights:
    """The bias's weight when the layer has one (``use_bias``)."""
    return [(shape, True)] if args["use_bias"] else []


def is_multi(value) -> bool:
    """Several tensors (a tuple of shapes) rather than one shape."""
    return bool(value) and isinstance(value[0], tuple)


def tensor_list(shapes):
    """The shapes a layer that takes a list of tensors is called on."""
    if isinstance(shapes, dict) or len(shapes) < 1:
        raise Unknown("expects a list of input tensors")
    if len(shapes) == 1 and isinstance(shapes[0], list):
        shapes = shapes[0]
    return shapes


def broadcast(shapes) -> tuple:
    """The shape keras.ops broadcasting gives operands of these shapes."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        sizes = {d for d in dims if d is not None and d != 1}
        if len(sizes) > 1:
            raise Unknown(f"operand shapes do not broadcast: {', '.join(map(str, shapes))}")
        out.append(sizes.pop() if sizes else (None if None in dims else 1))
    return tuple(out)
