"""The names Keras gives what a spec leaves unnamed, and references to tensors.

Plain data in, names out: the reading, expanding and checking stages all name
layers and inputs the way Keras will, before any of them is typed.
"""

from __future__ import annotations

import re
from typing import Any

from specc.vocab import registry


def to_snake_case(name: str) -> str:
    """Keras's own rule for default layer names: ``to_snake_case("Conv2D") == "conv2d"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def split_ref(ref: str) -> tuple[str, int | None]:
    """``"lstm:1"`` -> ("lstm", 1): tensor 1 of a layer with several outputs. An index
    that is not a few ASCII digits is part of a name ("x:²", "x:" and 5,000 digits:
    int() refuses both), which the wiring check then reports as unknown.

    >>> split_ref("lstm:1"), split_ref("x:²"), split_ref("x:" + "9" * 30)[1]
    (('lstm', 1), ('x:²', None), None)
    """
    name, _, index = ref.partition(":")
    number = as_index(index)
    return (name, number) if number is not None else (ref, None)


def as_index(digits: str) -> int | None:
    """The number a name's or a reference's trailing digits give ("3" -> 3); None for
    anything else: non-ASCII digits ("²", which int() refuses though isdigit() accepts
    them) or more than 18 digits (beyond any index, and int() refuses 4,300).

    >>> as_index("3"), as_index("²"), as_index("9" * 4401), as_index("")
    (3, None, None, None)
    """
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else None


def default_input_names(written: list[str | None]) -> list[str]:
    """The inputs' names: as written, else Keras's (input_layer, input_layer_1, ...)."""
    if len(written) == 1 and written[0] is None:
        return ["input_layer"]
    return [name or f"input_layer_{n}" for n, name in enumerate(written)]


def default_name(kind: str) -> str:
    """The name Keras gives the first unnamed layer of this type: ``dense``, from the
    class name (``keras_hub>TransformerEncoder``: ``transformer_encoder``)."""
    canonical = registry.canonical_layer(kind)
    return to_snake_case(registry.class_name(canonical) if canonical else kind.removeprefix("ops."))


def default_names(layers: list[tuple], taken: set[str]) -> list[str | None]:
    """Names for (name, type) pairs: the written name, else Keras's default for the
    type in order (dense, dense_1, ...), never one already taken. No name and no
    type (a table that is not a layer) gives None.

    >>> default_names([(None, "Dense"), ("dense_1", "Dense"), (None, "Dense")], set())
    ['dense', 'dense_1', 'dense_2']
    """
    taken = taken | {name for name, _ in layers if isinstance(name, str) and name}
    counts: dict[str, int] = {}
    names: list[str | None] = []
    for name, kind in layers:
        if isinstance(name, str) and name:
            names.append(name)
            continue
        if not isinstance(kind, str):
            names.append(None)
            continue
        base = default_name(kind)
        while True:
            n = counts.get(base, 0)
            counts[base] = n + 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                break
        taken.add(candidate)
        names.append(candidate)
    return names


def implied_names(layers: list[tuple], inputs: list[str]) -> list[bool]:
    """For (name, type) pairs (type None: not a layer Keras names, a shared call), whether
    each written name is the one ``default_names`` would give it anyway, so that a spec
    may leave it out and every name stays the same.

    One pass, in the order names are given: leaving out an implied name changes
    no other layer's name, so each layer is decided on its own.

    >>> implied_names([("dense", "Dense"), ("dense_1", "Dense"), ("dense_5", "Dense")], ["x"])
    [True, True, False]
    """
    taken = {name for name, _ in layers if isinstance(name, str) and name} | set(inputs)
    counts: dict[str, int] = {}
    # base -> the first index from counts[base] on whose name is not taken (counts only grow,
    # and every index below it down to counts[base] is taken, so it holds until passed).
    free: dict[str, int] = {}
    implied = []
    for name, kind in layers:
        base = default_name(kind) if isinstance(kind, str) else None
        if base is None:
            implied.append(False)
            continue
        n = counts.get(base, 0)
        if free.get(base, -1) < n:
            m = n
            while (base if m == 0 else f"{base}_{m}") in taken:
                m += 1
            free[base] = m
        if not (isinstance(name, str) and name):  # default_names gives it the first untaken name
            counts[base] = free[base] + 1
            implied.append(False)
            continue
        # Left out, the name would be the first of n, n+1... that no other layer takes.
        own = default_index(name, base)
        ok = own is not None and n <= own < free[base]
        if ok:
            counts[base] = own + 1
        implied.append(ok)
    return implied


def default_index(name: str, base: str) -> int | None:
    """``dense`` -> 0, ``dense_3`` -> 3 for base ``dense``; None for any other name."""
    if name == base:
        return 0
    number = name.removeprefix(f"{base}_")
    if number != name and number[:1] != "0":
        return as_index(number)  # dense_² or dense_ and 4,401 digits: not a default name
    return None


def keras_names(spec: dict, untyped: str | None = None) -> tuple[list[str], list[str | None]]:
    """The names Keras will give a spec's [[inputs]] and [[layers]]: written names, else
    its defaults (input_layer, dense, dense_1...). A layer without a type is named
    after ``untyped`` (None: no name).

    >>> keras_names({"inputs": [{"shape": [4]}], "layers": [{"type": "Dense"}]})
    (['input_layer'], ['dense'])
    """

    def written(entries: Any) -> list[dict | None]:
        return [e if isinstance(e, dict) else None for e in entries] \
            if isinstance(entries, list) else []

    def name(entry: dict | None) -> str | None:
        value = entry.get("name") if entry is not None else None
        return value if isinstance(value, str) else None

    def layer_type(entry: dict | None) -> str | None:
        value = entry.get("type") if entry is not None else None
        return value if isinstance(value, str) else untyped

    inputs = default_input_names([name(e) for e in written(spec.get("inputs"))])
    layers = default_names([(name(e), layer_type(e)) for e in written(spec.get("layers"))],
                           taken=set(inputs))
    return inputs, layers
