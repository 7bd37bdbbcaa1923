"""The value types every part of the typed spec is made of: numbers with their
bounds, the "None" word, plain scalars, and the strict base model.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Dim).validate_python("None") is None
True
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from typing_extensions import TypeAliasType

from specc.vocab.values import NONE_DOC, NONE_WORD, from_word


def _integral(value: Any) -> Any:
    # JSON (and so JSON Schema) has one kind of number: 3.0 is the integer 3 there.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# TOML has no null: the string "None" stands for Keras's None everywhere.
NoneToken = Annotated[
    None,
    BeforeValidator(from_word),
    WithJsonSchema({"enum": [NONE_WORD, None], "description": NONE_DOC}),
]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Int = Annotated[StrictInt, BeforeValidator(_integral)]
# The bound goes inside the conversion, or the JSON Schema loses it.
Positive = Annotated[StrictInt, Field(ge=1), BeforeValidator(_integral)]
Axis = Union[Int, list[Int]]
NonNegInt = Annotated[StrictInt, Field(ge=0), BeforeValidator(_integral)]
Dim = Union[Annotated[StrictInt, Field(ge=-1), BeforeValidator(_integral)], NoneToken]


def _keras_name(value: str) -> str:
    from pydantic_core import PydanticCustomError

    # Keras refuses it when the layer or model is made (it joins nested weights' paths
    # with "/"): said here, the spec's place is known.
    if "/" in value:
        raise PydanticCustomError("keras_name", "a Keras name cannot contain '/'",
                                  {"suggestion": value.replace("/", "_")})
    return value


# The name of a Keras layer, model or input.
KerasName = Annotated[str, AfterValidator(_keras_name)]


# A plain value a layer call or an operation takes. Never a table: Keras's
# loader turns tables with a "class_name" into objects (a marshalled lambda,
# a layer reading a file), which is what a spec must not be able to smuggle in.
Scalar = TypeAliasType("Scalar", Annotated[
    Union[StrictBool, StrictInt, Finite, str],
    Field(description="a number, a string, true or false (never a table)")])
ScalarOrList = TypeAliasType("ScalarOrList", Annotated[
    Union[Scalar, list[Union[Scalar, list[Scalar]]]],
    Field(description="a number, a string, true or false, or a list of them")])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def literal(values: list[str]):
    """The type of one of ``values``."""
    return Literal[tuple(values)]  # type: ignore[valid-type]


def scalar_type(default: Any):
    """The type of an argument, guessed from its default."""
    for python_type, annotation in ((bool, StrictBool), (int, Int), (float, Finite), (str, str)):
        if type(default) is python_type:
            return annotation
    return Union[StrictInt, Finite, str, list[StrictInt], NoneToken]


def lazy(name: str, union: Callable[[], Any],
         member: Callable[[Any], Callable[[Any], Any] | None] | None = None):
    """A union that pydantic builds on first use, not when the typed spec is imported.

    Each class of a union is a pydantic model (12 optimizers, 20 initializers...):
    building them all took a third of every ``specc validate``, and most specs use
    none or one. ``union()`` makes the real (discriminated) union; its errors,
    locations included, are those of the real union. The JSON Schema names the
    marker, and schema.py writes the real union's definition in its place.

    ``member(value)``, when given, names the one branch a value is for (the
    validator of its class's model), so that a valid value builds that model
    alone; a value it names none for, or that its branch refuses, goes to the
    union, which reports the problem as it always has.
    """
    adapter = cache(lambda: TypeAdapter(union(), config=ConfigDict(strict=True)))

    def validate(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        branch = member(value) if member is not None else None
        if branch is not None:
            try:
                return branch(value)
            except ValidationError:
                pass
        return adapter().validate_python(value)

    return Annotated[Any, PlainValidator(validate), WithJsonSchema({"x-specc-union": name})]
