"""Typed regularizers, initializers and constraints: the values of a layer's
``*_regularizer``, ``*_initializer`` and ``*_constraint`` arguments.

Regularizers are the spec format's own shorthands (their forms: vocab/penalties.py);
initializers and constraints are a Keras name or ``{type = "Class", ...}``, one
model per class of the registry.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model, field_validator

from specc.checking.scalars import (Axis, Fraction, Int, NoneToken, NonNeg, PositiveNumber,
                                    Strict, lazy, literal, scalar_type)
from specc.vocab import penalties, registry

_FACTOR = "a finite number >= 0"


class L1(Strict):
    """keras.regularizers.L1: l1 * sum(abs(w))"""

    l1: NonNeg = Field(description=_FACTOR, examples=[0.01])


class L2(Strict):
    """keras.regularizers.L2: l2 * sum(square(w))"""

    l2: NonNeg = Field(description=_FACTOR, examples=[0.01])


class L1L2(Strict):
    """keras.regularizers.L1L2: l1 * sum(abs(w)) + l2 * sum(square(w))"""

    l1: NonNeg = Field(description=_FACTOR, examples=[1e-5])
    l2: NonNeg = Field(description=_FACTOR, examples=[1e-4])


class Orthogonal(Strict):
    """keras.regularizers.OrthogonalRegularizer: pushes rows (or columns) towards orthogonality"""

    orthogonal: NonNeg = Field(description=_FACTOR, examples=[0.01])
    mode: Literal["rows", "columns"] = Field("rows", description="which vectors to orthogonalize")


class Expr(Strict):
    """A custom penalty written as an arithmetic expression over the weights w"""

    expr: str = Field(
        description="a penalty over the weight tensor w: numbers, + - * / **, parentheses "
        "and the functions abs, exp, log, max, mean, min, sqrt, square, sum, tanh",
        examples=["0.01 * sum(square(w))"],
        # No "pattern": a regular expression for this grammar backtracks
        # exponentially on some inputs; expr.py's parser checks the text.
    )

    @field_validator("expr")
    @classmethod
    def _parses(cls, text: str) -> str:
        from pydantic_core import PydanticCustomError

        from specc.errors import SpecError
        from specc.vocab.expr import parse_penalty

        try:
            parse_penalty(text)
        except SpecError as exc:
            problem = exc.problems[0]
            raise PydanticCustomError(
                "expr", problem.message,
                {"column": problem.column, "suggestion": problem.suggestion},
            ) from None
        return text


class Custom(BaseModel):
    """A penalty registered from Python; other keys are its keyword arguments."""

    model_config = ConfigDict(extra="allow", strict=True)
    custom: str = Field(description="the name the penalty was registered under, with "
                        "@specc.register_regularizer or an entry point")


# Each form of vocab/penalties.py -> the tag of its model in the union below.
_TAGS = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2", "orthogonal": "Orthogonal", "expr": "Expr",
         "custom": "Custom"}


def _regularizer_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__  # serializing: the tags are the class names
    if not isinstance(value, dict):
        return "Shorthand"  # a name, or reported as "expected 'l1' or 'l2'"
    return _TAGS[penalties.form_of(value)]


REGULARIZER_TAGS = {"Shorthand", *_TAGS.values()}
Regularizer = Annotated[
    Union[
        Annotated[literal(list(penalties.NAMES)), Tag("Shorthand")],
        Annotated[L1, Tag("L1")],
        Annotated[L2, Tag("L2")],
        Annotated[L1L2, Tag("L1L2")],
        Annotated[Orthogonal, Tag("Orthogonal")],
        Annotated[Expr, Tag("Expr")],
        Annotated[Custom, Tag("Custom")],
    ],
    Discriminator(_regularizer_tag),
    Field(description='"l1", "l2", {l1}, {l2}, {l1, l2}, {orthogonal, mode}, {expr} or {custom}'),
]


# ---- initializers, constraints (and optimizers): a name, or {type = "Class", ...} ----

# Arguments of initializers, constraints and optimizers whose type is not simply
# their default's type.
OBJECT_ARGS: dict[str, Any] = {
    "seed": Int, "stddev": NonNeg, "scale": PositiveNumber,
    "mode": Literal["fan_in", "fan_out", "fan_avg"],
    "distribution": Literal["truncated_normal", "untruncated_normal", "uniform", "normal"],
    "input_axes": Axis, "output_axes": Axis, "axis": Axis,
    # MaxNorm's default max_value is the int 2, yet 3.0 is what users write.
    "max_value": NonNeg, "min_value": NonNeg, "rate": Fraction,
    "learning_rate": NonNeg, "epsilon": NonNeg, "weight_decay": NonNeg,
    "clipnorm": NonNeg, "clipvalue": NonNeg, "global_clipnorm": NonNeg,
    "beta_1": Fraction, "beta_2": Fraction, "rho": Fraction, "momentum": Fraction,
    "ema_momentum": Fraction,
}


OBJECT_ARG_DOCS = {
    "seed": "an integer that makes the random values repeatable",
    "stddev": "the standard deviation, >= 0", "mean": "the mean",
    "minval": "the lower bound", "maxval": "the upper bound",
    "value": "the value of every weight", "gain": "a multiplier of the result",
    "scale": "a multiplier of the variance, > 0",
    "mode": "which fan the variance is scaled by",
    "distribution": "the distribution the values are drawn from",
    "input_axes": "the axes that count as fan-in", "output_axes": "the axes that count as fan-out",
    "axis": "the axis (or axes) along which norms are computed",
    "max_value": "the largest norm, >= 0", "min_value": "the smallest norm, >= 0",
    "rate": "how far each update moves towards the bounds: 1 enforces them exactly",
    "learning_rate": 'the step size, >= 0, or a schedule: {type = "ExponentialDecay", '
                     "initial_learning_rate = 0.1, decay_steps = 1000, decay_rate = 0.96}",
    "epsilon": "a small constant for stability, >= 0",
    "weight_decay": "decoupled weight decay, >= 0",
    "clipnorm": "clip each gradient to this norm", "clipvalue": "clip gradients to this value",
    "global_clipnorm": "clip all gradients together to this norm",
    "beta_1": "the decay of the first moment, in [0, 1]",
    "beta_2": "the decay of the second moment, in [0, 1]",
    "rho": "the decay of the moving average, in [0, 1]", "momentum": "momentum, in [0, 1]",
    "ema_momentum": "the momentum of the exponential moving average of the weights",
}


def object_field(module: str, cls: str, arg: str, default: Any, types: dict = OBJECT_ARGS):
    """A field of an initializer, constraint or optimizer table, with its description."""
    text = OBJECT_ARG_DOCS.get(arg, f"the {arg} argument of {module}.{cls}")
    annotation = types.get(arg) or scalar_type(default)
    return Union[annotation, NoneToken], Field(default, description=text)


@cache
def _object_model(kind: str, cls: str) -> type[BaseModel]:
    """The model of one class's {type = "Class", ...} table (``kind``: "Initializer"...)."""
    info = registry.OBJECTS[kind.lower()][0][cls]
    module = f"keras.{kind.lower()}s"
    fields: dict[str, Any] = {"type": (literal([cls, *info["names"]]), Field(
        description=f"the class, {module}.{cls}, or its name"))}
    for arg, default in info["args"].items():
        fields[arg] = object_field(module, cls, arg, default)
    return create_model(f"{kind}{cls}", __base__=Strict, __doc__=f"{module}.{cls}", **fields)


