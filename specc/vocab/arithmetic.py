"""Spec arithmetic: the ``"{4 * filters}"`` of templates.

The same whitelist idea as penalties (expr.py): the text is parsed with ast and
copied into tuples; evaluate_value walks the tuples with Python operators on
plain numbers, strings, booleans and lists. Nothing is ever run as Python.
"""

from __future__ import annotations

import ast
import operator as _op

from specc.errors import Problem, SpecError, suggest
from specc.vocab.syntax import construct_name, parse

# The one table of functions a value expression may call.
VALUE_FUNCTIONS: dict[str, object] = {
    "abs": abs, "float": float, "int": int, "len": len, "max": max, "min": min,
    "round": round, "str": str,
}
_VALUE_BINARY = {ast.Add: ("+", _op.add), ast.Sub: ("-", _op.sub), ast.Mult: ("*", _op.mul),
                 ast.Div: ("/", _op.truediv), ast.FloorDiv: ("//", _op.floordiv),
                 ast.Mod: ("%", _op.mod), ast.Pow: ("**", _op.pow)}
_COMPARE = {ast.Eq: _op.eq, ast.NotEq: _op.ne, ast.Lt: _op.lt, ast.LtE: _op.le,
            ast.Gt: _op.gt, ast.GtE: _op.ge}
_WORDS = {"true": True, "false": False, "True": True, "False": False}
_VALUE_ALLOWED = ("numbers, strings, names, + - * / // % **, comparisons, and/or/not, "
                  "'a if c else b', [lists], list[index] and the functions "
                  + ", ".join(sorted(VALUE_FUNCTIONS)))
# A bound on numbers so that "10 ** 10 ** 10" fails at once instead of filling memory.
_LARGEST = 2 ** 63


