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


def _plugins(plugins) -> None:
    """``plugins=[...]``: import each module (their layer classes and regularizers register
    themselves), as ``--plugin`` does; a single name is a list of one."""
    if plugins:
        from specc.vocab.plugins import load_plugins

        load_plugins([plugins] if isinstance(plugins, str) else list(plugins))


def load(path, overrides=(), *, plugins=None):
    """Read, check and type a spec file (see ``specc.checking.validate.load``).
    ``plugins``: modules that register the user's own layer classes (``--plugin``).

    >>> import specc
    >>> specc.load("specs/tutorial_dropout.toml", overrides=["layers.dense.units=128"]).layers[0].units
    128
    """
    from specc.checking.validate import load as _load

    _plugins(plugins)
    return _load(path, overrides)


def build(spec, *, weights=None, plugins=None, **options):
    """Compile a Spec, or a spec file, into a keras.Model (imports TensorFlow).

    Given a file, problems Keras finds are placed at their line, as ``specc build``
    places them; a Spec has no file, so they name only their path (``layers[3]``).
    ``weights``: a ``.weights.h5`` file to load (``specc build --weights``); ``plugins``:
    modules that register the user's own layer classes and regularizers (``--plugin``).

    >>> model = specc.build("specs/cnn.toml", max_params=10**6)  # doctest: +SKIP
    """
    import os

    from specc.building.build import build as _build

    _plugins(plugins)
    if not isinstance(spec, (str, os.PathLike)):
        model = _build(spec, **options)
    else:
        from specc.checking.validate import check_file
        from specc.reading.places import placed_in

        checked = check_file(spec)
        with placed_in(checked.document):
            model = _build(checked.spec, **options)
    if weights is not None:
        from specc.exporting.weights import load_weights

        load_weights(model, weights)
    return model


def save(model, path, spec=None):
    """Save a built model as a ``.keras`` file, atomically, with the spec it was built
    from recorded inside (what ``specc build`` writes).

    >>> specc.save(model, "cnn.keras", spec)  # doctest: +SKIP
    """
    from specc.writing.saving import save as _save

    _save(model, path, spec)


def export(model, *, compile: bool = True, weights=None, plugins=None):
    """The Spec of a ``keras.Model``, or of a ``.keras`` file (a path, read as data),
    or of a Keras 2 ``.h5`` or ``model.to_json()`` ``.json`` file.

    ``compile=False`` leaves the compile settings out: the architecture alone.
    ``weights``: for a model file, also write its weights to this ``.weights.h5``
    file (``specc export --weights``; this rebuilds the model within ``build``'s default
    parameter budget, so imports TensorFlow). ``plugins``: modules that register the
    user's own layer classes the model uses (``--plugin``).

    >>> spec = specc.export("model.keras", compile=False)  # doctest: +SKIP
    """
    import os

    from specc.exporting.export import export as _export, export_any_file

    _plugins(plugins)
    if not isinstance(model, (str, os.PathLike)):
        if weights is not None:
            raise TypeError("weights= goes with a model file; a live model has its own")
        return _export(model, compile=compile)
    spec = export_any_file(model, compile=compile)
    if weights is not None:
        from specc.exporting.weights import write_weights

        write_weights(spec, model, weights)
    return spec


def dumps(spec, fmt: str = "toml", *, schema=None, factor: bool = False) -> str:
    """A Spec as TOML or JSON text, as ``specc export`` writes it: an argument value
    most layers of a type share is written once, in [defaults]; ``factor=True`` also
    writes repeated sub-graphs as [blocks] (``--factor``). ``schema``: a path or URL
    of specc.schema.json for editors.

    >>> import specc
    >>> print(specc.dumps(specc.load("specs/tutorial_dropout.toml")).splitlines()[0])
    [model]
    """
    from specc.writing.factor import dumps_factored

    return dumps_factored(spec, fmt, schema, blocks=factor)


