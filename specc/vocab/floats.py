"""Numbers as Keras saves them, written back the way a person would (no TensorFlow here)."""

from __future__ import annotations


def short_float(x) -> float:
    """The shortest decimal that rounds to the same float32 as ``x``.

    Keras keeps factors and hyper-parameters as float32, so a saved 0.01 reads
    back as 0.009999999776482582; exporting that would be noise.

    A number float32 cannot hold (1e300, found by the fuzzer in a Keras 2 file; numpy
    warned "overflow encountered in cast") is kept as it is.

    >>> short_float(0.009999999776482582), short_float(1e300), short_float(-1e39)
    (0.01, 1e+300, -1e+39)
    """
    import numpy  # here, not at the top: "import specc" stays light

    if not abs(x) <= float(numpy.finfo(numpy.float32).max):
        return float(x)  # too large for float32 (or nan, which has no shorter form)
    return float(numpy.format_float_positional(numpy.float32(x), unique=True, trim="0"))