def class_named(kind: str, value: Any) -> str | None:
    """The class of ``kind`` (a key of registry.OBJECTS) a value names: a name
    ("he_normal"), a table's "type" or a typed table's.

    >>> class_named("initializer", "he_normal"), class_named("loss", {"type": "Huber"})
    ('HeNormal', 'Huber')
    """
    table, names = registry.OBJECTS[kind]
    name = value if isinstance(value, str) else (
        value.get("type") if isinstance(value, dict) else getattr(value, "type", None))
    if not isinstance(name, str):
        return None
    return name if name in table else names.get(name)


def _object_union(kind: str):
    """A Keras name ("he_normal") or a {type = "HeNormal", ...} table, typed per class."""
    table, names = registry.OBJECTS[kind.lower()]
    members = [Annotated[_object_model(kind, cls), Tag(cls)] for cls in table]

    def tag(value: Any) -> str | None:
        return "Name" if isinstance(value, str) else class_named(kind.lower(), value)

    name_choices = sorted({*names, *table})
    members.append(Annotated[literal(name_choices), Tag("Name")])
    return Annotated[Union[tuple(members)], Discriminator(tag)]


def _object_member(kind: str):
    """The branch of _object_union a value is for: a known name as it is, a table
    with a known "type" by its class's model alone (see scalars.lazy)."""
    def member(value: Any):
        cls = class_named(kind.lower(), value)
        if cls is None:
            return None
        if isinstance(value, str):
            return lambda name: name
        return _object_model(kind, cls).model_validate if isinstance(value, dict) else None

    return member


def initializer_union():
    return _object_union("Initializer")


def constraint_union():
    return _object_union("Constraint")


Initializer = lazy("Initializer", initializer_union, _object_member("Initializer"))
Constraint = lazy("Constraint", constraint_union, _object_member("Constraint"))
INITIALIZER_TAGS = set(registry.INITIALIZERS) | {"Name"}
CONSTRAINT_TAGS = set(registry.CONSTRAINTS) | {"Name"}
