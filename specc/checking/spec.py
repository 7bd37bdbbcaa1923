"""The typed spec: pydantic models for inputs, layers, regularizers and compile.

One model per Keras layer is derived from the registry, so a class added there
is validated, documented in the JSON Schema and exported without new code here.

>>> Spec.model_validate({"inputs": [{"shape": [4]}],
...                      "layers": [{"type": "Dense", "units": 2}]}).layers[0].units
2
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Callable, Literal, Union

from typing_extensions import TypeAliasType

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    StrictInt,
    Tag,
    TypeAdapter,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from typing_extensions import TypeAliasType

from specc.vocab import registry

NONE_WORD = "None"


def _none_token(value: Any) -> Any:
    return None if value == NONE_WORD else value


def _integral(value: Any) -> Any:
    # JSON (and so JSON Schema) has one kind of number: 3.0 is the integer 3 there.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# TOML has no null: the string "None" stands for Keras's None everywhere.
NoneToken = Annotated[
    None,
    BeforeValidator(_none_token),
    WithJsonSchema({"enum": [NONE_WORD, None], "description": 'Keras None: TOML has no null, '
                    'so it is written "None"'}),
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


def _literal(values: list[str]):
    return Literal[tuple(values)]  # type: ignore[valid-type]


# ---- regularizers: the shorthands of the spec format -------------------------

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


def _regularizer_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "Shorthand"
    if isinstance(value, BaseModel):
        return type(value).__name__  # serializing: the tags are the class names
    if not isinstance(value, dict):
        return "Shorthand"  # reported as "expected 'l1' or 'l2'"
    keys = set(value)
    if "custom" in keys:
        return "Custom"
    if "expr" in keys:
        return "Expr"
    if "orthogonal" in keys:
        return "Orthogonal"
    if {"l1", "l2"} <= keys:
        return "L1L2"
    if "l2" in keys:
        return "L2"
    return "L1"


REGULARIZER_TAGS = {"Shorthand", "Custom", "Expr", "Orthogonal", "L1L2", "L2", "L1"}
Regularizer = Annotated[
    Union[
        Annotated[Literal["l1", "l2"], Tag("Shorthand")],
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


# ---- initializers and constraints: a name, or {type = "Class", ...} ----------

def _scalar_type(default: Any):
    for python_type, annotation in ((bool, StrictBool), (int, Int), (float, Finite), (str, str)):
        if type(default) is python_type:
            return annotation
    return Union[StrictInt, Finite, str, list[StrictInt], NoneToken]


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
    "learning_rate": "the step size, >= 0", "epsilon": "a small constant for stability, >= 0",
    "weight_decay": "decoupled weight decay, >= 0",
    "clipnorm": "clip each gradient to this norm", "clipvalue": "clip gradients to this value",
    "global_clipnorm": "clip all gradients together to this norm",
    "beta_1": "the decay of the first moment, in [0, 1]",
    "beta_2": "the decay of the second moment, in [0, 1]",
    "rho": "the decay of the moving average, in [0, 1]", "momentum": "momentum, in [0, 1]",
    "ema_momentum": "the momentum of the exponential moving average of the weights",
}


def _object_arg(arg: str, default: Any):
    return OBJECT_ARGS.get(arg) or _scalar_type(default)


def _object_field(module: str, cls: str, arg: str, default: Any):
    """A field of an initializer, constraint or optimizer table, with its description."""
    text = OBJECT_ARG_DOCS.get(arg, f"the {arg} argument of {module}.{cls}")
    return Union[_object_arg(arg, default), NoneToken], Field(default, description=text)


def _object_union(kind: str, table: dict[str, dict], names: dict[str, str]):
    """A Keras name ("he_normal") or a {type = "HeNormal", ...} table, typed per class."""
    members = []
    module = f"keras.{kind.lower()}s"
    for cls, info in table.items():
        fields: dict[str, Any] = {"type": (_literal([cls, *info["names"]]), Field(
            description=f"the class, {module}.{cls}, or its name"))}
        for arg, default in info["args"].items():
            fields[arg] = _object_field(module, cls, arg, default)
        model = create_model(f"{kind}{cls}", __base__=Strict,
                             __doc__=f"{module}.{cls}", **fields)
        members.append(Annotated[model, Tag(cls)])
    lookup = {**{c: c for c in table}, **names}

    def tag(value: Any) -> str | None:
        if isinstance(value, str):
            return "Name"
        kind_name = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return lookup.get(kind_name) if isinstance(kind_name, str) else None

    name_choices = sorted({*names, *table})
    members.append(Annotated[_literal(name_choices), Tag("Name")])
    return Annotated[Union[tuple(members)], Discriminator(tag)]


def _lazy(name: str, union: Callable[[], Any]):
    """A union that pydantic builds on first use, not when specc.checking.spec is imported.

    Each class of a union is a pydantic model (12 optimizers, 20 initializers...):
    building them all took a third of every ``specc validate``, and most specs use
    none or one. ``union()`` makes the real (discriminated) union; its errors,
    locations included, are those of the real union. The JSON Schema names the
    marker, and schema.py writes the real union's definition in its place.
    """
    adapter = cache(lambda: TypeAdapter(union(), config=ConfigDict(strict=True)))

    def validate(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        return adapter().validate_python(value)

    return Annotated[Any, PlainValidator(validate), WithJsonSchema({"x-specc-union": name})]


def _initializer_union():
    return _object_union("Initializer", registry.INITIALIZERS, registry.INITIALIZER_NAMES)


def _constraint_union():
    return _object_union("Constraint", registry.CONSTRAINTS, registry.CONSTRAINT_NAMES)


Initializer = _lazy("Initializer", _initializer_union)
Constraint = _lazy("Constraint", _constraint_union)
INITIALIZER_TAGS = set(registry.INITIALIZERS) | {"Name"}
CONSTRAINT_TAGS = set(registry.CONSTRAINTS) | {"Name"}


# ---- layers -----------------------------------------------------------------

Inputs = Union[Annotated[list[str], Field(min_length=1)], dict[str, Union[str, list[str]]]]

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
    "dtype": _literal(registry.DTYPES),
    "data_format": Literal["channels_last", "channels_first"],
    "activation": _literal(registry.ACTIVATIONS),
    "regularizer": Regularizer,
    "initializer": Initializer,
    "constraint": Constraint,
    "layer": "AnyLayer",
    "recurrent_layer": "RecurrentLayer",
    "json": Union[Scalar, list[Scalar], dict[str, Scalar]],
}


# What each kind of argument is, and examples of it, for editors.
KIND_DOCS: dict[str, tuple[str, list]] = {
    "positive": ("an integer >= 1", [32]),
    "int": ("an integer", [0]),
    "bool": ("true or false", [True]),
    "float": ("a finite number", [0.5]),
    "nonneg": ("a finite number >= 0", [0.001]),
    "fraction": ("a number from 0 to 1", [0.99]),
    "rate": ("the fraction of units to drop: 0 <= rate < 1", [0.5]),
    "str": ("a string", []),
    "ints": ("an integer >= 1, or one per spatial dimension", [3, [3, 3]]),
    "nested_ints": ("an integer >= 0, one per dimension, or a [before, after] pair per "
                    "dimension", [1, [[1, 1], [2, 2]]]),
    "shape": ('a shape without the batch dimension: integers, "None" for a dimension of any '
              "size, -1 for the one to infer", [[4, 8]]),
    "axis": ("an axis (negative counts from the end) or a list of axes", [-1]),
    "number_or_list": ("a number, or one per channel", [1.0]),
    "numbers": ("a list of numbers", [[0.0, 1.0]]),
    "dtype": ("a Keras dtype name", ["float32"]),
    "data_format": ('"channels_last": (batch, ..., channels); "channels_first": '
                    "(batch, channels, ...)", ["channels_last"]),
    "activation": ("a Keras activation function name", ["relu"]),
    "regularizer": ('a penalty on these weights: "l1", "l2", {l1 = 0.01}, {l2 = 0.01}, '
                    '{l1 = 1e-5, l2 = 1e-4}, {orthogonal = 0.01, mode = "rows"}, '
                    '{expr = "0.01 * sum(square(w))"} or {custom = "name", ...}',
                    [{"l2": 0.01}, "l1"]),
    "initializer": ('how these weights start: a Keras initializer name ("he_normal") or '
                    '{type = "HeNormal", seed = 7}', ["glorot_uniform"]),
    "constraint": ('a constraint applied to these weights after each update: a name '
                   '("non_neg") or {type = "MaxNorm", max_value = 3.0}', ["non_neg"]),
    "layer": ('a layer given as a table: {type = "LSTM", units = 64}',
              [{"type": "LSTM", "units": 64}]),
    "recurrent_layer": ('a recurrent layer given as a table: {type = "LSTM", units = 64}',
                        [{"type": "LSTM", "units": 64}]),
    "json": ("passed to Keras as written", []),
    "enum": ("one of the listed values", []),
}
# Wrapper arguments that Keras rebuilds with go_backwards=True: only recurrent layers fit.
RECURRENT_SLOTS = {("Bidirectional", "layer"), ("Bidirectional", "backward_layer")}


def _annotation(layer: str, arg: str, info: dict):
    kind = registry.arg_kind(layer, arg, info)
    if (layer, arg) in RECURRENT_SLOTS:
        kind = "recurrent_layer"
    if kind == "enum":
        annotation = _literal(registry.enum_choices(layer, arg, info))
    else:
        annotation = SIMPLE_KINDS[kind]
    text, examples = KIND_DOCS[kind]
    if "required" in info:
        return annotation, Field(description=text, examples=examples or None)
    default = info.get("default")
    examples = [e for e in examples if e != default] or None
    return Union[annotation, NoneToken], Field(default, description=text, examples=examples)


def _example(name: str) -> dict | None:
    """The smallest table of a layer: its type and an example of each required argument."""
    example: dict[str, Any] = {"type": name}
    for arg, info in registry.layer_args(name).items():
        if "required" not in info:
            continue
        kind = registry.arg_kind(name, arg, info)
        choices = registry.enum_choices(name, arg, info) if kind == "enum" else None
        samples = choices or KIND_DOCS["recurrent_layer" if (name, arg) in RECURRENT_SLOTS
                                       else kind][1]
        if not samples:
            return None
        example[arg] = samples[0]
    return example


_INPUTS = ("the names of the inputs or layers whose outputs this layer takes (default: the "
           "previous layer); a table passes them by call argument name")


def _layer_model(name: str) -> type[BaseModel]:
    info = registry.LAYERS[name]
    aliases = info.get("aliases", [])
    fields: dict[str, Any] = {
        "type": (_literal([name, *aliases]), Field(description="the Keras layer class")),
        "name": (str | None, Field(None, description="the Keras layer name; other layers use "
                                   "it in their inputs")),
        "inputs": (Inputs | None, Field(None, description=_INPUTS)),
        "call": (dict[str, Scalar] | None, Field(
            None, description="constant keyword arguments of the call, e.g. {training = false}")),
    }
    for arg, arg_info in registry.layer_args(name).items():
        fields[arg] = _annotation(name, arg, arg_info)
    doc = f"keras.layers.{name}" + (f" (also written {', '.join(aliases)})" if aliases else "")
    example = _example(name)
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
    name: str | None = Field(None, description="the nested model's name")
    inputs: Inputs | None = Field(None, description=_INPUTS + "; a table is the dict the "
                                  "nested model takes")
    call: dict[str, JsonValue] | None = Field(
        None, description="constant keyword arguments of the call, e.g. {training = false}")
    spec: "Spec" = Field(description="the nested model, written as a spec")


class _LayerModels(Mapping):
    """The model of each layer class, built on first use.

    Building all 130 pydantic models takes seconds; validating a spec only
    needs the classes it names.
    """

    def __init__(self) -> None:
        self._built: dict[str, type[BaseModel]] = {}

    def __getitem__(self, name: str) -> type[BaseModel]:
        if name not in registry.LAYERS:
            raise KeyError(name)
        if name not in self._built:
            model = _layer_model(name)
            model.model_rebuild(_types_namespace=_namespace())
            self._built[name] = model
        return self._built[name]

    def __iter__(self):
        return iter(registry.LAYERS)

    def __len__(self) -> int:
        return len(registry.LAYERS)


LAYER_MODELS = _LayerModels()
LAYER_TAGS = set(registry.LAYERS) | {"Apply", "Op", "Nested"}


def _layer_tag(value: Any) -> str | None:
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


# Layers that run over time steps, backwards too: what Bidirectional can wrap.
RECURRENT = sorted(n for n in registry.LAYERS if "go_backwards" in registry.LAYERS[n]["args"])
_SPECIAL = {"Apply": Apply, "Op": Op, "Nested": Nested}


def _dispatch(value: Any, allowed: Any = None) -> Any:
    """Validate a layer table with the model its "type" names (a discriminated union,
    resolved by hand so that only the models a spec uses are ever built)."""
    from pydantic_core import PydanticCustomError

    if isinstance(value, BaseModel):
        return value
    tag = _layer_tag(value)
    if tag is None or (allowed is not None and tag not in allowed):
        raise PydanticCustomError("union_tag_not_found", "unknown layer type")
    return (_SPECIAL.get(tag) or LAYER_MODELS[tag]).model_validate(value)


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


# ---- the whole spec ---------------------------------------------------------

# A structure of names, as Keras models take and return them: a name, or a list
# or a table of structures ({ a = "x", more = { b = "y" } }).
Nest = TypeAliasType("Nest", Annotated[
    Union[str, list["Nest"], dict[str, "Nest"]],
    Field(description="a name, or a list or table of them (nested)")])


class ModelSection(Strict):
    """[model]: the model's name, its outputs and how it is built."""

    name: str | None = Field(None, description="the Keras model name")
    inputs: list[Nest] | dict[str, Nest] | None = Field(
        None, description="the structure the model takes its inputs in, written with the names "
        "of [[inputs]]: a list, or a table whose keys the model is called with (default: one "
        "tensor when there is one input, else a list)",
        examples=[{"x": "input_layer", "y": "input_layer_1"}])
    outputs: list[Nest] | dict[str, Nest] | None = Field(
        None, description="the layers whose outputs the model returns (default: the last layer); "
        "a table names each output; lists and tables nest", examples=[["probs"]])
    kind: Literal["sequential", "functional"] | None = Field(
        None, description="default: sequential when no layer names inputs and there is one input"
    )
    inputs_form: Literal["list", "dict"] | None = Field(
        None, description="pass the inputs to the model as a list or a dict (default: one tensor "
        "when there is one input, else a list)"
    )
    outputs_form: Literal["list"] | None = Field(
        None, description='"list" keeps a single output in a list'
    )


