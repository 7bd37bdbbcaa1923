"""Serialized Keras regularizers -> spec values, without TensorFlow (the export stage).

specc/building/regularizers.py builds the Keras objects and imports Keras; ``specc
export`` only reads configs, so the names Keras writes for each regularizer
class live here, and a test checks them against the classes themselves.
"""

from __future__ import annotations

from specc.errors import SpecError
from specc.vocab.floats import short_float
from specc.vocab.registry import DEFAULT_FACTOR

# The name Keras writes for each class in a saved config -> the spec form
# (the inverse of regularizers.CLASSES, which tests/test_regularizers.py checks).
FORMS = {
    "L1": "l1",
    "L2": "l2",
    "L1L2": "l1_l2",
    "OrthogonalRegularizer": "orthogonal",
    "specc>ExprRegularizer": "expr",
    "specc>CustomRegularizer": "custom",
}


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
    form = FORMS.get(name) if isinstance(name, str) else None
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
