"""Outputs that hold a spec: a spec file, a .keras file with its spec inside.

Both are written atomically: a failed write leaves what was there before.
"""

from __future__ import annotations

from pathlib import Path

from specc.errors import SpecError
from specc.files import record_spec, write_atomically


def write_spec(spec, path, *, schema: str | None = None, blocks: bool = False) -> None:
    """Write ``spec`` to ``path`` as TOML or JSON (by its suffix), as ``specc export -o``
    writes it: shared arguments in [defaults], with ``blocks`` repeated sub-graphs as [blocks].

    >>> write_spec(spec, "model.toml")  # doctest: +SKIP
    """
    from specc.writing.factor import dumps_factored

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("toml", "json"):
        raise SpecError("the spec file must end in .toml or .json", file=str(path))
    text = dumps_factored(spec, fmt, schema, blocks=blocks)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))


def save(model, path, spec=None) -> None:
    """``model.save(path)`` (a .keras file) with the spec it was built from recorded
    inside, as ``specc build`` saves it; Keras's loader ignores the extra member."""
    from specc.writing.dump import dumps

    if not str(path).endswith(".keras"):
        raise SpecError("the output file must end in .keras", file=str(path))

    import keras

    from specc.building.startup import tensorflow_only_if_imported

    tensorflow_only_if_imported(keras)  # a model of the user's, on JAX: no TensorFlow

    def write(tmp: str) -> None:
        model.save(tmp)
        if spec is not None:
            record_spec(tmp, dumps(spec))

    write_atomically(Path(path), write)
