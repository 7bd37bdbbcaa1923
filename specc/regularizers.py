"""Spec regularizers <-> Keras regularizer objects (the build stage only).

Importing this module registers ``specc>ExprRegularizer`` and
``specc>CustomRegularizer`` with Keras, which is what lets
``keras.models.load_model`` reload a model saved with them.
"""

from __future__ import annotations

import keras
import numpy
from keras import ops

from specc import plugins
from specc.errors import SpecError, suggest
from specc.expr import evaluate, parse_penalty
from specc.floats import short_float
from specc.registry import DEFAULT_FACTOR



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


# The one table: spec form -> Keras class. ``from_keras_config`` uses its
# inverse, keyed by the name Keras writes in a saved config, so reading a
# config never imports or deserializes anything.
CLASSES: dict[str, type] = {
    "l1": keras.regularizers.L1,
    "l2": keras.regularizers.L2,
    "l1_l2": keras.regularizers.L1L2,  # the form { l1 = a, l2 = b }
    "orthogonal": keras.regularizers.OrthogonalRegularizer,
    "expr": ExprRegularizer,
    "custom": CustomRegularizer,
}
_FORMS = {keras.saving.get_registered_name(cls): form for form, cls in CLASSES.items()}


def to_keras(spec):
    """Build the Keras regularizer a (validated) spec value asks for.

    >>> type(to_keras({"l1": 0.01, "l2": 0.02})).__name__
    'L1L2'
    """
    if spec is None:
        return None
    try:
        if isinstance(spec, str) and spec in ("l1", "l2"):
            return CLASSES[spec]()
        if isinstance(spec, dict):
            keys = set(spec)
            if keys == {"expr"}:
                return ExprRegularizer(spec["expr"])
            if "custom" in keys:
                params = {k: v for k, v in spec.items() if k != "custom"}
                return CustomRegularizer(spec["custom"], **params)
            if "orthogonal" in keys and keys <= {"orthogonal", "mode"}:
                return CLASSES["orthogonal"](factor=spec["orthogonal"], mode=spec.get("mode", "rows"))
            if keys in ({"l1"}, {"l2"}):
                (key,) = keys
                return CLASSES[key](spec[key])
            if keys == {"l1", "l2"}:
                return CLASSES["l1_l2"](l1=spec["l1"], l2=spec["l2"])
    except ValueError as e:  # Keras's own checks: negative factors, bad mode
        raise SpecError(f"invalid regularizer {spec!r}: {e}") from e
    raise SpecError(
        f"unknown regularizer {spec!r}; expected 'l1', 'l2' or a table with "
        "l1/l2, orthogonal, expr or custom",
        suggestion=suggest(spec, ["l1", "l2"]),
    )


def _single(key: str, value) -> str | dict:
    value = short_float(value)
    return key if value == DEFAULT_FACTOR else {key: value}


def from_keras_config(cfg: dict | None):
    """The shortest spec value for a serialized Keras regularizer.

    >>> from_keras_config({"module": "keras.regularizers", "class_name": "L2",
    ...                    "config": {"l2": 0.009999999776482582}, "registered_name": None})
    'l2'
    """
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise SpecError(f"regularizer {cfg!r} is not supported by specc")
    name = cfg.get("registered_name") or cfg.get("class_name")
    form = _FORMS.get(name) if isinstance(name, str) else None
    if form is None:
        raise SpecError(f"regularizer '{name}' is not supported by specc")
    config = cfg.get("config") or {}
    try:
        return _to_spec(form, config)
    except (KeyError, TypeError, ValueError) as e:  # a hand-edited or corrupt config
        raise SpecError(f"regularizer '{name}' has an invalid config {config!r}: {e!r}") from e


def _to_spec(form: str, config: dict):
    # Missing keys take Keras's constructor defaults.
    if form in ("l1", "l2"):
        return _single(form, config.get(form, DEFAULT_FACTOR))
    if form == "l1_l2":
        l1, l2 = short_float(config.get("l1", 0.0)), short_float(config.get("l2", 0.0))
        if l2 == 0:
            return _single("l1", l1)
        if l1 == 0:
            return _single("l2", l2)
        return {"l1": l1, "l2": l2}
    if form == "orthogonal":
        out = {"orthogonal": short_float(config.get("factor", DEFAULT_FACTOR))}
        if config.get("mode", "rows") != "rows":
            out["mode"] = config["mode"]
        return out
    if form == "expr":
        return {"expr": config["expr"]}
    params = {k: v for k, v in config.items() if k != "custom"}
    return {"custom": config["custom"], **params}