class InputSpec(Strict):
    """[[inputs]]: one input tensor of the model."""

    name: str | None = Field(None, description="the name layers use in their inputs; needed "
                             "when there are several inputs")
    shape: list[Annotated[Union[Positive, NoneToken], Field()]] = Field(
        description='without the batch dimension; "None" for a dimension of any size',
        examples=[[784], ["None", 16]],
    )
    dtype: _literal(registry.DTYPES) | None = Field(  # type: ignore[valid-type]
        None, description="the input's dtype (default: float32)")
    sparse: StrictBool = Field(False, description="whether the input is a sparse tensor")
    batch_size: Positive | None = Field(None, description="a fixed batch size (default: any)")


# ---- compile: learning-rate schedules, losses, metrics, optimizers ------------

# Arguments of schedules, losses and metrics whose type is not simply their default's.
COMPILE_ARGS: dict[str, Any] = {
    "name": str, "dtype": _literal(registry.DTYPES),
    "reduction": Literal["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"],
    "label_smoothing": Fraction, "threshold": Fraction,
    "thresholds": Union[Fraction, list[Fraction]], "label_weights": list[NonNeg],
    "recall": Fraction, "precision": Fraction, "specificity": Fraction, "sensitivity": Fraction,
    "num_classes": Positive, "num_labels": Positive, "num_thresholds": Positive,
    "top_k": Positive, "k": Positive, "class_id": NonNegInt, "ignore_class": Int,
    "target_class_ids": list[NonNegInt],
    "average": Literal["micro", "macro", "weighted"],
    "curve": Literal["ROC", "PR"],
    "summation_method": Literal["interpolation", "minoring", "majoring"],
    "class_aggregation": Literal["uniform_average", "variance_weighted_average"],
    "initial_learning_rate": NonNeg, "end_learning_rate": NonNeg, "warmup_target": NonNeg,
    # Step counts; Keras's own docstrings write some as floats (decay_steps=1.0).
    "decay_steps": Union[Positive, PositiveNumber], "first_decay_steps": Union[Positive, PositiveNumber], "warmup_steps": NonNegInt,
    "decay_rate": Finite, "boundaries": list[Int], "values": list[Finite],
}
# Any JSON scalar or list of numbers: an argument whose default (None) says nothing.
_ANY_ARG = Union[StrictBool, StrictInt, Finite, str, list[Finite]]


