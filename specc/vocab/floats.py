"""Numbers as Keras saves them, written back the way a person would (no TensorFlow here)."""

from __future__ import annotations


def short_float(x) -> float:
    """The shortest decimal that rounds to the same float32 as ``x``.

    Keras keeps factors and hyper-parameters as float32, so a saved 0.01 reads
    back as 0.009999999776482582; exporting that would be noise.

    >>> short_float(0.009999999776482582)
    0.01
    """
    import numpy  # here, not at the top: "import specc" stays light

    return float(numpy.format_float_positional(numpy.float32(x), unique=True, trim="0"))
