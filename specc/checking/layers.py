"""Typed layers: one pydantic model per Keras layer class of the registry, built on
first use, plus shared calls (Apply), operations (Op) and nested models (Nested).

A layer table is dispatched on its "type" by hand (``_dispatch``), so that only
the models a spec uses are ever built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, JsonValue, PlainValidator, StrictBool,
                      StrictInt, WithJsonSchema, create_model, model_validator)

from specc.checking.objects import Constraint, Initializer, Regularizer
from specc.checking.scalars import (Axis, Dim, Finite, Fraction, Int, KerasName, NoneToken, NonNeg,
                                    NonNegInt, Positive, Scalar, ScalarOrList, Strict, literal)
from specc.vocab import registry
from specc.vocab.kinds import KINDS, RECURRENT, example_layer, kind_of

if TYPE_CHECKING:
    from specc.checking.spec import Spec

Inputs = Union[Annotated[list[str], Field(min_length=1)], dict[str, Union[str, list[str]]]]

# The type of each kind of argument (vocab/kinds.py says what each kind is).
SIMPLE_KINDS: dict[str, Any] = {
    "positive": Positive,
    "int": Int,
    "bool": StrictBool,
    "float": Finite,
    "nonneg": NonNeg,
    "fraction": Fraction,
    "rate": Annotated[float, Field(ge=0, lt=1)],
    "str": str,
    "ints": Union[Positive, list[Positive]],
    "nested_ints": Union[NonNegInt, list[Union[NonNegInt, list[NonNegInt]]]],
    "shape": list[Dim],
    "axis": Axis,
    "number_or_list": Union[Finite, list[Finite]],
    "numbers": list[Finite],
    "dtype": literal(registry.DTYPES),
    "data_format": Literal["channels_last", "channels_first"],
    "activation": literal(registry.ACTIVATIONS),
    "regularizer": Regularizer,
    "initializer": Initializer,
    "constraint": Constraint,
    "layer": "AnyLayer",
    "recurrent_layer": "RecurrentLayer",
    "json": Union[Scalar, list[Scalar], dict[str, Scalar]],
}


def _annotation(layer: str, arg: str, info: dict):
    kind = kind_of(layer, arg, info)
    if kind == "enum":
        annotation = literal(registry.enum_choices(layer, arg, info))
    else:
        annotation = SIMPLE_KINDS[kind]
    text, examples = KINDS[kind].doc, KINDS[kind].examples
    if "required" in info:
        return annotation, Field(description=text, examples=examples or None)
    default = info.get("default")
    examples = [e for e in examples if e != default] or None
    return Union[annotation, NoneToken], Field(default, description=text, examples=examples)


_INPUTS = ("the names of the inputs or layers whose outputs this layer takes (default: the "
           "previous layer); a table passes them by call argument name")


def _layer_model(name: str) -> type[BaseModel]:
    info = registry.LAYERS[name]
    aliases = info.get("aliases", [])
    fields: dict[str, Any] = {
        "type": (literal([name, *aliases]), Field(description="the Keras layer class")),
        "name": (KerasName | None, Field(None, description="the Keras layer name; other layers use "
                                   "it in their inputs")),
        "inputs": (Inputs | None, Field(None, description=_INPUTS)),
        "call": (dict[str, Scalar] | None, Field(
            None, description="constant keyword arguments of the call, e.g. {training = false}")),
    }
    for arg, arg_info in registry.layer_args(name).items():
        fields[arg] = _annotation(name, arg, arg_info)
    doc = f"{registry.package_of(name) or 'keras'}.layers.{registry.class_name(name)}" + (
        f" (also written {', '.join(aliases)})" if aliases else "")
    example = example_layer(name)
    return create_model(
        name, __base__=Strict, __doc__=doc, **fields,
        __config__=ConfigDict(json_schema_extra={"examples": [example]} if example else None),
    )


class Apply(Strict):
    """Calls a layer defined earlier again, sharing its weights."""

    apply: str = Field(description="the name of the layer to call again")
    name: str = Field(min_length=1,
                      description="the name of this call's output, for later layers' inputs")
    inputs: Inputs | None = Field(None, description=_INPUTS)


# One axis of an index, as in x[1:5:2]; "..." is Python's Ellipsis.
SliceText = Annotated[str, Field(pattern=r"^(?:(-?[0-9]+)?:(-?[0-9]+)?(?::(-?[0-9]+)?)?|\.\.\.)$")]


class Op(BaseModel):
    """A Keras operation node, recorded when a model applies ``x + y`` or ``keras.ops.*``
    to symbolic tensors: ``{type = "ops.Reshape", newshape = [3, 1], inputs = ["x"]}``.
    Other keys are the operation's constructor arguments."""

    model_config = ConfigDict(extra="allow", strict=True)
    type: Annotated[str, Field(pattern=r"^ops\.")] = Field(
        description="the operation, ops. and its keras.ops class name")
    name: str | None = Field(None, description="the name of the operation's output")
    inputs: list[Union[str, list[str], StrictInt, Finite, StrictBool]] | None = Field(
        None, description="tensor names, or numbers for constant operands (x + 3.0)")
    __pydantic_extra__: dict[str, ScalarOrList] = Field(init=False)
    key: list[Union[Int, SliceText, NoneToken]] | None = Field(
        None, description='ops.GetItem only: the index of x[...], one entry per axis: an '
        'integer, a slice "start:stop:step" (":", ":2", "1:", "::2"), "..." or "None" (a new '
        'axis); x[:, :2] is [":", ":2"]', examples=[[":", ":2"]])

    @model_validator(mode="after")
    def _known(self) -> "Op":
        from pydantic_core import PydanticCustomError

        from specc.errors import suggest

        op = registry.OPS.get(self.type.removeprefix("ops."))
        if op is None:
            raise PydanticCustomError(
                "unknown_op", "unknown operation '{op}'",
                {"op": self.type, "suggestion": suggest(self.type, [f"ops.{k}" for k in registry.OPS])},
            )
        if self.type.removeprefix("ops.") in registry.FUNCTION_OPS:
            raise PydanticCustomError(
                "unknown_op", "operation '{op}' is not supported: it runs a Python function",
                {"op": self.type, "suggestion": None},
            )
        if (self.key is None) != (self.type != "ops.GetItem"):
            raise PydanticCustomError(
                "op_key", "'key' is the index of ops.GetItem and goes only with it"
                if self.key is not None else 'ops.GetItem needs \'key\', the index: x[:, :2] is '
                '[":", ":2"]', {"suggestion": None})
        for key in self.model_extra or {}:
            if key not in op["args"]:
                raise PydanticCustomError(
                    "unknown_op_arg", "unknown argument '{arg}' for {op}",
                    {"arg": key, "op": self.type, "suggestion": suggest(key, list(op["args"]))},
                )
        return self