def _compile_field(module: str, cls: str, arg: str, facts: dict):
    annotation = COMPILE_ARGS.get(arg) or OBJECT_ARGS.get(arg)
    if annotation is None:
        default = facts.get("default")
        annotation = _ANY_ARG if default is None else _scalar_type(default)
    text = OBJECT_ARG_DOCS.get(arg, f"the {arg} argument of {module}.{cls}")
    if facts.get("required"):
        return annotation, Field(description=text)
    return Union[annotation, NoneToken], Field(facts.get("default"), description=text)


def _class_union(kind: str, module: str, table: dict[str, dict], names: list[str] = ()):
    """A {type = "Class", ...} table typed per class, or one of ``names`` when given."""
    members = []
    for cls, info in table.items():
        fields: dict[str, Any] = {"type": (_literal([cls]), Field(
            description=f"the class, {module}.{cls}"))}
        for arg in info.get("order", info["args"]):  # Keras's signature order, for export
            facts = info["args"][arg]
            fields[arg] = (_object_field(module, cls, arg, facts) if kind == "Optimizer"
                           else _compile_field(module, cls, arg, facts))
        model = create_model(f"{kind}{cls}", __base__=Strict, __doc__=f"{module}.{cls}", **fields)
        members.append(Annotated[model, Tag(cls)])
    if names:
        members.append(Annotated[_literal(sorted(names)), Tag("Name")])

    def tag(value: Any) -> str | None:
        if isinstance(value, str):
            return "Name" if names else None
        name = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return name if isinstance(name, str) and name in table else None

    return Annotated[Union[tuple(members)], Discriminator(tag)]


