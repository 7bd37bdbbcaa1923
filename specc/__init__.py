"""specc: Keras models as reviewable data (TOML or JSON specs).

>>> import specc
>>> spec = specc.load("specs/tutorial_dropout.toml")
>>> model = specc.build(spec)  # doctest: +SKIP

Importing specc does not import TensorFlow; ``build`` and ``export`` do. Nor
does it build the pydantic models: ``specc --version`` stays instant, and
``Spec`` is imported on first use.
"""

from specc.errors import Problem, SpecError
from specc.vocab.plugins import register_regularizer
from specc.building.reload import register_with_keras

__version__ = "0.1.0"

# The README's promise: a model saved with specc's regularizers reloads with
# keras.models.load_model once specc is imported (without importing Keras here).
register_with_keras()


def load(path, overrides=()):
    """Read, check and type a spec file (see ``specc.checking.validate.load``).

    >>> import specc
    >>> specc.load("specs/tutorial_dropout.toml", overrides=["layers.dense.units=128"]).layers[0].units
    128
    """
    from specc.checking.validate import load as _load

    return _load(path, overrides)


def build(spec, **options):
    """Compile a Spec, or a spec file, into a keras.Model (imports TensorFlow).

    Given a file, problems Keras finds are placed at their line, as ``specc build``
    places them; a Spec has no file, so they name only their path (``layers[3]``).

    >>> model = specc.build("specs/cnn.toml", max_params=10**6)  # doctest: +SKIP
    """
    import os

    from specc.building.build import build as _build

    if not isinstance(spec, (str, os.PathLike)):
        return _build(spec, **options)
    from specc.checking.validate import check_file
    from specc.reading.places import placed_in

    checked = check_file(spec)
    with placed_in(checked.document):
        return _build(checked.spec, **options)


def export(model, *, compile: bool = True):
    """The Spec of a ``keras.Model``, or of a ``.keras`` file (a path, read as data),
    or of a Keras 2 ``.h5`` or ``model.to_json()`` ``.json`` file.

    ``compile=False`` leaves the compile settings out: the architecture alone.

    >>> spec = specc.export("model.keras", compile=False)  # doctest: +SKIP
    """
    import os

    from specc.exporting import keras2
    from specc.exporting.export import export as _export, export_file

    if isinstance(model, (str, os.PathLike)):
        if os.fspath(model).lower().endswith(keras2.SUFFIXES):
            return keras2.export_file(model, compile=compile)
        return export_file(model, compile=compile)
    return _export(model, compile=compile)


def summary(spec):
    """Output shapes and parameter counts of a Spec's layers, without TensorFlow.

    >>> import specc
    >>> specc.summary(specc.load("specs/cnn.toml")).total
    16394
    """
    from specc.reporting.shapes import summarize

    return summarize(spec)


def draw(spec, path, **options):
    """Draw a Spec's architecture into ``path`` (.svg, .png, .dot or .mmd).

    >>> specc.draw(specc.load("specs/cnn.toml"), "cnn.svg")  # doctest: +SKIP
    """
    from specc.reporting.drawing import draw as _draw

    return _draw(spec, path, **options)


# Public names whose modules import pydantic (or more): imported on first use.
_LAZY = {"Spec": "specc.checking.spec", "diff_models": "specc.reporting.diff",
         "expand": "specc.expanding.expand", "format_file": "specc.writing.fmt",
         "format_text": "specc.writing.fmt"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    # Lets keras.models.load_model find specc's regularizers after "import specc".
    if name == "regularizers":
        import importlib

        return importlib.import_module("specc.building.regularizers")
    raise AttributeError(name)


__all__ = ["Problem", "Spec", "SpecError", "build", "diff_models", "draw", "expand", "export",
           "format_file", "format_text", "load", "register_regularizer", "summary", "__version__"]
