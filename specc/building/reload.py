"""Let ``keras.models.load_model`` read specc's regularizers after ``import specc``.

A model built with ``{ expr = ... }`` or ``{ custom = ... }`` saves
``specc>ExprRegularizer`` / ``specc>CustomRegularizer``, which Keras finds only
among the classes registered with it, and registering a class means importing
Keras (and TensorFlow, 2 s) — which ``import specc`` must not do. So when
Keras is not loaded yet, ``import specc`` leaves a one-shot import hook that
imports specc.building.regularizers right after Keras itself has loaded; when it is
loaded already, the classes are registered at once. Nothing else changes.
"""

from __future__ import annotations

import sys
import warnings


def register_with_keras() -> None:
    """Make specc's regularizers loadable by Keras now, or as soon as Keras is imported.

    >>> register_with_keras()  # doctest: +SKIP
    """
    if "keras" in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())


def _register() -> None:
    try:
        import specc.building.regularizers  # noqa: F401  its decorators register the classes
    except Exception as exc:  # never break the user's "import keras" because of specc
        warnings.warn(f"specc could not register its regularizers with Keras: {exc!r}",
                      stacklevel=2)


# The finder and the loader below only follow importlib's protocols: importing
# importlib.abc for their base classes would cost every ``import specc`` (and
# ``specc validate``) a few milliseconds of importlib.resources and tempfile.
class _AfterKeras:
    """Finds nothing itself; wraps the loader of the top-level ``keras`` package.

    It stays in place until Keras is really executed: TensorFlow asks
    ``importlib.util.find_spec("keras")`` once without importing it.
    """

    def __init__(self):
        self.finding = False

    def find_spec(self, name, path=None, target=None):
        if name != "keras" or self.finding:
            return None
        import importlib.util

        self.finding = True  # the search below asks every finder, this one too
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            self.finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfter(spec.loader, self)
        return spec


class _RegisterAfter:
    def __init__(self, loader, finder: _AfterKeras):
        self.loader = loader
        self.finder = finder

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        # Keras's own loader stays the module's loader (importlib.resources and the like).
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _register()