OBJECT_ARG_DOCS["learning_rate"] = (
    'the step size, >= 0, or a schedule: {type = "ExponentialDecay", '
    "initial_learning_rate = 0.1, decay_steps = 1000, decay_rate = 0.96}")


def _optimizer_union():
    # An optimizer's learning rate: a number, or a schedule that changes it with each step.
    schedule = _class_union("Schedule", "keras.optimizers.schedules", registry.SCHEDULES)
    OBJECT_ARGS["learning_rate"] = Union[NonNeg, schedule]
    return _class_union("Optimizer", "keras.optimizers", registry.OPTIMIZERS,
                        [c.lower() for c in registry.OPTIMIZERS])


def _loss_union():
    return _class_union("Loss", "keras.losses", registry.LOSS_CLASSES, registry.LOSSES)


def _metric_union():
    return _class_union("Metric", "keras.metrics", registry.METRIC_CLASSES, registry.METRICS)


Optimizer = _lazy("Optimizer", _optimizer_union)
Loss = _lazy("Loss", _loss_union)
Metric = _lazy("Metric", _metric_union)
# The real unions, for schema.py (name -> builder).
LAZY_UNIONS = {"Initializer": _initializer_union, "Constraint": _constraint_union,
               "Optimizer": _optimizer_union, "Loss": _loss_union, "Metric": _metric_union}


