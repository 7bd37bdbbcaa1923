"""Options several commands share (typer annotations), and what --plugin does."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def count(text: str) -> int:
    """A count as a user writes it: 2000000000, 2_000_000_000 or 2e9."""
    try:
        value = float(str(text).replace("_", ""))
        whole = value == int(value) and value >= 1
    except (ValueError, OverflowError):  # "many", "nan", "inf"
        whole = False
    if not whole:
        raise typer.BadParameter(f"expected a positive whole number, received {text!r}")
    return int(value)


Plugins = Annotated[
    Optional[list[str]],
    typer.Option("--plugin", metavar="MODULE", help=(
        "Import this Python module first: it registers custom layer classes "
        "(keras.saving.register_keras_serializable) and regularizers; validate imports it, "
        "and with it Keras.")),
]

Sets = Annotated[
    Optional[list[str]],
    typer.Option("--set", metavar="PATH=VALUE",
                 help="Change a value of the spec: layers.dense_1.units=128, layers[3].rate=0.3, "
                      "layers.*.kernel_regularizer='{ l2 = 0.001 }' (a TOML value)."),
]

# The same budget guards build and the weights rebuild of export.
MaxParams = Annotated[int, typer.Option(
    "--max-params", parser=count, metavar="N",
    help="Refuse a model with more parameters than N, counted before any weight is made.",
)]
