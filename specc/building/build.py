"""Spec -> keras.Model: the entry point, and the process settings a build runs under
(recursion limit, dtype policy, distribution strategy).

The building stage is the only one that imports TensorFlow. Its modules:
layers (one spec layer -> one Keras layer), wiring (layers -> Sequential or
functional model), compiling ([compile] -> model.compile), complaints (Keras's
exceptions -> problems on spec layers), budget, startup, regularizers, reload.
"""

from __future__ import annotations

import os
from contextlib import contextmanager, nullcontext

from specc.building import budget
from specc.building.complaints import first_sentence
from specc.building.compiling import compile_model
from specc.building.wiring import assemble
from specc.collector import paused
from specc.errors import Problem, SpecError
from specc.checking.spec import Nested, Spec


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
    import_keras()  # a supported Keras, quiet about TensorFlow's start-up when TF_CPP_MIN_LOG_LEVEL asks
    import specc.building.regularizers  # noqa: F401  registers specc's serializable objects

    _deep_enough(spec)
    from specc.building.layers import import_package, packages_used

    for package in packages_used(spec):  # one line before any layer is made
        import_package(package)
    section = spec.build
    scope = _distribution_scope(section.strategy if section else None)
    with _dtype_policy(section.dtype_policy if section else None), scope:
        with paused():  # linear time on big models (see specc/collector.py)
            try:
                model = budget.within(lambda: assemble(spec, spec.model.name), max_params)
            except RecursionError:  # Keras walks its graph recursively, one frame per layer
                raise SpecError(Problem.at_path(("model",), f"the model is too deep for Keras "
                                                f"to build ({len(spec.layers):,} layers in a "
                                                "chain)")) from None
        if compile and spec.compile is not None:
            compile_model(model, spec)
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


def _distribution_scope(name: str | None):
    """The scope [build] strategy names, on the backend Keras runs on: a tf.distribute
    strategy's on TensorFlow; on JAX, "mirrored" is keras.distribution's DataParallel
    over the local devices (the same one replica per device) and the others, which only
    TensorFlow has, are refused in one line. No strategy: TensorFlow's default one, or
    nothing (JAX and torch then import no TensorFlow at all)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _strategy(name).scope()
    if name is None:
        return nullcontext()
    if name == "mirrored" and backend == "jax":
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices()).scope()
    raise SpecError(Problem.at_path(("build", "strategy"), (
        f"the '{name}' strategy is TensorFlow's, and Keras runs on {backend} "
        f"(KERAS_BACKEND={backend})" + ("; on JAX, 'mirrored' is keras.distribution.DataParallel "
                                        "over the local devices" if backend == "jax" else ""))))


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
        reason = first_sentence(str(exc)) if str(exc) else type(exc).__name__
        where = "no TPU was found" if name == "tpu" else "TensorFlow refused it"
        raise SpecError(Problem.at_path(("build", "strategy"), f"cannot use the '{name}' "
                                        f"strategy here: {where} ({reason})")) from None