def _loss_form(value: Any) -> str:
    # A table with a "type" is one loss ({type = "Huber"}), not a table of outputs.
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict) and "type" not in value:
        return "dict"
    return "one"


# The JSON Schema says so too, or {type = "Huber"} would fit both branches of its oneOf.
_OUTPUT_NAMES = Field(json_schema_extra={"propertyNames": {"not": {"const": "type"}}})
Losses = Annotated[Union[Annotated[Loss, Tag("one")], Annotated[list[Loss], Tag("list")],
                         Annotated[dict[str, Loss], _OUTPUT_NAMES, Tag("dict")]],
                   Discriminator(_loss_form)]
# Keras takes metrics as a list (a list per output for several outputs) or a table of outputs.
Metrics = Union[list[Union[Metric, list[Metric]]], dict[str, Union[Metric, list[Metric]]]]


_METRICS_TEXT = ('Keras metric names or tables ({type = "AUC", num_thresholds = 50}); a list of '
                 "lists or a table gives them per output")


class CompileSpec(Strict):
    """[compile]: the arguments of model.compile."""

    optimizer: Optimizer = Field(  # type: ignore[valid-type]
        "rmsprop", description='a Keras optimizer name, or {type = "Adam", learning_rate = 0.001}')
    loss: Losses | None = Field(  # type: ignore[valid-type]
        None, description='a Keras loss name or table ({type = "SparseCategoricalCrossentropy", '
        "from_logits = true}); a list gives one per output, a table one per output name",
        examples=["sparse_categorical_crossentropy"])
    metrics: Metrics | None = Field(  # type: ignore[valid-type]
        None, description=_METRICS_TEXT, examples=[["accuracy"]])
    weighted_metrics: Metrics | None = Field(  # type: ignore[valid-type]
        None, description="metrics weighted by the sample weights, written like metrics")
    loss_weights: Finite | list[Finite] | dict[str, Finite] | None = Field(
        None, description="a weight per output (a list) or per output name (a table)")
    run_eagerly: StrictBool = Field(False, description="run the model eagerly (for debugging)")
    steps_per_execution: Positive = Field(1, description="batches run per call of the "
                                          "compiled training function")
    jit_compile: StrictBool | Literal["auto"] = Field(
        "auto", description="compile with XLA: true, false or \"auto\" (Keras decides)")