class Nested(Strict):
    """A whole model used as a layer: ``{type = "Model", name = "encoder", spec = {...}}``."""

    type: Literal["Model", "Sequential", "Functional"] = Field(
        description="the Keras class of the nested model")
    name: KerasName | None = Field(None, description="the nested model's name")
    inputs: Inputs | None = Field(None, description=_INPUTS + "; a table is the dict the "
                                  "nested model takes")
    call: dict[str, JsonValue] | None = Field(
        None, description="constant keyword arguments of the call, e.g. {training = false}")
    spec: "Spec" = Field(description="the nested model, written as a spec")


def namespace() -> dict:
    """The names layer models refer to before they exist (layers nest layers and specs)."""
    from specc.checking.spec import Spec

    return {"AnyLayer": AnyLayer, "RecurrentLayer": RecurrentLayer, "Spec": Spec}


class _LayerModels(Mapping):
    """The model of each layer class, built on first use.

    Building all 130 pydantic models takes seconds; validating a spec only
    needs the classes it names.
    """

    def __init__(self) -> None:
        # name -> (the registry entry it was made from, the model). A plugin that adds or
        # redefines a class gives it a new entry, so only that class's model is made again;
        # Keras's keep theirs (a process that loads plugins again and again, a language
        # server or the fuzzer, would otherwise remake every model it had).
        self._built: dict[str, tuple[dict, type[BaseModel]]] = {}

    def __getitem__(self, name: str) -> type[BaseModel]:
        entry = registry.LAYERS.get(name)
        if entry is None:
            raise KeyError(name)
        built = self._built.get(name)
        if built is None or built[0] is not entry:
            model = _layer_model(name)
            model.model_rebuild(_types_namespace=namespace())
            self._built[name] = built = (entry, model)
        return built[1]

    def __iter__(self):
        return iter(registry.LAYERS)

    def __len__(self) -> int:
        return len(registry.LAYERS)


LAYER_MODELS = _LayerModels()


def layer_tag(value: Any) -> str | None:
    """The model a layer table (or typed layer) takes: "Apply", "Op", "Nested" or a
    registry class; None when its "type" names none."""
    if isinstance(value, dict):
        if "apply" in value and "type" not in value:
            return "Apply"
        kind = value.get("type")
    elif isinstance(value, (Apply, Op, Nested)):
        return type(value).__name__
    else:
        kind = getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    if kind.startswith("ops."):
        return "Op"
    if kind in ("Model", "Sequential", "Functional"):
        return "Nested"
    return registry.canonical_layer(kind)


SPECIAL = {"Apply": Apply, "Op": Op, "Nested": Nested}


def _dispatch(value: Any, allowed: Any = None) -> Any:
    """Validate a layer table with the model its "type" names (a discriminated union,
    resolved by hand so that only the models a spec uses are ever built)."""
    from pydantic_core import PydanticCustomError

    if isinstance(value, BaseModel):
        return value
    tag = layer_tag(value)
    if tag is None or (allowed is not None and tag not in allowed):
        raise PydanticCustomError("union_tag_not_found", "unknown layer type")
    return (SPECIAL.get(tag) or LAYER_MODELS[tag]).model_validate(value)


def parse_layer(value: dict) -> Any:
    """A layer table, such as a wrapped layer's, as its typed model (a nested model too).

    >>> parse_layer({"type": "LSTM", "units": 4}).units
    4
    """
    return _dispatch(value)


# The JSON Schema of both is a switch on "type" that specc/checking/schema.py writes in
# place of this marker (pydantic would try to resolve a $ref here).
AnyLayer = Annotated[Any, PlainValidator(_dispatch), WithJsonSchema({"x-specc-union": "Layer"})]
RecurrentLayer = Annotated[
    Any,
    PlainValidator(lambda value: _dispatch(value, RECURRENT)),
    WithJsonSchema({"x-specc-union": "RecurrentLayer"}),
]
