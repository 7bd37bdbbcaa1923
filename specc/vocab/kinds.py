"""The kinds of layer arguments: what each is, for readers, editors and ``specc layers``.

registry.arg_kind says which kind an argument is; checking/layers.py turns each
kind into a pydantic type (a test checks both tables name the same kinds).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from specc.vocab import registry


class Kind(NamedTuple):
    doc: str          # what a value of this kind is, in the JSON Schema and the docs
    examples: list    # for editors; the first is a layer's example value
    label: str        # short, for tables such as ``specc layers Dense``


KINDS: dict[str, Kind] = {
    "positive": Kind("an integer >= 1", [32], "integer >= 1"),
    "int": Kind("an integer", [0], "integer"),
    "bool": Kind("true or false", [True], "true or false"),
    "float": Kind("a finite number", [0.5], "number"),
    "nonneg": Kind("a finite number >= 0", [0.001], "number >= 0"),
    "fraction": Kind("a number from 0 to 1", [0.99], "number in [0, 1]"),
    "rate": Kind("the fraction of units to drop: 0 <= rate < 1", [0.5], "number in [0, 1)"),
    "str": Kind("a string", [], "string"),
    "ints": Kind("an integer >= 1, or one per spatial dimension", [3, [3, 3]],
                 "integer >= 1, or a list"),
    "nested_ints": Kind("an integer >= 0, one per dimension, or a [before, after] pair per "
                        "dimension", [1, [[1, 1], [2, 2]]], "integer >= 0, or lists"),
    "shape": Kind('a shape without the batch dimension: integers, "None" for a dimension of '
                  "any size, -1 for the one to infer", [[4, 8]], "shape"),
    "axis": Kind("an axis (negative counts from the end) or a list of axes", [-1],
                 "axis, or a list"),
    "number_or_list": Kind("a number, or one per channel", [1.0], "number, or a list"),
    "numbers": Kind("a list of numbers", [[0.0, 1.0]], "list of numbers"),
    "dtype": Kind("a Keras dtype name", ["float32"], "dtype"),
    "data_format": Kind('"channels_last": (batch, ..., channels); "channels_first": '
                        "(batch, channels, ...)", ["channels_last"], "data format"),
    "activation": Kind("a Keras activation function name", ["relu"], "activation"),
    "regularizer": Kind('a penalty on these weights: "l1", "l2", {l1 = 0.01}, {l2 = 0.01}, '
                        '{l1 = 1e-5, l2 = 1e-4}, {orthogonal = 0.01, mode = "rows"}, '
                        '{expr = "0.01 * sum(square(w))"} or {custom = "name", ...}',
                        [{"l2": 0.01}, "l1"], "regularizer"),
    "initializer": Kind('how these weights start: a Keras initializer name ("he_normal") or '
                        '{type = "HeNormal", seed = 7}', ["glorot_uniform"], "initializer"),
    "constraint": Kind('a constraint applied to these weights after each update: a name '
                       '("non_neg") or {type = "MaxNorm", max_value = 3.0}', ["non_neg"],
                       "constraint"),
    "layer": Kind('a layer given as a table: {type = "LSTM", units = 64}',
                  [{"type": "LSTM", "units": 64}], "layer table"),
    "recurrent_layer": Kind('a recurrent layer given as a table: {type = "LSTM", units = 64}',
                            [{"type": "LSTM", "units": 64}], "recurrent layer table"),
    "json": Kind("passed to Keras as written", [], "any value"),
    "enum": Kind("one of the listed values", [], "one of the listed values"),
}

# Wrapper arguments that Keras rebuilds with go_backwards=True: only recurrent layers fit.
RECURRENT_SLOTS = {("Bidirectional", "layer"), ("Bidirectional", "backward_layer")}
# Layers that run over time steps, backwards too: what Bidirectional can wrap.
RECURRENT: list[str] = []


def _recurrent() -> None:
    RECURRENT[:] = sorted(n for n in registry.LAYERS if "go_backwards" in registry.LAYERS[n]["args"])


_recurrent()
registry.watch(_recurrent)  # a plugin's layer class may run over time steps too


def kind_of(layer: str, arg: str, info: dict) -> str:
    """The kind of one argument of a layer class (registry.arg_kind, recurrent slots too).

    >>> kind_of("Bidirectional", "layer", {}), kind_of("Dense", "units", {})
    ('recurrent_layer', 'positive')
    """
    if (layer, arg) in RECURRENT_SLOTS:
        return "recurrent_layer"
    return registry.arg_kind(layer, arg, info)


def example_layer(name: str) -> dict | None:
    """The smallest table of a layer: its type and an example of each required argument
    (None when some required argument has no example)."""
    example: dict[str, Any] = {"type": name}
    for arg, info in registry.layer_args(name).items():
        if "required" not in info:
            continue
        kind = kind_of(name, arg, info)
        samples = registry.enum_choices(name, arg, info) if kind == "enum" \
            else KINDS[kind].examples
        if not samples:
            return None
        example[arg] = samples[0]
    return example


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
        from specc.vocab.plugins import plugin_hint

        from specc.vocab.catalogs import elsewhere

        hint = plugin_hint(name) or elsewhere(name)
        if hint is not None:
            raise SpecError(f"unknown layer type '{name}': {hint}")
        raise SpecError(f"unknown layer type '{name}'",
                        suggestion=suggest(name, registry.layer_type_names()))
    rows = []
    for arg, info in registry.layer_args(cls).items():
        kind = kind_of(cls, arg, info)
        label = (" | ".join(f"'{c}'" for c in registry.enum_choices(cls, arg, info))
                 if kind == "enum" else KINDS[kind].label)
        default = info.get("default")
        if default is None and isinstance(info.get("config_default"), (str, int, float)):
            default = info["config_default"]  # what Keras settles on (trainable: true)
        rows.append({"name": arg, "type": label, "default": default,
                     "required": "required" in info})
    return sorted(rows, key=lambda row: not row["required"])