# Keras dtype policies a model can be built under (keras.config.set_dtype_policy).
DTYPE_POLICIES = ["float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16"]
# tf.distribute strategies whose scope a model can be built and compiled in (specc/building/build.py).
STRATEGIES = ["mirrored", "multi_worker_mirrored", "tpu"]


class BuildSection(Strict):
    """[build]: how the model is built (not what it is): precision and distribution."""

    dtype_policy: _literal(DTYPE_POLICIES) | None = Field(  # type: ignore[valid-type]
        None, description="the Keras dtype policy the layers are made under: mixed_float16 or "
        "mixed_bfloat16 compute in half precision with float32 variables (default: float32)")
    strategy: _literal(STRATEGIES) | None = Field(  # type: ignore[valid-type]
        None, description="the tf.distribute strategy whose scope the model is built and "
        "compiled in, so that model.fit runs distributed (default: none)")


class Spec(Strict):
    """A whole model: inputs, layers in order, and an optional compile section."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema", description="path or URL of the JSON Schema")
    model: ModelSection = Field(default_factory=ModelSection,
                                description="the model's name, outputs and kind")
    inputs: list[InputSpec] = Field(min_length=1, description="the model's inputs")
    layers: list[AnyLayer] = Field(  # type: ignore[valid-type]
        min_length=1, description="the layers in order; each takes the previous one's output "
        "unless it names its inputs")
    compile: CompileSpec | None = Field(
        None, description="the arguments of model.compile; leave it out for a model that is "
        "not compiled")
    build: BuildSection | None = Field(
        None, description="how the model is built: dtype policy and distribution strategy")

    # Where the spec came from, so later stages can point at its lines.
    _document: Any = PrivateAttr(None)


def _namespace() -> dict:
    return {"AnyLayer": AnyLayer, "RecurrentLayer": RecurrentLayer, "Spec": Spec}


# Layers nest layers (Bidirectional) and whole specs (Nested): resolve both names now.
for _model in [Nested, Spec]:
    _model.model_rebuild(_types_namespace=_namespace())

UNION_TAGS = REGULARIZER_TAGS | INITIALIZER_TAGS | CONSTRAINT_TAGS | LAYER_TAGS


# ---- the sections that specc/expanding/expand.py expands: constants, defaults, blocks ----
#
# These models describe the text a user writes (and so the JSON Schema editors
# read); the check stage types the expanded, flat spec with Spec above.

TEMPLATE_DOC = ('a value computed when the spec is expanded: "{4 * filters}" (numbers, '
                'constants, block parameters, the repeat index i, + - * / // % **, '
                "comparisons, and/or/not, 'a if c else b', min max abs int round)")
Template = Annotated[str, Field(pattern=r"\{[^{}]*\}", description=TEMPLATE_DOC,
                                examples=["{4 * filters}", "block{i + 1}"])]
PARAM_DOC = ('"TYPE" (required) or "TYPE = DEFAULT", TYPE one of int, float, bool, str, list, '
             "table, any")


class BlockUse(BaseModel):
    """A use of a block defined in [blocks]: ``{ block = "residual", filters = 64 }``.
    Other keys are the block's parameters."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)
    block: str = Field(description="the name of the block, a key of [blocks]")
    name: str | None = Field(None, description="the instance's name: its layers are named by "
                             "the block's names template, {instance}_{layer} by default")
    inputs: Inputs | None = Field(None, description="what the block's inputs are bound to, "
                                  "in order (default: the previous layer)")
    repeat: Union[NonNegInt, Template] | None = Field(
        None, description="use the block this many times in a chain; {i} counts from 0")
    if_: Union[StrictBool, Template] | None = Field(
        None, alias="if", description="leave the use out when false")