def parse_value(text: str) -> tuple:
    """The tree of a value expression such as ``4 * filters``; SpecError when not allowed.

    >>> evaluate_value(parse_value("4 * filters"), {"filters": 16})
    64
    """
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    if not body:
        raise SpecError(Problem("empty expression", column=1))

    def fail(message: str, node=None, suggestion=None):
        column = lead + (node.col_offset if node is not None else 0) + 1
        raise SpecError(Problem(message, column=column, suggestion=suggestion))

    try:
        root = parse(body)
    except SyntaxError as e:
        raise SpecError(Problem(f"invalid expression: {e.msg}",
                                column=lead + (e.offset or 1))) from None
    except (ValueError, RecursionError, MemoryError):
        fail("invalid expression: too deeply nested")

    def walk(node) -> tuple:
        if isinstance(node, ast.Constant):
            if type(node.value) in (int, float, str, bool):
                return ("const", node.value)
            fail(f"'{node.value!r}' is not allowed in an expression; {_VALUE_ALLOWED}", node)
        if isinstance(node, ast.Name):
            if node.id in _WORDS:
                return ("const", _WORDS[node.id])
            return ("name", node.id, node.col_offset + lead + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            kind = {ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not"}[type(node.op)]
            return (kind, walk(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _VALUE_BINARY:
            return ("bin", _VALUE_BINARY[type(node.op)], walk(node.left), walk(node.right))
        if isinstance(node, ast.Compare) and all(type(o) in _COMPARE for o in node.ops):
            return ("cmp", [_COMPARE[type(o)] for o in node.ops],
                    [walk(node.left), *map(walk, node.comparators)])
        if isinstance(node, ast.BoolOp):
            return ("and" if isinstance(node.op, ast.And) else "or", [walk(v) for v in node.values])
        if isinstance(node, ast.IfExp):
            return ("if", walk(node.test), walk(node.body), walk(node.orelse))
        if isinstance(node, (ast.List, ast.Tuple)):
            return ("list", [walk(e) for e in node.elts])
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return ("index", walk(node.value), walk(node.slice))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            if name not in VALUE_FUNCTIONS:
                fail(f"unknown function '{name}' in an expression; expected one of "
                     f"{', '.join(sorted(VALUE_FUNCTIONS))}", node,
                     suggest(name, VALUE_FUNCTIONS))
            return ("call", name, [walk(a) for a in node.args])
        thing = node.op if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp)) else node
        shown = construct_name(thing)
        fail(f"'{shown}' is not allowed in an expression; {_VALUE_ALLOWED}", node)

    try:
        return walk(root.body)
    except RecursionError:
        fail("invalid expression: too deeply nested")


def names_in(tree: tuple) -> list[tuple[str, int]]:
    """The names an expression reads, with their columns (1-based), in order."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node[0] == "name":
            found.append((node[1], node[2]))
        for part in node[1:]:
            if isinstance(part, tuple):
                stack.append(part)
            elif isinstance(part, list):
                stack.extend(p for p in part if isinstance(p, tuple))
    return sorted(found, key=lambda f: f[1])


class ExprFailure(Exception):
    """An expression that parsed but cannot be computed with these values."""

    def __init__(self, message: str, column: int | None = None, suggestion: str | None = None):
        super().__init__(message)
        self.message, self.column, self.suggestion = message, column, suggestion


def evaluate_value(tree: tuple, env: dict):
    """Compute a parsed value expression with the names in ``env``; raises ExprFailure."""
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "name":
        if tree[1] not in env:
            raise ExprFailure(f"unknown name '{tree[1]}'", tree[2], suggest(tree[1], env))
        return env[tree[1]]
    if kind in ("neg", "pos", "not"):
        value = evaluate_value(tree[1], env)
        if kind == "not":
            return not value
        _number(value, "-" if kind == "neg" else "+")
        return -value if kind == "neg" else value
    if kind == "bin":
        (symbol, function), left, right = tree[1], evaluate_value(tree[2], env), \
            evaluate_value(tree[3], env)
        return _binary(symbol, function, left, right)
    if kind == "cmp":
        values = [evaluate_value(t, env) for t in tree[2]]
        try:
            return all(f(a, b) for f, a, b in zip(tree[1], values, values[1:]))
        except TypeError:
            raise ExprFailure(f"cannot compare {_kinds(values)}") from None
    if kind == "and":
        value = True
        for part in tree[1]:
            value = evaluate_value(part, env)
            if not value:
                return value
        return value
    if kind == "or":
        value = False
        for part in tree[1]:
            value = evaluate_value(part, env)
            if value:
                return value
        return value
    if kind == "if":
        return evaluate_value(tree[2] if evaluate_value(tree[1], env) else tree[3], env)
    if kind == "list":
        return [evaluate_value(t, env) for t in tree[1]]
    if kind == "index":
        items, index = evaluate_value(tree[1], env), evaluate_value(tree[2], env)
        if not isinstance(items, (list, str)) or isinstance(index, bool) \
                or not isinstance(index, int):
            raise ExprFailure(f"cannot index {type(items).__name__} with {index!r}")
        if not -len(items) <= index < len(items):
            raise ExprFailure(f"index {index} is out of range for {len(items)} items")
        return items[index]
    name, args = tree[1], [evaluate_value(t, env) for t in tree[2]]
    try:
        return VALUE_FUNCTIONS[name](*args)
    except (TypeError, ValueError, OverflowError) as e:
        raise ExprFailure(f"{name}() failed: {e}") from None


def _kinds(values: list) -> str:
    return " and ".join(sorted({type(v).__name__ for v in values}))


def _number(value, symbol: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprFailure(f"'{symbol}' needs numbers, received {value!r}")


# The longest string or list "+" may make: names and shapes, not data.
_LONGEST = 10_000


def _binary(symbol: str, function, left, right):
    both_text = isinstance(left, str) and isinstance(right, str)
    both_lists = isinstance(left, list) and isinstance(right, list)
    if symbol == "+" and (both_text or both_lists):
        if len(left) + len(right) > _LONGEST:
            raise ExprFailure(f"'+' would make a {type(left).__name__} longer than {_LONGEST:,}")
        return left + right
    _number(left, symbol)
    _number(right, symbol)
    if symbol == "**" and isinstance(right, (int, float)) and abs(right) > 64 \
            and isinstance(left, (int, float)) and abs(left) > 1:
        raise ExprFailure(f"number too large: {left} ** {right}")
    try:
        result = function(left, right)
    except ZeroDivisionError:
        raise ExprFailure(f"division by zero: {left} {symbol} {right}") from None
    except (OverflowError, TypeError, ValueError) as e:
        raise ExprFailure(f"'{symbol}' failed: {e}") from None
    if isinstance(result, complex) or (isinstance(result, (int, float))
                                       and not isinstance(result, bool)
                                       and abs(result) > _LARGEST):
        raise ExprFailure(f"number out of range: {left} {symbol} {right}")
    return result
