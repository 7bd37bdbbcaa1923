"""Spec regularizers <-> Keras regularizer objects (the build stage only).

Importing this module registers ``specc>ExprRegularizer`` and
``specc>CustomRegularizer`` with Keras, which is what lets
``keras.models.load_model`` reload a model saved with them.
"""

from __future__ import annotations

import keras
import numpy
from keras import ops

from specc.vocab import plugins
from specc.errors import SpecError
from specc.vocab.expr import evaluate, parse_penalty
from specc.vocab.floats import short_float  # noqa: F401  (re-exported)
from specc.vocab.penalties import FORMS, from_keras_config, to_config  # noqa: F401  (re-exported)


def _as_float(value, dtype):
    # Regularization losses are scalars in the weight's float dtype, like
    # Keras's own L1/L2 (int weights never happen, but fall back to floatx).
    dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    if "float" not in dtype:
        dtype = keras.backend.floatx()
    return ops.cast(value, dtype)


@keras.saving.register_keras_serializable(package="specc", name="ExprRegularizer")
class ExprRegularizer(keras.regularizers.Regularizer):
    """A penalty written as text, e.g. ``0.01 * sum(square(w))``.

    >>> float(ExprRegularizer("sum(abs(w))")(numpy.array([-1.0, 2.0])))
    3.0
    """

    def __init__(self, expr: str):
        self.penalty = parse_penalty(expr)  # SpecError now, not at fit time

    @property
    def expr(self) -> str:
        return self.penalty.text

    def __call__(self, w):
        return _as_float(evaluate(self.penalty, w, ops), getattr(w, "dtype", None))

    def get_config(self) -> dict:
        return {"expr": self.penalty.text}


@keras.saving.register_keras_serializable(package="specc", name="CustomRegularizer")
class CustomRegularizer(keras.regularizers.Regularizer):
    """A penalty registered from Python with ``specc.register_regularizer``.

    >>> @plugins.register_regularizer("doc_l1")
    ... def doc_l1(w, factor=0.01):
    ...     return factor * ops.sum(ops.abs(w))
    >>> float(CustomRegularizer("doc_l1", factor=0.5)(numpy.array([-1.0, 3.0])))
    2.0
    """

    def __init__(self, custom: str, **params):
        for key, value in params.items():
            # The config is saved as JSON inside the .keras file.
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise SpecError(
                    f"custom regularizer parameter '{key}' must be a number, string "
                    f"or boolean, got {type(value).__name__}"
                )
        self.fn = plugins.get_regularizer(custom)  # unknown name fails at build/load
        self.custom = custom
        self.params = dict(params)

    def __call__(self, w):
        return _as_float(self.fn(w, **self.params), getattr(w, "dtype", None))

    def get_config(self) -> dict:
        return {"custom": self.custom, **self.params}


# The one table: spec form -> Keras class. Its inverse, keyed by the name Keras
# writes in a saved config, is penalties.FORMS: reading a config imports
# nothing (tests/test_regularizers.py checks that the two agree).
CLASSES: dict[str, type] = {
    "l1": keras.regularizers.L1,
    "l2": keras.regularizers.L2,
    "l1_l2": keras.regularizers.L1L2,  # the form { l1 = a, l2 = b }
    "orthogonal": keras.regularizers.OrthogonalRegularizer,
    "expr": ExprRegularizer,
    "custom": CustomRegularizer,
}


def to_keras(spec):
    """Build the Keras regularizer a (validated) spec value asks for.

    >>> type(to_keras({"l1": 0.01, "l2": 0.02})).__name__
    'L1L2'
    """
    if spec is None:
        return None
    form, arguments = to_config(spec)
    try:
        return CLASSES[form](**arguments)
    except ValueError as e:  # Keras's own checks: negative factors, bad mode
        raise SpecError(f"invalid regularizer {spec!r}: {e}") from e