class Block(Strict):
    """A named, parameterized sub-graph: its parameters, inputs, layers and outputs."""

    description: str | None = Field(None, description="what the block is, for readers")
    params: dict[str, Annotated[str, Field(pattern=r"^\s*(int|float|bool|str|list|table|any)"
                                                   r"\s*(=[\s\S]*)?$")]] | None = Field(
        None, description=f"the parameters: name -> {PARAM_DOC}",
        examples=[{"filters": "int", "stride": "int = 1"}])
    inputs: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description='the names layers of the block use for its inputs (default: ["x"])')
    outputs: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description="the layers whose outputs are the block's (default: the last layer)")
    names: str | None = Field(None, description="the template of the full name of each named "
                              "layer of an instance (default: {instance}_{layer})")
    layers: Annotated[list[AnyLayer], Field(min_length=1)] = Field(  # type: ignore[valid-type]
        description="the block's layers, wired by their names inside the block")


def _defaults_model() -> type[BaseModel]:
    """[defaults]: per layer type, a table of arguments; per argument, a value for every
    layer that has it."""
    fields: dict[str, Any] = {}
    arguments: set[str] = set()
    for name, info in registry.LAYERS.items():
        args = list(registry.layer_args(name))
        arguments.update(args)
        if args:
            for written in (name, *info.get("aliases", [])):
                fields[written] = (dict[_literal(args), JsonValue] | None, Field(  # type: ignore[valid-type]
                    None, description=f"arguments every {name} layer gets unless it sets them"))
    for arg in sorted(arguments - set(fields)):
        fields[arg] = (JsonValue, Field(None, description=f"{arg} of every layer that has "
                                        "this argument, unless it sets it"))
    return create_model("Defaults", __base__=Strict, __doc__="[defaults]: arguments that "
                        "layers get unless they set them", **fields)


