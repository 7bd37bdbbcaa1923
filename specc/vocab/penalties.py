"""The regularizer forms of the spec format, in both directions, without TensorFlow.

A spec writes a penalty as "l1", "l2" or a table whose keys pick its form;
``to_config`` gives the Keras constructor arguments of a spec value (the build
stage), ``from_keras_config`` the shortest spec value of a saved config (the
export stage). specc/building/regularizers.py maps each form to its Keras class,
and a test checks that map against FORMS.
"""

from __future__ import annotations

from specc.errors import SpecError, suggest
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


# The names a spec may write, each Keras's class with its default factor.
NAMES = ("l1", "l2")
# Every key a regularizer table may hold.
KEYS = ("l1", "l2", "orthogonal", "mode", "expr", "custom")
# Table forms -> (the keys that pick it, the keys it takes; None: any more, the
# custom penalty's own arguments). A table's form is the first whose picking keys
# it has, else "l1": {l1 = 0.01, mode = "rows"} is the l1 form with a stray key.
TABLE_FORMS: dict[str, tuple[set[str], set[str] | None]] = {
    "custom": ({"custom"}, None),
    "expr": ({"expr"}, {"expr"}),
    "orthogonal": ({"orthogonal"}, {"orthogonal", "mode"}),
    "l1_l2": ({"l1", "l2"}, {"l1", "l2"}),
    "l2": ({"l2"}, {"l2"}),
    "l1": ({"l1"}, {"l1"}),
}


def form_of(value) -> str | None:
    """The form a spec regularizer value is written in (None: neither a name nor a table).

    >>> form_of("l2"), form_of({"l1": 1e-5, "l2": 1e-4}), form_of({"orthogonal": 0.1})
    ('l2', 'l1_l2', 'orthogonal')
    """
    if isinstance(value, str):
        return value if value in NAMES else None
    if not isinstance(value, dict):
        return None
    return next((form for form, (picks, _) in TABLE_FORMS.items() if picks <= value.keys()),
                "l1")


def to_config(value) -> tuple[str, dict]:
    """(form, the Keras constructor's arguments) of a spec regularizer value.

    >>> to_config({"orthogonal": 0.1})
    ('orthogonal', {'factor': 0.1, 'mode': 'rows'})
    """
    form = form_of(value)
    if form is None or (isinstance(value, dict) and not _complete(form, value)):
        raise SpecError(f"unknown regularizer {value!r}; expected 'l1', 'l2' or a table with "
                        "l1/l2, orthogonal, expr or custom", suggestion=suggest(value, NAMES))
    if isinstance(value, str):
        return form, {}  # Keras's default factor
    if form == "orthogonal":
        return form, {"factor": value["orthogonal"], "mode": value.get("mode", "rows")}
    return form, dict(value)


def _complete(form: str, table: dict) -> bool:
    picks, takes = TABLE_FORMS[form]
    return picks <= table.keys() and (takes is None or table.keys() <= takes)


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
