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
from specc.vocab.syntax import CONSTRUCTS, construct_name, parse

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
        root = parse(body)
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
        name = construct_name(thing)
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
                name = CONSTRUCTS.get(type(node.op), "operator")
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
