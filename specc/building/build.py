"""Spec -> keras.Model: look up each class, pass the arguments.

The only stage that imports TensorFlow.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Any

from specc.building import budget
from specc.vocab import registry
from specc.collector import paused
from specc.errors import Problem, SpecError
from specc.checking.graph import Graph, Node, graph as resolve
from specc.checking.spec import Apply, Nested, Op, Spec
from specc.vocab.names import split_ref, to_snake_case


def build(spec: Spec, *, compile: bool = True, max_params: int | None = budget.DEFAULT_MAX_PARAMS):
    """Compile a validated Spec into a ``keras.Model``.

    A model with more than ``max_params`` parameters is refused before any of
    its weights is allocated (``None``: no budget). Problems name the place in the
    spec by data path (``layers[3]``); the caller holding the spec's document gives
    them a line (specc.reading.places.placed_in).

    >>> model = build(load("specs/tutorial_l2_l1.toml"))  # doctest: +SKIP
    """
    from specc.building.startup import import_keras

    _refuse_legacy_keras()
    keras = import_keras()  # quiet about TensorFlow's start-up when TF_CPP_MIN_LOG_LEVEL asks for it
    if not keras.__version__.startswith("3."):
        raise SpecError(f"keras {keras.__version__} is installed: specc needs Keras 3")
    import specc.building.regularizers  # noqa: F401  registers specc's serializable objects

    _deep_enough(spec)
    section = spec.build
    strategy = _strategy(section.strategy if section else None)
    with _dtype_policy(section.dtype_policy if section else None), strategy.scope():
        with paused():  # linear time on big models (see specc/collector.py)
            try:
                model = budget.within(lambda: _model(spec, spec.model.name), max_params)
            except RecursionError:  # Keras walks its graph recursively, one frame per layer
                raise SpecError(Problem.at_path(("model",), f"the model is too deep for Keras "
                                                f"to build ({len(spec.layers):,} layers in a "
                                                "chain)")) from None
        if compile and spec.compile is not None:
            _compile(model, spec)
    return model


def _deep_enough(spec: Spec) -> None:
    """Raise Python's recursion limit to what Keras needs for this many layers.

    Keras walks a model's graph recursively, one level per layer, when it builds,
    saves and loads it: with the default limit (1000) a chain of about 900 layers
    fails with "maximum recursion depth exceeded". The limit is never lowered.
    """
    import sys

    count, stack = 0, [spec]
    while stack:
        layers = stack.pop().layers
        count += len(layers)
        stack.extend(layer.spec for layer in layers if isinstance(layer, Nested))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000 + 3 * count))


def _refuse_legacy_keras() -> None:
    """specc builds Keras 3 models; TF_USE_LEGACY_KERAS=1 makes tf.keras Keras 2."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true"):
        raise SpecError("TF_USE_LEGACY_KERAS is set: tf.keras would be the legacy Keras 2 "
                        "(tf_keras), which specc does not support; unset it to use Keras 3")


@contextmanager
def _dtype_policy(name: str | None):
    """Make layers under Keras's dtype policy ``name``, and give the user's process
    back the policy it had: Keras keeps it in a global."""
    import keras

    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _strategy(name: str | None):
    """The tf.distribute strategy of [build] strategy (the default one for none).

    A model made and compiled in a strategy's scope keeps it: model.fit then
    runs one replica per device of the strategy.
    """
    import tensorflow as tf

    if name is None:
        return tf.distribute.get_strategy()
    try:
        if name == "mirrored":
            return tf.distribute.MirroredStrategy()
        if name == "multi_worker_mirrored":
            return tf.distribute.MultiWorkerMirroredStrategy()
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        reason = _first_sentence(str(exc)) if str(exc) else type(exc).__name__
        where = "no TPU was found" if name == "tpu" else "TensorFlow refused it"
        raise SpecError(Problem.at_path(("build", "strategy"), f"cannot use the '{name}' "
                                        f"strategy here: {where} ({reason})")) from None


def _model(spec: Spec, name: str | None):
    wiring = resolve(spec)
    return _sequential(spec, wiring, name) if wiring.sequential else _functional(spec, wiring, name)


def make_layer(layer: Any, name: str | None):
    """One Keras layer object from a spec layer (nested layers included)."""
    import keras

    if isinstance(layer, Nested):
        return _model(layer.spec, name or layer.name)
    if isinstance(layer, Op):
        import importlib

        info = registry.OPS[layer.type.removeprefix("ops.")]
        cls = getattr(importlib.import_module(info["module"]), info["class"])
        return cls(**(layer.model_extra or {}), name=name)
    cls_name = registry.canonical_layer(layer.type)
    data = layer.model_dump(exclude_unset=True, by_alias=True)
    args = {
        arg: _value(cls_name, arg, value)
        for arg, value in data.items() if arg not in ("type", "name", "inputs", "call")
    }
    name = name or data.get("name")
    return _layer_class(cls_name)(**args, **({"name": name} if name else {}))


