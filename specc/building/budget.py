"""The parameter budget: a model's size is known before any of its weights exists.

Keras 3 gives a variable created inside a ``keras.StatelessScope`` its shape
and dtype but no value; the value is made later from the initializer
(``keras/src/backend/common/variables.py``). So the model is built once with
every weight deferred, counted, and its weights are made only when it fits:
a spec over the budget costs the structure of its layers, never its weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from specc.errors import Problem, SpecError

# 1e9 float32 parameters are 4 GB of weights. Building a model and saving it
# to .keras holds about twice that at its peak, which a 16 GB machine does
# comfortably; training it with Adam needs about four times the weights.
DEFAULT_MAX_PARAMS = 1_000_000_000
# An operation on constants alone is computed while the model is built and
# written into config.json as a JSON list: a million values is about 20 MB.
MAX_CONSTANT_VALUES = 1_000_000


@dataclass(frozen=True)
class Estimate:
    """Parameters and bytes of a model's weights, and where most of them are."""

    params: int
    bytes: int
    dtypes: tuple[str, ...]
    largest: tuple[str, int] | None = None

    def describe(self) -> str:
        """The estimate in words, as the budget's messages give it.

        >>> Estimate(10_000_100_000, 40_000_400_000, ("float32",)).describe()
        '10,000,100,000 parameters (40.0 GB as float32)'
        """
        form = f" as {' and '.join(self.dtypes)}" if self.dtypes else ""
        return f"{self.params:,} parameters ({_size(self.bytes)}{form})"


def estimate(model) -> Estimate:
    """The size of a built model's weights, read from their shapes and dtypes only."""
    from keras.src.utils.dtype_utils import DTYPE_TO_SIZE

    weights = list({id(w): w for w in model.weights}.values())
    bits = sum(_count(w.shape) * DTYPE_TO_SIZE.get(w.dtype, 32) for w in weights)
    sizes = [(layer.name, layer.count_params()) for layer in model.layers if layer.weights]
    largest = max(sizes, key=lambda item: item[1], default=None)
    return Estimate(model.count_params(), bits // 8, tuple(sorted({w.dtype for w in weights})), largest)


def within(make: Callable, max_params: int | None):
    """Call ``make()`` with every weight deferred; make the weights only if it fits
    (``max_params=None``: always).

    Deferring is also the faster way to build: making each layer's weights as it is
    called takes about 1.7 times as long on keras.applications models.

    >>> model = within(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]),
    ...                max_params=1_000)  # doctest: +SKIP
    """
    import keras
    from keras.src.backend.common import global_state
    from keras.src.backend.common.variables import initialize_all_variables

    if keras.src.backend.in_stateless_scope():  # the caller defers the weights already
        model = make()
        if max_params is not None:
            check(estimate(model), max_params)
        return model
    # Keras keeps deferred variables in one global list; ours get a list of their own.
    outer = global_state.get_global_attribute("uninitialized_variables", [])
    global_state.set_global_attribute("uninitialized_variables", [])
    try:
        with keras.StatelessScope(initialize_variables=False) as scope:
            model = make()
        size = estimate(model)
        if max_params is not None:
            check(size, max_params)
        if scope.state_mapping:
            # A layer assigned a variable while it was built; in the scope that
            # update would be lost. The model fits: build it again, plainly.
            global_state.set_global_attribute("uninitialized_variables", [])
            return make()
        try:
            initialize_all_variables()
        except Exception as exc:  # MemoryError, TensorFlow's ResourceExhaustedError
            if type(exc).__name__ not in ("MemoryError", "ResourceExhaustedError"):
                raise
            raise SpecError(Problem.at_path(
                ("model",), f"not enough memory to make the weights of {size.describe()}",
            )) from None
        return model
    finally:
        global_state.set_global_attribute("uninitialized_variables", outer)


def check_constant_operation(op, args: list) -> None:
    """Refuse an operation on constants only (ops.Full, ops.Arange) whose result is
    over MAX_CONSTANT_VALUES values, before it runs.

    Keras runs such an operation when the model is built, outside any weight,
    and writes its result into the model's config.json as a list.
    """
    from keras.src.backend import any_symbolic_tensors

    if any_symbolic_tensors(args):
        return
    try:
        values = _count(op.compute_output_spec(*args).shape)
    except Exception:  # Keras refuses the arguments: complaints.guarded says why, when it runs
        return
    if values > MAX_CONSTANT_VALUES:
        raise SpecError(Problem(
            f"operation '{op.name}' on constants makes {values:,} values, over the limit of "
            f"{MAX_CONSTANT_VALUES:,} (Keras computes it while building and stores it in the "
            "model file as a list)"))


def check(size: Estimate, max_params: int) -> None:
    """Refuse a model over the budget, with its estimate."""
    if size.params <= max_params:
        return
    largest = ""
    if size.largest is not None and size.largest[1] * 2 > size.params:
        largest = f"; most are in layer '{size.largest[0]}' ({size.largest[1]:,})"
    raise SpecError(Problem.at_path(
        ("model",), f"the model has about {size.describe()}, over the budget of "
        f"{max_params:,}{largest}; raise it with --max-params",
    ))


def _count(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim or 0
    return count


def _size(nbytes: int) -> str:
    """A number of bytes in decimal units, one decimal place.

    >>> _size(40_000_400_000), _size(220_200), _size(40)
    ('40.0 GB', '220.2 kB', '40 B')
    """
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"
