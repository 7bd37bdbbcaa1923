"""Template strings and [constants]: ``"{4 * filters}"`` computed with the names in
scope (constants, block parameters, the repeat index).

Each template string is parsed once (``specc/vocab/arithmetic.py``) and
computed once per place it is used, so expansion stays linear in the size of
the expanded model.
"""

from __future__ import annotations

import re
from typing import Any

from specc.errors import SpecError
from specc.expanding.expanded import INDEX, Failed, Reporter
from specc.reading.load import Path
from specc.vocab.arithmetic import ExprFailure, evaluate_value, parse_value

_NAME = re.compile(r"^[A-Za-z_]\w*$")


def name_problem(name: str, noun: str) -> str | None:
    """Why name cannot be a name that expressions read (None when it can)."""
    if _NAME.match(name) and name != INDEX:
        return None
    return (f"'{name}' cannot be {noun} name: use letters, digits and _ "
            f"(and not '{INDEX}')")


class Templates:
    """Template strings parsed once, computed in an environment of names."""

    def __init__(self, report: Reporter):
        self.report = report
        self.parsed: dict[str, list] = {}

    def parse(self, text: str, path: Path, uses, offset: int = 0) -> tuple:
        try:
            return parse_value(text)
        except SpecError as exc:
            p = exc.problems[0]
            self.report.fail(path, p.message, uses, suggestion=p.suggestion,
                             offset=offset + (p.column or 1))

    def template(self, text: str, path: Path, uses) -> list:
        """A string as parts: plain text, and (tree, offset) for each {expression}."""
        parts = self.parsed.get(text)
        if parts is not None:
            return parts
        parts, plain, i = [], "", 0
        while i < len(text):
            c = text[i]
            if text.startswith("{{", i) or text.startswith("}}", i):
                plain += c
                i += 2
            elif c == "{":
                end = text.find("}", i)
                if end < 0:
                    self.report.fail(path, "unclosed '{' in a template: write '{{' for a brace",
                                     uses, offset=i + 1)
                if plain:
                    parts.append(plain)
                    plain = ""
                parts.append((self.parse(text[i + 1:end], path, uses, offset=i + 1), i + 1))
                i = end + 1
            elif c == "}":
                self.report.fail(path, "unmatched '}' in a template: write '}}' for a brace",
                                 uses, offset=i + 1)
            else:
                plain += c
                i += 1
        if plain or not parts:
            parts.append(plain)
        self.parsed[text] = parts
        return parts

    def render(self, parts: list, env, path: Path, uses) -> Any:
        values = []
        for part in parts:
            if isinstance(part, str):
                values.append(part)
                continue
            tree, offset = part
            try:
                values.append(evaluate_value(tree, env))
            except ExprFailure as exc:
                index = f" (with {INDEX} = {env[INDEX]})" if INDEX in env else ""
                self.report.fail(path, f"cannot compute this expression: {exc.message}{index}",
                                 uses, suggestion=exc.suggestion,
                                 offset=offset + (exc.column or 1))
        if len(parts) == 1 and not isinstance(parts[0], str):
            return values[0]  # "{4 * filters}" keeps its type
        return "".join(v if isinstance(v, str) else text(v) for v in values)

    def value(self, value: Any, env, path: Path, uses) -> Any:
        """A copy of value with every template string computed."""
        if isinstance(value, str):
            if "{" not in value and "}" not in value:
                return value
            return self.render(self.template(value, path, uses), env, path, uses)
        if isinstance(value, dict):
            return {k: self.value(v, env, (*path, k), uses) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, env, (*path, n), uses) for n, v in enumerate(value)]
        return value


def read_constants(section: Any, templates: Templates) -> dict[str, Any]:
    """The [constants] table computed in order: each may use the ones before it."""
    constants: dict[str, Any] = {}
    if section is None:
        return constants
    if not isinstance(section, dict):
        templates.report.problem(("constants",), "expected a table of names and values")
        return constants
    for name, value in section.items():
        message = name_problem(name, "a constant's")
        if message:
            templates.report.problem(("constants", name), message, key=True)
            continue
        try:
            constants[name] = templates.value(value, constants, ("constants", name), ())
        except Failed:
            pass
    return constants


def text(value: Any) -> str:
    """A computed value as it reads inside a longer string ("true", "64")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