def _layer_class(name: str):
    """The Keras class of a registry layer (a few live outside keras.layers)."""
    import importlib

    import keras

    found = getattr(keras.layers, name, None)
    return found or getattr(importlib.import_module(registry.LAYERS[name]["module"]), name)


def _value(layer: str, arg: str, value: Any) -> Any:
    """Turn a spec value into what the Keras constructor takes."""
    import keras

    from specc.building.regularizers import to_keras

    if value is None:
        return None
    kind = registry.arg_kind(layer, arg, registry.LAYERS[layer]["args"][arg])
    if kind == "regularizer":
        return to_keras(value)
    if kind in ("initializer", "constraint"):
        # Instantiate from the registry ourselves: Keras's own string lookup
        # fails for some names ("constant").
        if isinstance(value, str):
            value = {"type": value}
        module = keras.initializers if kind == "initializer" else keras.constraints
        table, names = registry.OBJECTS[kind]
        cls = names.get(value["type"], value["type"])
        assert cls in table  # validated: only registry names reach here
        return getattr(module, cls)(**{k: v for k, v in value.items() if k != "type"})
    if kind == "layer":
        from specc.checking.spec import parse_layer

        inner = parse_layer(value)
        if isinstance(inner, Nested):
            return make_layer(inner, inner.name)
        # Keras would number an unnamed wrapped layer per process (lstm_7): name it as a fresh one.
        return make_layer(inner, inner.name or to_snake_case(registry.canonical_layer(inner.type)))
    if kind in ("ints", "shape", "nested_ints", "axis") and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _input(spec_input, name: str | None):
    import keras

    return keras.Input(
        shape=tuple(spec_input.shape), dtype=spec_input.dtype, sparse=spec_input.sparse,
        batch_size=spec_input.batch_size, name=name,
    )


def _sequential(spec: Spec, wiring: Graph, name: str | None):
    import keras

    # Name the input explicitly: Keras's own default depends on what was built before.
    layers = [_input(spec.inputs[0], wiring.inputs[0])]
    for node in wiring.nodes:
        layers.append(_guarded(node, lambda: make_layer(node.layer, node.name)))
    # All layers at once: Sequential rebuilds itself after every add(), which
    # is quadratic in the number of layers.
    try:
        return keras.Sequential(layers, name=name)
    except _KERAS_COMPLAINTS as exc:
        refused = exc
    # Keras refused one of them: call them one by one to say which.
    tensor = _input(spec.inputs[0], wiring.inputs[0])
    for node, layer in zip(wiring.nodes, layers[1:]):
        tensor = _guarded(node, lambda: layer(tensor))
    raise refused


def _functional(spec: Spec, wiring: Graph, name: str | None):
    import keras

    tensors: dict[str, Any] = {
        name: _input(i, name) for name, i in zip(wiring.inputs, spec.inputs)
    }
    objects: dict[str, Any] = {}
    for node in wiring.nodes:
        if isinstance(node.layer, Apply):
            layer = objects[node.layer.apply]
        else:
            layer = objects[node.name] = _guarded(node, lambda: make_layer(node.layer, node.name))
        tensors[node.name] = _guarded(node, lambda: _call(layer, node, tensors))
    inputs = [tensors[n] for n in wiring.inputs]
    out = _structure(wiring.outputs, lambda ref: _tensor(tensors, ref))
    if isinstance(out, list) and len(out) == 1 and isinstance(wiring.outputs[0], str) \
            and spec.model.outputs_form != "list":
        out = out[0]  # one output; [[a, b]] stays a list of a list
    if spec.model.inputs is not None:
        ins = _structure(spec.model.inputs, tensors.__getitem__)
    elif spec.model.inputs_form == "dict":
        ins = dict(zip(wiring.inputs, inputs))
    else:
        ins = inputs[0] if len(inputs) == 1 and spec.model.inputs_form != "list" else inputs
    return keras.Model(ins, out, name=name)


def _structure(names: Any, tensor):
    """A structure of names (lists and tables, nested) with each name's tensor in its place."""
    if isinstance(names, dict):
        return {k: _structure(v, tensor) for k, v in names.items()}
    if isinstance(names, list):
        return [_structure(v, tensor) for v in names]
    return tensor(names)


def _tensor(tensors: dict, ref: str):
    name, index = split_ref(ref)
    value = tensors[name]
    if index is None:
        return value
    if not isinstance(value, (list, tuple)):  # validate catches what the spec says; this, the rest
        raise SpecError(f"'{name}' is one tensor: write '{name}', not '{ref}'")
    if index >= len(value):
        raise SpecError(f"'{name}' has {len(value)} outputs: '{name}:0' to '{name}:{len(value) - 1}'")
    return value[index]