def dump(spec, path, *, schema=None, factor: bool = False) -> None:
    """Write a Spec to a ``.toml`` or ``.json`` file, atomically (see ``dumps``).

    >>> specc.dump(spec, "model.toml")  # doctest: +SKIP
    """
    from specc.writing.saving import write_spec

    write_spec(spec, path, schema=schema, blocks=factor)


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


def schema() -> dict:
    """The JSON Schema of the spec format (``specc schema``).

    >>> import specc
    >>> specc.schema()["$id"]
    'https://specc.dev/schemas/specc.schema.json'
    """
    import json

    from specc.checking.schema_file import SCHEMA_PATH

    return json.loads(SCHEMA_PATH.read_text())


def layers(name=None, *, plugins=None) -> dict:
    """The layer types a spec can use and those it refuses, or one type's arguments
    (``specc layers [NAME]``); SpecError for an unknown type.

    >>> import specc
    >>> specc.layers("Dense")["arguments"][0]["name"]
    'units'
    >>> specc.layers()["refused"]["Lambda"]
    'runs an arbitrary Python function'
    """
    from specc.vocab import registry

    _plugins(plugins)
    if name is None:
        return {"supported": {layer: list(info.get("aliases", []))
                              for layer, info in registry.LAYERS.items()},
                "refused": dict(registry.REFUSED)}
    from specc.vocab.kinds import describe_layer

    rows = describe_layer(name)
    layer = registry.canonical_layer(name)
    return {"type": layer, "arguments": rows, "call": registry.call_arguments(layer)}


def expand(spec, *, plugins=None) -> dict:
    """The flat spec of a spec file (a path) or of plain data (a dict), as ``specc expand``
    writes it (see ``specc.expanding.expand.expand``); ``plugins``: as for ``load``.

    >>> import specc
    >>> specc.expand({"inputs": [{"shape": [4]}], "layers": [{"type": "Dense", "units": "{2 * 8}"}]})["layers"]
    [{'type': 'Dense', 'units': 16}]
    """
    from specc.expanding.expand import expand as _expand

    _plugins(plugins)
    return _expand(spec)


def diff_models(a, b, *, plugins=None):
    """Compare two models, each a spec file, a model file or a Spec (``specc diff``; see
    ``specc.reporting.diff.diff_models``). ``plugins``: modules that register the user's
    own layer classes either model uses (``--plugin``).

    >>> specc.diff_models("specs/cnn.toml", "cnn.keras").same  # doctest: +SKIP
    True
    """
    from specc.reporting.diff import diff_models as _diff

    _plugins(plugins)
    return _diff(a, b)


def format_text(text: str, fmt: str = "toml", file: str = "<string>", *, plugins=None) -> str:
    """The spec ``text`` in the canonical layout (``specc fmt``); SpecError when it does not
    validate. ``plugins``: as for ``load``.

    >>> import specc
    >>> specc.format_text('[[layers]]\\ntype = "Dense"\\nunits = 2\\n[[inputs]]\\nshape = [ 4 ]\\n')[:24]
    '[[inputs]]\\nshape = [4]\\n\\n'
    """
    from specc.writing.fmt import format_text as _format

    _plugins(plugins)
    return _format(text, fmt, file)


def format_file(path, write: bool = True, *, plugins=None):
    """Format one spec file, replacing it atomically when it changes and ``write`` is
    true (``specc fmt``). ``plugins``: as for ``load``.

    >>> import specc
    >>> specc.format_file("specs/cnn.toml", write=False).changed
    False
    """
    from specc.writing.fmt import format_file as _format

    _plugins(plugins)
    return _format(path, write)


# Public names whose modules import pydantic (or more): imported on first use.
_LAZY = {"Spec": "specc.checking.spec"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    # Lets keras.models.load_model find specc's regularizers after "import specc".
    if name == "regularizers":
        import importlib

        return importlib.import_module("specc.building.regularizers")
    raise AttributeError(name)


__all__ = ["Problem", "Spec", "SpecError", "build", "diff_models", "draw", "dump", "dumps",
           "expand", "export", "format_file", "format_text", "layers", "load",
           "register_regularizer", "save", "schema", "summary", "__version__"]
