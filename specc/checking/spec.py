"""The typed spec: a whole model (inputs, layers, compile, build), and the sections
of the text a user writes that expansion turns into one (constants, defaults, blocks).

One model per Keras layer is derived from the registry (checking/layers.py), so a
class added there is validated, documented in the JSON Schema and exported without
new code here.

>>> Spec.model_validate({"inputs": [{"shape": [4]}],
...                      "layers": [{"type": "Dense", "units": 2}]}).layers[0].units
2
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, JsonValue, StrictBool, create_model,
                      model_validator)
from typing_extensions import TypeAliasType

from specc.checking.compile import (BuildSection, CompileSpec, loss_union, metric_union,
                                    optimizer_union)
from specc.checking.layers import AnyLayer, Inputs, Nested, namespace
from specc.checking.objects import constraint_union, initializer_union
from specc.checking.scalars import KerasName, NoneToken, NonNegInt, Positive, Strict, literal
from specc.vocab import registry

# The typed spec's parts, read from here by the later stages and the schema generator.
from specc.checking.layers import LAYER_MODELS, Apply, Op, parse_layer  # noqa: F401
from specc.vocab.kinds import RECURRENT  # noqa: F401

# The real unions that scalars.lazy stands for, for schema.py (name -> builder).
LAZY_UNIONS = {"Initializer": initializer_union, "Constraint": constraint_union,
               "Optimizer": optimizer_union, "Loss": loss_union, "Metric": metric_union}


# ---- the whole spec ---------------------------------------------------------

# A structure of names, as Keras models take and return them: a name, or a list
# or a table of structures ({ a = "x", more = { b = "y" } }).
Nest = TypeAliasType("Nest", Annotated[
    Union[str, list["Nest"], dict[str, "Nest"]],
    Field(description="a name, or a list or table of them (nested)")])


class ModelSection(Strict):
    """[model]: the model's name, its outputs and how it is built."""

    name: KerasName | None = Field(None, description="the Keras model name")
    inputs: list[Nest] | dict[str, Nest] | None = Field(
        None, description="the structure the model takes its inputs in, written with the names "
        "of [[inputs]]: a list, or a table whose keys the model is called with (default: one "
        "tensor when there is one input, else a list)",
        examples=[{"x": "input_layer", "y": "input_layer_1"}])
    outputs: list[Nest] | dict[str, Nest] | None = Field(
        None, description="the layers whose outputs the model returns (default: the last layer); "
        "a table names each output; lists and tables nest", examples=[["probs"]])
    tuples: list[str] | None = Field(
        None, description="the arrays of outputs and inputs that are Python tuples, by path: "
        '"outputs" (the array itself), "outputs.KEY", "outputs[N]", \'outputs["any key"]\', '
        "nested (outputs.c.c1), likewise inputs",
        examples=[["outputs.a", "outputs.c.c1"]])
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


# The keras.Input flags an input may set (each false unless set).
INPUT_FLAGS = ("sparse", "ragged", "optional")


class InputSpec(Strict):
    """[[inputs]]: one input tensor of the model."""

    # The schema says "not both" too, so that editors flag it (pydantic merges this with
    # Strict's config).
    model_config = ConfigDict(json_schema_extra={"not": {
        "required": ["sparse", "ragged"],
        "properties": {"sparse": {"const": True}, "ragged": {"const": True}}}})

    name: KerasName | None = Field(None, description="the name layers use in their inputs; needed "
                             "when there are several inputs")
    shape: list[Annotated[Union[Positive, NoneToken], Field()]] = Field(
        description='without the batch dimension; "None" for a dimension of any size',
        examples=[[784], ["None", 16]],
    )
    dtype: literal(registry.DTYPES) | None = Field(  # type: ignore[valid-type]
        None, description="the input's dtype (default: float32)")
    sparse: StrictBool = Field(False, description="whether the input is a sparse tensor")
    ragged: StrictBool = Field(False, description="whether the input is a ragged tensor "
                               "(TensorFlow); not with sparse")
    optional: StrictBool = Field(False, description="whether the model may be called with "
                                 "None for this input")
    batch_size: Positive | None = Field(None, description="a fixed batch size (default: any)")

    @model_validator(mode="after")
    def _one_kind(self) -> "InputSpec":
        from pydantic_core import PydanticCustomError

        if self.sparse and self.ragged:  # Keras refuses it when the model is built
            raise PydanticCustomError("input_kind", "an input is sparse or ragged, not both",
                                      {"suggestion": None})
        return self


# ---- the spec --------------------------------------------------------------

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


# Layers nest layers (Bidirectional) and whole specs (Nested): resolve both names now.
for _model in [Nested, Spec]:
    _model.model_rebuild(_types_namespace=namespace())


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
                fields[written] = (dict[literal(args), JsonValue] | None, Field(  # type: ignore[valid-type]
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
    _model.model_rebuild(_types_namespace=namespace())
