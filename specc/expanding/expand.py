"""Plain data -> plain data: constants, templates, [defaults] and [blocks] expanded.

The result is a flat spec, the form the check and build stages know: every
block instance inlined, every ``"{4 * filters}"`` computed, every default
written on its layer. Its paths are reported where they were written
(``Expanded``, in expanded.py).

The steps, one module each: [constants] and template strings (templates.py),
[defaults] (defaults.py), [blocks] (blocks.py), [[layers]] walked into flat
layers with repeat, if and block uses (instances.py), then every input named
as Keras will name its layer (wiring.py).

Expansion visits each template once per instance, so its cost is linear in
the size of the expanded model.
"""

from __future__ import annotations

from typing import Any

from specc.errors import SpecError
from specc.expanding.blocks import read_blocks
from specc.expanding.defaults import Defaults
from specc.expanding.expanded import Expanded, Failed, Reporter
from specc.expanding.instances import LAYER_KEYS, MAX_LAYERS, MAX_STEPS, Scope, TooLarge, Walker
from specc.expanding.templates import Templates, read_constants
from specc.expanding.wiring import finish
from specc.reading.load import Document

SECTIONS = ("constants", "defaults", "blocks")


def uses_expansion(data: Any) -> bool:
    """Whether a spec has anything to expand (else it is already flat)."""
    if not isinstance(data, dict):
        return False
    if any(key in data for key in SECTIONS):
        return True
    layers = data.get("layers")
    if isinstance(layers, list) and any(
            isinstance(e, dict) and any(k in e for k in (*LAYER_KEYS, "block")) for e in layers):
        return True
    return has_braces(data)


def has_braces(value: Any) -> bool:
    """Whether a string anywhere in value has a brace (a template, or an escaped brace)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and ("{" in item or "}" in item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def expand_document(doc: Document) -> Document:
    """The flat form of a parsed spec (the document itself when nothing needs expanding)."""
    if not uses_expansion(doc.data):
        return doc
    report = Reporter(doc)
    try:
        data, origins = _run(doc.data, report)
    except RecursionError:  # values nested hundreds deep
        raise SpecError("the spec nests too deeply to expand", file=doc.file) from None
    if report.problems:
        unique = list(dict.fromkeys(report.problems))
        raise SpecError(sorted(unique, key=lambda p: (p.line or 0, p.column or 0)))
    return Expanded(data, doc.file, text=doc.text, source=doc, origins=origins)


def expand(spec) -> dict:
    """The flat spec of a spec file (a path) or of plain data (a dict): defaults written
    on every layer, blocks inlined, expressions computed; raises SpecError.

    >>> expand({"constants": {"n": 8}, "inputs": [{"shape": [4]}],
    ...         "layers": [{"type": "Dense", "units": "{2 * n}"}]})["layers"]
    [{'type': 'Dense', 'units': 16}]
    """
    from specc.reading.load import load_document

    doc = spec if isinstance(spec, Document) else (
        Document(spec, "<spec>") if isinstance(spec, dict) else load_document(spec))
    return expand_document(doc).data


def escaped(data: Any) -> Any:
    """Flat data with every brace of a string doubled, so that expanding it again
    changes nothing (what ``specc expand`` writes)."""
    if isinstance(data, str):
        return data.replace("{", "{{").replace("}", "}}")
    if isinstance(data, dict):
        return {k: escaped(v) for k, v in data.items()}
    if isinstance(data, list):
        return [escaped(v) for v in data]
    return data


def _run(data: dict, report: Reporter) -> tuple[dict, dict]:
    """The flat spec, and the origin of each of its paths; problems go to report."""
    templates = Templates(report)
    constants = read_constants(data.get("constants"), templates)
    blocks = read_blocks(data.get("blocks"), templates)
    defaults = Defaults.read(data.get("defaults"), templates, constants)
    walker = Walker(data, templates, constants, blocks, defaults)
    flat = {}
    for key, value in data.items():
        if key in SECTIONS or key == "layers":
            continue
        try:
            flat[key] = templates.value(value, constants, (key,), ())
        except Failed:
            flat[key] = value
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        if "layers" in data:
            flat["layers"] = layers
        return flat, walker.out.origins
    try:
        outputs = walker.scope(layers, ("layers",), constants, Scope(()), [("start",)])
    except TooLarge as exc:
        report.problem(exc.path, f"the spec expands to more than {MAX_LAYERS:,} layers "
                       f"(or {MAX_STEPS:,} steps); check repeat", exc.uses)
        return flat, walker.out.origins
    flat["layers"] = walker.out.layers
    if not report.problems:
        finish(flat, outputs, walker.out, report)
    return flat, walker.out.origins
