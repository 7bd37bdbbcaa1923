"""The [compile] section -> model.compile(optimizer, loss, metrics, ...)."""

from __future__ import annotations

from typing import Any

from specc.building.complaints import first_sentence
from specc.vocab import registry
from specc.errors import Problem, SpecError
from specc.checking.spec import Spec


def compile_model(model, spec: Spec) -> None:
    """Compile ``model`` with the spec's [compile] section, refusing what Keras refuses."""
    section = spec.compile
    args = section.model_dump(exclude_unset=True, exclude={"optimizer"})
    try:
        taken: set[str] = set()
        for key in ("loss", "metrics", "weighted_metrics"):
            if key in args:
                args[key] = _compile_objects(key, args[key], taken)
        model.compile(optimizer=_optimizer(section.optimizer), **args)
    except Exception as exc:  # Keras's constructors check the values (AUC's num_thresholds > 1)
        raise SpecError(Problem.at_path(("compile",), "Keras rejected the compile settings: "
                                        f"{first_sentence(str(exc))}")) from None


def _optimizer(optimizer):
    import keras

    if isinstance(optimizer, str):
        return optimizer
    args = optimizer.model_dump(exclude_unset=True)
    rate = args.get("learning_rate")
    if isinstance(rate, dict):
        args["learning_rate"] = _keras_object(keras.optimizers.schedules, rate)
    return getattr(keras.optimizers, args.pop("type"))(**args)


def _compile_objects(key: str, value: Any, taken: set[str]) -> Any:
    """Loss and metric tables become Keras objects; names stay names, as Keras saves them."""
    import keras

    if isinstance(value, list):
        return [_compile_objects(key, v, taken) for v in value]
    if isinstance(value, dict) and "type" not in value:
        return {k: _compile_objects(key, v, taken) for k, v in value.items()}
    if not isinstance(value, dict):
        return value
    if key == "loss":
        return _keras_object(keras.losses, value)
    default = registry.METRIC_CLASSES[value["type"]].get("default_name")
    if default is not None and "name" not in value:
        # Keras numbers these per process (auc, auc_1, ...): number them per model instead.
        name, n = default, 0
        while name in taken:
            n += 1
            name = f"{default}_{n}"
        value = {**value, "name": name}
    taken.add(value.get("name", ""))
    return _keras_object(keras.metrics, value)


def _keras_object(module, table: dict):
    """An instance of a class the registry lists (validated), from its spec table."""
    args = {k: tuple(v) if isinstance(v, list) and k == "axis" else v
            for k, v in table.items() if k != "type"}
    return getattr(module, table["type"])(**args)