class SourceSpec(Spec):
    """A spec as written: a Spec, with constants, defaults and blocks that expand into one."""

    constants: dict[str, JsonValue] | None = Field(
        None, description='named values for expressions: [constants] base = 128, then '
        'units = "{7 * 7 * base}"')
    defaults: Any = Field(None, description="arguments every layer of a type (or every layer "
                          "with the argument) gets unless it sets them",
                          json_schema_extra={"x-specc-defaults": True})
    blocks: dict[str, Block] | None = Field(
        None, description="parameterized sub-graphs, used in layers as { block = \"NAME\" }")


for _model in [BlockUse, Block, SourceSpec]:
    _model.model_rebuild(_types_namespace=_namespace())


def layer_args(layer: BaseModel) -> dict[str, Any]:
    """The Keras constructor arguments a spec layer gave explicitly."""
    return {
        k: getattr(layer, k)
        for k in layer.model_fields_set
        if k not in ("type", "name", "inputs")
    }


# Short names of the argument kinds, for tables such as ``specc layers Dense``.
KIND_LABELS = {
    "positive": "integer >= 1", "int": "integer", "bool": "true or false", "float": "number",
    "nonneg": "number >= 0", "fraction": "number in [0, 1]", "rate": "number in [0, 1)",
    "str": "string", "ints": "integer >= 1, or a list", "nested_ints": "integer >= 0, or lists",
    "shape": "shape", "axis": "axis, or a list", "number_or_list": "number, or a list",
    "numbers": "list of numbers", "dtype": "dtype", "data_format": "data format",
    "activation": "activation", "regularizer": "regularizer", "initializer": "initializer",
    "constraint": "constraint", "layer": "layer table", "recurrent_layer": "recurrent layer table",
    "json": "any value",
}


def describe_layer(name: str) -> list[dict[str, Any]]:
    """The Keras arguments a spec may give a layer type, required ones first.

    >>> describe_layer("Dense")[0]
    {'name': 'units', 'type': 'integer >= 1', 'default': None, 'required': True}
    """
    from specc.errors import SpecError, suggest

    cls = registry.canonical_layer(name)
    if cls is None:
        if name in registry.REFUSED:
            raise SpecError(f"layer type '{name}' is not supported: {registry.REFUSED[name]}")
        raise SpecError(f"unknown layer type '{name}'",
                        suggestion=suggest(name, registry.layer_type_names()))
    rows = []
    for arg, info in registry.layer_args(cls).items():
        kind = registry.arg_kind(cls, arg, info)
        if (cls, arg) in RECURRENT_SLOTS:
            kind = "recurrent_layer"
        label = (" | ".join(f"'{c}'" for c in registry.enum_choices(cls, arg, info))
                 if kind == "enum" else KIND_LABELS[kind])
        default = info.get("default")
        if default is None and isinstance(info.get("config_default"), (str, int, float)):
            default = info["config_default"]  # what Keras settles on (trainable: true)
        rows.append({"name": arg, "type": label, "default": default,
                     "required": "required" in info})
    return sorted(rows, key=lambda row: not row["required"])
