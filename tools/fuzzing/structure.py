"""Spec-shaped data from hypothesis strategies: the fuzzer's structural generator.

Byte and text mutations rarely get past the parser with a new shape; these
strategies start from the spec's own shape (its sections, each layer type's
arguments by their kind in the catalog, references between layers, blocks,
[defaults], [constants], [compile], [build]) and, at any key, sometimes put any
JSON value instead, or nested lists and tables where a string goes.
"""

from __future__ import annotations

import json
import random
from functools import cache

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from specc.vocab import registry

NAMES = st.sampled_from(["x", "y", "a", "b", "dense", "dense_1", "d", "input_layer", "out",
                         "block", "i", "", "x:0"])
TEXT = st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | TEXT
           | st.sampled_from(["None", "{i}", "{x}", "{1/0}", "{n * 2}", "int", "int = 1"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT | NAMES, inner, max_size=3), max_leaves=8)


def anything(strategy):
    """Mostly the right shape; sometimes any JSON value in its place."""
    return st.one_of(strategy, strategy, strategy, JSON)


def nested(leaf):
    """A leaf, or lists and tables of them (a structure where a string goes)."""
    return st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(NAMES, inner, max_size=3), max_leaves=6)


# [model] tuples: paths into the outputs and inputs structures (specc/vocab/tuples.py),
# mostly well formed, over the keys NAMES gives tables.
PATH_STEP = st.one_of(st.builds(".{}".format, NAMES), st.builds("[{}]".format, st.integers(-1, 3)),
                      st.builds(lambda key: f"[{json.dumps(key)}]", TEXT | NAMES),
                      st.sampled_from(["[", "..", '["a"', "[01]", "[" + "9" * 30 + "]", '["\\ud800"]']))
TUPLE_PATH = st.builds("{}{}".format, st.sampled_from(["outputs", "inputs", "outputs", "output", ""]),
                       st.lists(PATH_STEP, max_size=3).map("".join))

REFS = st.one_of(NAMES, st.builds("{}:{}".format, NAMES, st.integers(-1, 3)),
                 st.builds("{}_call_{}".format, NAMES, st.integers(0, 2)))
SHAPE = st.lists(st.one_of(st.integers(-1, 8), st.none(), st.just("None")), max_size=4)
SMALL_FLOAT = st.one_of(st.floats(-1, 2), st.sampled_from([0.0, 0.5, 1e-5, float("nan")]))

REGULARIZER = st.one_of(
    st.sampled_from(["l1", "l2", "L1L2", "orthogonal"]),
    st.fixed_dictionaries({}, optional={"l1": SMALL_FLOAT, "l2": SMALL_FLOAT}),
    st.fixed_dictionaries({"expr": st.sampled_from(
        ["0.01 * sum(w**2)", "sum(abs(w))", "mean(w) / 0", "sum(w", "{a} * sum(w)", "w"])}),
    st.fixed_dictionaries({"type": st.sampled_from(["L1L2", "OrthogonalRegularizer", "L2"])},
                          optional={"l1": SMALL_FLOAT, "l2": SMALL_FLOAT, "factor": SMALL_FLOAT,
                                    "mode": st.sampled_from(["rows", "columns"])}),
)


def objects(table: dict, names: dict):
    """An initializer or constraint: a name, or a table of a class and its arguments."""
    @cache
    def with_args(cls: str):
        args = table[cls].get("args", {})
        return st.fixed_dictionaries({"type": st.just(cls)}, optional={
            key: anything(st.just(value) | SCALARS) for key, value in args.items()})
    return st.one_of(st.sampled_from(sorted(names)), st.sampled_from(sorted(table)).flatmap(with_args))


INITIALIZER = objects(registry.INITIALIZERS, registry.INITIALIZER_NAMES)
CONSTRAINT = objects(registry.CONSTRAINTS, registry.CONSTRAINT_NAMES)

BY_KIND = {
    "regularizer": REGULARIZER, "initializer": INITIALIZER, "constraint": CONSTRAINT,
    "bool": st.booleans(), "int": st.integers(-2, 64), "float": SMALL_FLOAT, "str": TEXT,
    "ints": st.lists(st.integers(-1, 4), max_size=3), "numbers": st.lists(SMALL_FLOAT, max_size=3),
    "activation": st.sampled_from(registry.ACTIVATIONS + ["rellu", "os.system"]),
}


def argument(layer: str, arg: str, info: dict):
    kind = registry.arg_kind(layer, arg, info)
    if kind == "enum":
        return st.sampled_from(registry.enum_choices(layer, arg, info))
    return BY_KIND.get(kind, JSON)