def _operand(tensors: dict, ref: Any):
    if isinstance(ref, list):
        return [_operand(tensors, r) for r in ref]
    return _tensor(tensors, ref) if isinstance(ref, str) else ref


def _call(layer, node: Node, tensors: dict):
    import keras

    if isinstance(node.inputs, dict):
        kwargs = {
            key: _tensor(tensors, ref) if isinstance(ref, str) else [_tensor(tensors, r) for r in ref]
            for key, ref in node.inputs.items()
        }
        constants = getattr(node.layer, "call", None) or {}
        if isinstance(layer, keras.Model):
            return layer(kwargs, **constants)  # a nested model's table is the dict it takes
        # The leading arguments that follow call()'s order go by position, as users write
        # lstm(x, initial_state=...): Keras orders model.layers by how calls name them.
        args = []
        for key in registry.LAYERS.get(type(layer).__name__, {}).get("call", []):
            if key not in kwargs or next(iter(kwargs)) != key:
                break
            args.append(kwargs.pop(key))
        return layer(*args, **kwargs, **constants)
    args = [_operand(tensors, ref) for ref in node.inputs]
    if isinstance(node.layer, Op):
        budget.check_constant_operation(layer, args)
        if node.layer.key is not None:
            return layer(*args, _index(node.layer.key))
        return layer(*args)  # operations take tensors positionally, like keras.ops
    constants = getattr(node.layer, "call", None) or {}
    return layer(args[0] if len(args) == 1 else args, **constants)


def _index(key: list) -> tuple:
    """An ops.GetItem key: [":", ":2"] -> (slice(None), slice(None, 2))."""
    def axis(item):
        if item == "...":
            return Ellipsis
        if isinstance(item, str):
            return slice(*(int(p) if p else None for p in item.split(":")))
        return item  # an integer, or None: a new axis

    return tuple(axis(item) for item in key)


# What Keras raises when it refuses arguments or shapes; anything else (KeyError,
# AttributeError, ...) or anything raised by specc's own code is a bug in specc.
_KERAS_COMPLAINTS = (ValueError, TypeError, NotImplementedError)
_KERAS_PACKAGES = ("keras", "tensorflow")


def _guarded(node: Node, step):
    """Run a Keras step; a Keras complaint becomes a problem on that spec layer.

    Only ValueError, TypeError and NotImplementedError raised inside Keras (or
    TensorFlow) are a complaint about the spec. Any other exception is a bug in
    specc and propagates unchanged, with a note naming the layer.
    """
    try:
        return step()
    except SpecError as exc:  # e.g. an unknown custom regularizer: point at its layer
        raise SpecError(
            p if p.path else Problem.at_path(("layers", node.index), p.message,
                                             suggestion=p.suggestion)
            for p in exc.problems
        ) from None
    except Exception as exc:
        kind = "apply" if isinstance(node.layer, Apply) else node.layer.type
        if not (isinstance(exc, _KERAS_COMPLAINTS) and _raised_in_keras(exc)):
            exc.add_note(f"specc: while building layer '{node.name}' ({kind}), layers[{node.index}]")
            raise
        reason = _first_sentence(str(exc))
        raise SpecError(Problem.at_path(
            ("layers", node.index), f"Keras rejected layer '{node.name}' ({kind}): {reason}",
        )) from None


def _raised_in_keras(exc: BaseException) -> bool:
    """True when the innermost frame of the traceback is Keras's or TensorFlow's code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return module.split(".")[0] in _KERAS_PACKAGES


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Keras wraps an error raised inside call() in a report of the call's arguments.
_CALL_REPORT = re.compile(r"Exception encountered when calling [^\n]*\n+(.*?)"
                          r"(?:\n\s*\nArguments received by|\Z)", re.S)
_INPUT_NAME = re.compile(r"Input (\d+) with name '[^']*' of layer '[^']*'")


def _first_sentence(text: str) -> str:
    """Keras's reason in one sentence, with what it received when it says so.

    >>> _first_sentence("Inputs have incompatible shapes. Received shapes (4,) and (5,)")
    'inputs have incompatible shapes; received shapes (4,) and (5,)'
    """
    text = _ANSI.sub("", text).strip()
    report = _CALL_REPORT.search(text)
    if report:
        text = report.group(1)
    text = " ".join(_INPUT_NAME.sub(r"input \1", text).split())
    head, _, rest = text.partition(". ")
    if rest.lower().startswith(("received", "full shape received")):
        head = f"{head}; {rest[0].lower()}{rest[1:].partition('. ')[0]}"
    head = head.rstrip(".")
    if len(head) > 240:
        head = head[:237] + "..."
    if head[:1].isupper() and not head[1:2].isupper():
        head = head[0].lower() + head[1:]
    return head or "no reason given"


def _compile(model, spec: Spec) -> None:
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
                                        f"{_first_sentence(str(exc))}")) from None


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
