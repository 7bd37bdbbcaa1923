"""Spec -> TOML or JSON text, minimal: only what the spec sets is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specc.checking.spec import Spec
from specc.vocab.values import none_to_word


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
    """Plain spec data as TOML or JSON text, laid out as ``dumps`` lays out a Spec."""
    data = {k: v for k, v in data.items() if k != "$schema"}
    if fmt == "json":
        if schema:
            data = {"$schema": schema, **data}
        return json.dumps(data, indent=2) + "\n"
    header = f"#:schema {schema}\n" if schema else ""
    return header + toml_text(data)


def toml_text(data: dict) -> str:
    """Spec data as TOML: written directly when it has the usual shape, else by tomlkit.

    tomlkit takes about 0.1 ms per value and renders arrays of tables in time
    that grows faster than their length; the direct writer produces the same
    text (tests/test_specs.py compares the two on every spec).
    """
    lines: list[str] = []
    if _write_document(data, "", lines):
        return "".join(lines)
    import tomlkit

    return tomlkit.dumps(_toml_document(data))


# ---- the direct writer: tables, arrays of tables, inline values ------------------

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_ESCAPES = {"\b": r"\b", "\t": r"\t", "\n": r"\n", "\f": r"\f", "\r": r"\r", '"': r'\"',
            "\\": r"\\"}


def _write_document(data: dict, prefix: str, lines: list[str]) -> bool:
    """Append the lines of a (nested) spec; False for a shape left to tomlkit."""
    for key, value in data.items():
        if key in ("inputs", "layers") and isinstance(value, list) \
                and all(isinstance(entry, dict) for entry in value):
            for entry in value:
                if not _write_table(f"[[{prefix}{key}]]", entry, f"{prefix}{key}.", lines):
                    return False
        elif key in ("model", "compile") and isinstance(value, dict):
            if not _write_table(f"[{prefix}{key}]", value, None, lines):
                return False
        elif key == "defaults" and not prefix and isinstance(value, dict) \
                and all(isinstance(table, dict) for table in value.values()):
            # [defaults.Conv2D] per layer type (what export writes); other shapes go to tomlkit.
            for name, table in value.items():
                if not _write_table(f"[defaults.{_key(name)}]", table, None, lines):
                    return False
        else:
            return False
    return True


def _write_table(header: str, table: dict, prefix: str | None, lines: list[str]) -> bool:
    if lines:
        lines.append("\n")
    lines.append(header + "\n")
    for key, value in table.items():
        if key == "spec" and prefix is not None:
            continue  # a nested model: its own tables, after the arguments
        text = _value(value)
        if text is None:
            return False
        lines.append(f"{_key(key)} = {text}\n")
    if prefix is not None and "spec" in table:
        return isinstance(table["spec"], dict) and _write_document(table["spec"], f"{prefix}spec.", lines)
    return True


def _value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return f'"{_escape(value)}"'
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return None  # tomlkit writes a list of tables as an array of tables
        items = [_value(v) for v in value]
        return None if None in items else f"[{', '.join(items)}]"
    if isinstance(value, dict):
        items = [(_key(k), _value(v)) for k, v in value.items()]
        if any(text is None for _, text in items):
            return None
        return "{" + ", ".join(f"{k} = {text}" for k, text in items) + "}"
    return None


def _key(key: str) -> str:
    return key if key and set(key) <= _BARE else f'"{_escape(key)}"'


def _escape(text: str) -> str:
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c)
                   for c in text)


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
