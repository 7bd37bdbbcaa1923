"""Whitelisted penalty expressions such as ``0.01 * sum(square(w))``.

The text is only *parsed* (``ast.parse``), never evaluated as Python: the
tree is copied into plain tuples node by node, and any node type not on the
whitelist is rejected. Nothing here imports TensorFlow or Keras, so spec
validation can check expressions cheaply; ``evaluate`` receives ``keras.ops``
from the caller.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from specc.errors import Problem, SpecError, suggest

# The one table of callable functions: expr name -> keras.ops attribute.
# Every one takes exactly one tensor; the reductions return a scalar.
FUNCTIONS: dict[str, str] = {
    "abs": "abs",
    "exp": "exp",
    "log": "log",
    "max": "max",
    "mean": "mean",
    "min": "min",
    "sqrt": "sqrt",
    "square": "square",
    "sum": "sum",
    "tanh": "tanh",
}
REDUCTIONS = frozenset({"max", "mean", "min", "sum"})
# Names people bring from numpy/TensorFlow; used only for the did-you-mean
# hint, never to accept the name ("sqr" is textually closer to "sqrt").
_HINTS = {"sqr": "square", "absolute": "abs", "fabs": "abs",
          "ln": "log", "reduce_sum": "sum", "reduce_mean": "mean",
          "reduce_max": "max", "reduce_min": "min", "amax": "max", "amin": "min"}
WEIGHT = "w"

_BINARY = {ast.Add: ("+", "add"), ast.Sub: ("-", "subtract"),
           ast.Mult: ("*", "multiply"), ast.Div: ("/", "divide"),
           ast.Pow: ("**", "power")}
_UNARY = {ast.USub: "neg", ast.UAdd: None}  # None: +x is just x
_NAMES = ", ".join(sorted(FUNCTIONS))
_ALLOWED = f"only numbers, {WEIGHT}, + - * / **, parentheses and the functions {_NAMES}"
# Readable names for constructs people are likely to try; others fall back to
# the lowercased node class name.
_CONSTRUCTS = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing",
    ast.Lambda: "lambda", ast.Compare: "comparison", ast.BoolOp: "and/or",
    ast.IfExp: "if/else", ast.Starred: "* unpacking", ast.keyword: "keyword argument",
    ast.JoinedStr: "f-string", ast.NamedExpr: ":=", ast.Mod: "%",
    ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Not: "not", ast.Invert: "~",
    ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
}


@dataclass(frozen=True)
class Penalty:
    """A parsed expression: ``text`` is the source, ``tree`` nested tuples.

    Tree nodes: ``("num", float)``, ``("w",)``, ``("neg", node)``,
    ``("bin", ops_name, left, right)``, ``("call", ops_name, arg)``.
    """

    text: str
    tree: tuple


def parse_penalty(text: str) -> Penalty:
    """Parse and check ``text``; raise SpecError on anything not whitelisted.

    >>> parse_penalty("0.01 * sum(square(w))").tree[0]
    'bin'
    """
    if not isinstance(text, str):
        raise SpecError(f"expr must be a string, got {type(text).__name__}")
    body = text.lstrip()
    if not body.strip():
        raise SpecError("expr is empty")
    lead = len(text) - len(body)  # ast rejects leading blanks as an indent
    lines = body.split("\n")

    def column(lineno: int | None, col: int | None, in_bytes: bool = True) -> int:
        # ast counts from the stripped text, in UTF-8 bytes; report 1-based
        # characters of the text as the user wrote it.
        lineno = min(max(lineno or 1, 1), len(lines))
        line = lines[lineno - 1]
        col = max(col or 0, 0)
        if in_bytes:
            col = len(line.encode()[:col].decode(errors="ignore"))
        return lead + sum(len(x) + 1 for x in lines[: lineno - 1]) + min(col, len(line)) + 1

    def fail(message: str, node=None, col: int | None = None, suggestion=None):
        if col is None and node is not None:
            col = column(node.lineno, node.col_offset)
        raise SpecError(Problem(message, column=col, suggestion=suggestion))

    try:
        root = ast.parse(body, mode="eval")
    except SyntaxError as e:
        # SyntaxError.offset is 1-based characters; 0/None means "at the end".
        at = column(e.lineno, e.offset - 1, in_bytes=False) if e.offset else len(text) + 1
        if "4300 digits" in str(e.msg):  # Python's int limit, with a long advice attached
            fail("invalid expr: a number has more than 4300 digits", col=at)
        fail(f"invalid expr: {e.msg}", col=at)
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        if isinstance(e, RecursionError) or not str(e):
            fail("invalid expr: too deeply nested", col=1)
        if "digits" in str(e):
            fail("invalid expr: a number has more than 4300 digits", col=1)
        fail(f"invalid expr: {e}", col=1)

    used_w = False

    def forbidden(node, thing):
        name = _CONSTRUCTS.get(type(thing), type(thing).__name__.lower())
        fail(f"'{name}' is not allowed in expr; {_ALLOWED}", node)

    def walk(node) -> tuple[tuple, bool]:
        """The node as a tuple, and whether it still has one value per weight."""
        nonlocal used_w
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) not in (int, float):  # bool is an int subclass: excluded here
                what = {str: "string", bool: "boolean", complex: "complex number"}
                fail(f"'{what.get(type(value), repr(value))}' is not allowed in expr; {_ALLOWED}", node)
            try:
                return ("num", float(value)), False
            except OverflowError:
                fail("number too large in expr", node)
        if isinstance(node, ast.Name):
            if node.id != WEIGHT:
                fail(f"unknown name '{node.id}' in expr; the weight tensor is '{WEIGHT}'", node)
            used_w = True
            return ("w",), True
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                forbidden(node, node.op)
            inner, elementwise = walk(node.operand)
            kind = _UNARY[type(node.op)]
            return ((kind, inner) if kind else inner), elementwise
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                # Point at the operator itself rather than the left operand.
                name = _CONSTRUCTS.get(type(node.op), "operator")
                at = column(node.left.end_lineno, node.left.end_col_offset)
                fail(f"'{name}' is not allowed in expr; {_ALLOWED}",
                     col=at + max(text.find(name, at - 1) - (at - 1), 0))
            left, le = walk(node.left)
            right, re_ = walk(node.right)
            return ("bin", _BINARY[type(node.op)][1], left, right), le or re_
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                forbidden(node.func, node.func)
            name = node.func.id
            if name not in FUNCTIONS:
                fail(f"unknown function '{name}' in expr; expected one of {_NAMES}",
                     node, suggestion=_HINTS.get(name) or suggest(name, FUNCTIONS))
            for extra in [*node.keywords, *(a for a in node.args if isinstance(a, ast.Starred))]:
                forbidden(extra, extra)
            if len(node.args) != 1:
                fail(f"function '{name}' takes 1 argument in expr, got {len(node.args)}", node)
            arg, elementwise = walk(node.args[0])
            return ("call", FUNCTIONS[name], arg), elementwise and name not in REDUCTIONS
        forbidden(node, node)

    try:
        tree, elementwise = walk(root.body)
        _check_constants(tree)
    except RecursionError:  # a flat chain like w+w+...+w parses but nests deeply
        fail("invalid expr: too deeply nested", col=1)
    if not used_w:
        raise SpecError(Problem(f"expr never uses the weight tensor '{WEIGHT}'"))
    if elementwise:
        # Keras sums regularization losses as scalars; a per-weight tensor
        # would fail much later, at fit time, with a shape error.
        raise SpecError(Problem("expr must reduce to a single number; "
                                "wrap it in sum(...) or mean(...)", column=1))
    return Penalty(text, tree)


# The functions on one number, to evaluate the parts of an expr without w.
_SCALAR = {"abs": abs, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
           "square": lambda x: x * x, "tanh": math.tanh,
           "max": float, "mean": float, "min": float, "sum": float}
_ARITHMETIC = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
               "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b,
               "power": lambda a, b: a ** b}


def _check_constants(tree: tuple) -> float | None:
    """Evaluate every part of the tree that does not use w, as floats.

    A part that is not a finite number (1e999, 9**9**9, 1/0, log(0)) would make
    the penalty inf or nan whatever the weights; it is refused here. Returns
    the value of a constant tree, None when it uses w.
    """
    kind = tree[0]
    if kind == "num":
        value = tree[1]
    elif kind == "w":
        return None
    else:
        args = [_check_constants(t) for t in tree[1:] if isinstance(t, tuple)]
        if tree[:2] == ("bin", "divide") and args[1] == 0:
            raise SpecError(Problem("expr divides by zero", column=1))
        if any(a is None for a in args):
            return None
        try:
            if kind == "neg":
                value = -args[0]
            elif kind == "bin":
                value = _ARITHMETIC[tree[1]](*args)
            else:
                value = _SCALAR[tree[1]](*args)
            value = float(value)  # a negative number to a fractional power is complex
        except (OverflowError, ZeroDivisionError, ValueError, TypeError):
            value = math.nan
    if not math.isfinite(value):
        raise SpecError(Problem("expr has a part without w that is not a finite number "
                                "(an overflow, or a log or root out of range)", column=1))
    return value


def evaluate(penalty: Penalty, w, ops):
    """Compute ``penalty`` for weights ``w`` with the given ops module.

    >>> import keras, numpy
    >>> float(evaluate(parse_penalty("sum(w)"), numpy.ones(3), keras.ops))
    3.0
    """

    def run(node):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "w":
            return w
        if kind == "neg":
            return ops.negative(run(node[1]))
        if kind == "bin":
            return getattr(ops, node[1])(run(node[2]), run(node[3]))
        return getattr(ops, node[1])(run(node[2]))

    return run(penalty.tree)


# ---- spec arithmetic: the "{4 * filters}" of templates -----------------------
#
# The same whitelist idea for values: the text is parsed with ast and copied
# into tuples; evaluate_value walks the tuples with Python operators on plain
# numbers, strings, booleans and lists. Nothing is ever run as Python.

import operator as _op

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
                  "'a if c else b', [lists], list[index] and the functions " + ", ".join(sorted(VALUE_FUNCTIONS)))
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
        root = ast.parse(body, mode="eval")
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
        shown = _CONSTRUCTS.get(type(thing), type(thing).__name__.lower())
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
