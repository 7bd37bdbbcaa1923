"""Typed [compile] and [build]: optimizers, learning-rate schedules, losses, metrics,
and how the model is built (dtype policy, distribution strategy).

Each class of the registry is one pydantic model, built on first use (scalars.lazy).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, StrictBool, StrictInt, Tag, create_model

from specc.checking.objects import OBJECT_ARG_DOCS, OBJECT_ARGS, class_named, object_field
from specc.checking.scalars import (Finite, Fraction, Int, NoneToken, NonNeg, NonNegInt,
                                    Positive, PositiveNumber, Strict, lazy, literal, scalar_type)
from specc.vocab import registry

# Arguments of schedules, losses and metrics whose type is not simply their default's.
COMPILE_ARGS: dict[str, Any] = {
    "name": str, "dtype": literal(registry.DTYPES),
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
        annotation = _ANY_ARG if default is None else scalar_type(default)
    text = OBJECT_ARG_DOCS.get(arg, f"the {arg} argument of {module}.{cls}")
    if facts.get("required"):
        return annotation, Field(description=text)
    return Union[annotation, NoneToken], Field(facts.get("default"), description=text)


# Each kind of [compile] table: its Keras module, its classes, the names it also takes,
# and whether its arguments are typed as initializers' are (optimizers).
@cache  # read for every [compile] value checked
def _kinds() -> dict[str, tuple]:
    return {
        "Schedule": ("keras.optimizers.schedules", registry.SCHEDULES, [], False),
        "Optimizer": ("keras.optimizers", registry.OPTIMIZERS,
                      [c.lower() for c in registry.OPTIMIZERS], True),
        "Loss": ("keras.losses", registry.LOSS_CLASSES, registry.LOSSES, False),
        "Metric": ("keras.metrics", registry.METRIC_CLASSES, registry.METRICS, False),
    }


@cache
def _class_model(kind: str, cls: str) -> type[BaseModel]:
    """The model of one class's {type = "Class", ...} table."""
    module, table, _, typed = _kinds()[kind]
    types = None
    if typed:  # an optimizer's learning rate: a number, or a schedule that changes it each step
        schedule = _class_union("Schedule")
        types = {**OBJECT_ARGS, "learning_rate": Union[NonNeg, schedule]}
    info = table[cls]
    fields: dict[str, Any] = {"type": (literal([cls]), Field(
        description=f"the class, {module}.{cls}"))}
    for arg in info.get("order", info["args"]):  # Keras's signature order, for export
        facts = info["args"][arg]
        fields[arg] = (object_field(module, cls, arg, facts, types) if types is not None
                       else _compile_field(module, cls, arg, facts))
    return create_model(f"{kind}{cls}", __base__=Strict, __doc__=f"{module}.{cls}", **fields)


def _class_union(kind: str):
    """A {type = "Class", ...} table typed per class, or one of the kind's names."""
    _, table, names, _ = _kinds()[kind]
    members = [Annotated[_class_model(kind, cls), Tag(cls)] for cls in table]
    if names:
        members.append(Annotated[literal(sorted(names)), Tag("Name")])

    def tag(value: Any) -> str | None:
        if isinstance(value, str):
            return "Name" if names else None
        return class_named(kind.lower(), value)

    return Annotated[Union[tuple(members)], Discriminator(tag)]


def _member(kind: str):
    """The branch of _class_union a value is for (see scalars.lazy): a name as it is,
    a table by its class's model alone."""
    def member(value: Any):
        if isinstance(value, str):
            return (lambda name: name) if value in _kinds()[kind][2] else None
        cls = class_named(kind.lower(), value) if isinstance(value, dict) else None
        return _class_model(kind, cls).model_validate if cls is not None else None

    return member


def optimizer_union():
    return _class_union("Optimizer")


def loss_union():
    return _class_union("Loss")


def metric_union():
    return _class_union("Metric")


Optimizer = lazy("Optimizer", optimizer_union, _member("Optimizer"))
Loss = lazy("Loss", loss_union, _member("Loss"))
Metric = lazy("Metric", metric_union, _member("Metric"))


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


class BuildSection(Strict):
    """[build]: how the model is built (not what it is): precision and distribution."""

    dtype_policy: literal(registry.DTYPE_POLICIES) | None = Field(  # type: ignore[valid-type]
        None, description="the Keras dtype policy the layers are made under: mixed_float16 or "
        "mixed_bfloat16 compute in half precision with float32 variables (default: float32)")
    strategy: literal(registry.STRATEGIES) | None = Field(  # type: ignore[valid-type]
        None, description="the tf.distribute strategy whose scope the model is built and "
        "compiled in, so that model.fit runs distributed (default: none)")
