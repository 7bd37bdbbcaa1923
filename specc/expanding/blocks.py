"""[blocks]: named sub-graphs with typed parameters, read once and checked for
cycles, then used by name in [[layers]] or in other blocks.
"""

from __future__ import annotations

import graphlib
import re
from collections import ChainMap
from dataclasses import dataclass
from typing import Any

from specc.errors import suggest
from specc.expanding.expanded import Failed, Use, show
from specc.expanding.templates import Templates, name_problem
from specc.reading.load import Path
from specc.vocab.arithmetic import ExprFailure, evaluate_value

BLOCK_KEYS = ("params", "inputs", "outputs", "names", "layers", "description")
# Keys of a block use; every other key of it is a parameter of the block.
USE_KEYS = ("block", "name", "inputs", "repeat", "if")
# A parameter's type: how a message names it, and whether a value fits it. The
# first type that fits every value of a parameter is the narrowest one.
PARAM_TYPES = {
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "table": ("a table", lambda v: isinstance(v, dict)),
    "any": ("any value", lambda v: True),
}
_PARAM = re.compile(r"^\s*(\w+)\s*(?:=(.*))?$", re.S)
DEFAULT_NAMES = "{instance}_{layer}"
DEFAULT_INPUTS = ["x"]


@dataclass
class Block:
    name: str
    path: Path
    params: dict[str, tuple[str, Any, Path]]  # name -> (type, default tree or None, path)
    inputs: list[str]
    outputs: list[str] | None
    names: list  # the name template of its layers, parsed
    layers: list


def param_type(values: list) -> str:
    """The narrowest parameter type that every value fits: int, float, ..., any.

    >>> param_type([1, 2.5])
    'float'
    """
    return next(kind for kind, (_, fits) in PARAM_TYPES.items()
                if all(fits(v) for v in values))


def read_blocks(section: Any, templates: Templates) -> dict[str, Block]:
    """The usable blocks of [blocks]: a block with problems, or in a cycle, is left out."""
    blocks: dict[str, Block] = {}
    if section is None:
        return blocks
    if not isinstance(section, dict):
        templates.report.problem(("blocks",), "expected a table of blocks")
        return blocks
    for name, body in section.items():
        try:
            blocks[name] = _read_block(name, body, templates)
        except Failed:
            pass
    _check_cycles(blocks, templates)
    return blocks


def _read_block(name: str, body: Any, templates: Templates) -> Block:
    report = templates.report
    path = ("blocks", name)
    if not isinstance(body, dict):
        report.fail(path, f"expected a table (params, inputs, layers), received {show(body)}")
    for key in body:
        if key not in BLOCK_KEYS:
            report.problem((*path, key), f"unknown key '{key}' in block '{name}'", key=True,
                           suggestion=suggest(key, BLOCK_KEYS))
    params = {}
    declared = body.get("params", {})
    if not isinstance(declared, dict):
        report.fail((*path, "params"), 'expected a table of parameters: { filters = "int", '
                    'stride = "int = 1" }')
    for param, text in declared.items():
        where = (*path, "params", param)
        match = _PARAM.match(text) if isinstance(text, str) else None
        message = name_problem(param, "a parameter's")
        if message:
            report.fail(where, message, key=True)
        if match is None or match.group(1) not in PARAM_TYPES:
            kind = match.group(1) if match else None
            report.fail(where, f"expected \"TYPE\" or \"TYPE = DEFAULT\" with TYPE one of "
                        f"{', '.join(PARAM_TYPES)}, received {show(text)}",
                        suggestion=suggest(kind, PARAM_TYPES))
        default = match.group(2)
        params[param] = (match.group(1), templates.parse(default, where, ())
                         if default is not None else None, where)
    inputs = body.get("inputs", DEFAULT_INPUTS)
    outputs = body.get("outputs")
    for key, value in (("inputs", inputs), ("outputs", outputs)):
        if value is not None and (not isinstance(value, list) or not value
                                  or not all(isinstance(v, str) for v in value)):
            report.fail((*path, key), f"expected a list of names, received {show(value)}")
    names = body.get("names", DEFAULT_NAMES)
    if not isinstance(names, str):
        report.fail((*path, "names"), f"expected a name template such as "
                    f"'{DEFAULT_NAMES}', received {show(names)}")
    layers = body.get("layers")
    if not isinstance(layers, list) or not layers:
        report.fail((*path, "layers") if "layers" in body else path,
                    "a block needs 'layers': a list of layer tables")
    return Block(name, path, params, inputs, outputs,
                 templates.template(names, (*path, "names"), ()), layers)


def _check_cycles(blocks: dict[str, Block], templates: Templates) -> None:
    sorter = graphlib.TopologicalSorter()
    for name, block in blocks.items():
        sorter.add(name)
        for entry in block.layers:
            if isinstance(entry, dict) and isinstance(entry.get("block"), str):
                sorter.add(name, entry["block"])
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        first, second = cycle[0], cycle[1]
        index = next(j for j, e in enumerate(blocks[first].layers)
                     if isinstance(e, dict) and e.get("block") == second)
        templates.report.problem(("blocks", first, "layers", index, "block"),
                                 f"blocks use each other in a cycle: {' -> '.join(cycle)}")
        for name in set(cycle):
            blocks.pop(name, None)


def bind_params(entry: dict, where: Path, env, block: Block, uses: tuple[Use, ...],
                templates: Templates, constants: dict) -> dict:
    """The values of a block use's parameters: given, else their defaults, each checked
    against its type; raises Failed after reporting every problem."""
    report = templates.report
    found = len(report.problems)
    given = {}
    for key, value in entry.items():
        if key in USE_KEYS:
            continue
        if key not in block.params:
            report.problem((*where, key), f"unknown parameter '{key}' of block '{block.name}'",
                           uses, key=True, suggestion=suggest(key, block.params))
            continue
        given[key] = templates.value(value, env, (*where, key), uses)
    values: dict[str, Any] = {}
    inner_env = ChainMap(values, constants)
    for param, (kind, default, path) in block.params.items():
        if param in given:
            value, at = given[param], (*where, param)
        elif default is not None:
            try:
                value = evaluate_value(default, inner_env)
            except ExprFailure as exc:
                report.fail(path, f"cannot compute the default of '{param}': {exc.message}",
                            uses, suggestion=exc.suggestion)
            at = path
        else:
            report.fail(where, f"missing parameter '{param}' of block '{block.name}'", uses)
        if isinstance(value, float) and value.is_integer() and kind == "int":
            value = int(value)
        noun, fits = PARAM_TYPES[kind]
        if not fits(value):
            report.fail(at, f"parameter '{param}' of block '{block.name}' is {noun}, received "
                        f"{show(value)}", uses)
        values[param] = value
    if len(report.problems) > found:
        raise Failed()
    return values
