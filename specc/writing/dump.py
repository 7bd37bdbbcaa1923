"""Spec -> TOML or JSON text, minimal: only what the spec sets is written, in the
canonical layout (the one ``specc fmt`` gives)."""

from __future__ import annotations

from pathlib import Path

from specc.checking.spec import Spec
from specc.vocab.values import none_to_word
from specc.writing.comments import no_comments
from specc.writing.layout import json_text, toml_text
from specc.writing.order import canonical


def to_data(spec: Spec) -> dict:
    """Plain data for a spec: unset arguments left out, None written as "None"."""
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    return none_to_word(data)


def dumps(spec: Spec, fmt: str = "toml", schema: str | None = None) -> str:
    """The spec as TOML (``fmt="toml"``) or JSON text.

    ``schema``, a path or URL of specc.schema.json, is referenced for editors:
    a ``#:schema`` line in TOML, a ``"$schema"`` key in JSON.

    >>> print(dumps(Spec.model_validate({"inputs": [{"shape": [4]}],
    ...                                  "layers": [{"type": "Dense", "units": 2}]})), end="")
    [[inputs]]
    shape = [4]
    <BLANKLINE>
    [[layers]]
    type = "Dense"
    units = 2
    """
    from specc.expanding.expand import escaped

    # A brace in a string starts a template when the text is read back: doubled,
    # it stays a brace (a Keras layer may well be named "head{1}").
    return dumps_data(escaped(to_data(spec)), fmt, schema)


def dumps_data(data: dict, fmt: str = "toml", schema: str | None = None) -> str:
    """Plain spec data as TOML or JSON text in ``specc fmt``'s layout: keys in the
    canonical order (order.py), laid out by layout.py, so that what specc writes is
    already formatted."""
    data = canonical({k: v for k, v in data.items() if k != "$schema"})
    if fmt == "json":
        return json_text({"$schema": schema, **data} if schema else data) + "\n"
    return toml_text(data, no_comments(f"#:schema {schema}" if schema else None))


def dump(spec: Spec, path, schema: str | None = None) -> None:
    """Write a spec to a .toml or .json file (format from the suffix), atomically."""
    from specc.files import write_atomically

    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    text = dumps(spec, fmt, schema)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))
