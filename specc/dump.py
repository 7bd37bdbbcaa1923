"""Spec -> TOML or JSON text, minimal: only what the spec sets is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specc.spec import NONE_WORD, Spec

def to_data(spec: Spec) -> dict:
    """Plain data for a spec: unset arguments left out, None written as "None"."""
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    return _words(data)


def _words(value: Any) -> Any:
    if value is None:
        return NONE_WORD
    if isinstance(value, dict):
        return {k: _words(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_words(v) for v in value]
    return value


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
    return dumps_data(to_data(spec), fmt, schema)


def dumps_data(data: dict, fmt: str = "toml", schema: str | None = None) -> str:
    """Plain spec data as TOML or JSON text, laid out as ``dumps`` lays out a Spec."""
    data = {k: v for k, v in data.items() if k != "$schema"}
    if fmt == "json":
        if schema:
            data = {"$schema": schema, **data}
        return json.dumps(data, indent=2) + "\n"
    import tomlkit

    header = f"#:schema {schema}\n" if schema else ""
    return header + tomlkit.dumps(_toml_document(data))


def _toml_document(data: dict):
    """Sections as tables, layers as [[layers]], argument tables inline ({ l2 = 0.01 })."""
    import tomlkit

    doc = tomlkit.document()
    for key, value in data.items():
        if key in ("inputs", "layers"):
            array = tomlkit.aot()
            for entry in value:
                array.append(_toml_table(entry))
            doc.append(key, array)
        elif key in ("defaults", "blocks") and isinstance(value, dict):
            doc.append(key, _sections(value))
        elif isinstance(value, dict):
            doc.append(key, _toml_table(value))
        else:
            doc.append(key, value)
    return doc


def _sections(value: dict):
    """[defaults.Dense] and [blocks.NAME] as their own tables, a block's layers one a line."""
    import tomlkit

    outer = tomlkit.table(is_super_table=True)
    for name, body in value.items():
        if not isinstance(body, dict):
            outer.append(name, _inline(body))
            continue
        table = tomlkit.table()
        for key, item in body.items():
            if key == "layers" and isinstance(item, list):
                array = tomlkit.array()
                array.multiline(True)
                array.extend(_inline(entry) for entry in item)
                table.append(key, array)
            else:
                table.append(key, _inline(item))
        outer.append(name, table)
    return outer


def _toml_table(entry: dict):
    import tomlkit

    table = tomlkit.table()
    for key, value in entry.items():
        if key == "spec":
            continue  # a nested model reads best as its own sub-tables, after the arguments
        table.append(key, _inline(value))
    if "spec" in entry:
        table.append("spec", _toml_document(entry["spec"]))
    return table


def _inline(value: Any):
    import tomlkit

    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update({k: _inline(v) for k, v in value.items()})
        return inline
    if isinstance(value, list):
        return [_inline(v) for v in value]
    return value


def dump(spec: Spec, path, schema: str | None = None) -> None:
    """Write a spec to a .toml or .json file (format from the suffix), atomically."""
    from specc.files import write_atomically

    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    text = dumps(spec, fmt, schema)
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))
