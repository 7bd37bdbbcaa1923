"""What the two expression languages (penalties in expr.py, values in arithmetic.py)
share: the readable names of the Python constructs they refuse."""

from __future__ import annotations

import ast
import warnings

# Readable names for constructs people are likely to try; others fall back to
# the lowercased node class name.
CONSTRUCTS = {
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


def construct_name(thing) -> str:
    """How a message names an ast node or operator: "comparison", "%", else its class."""
    return CONSTRUCTS.get(type(thing), type(thing).__name__.lower())


def parse(body: str) -> ast.Expression:
    """``ast.parse(body, mode="eval")`` without Python's SyntaxWarnings ("invalid decimal
    literal" for ``1if``), which would print on stderr: they are advice about Python
    source, and every node of an expression is checked by its language anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(body, mode="eval")