@cache
def layer_of(kind: str):
    """A layer of one catalog type, with some of its arguments and the keys any layer takes."""
    args = registry.layer_args(kind)
    return st.fixed_dictionaries({"type": anything(st.just(kind))}, optional={
        **{arg: anything(argument(kind, arg, info)) for arg, info in args.items()},
        "name": anything(NAMES), "inputs": anything(nested(REFS)),
        "call": anything(st.dictionaries(st.sampled_from(["training", "mask", "x"]), SCALARS,
                                         max_size=2)),
        "if": anything(st.sampled_from(["{shortcut}", "{i == 0}", "true"])),
    })


LAYER_TYPES = sorted(registry.LAYERS)
OPS = sorted(f"ops.{name}" for name in registry.OPS)
OTHER_LAYERS = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(OPS)},
                          optional={"inputs": anything(st.lists(REFS | SCALARS, max_size=3)),
                                    "axis": anything(st.integers(-2, 2)), "name": NAMES}),
    st.fixed_dictionaries({"apply": anything(NAMES)},
                          optional={"inputs": anything(nested(REFS)), "name": anything(NAMES)}),
    st.fixed_dictionaries({"block": anything(NAMES)},
                          optional={"repeat": anything(st.integers(-1, 3) | TEXT),
                                    "name": anything(NAMES), "inputs": anything(nested(REFS)),
                                    "filters": SCALARS, "units": SCALARS}),
    st.fixed_dictionaries({"type": st.sampled_from(["Model", "TimeDistributed", "Bidirectional"])},
                          optional={"spec": JSON, "layer": JSON, "name": NAMES}),
)
LAYER = st.one_of(st.sampled_from(LAYER_TYPES).flatmap(layer_of), OTHER_LAYERS)
LAYERS = st.lists(LAYER, max_size=5)

INPUT = st.fixed_dictionaries({"shape": anything(SHAPE)}, optional={
    "name": anything(NAMES), "dtype": anything(st.sampled_from(["float32", "int32", "string"])),
    "sparse": st.booleans(), "ragged": st.booleans(), "optional": st.booleans(),
    "batch_size": anything(st.integers(-1, 4))})

COMPILE = st.fixed_dictionaries({}, optional={
    "optimizer": anything(st.sampled_from(sorted(registry.OPTIMIZERS) + ["adam", "sgd"])
                          | st.fixed_dictionaries({"type": st.sampled_from(sorted(registry.OPTIMIZERS))},
                                                  optional={"learning_rate": anything(SMALL_FLOAT)})),
    "loss": anything(nested(st.sampled_from(registry.LOSSES[:8] + ["mse", "mae"]))),
    "metrics": anything(nested(st.sampled_from(registry.METRICS[:8] + ["accuracy"]))),
    "loss_weights": anything(nested(SMALL_FLOAT)),
    "jit_compile": anything(st.booleans() | st.just("auto")),
})

BLOCK = st.fixed_dictionaries({"layers": anything(LAYERS)}, optional={
    "params": anything(st.dictionaries(NAMES, st.sampled_from(["int", "int = 1", "bool = false",
                                                               "float", "str", "list"]), max_size=3)),
    "inputs": anything(st.lists(NAMES, max_size=2)), "outputs": anything(st.lists(NAMES, max_size=2)),
    "names": anything(st.sampled_from(["{instance}_{layer}", "{layer}", "{x}"]))})

SPEC = st.fixed_dictionaries({"inputs": anything(st.lists(INPUT, max_size=3)),
                              "layers": anything(LAYERS)}, optional={
    "model": anything(st.fixed_dictionaries({}, optional={
        "name": anything(NAMES), "outputs": anything(nested(REFS)),
        "inputs": anything(nested(NAMES)), "kind": anything(st.sampled_from(["sequential", "functional"])),
        "outputs_form": anything(st.just("list")),
        "tuples": anything(st.lists(TUPLE_PATH, max_size=3))})),
    "compile": anything(COMPILE),
    "blocks": anything(st.dictionaries(NAMES, BLOCK, max_size=2)),
    "defaults": anything(st.dictionaries(st.sampled_from(LAYER_TYPES[:20] + ["Dense", "Conv2D"]),
                                         st.dictionaries(NAMES | st.just("units"), SCALARS, max_size=2),
                                         max_size=2)),
    "constants": anything(st.dictionaries(NAMES, SCALARS, max_size=3)),
    "build": anything(st.fixed_dictionaries({}, optional={
        "dtype_policy": anything(st.sampled_from(registry.DTYPE_POLICIES)),
        "strategy": anything(st.sampled_from(registry.STRATEGIES))})),
})


def specs(rng: random.Random, count: int = 200) -> list:
    """``count`` spec-shaped documents drawn by hypothesis, seeded from ``rng``."""
    drawn: list = []

    @seed(rng.randrange(2**32))
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(SPEC)
    def collect(spec):
        drawn.append(spec)

    collect()
    return drawn
