"""specc: Keras models as reviewable data (TOML or JSON specs).

>>> import specc
>>> spec = specc.load("specs/tutorial_dropout.toml")  # doctest: +SKIP
>>> model = specc.build(spec)                          # doctest: +SKIP

Importing specc does not import TensorFlow; ``build`` and ``export`` do.
"""

from specc.diff import diff_models
from specc.errors import Problem, SpecError
from specc.expand import expand
from specc.fmt import format_file, format_text
from specc.plugins import register_regularizer
from specc.reload import register_with_keras
from specc.spec import Spec
from specc.validate import load

# Loaded now (it imports no TensorFlow at module level) so that the function
# below stays specc.build: importing the submodule later would rebind the
# package attribute to the module, and a second specc.build(...) would fail.
from specc import build as _build_module  # noqa: F401  isort: skip
from specc import export as _export_module  # noqa: F401  isort: skip

__version__ = "0.1.0"

# The README's promise: a model saved with specc's regularizers reloads with
# keras.models.load_model once specc is imported (without importing Keras here).
register_with_keras()


def build(spec, **options):
    """Compile a Spec into a keras.Model (imports TensorFlow)."""
    from specc.build import build as _build

    return _build(spec, **options)


def export(model, *, compile: bool = True):
    """The Spec of a ``keras.Model``, or of a ``.keras`` file (a path, read as data),
    or of a Keras 2 ``.h5`` or ``model.to_json()`` ``.json`` file.

    ``compile=False`` leaves the compile settings out: the architecture alone.

    >>> spec = specc.export("model.keras", compile=False)  # doctest: +SKIP
    """
    import os

    from specc import keras2
    from specc.export import export as _export, export_file

    if isinstance(model, (str, os.PathLike)):
        if os.fspath(model).lower().endswith(keras2.SUFFIXES):
            return keras2.export_file(model, compile=compile)
        return export_file(model, compile=compile)
    return _export(model, compile=compile)


def summary(spec):
    """Output shapes and parameter counts of a Spec's layers, without TensorFlow.

    >>> specc.summary(specc.load("specs/cnn.toml")).total  # doctest: +SKIP
    16394
    """
    from specc.shapes import summarize

    return summarize(spec)


def draw(spec, path, **options):
    """Draw a Spec's architecture into ``path`` (.svg, .png, .dot or .mmd).

    >>> specc.draw(specc.load("specs/cnn.toml"), "cnn.svg")  # doctest: +SKIP
    """
    from specc.drawing import draw as _draw

    return _draw(spec, path, **options)


def __getattr__(name):
    # Lets keras.models.load_model find specc's regularizers after "import specc".
    if name == "regularizers":
        import importlib

        return importlib.import_module("specc.regularizers")
    raise AttributeError(name)


__all__ = ["Problem", "Spec", "SpecError", "build", "diff_models", "draw", "expand", "export",
           "format_file", "format_text", "load", "register_regularizer", "summary", "__version__"]
