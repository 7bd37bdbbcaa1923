"""specc.vocab.expr: the whitelist parser for penalty expressions."""

import builtins
import dataclasses
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from specc.errors import SpecError
from specc.vocab.expr import FUNCTIONS, Penalty, evaluate, parse_penalty

ALLOWED = ("only numbers, w, + - * / **, parentheses and the functions "
           "abs, exp, log, max, mean, min, sqrt, square, sum, tanh")
W = np.array([[0.5, -1.5, 2.0], [-0.25, 3.0, 1.25]])


def problem(text):
    with pytest.raises(SpecError) as info:
        parse_penalty(text)
    (p,) = info.value.problems
    return p


def value(text, w=W, ops=np):
    # numpy has every function keras.ops offers under the same names, so it
    # stands in for keras.ops here; test_keras_ops_gives_the_same checks that.
    return float(evaluate(parse_penalty(text), w, ops))


# -- errors: exact messages, columns and suggestions --------------------------

def test_unknown_function_suggests_the_intended_one():
    p = problem("sum(sqr(w))")
    assert p.message == ("unknown function 'sqr' in expr; expected one of "
                         "abs, exp, log, max, mean, min, sqrt, square, sum, tanh")
    assert (p.column, p.suggestion) == (5, "square")
    assert problem("summ(w)").suggestion == "sum"
    assert problem("reduce_sum(w)").suggestion == "sum"


def test_unknown_name():
    p = problem("0.01 * sum(x)")
    assert p.message == "unknown name 'x' in expr; the weight tensor is 'w'"
    assert (p.column, p.suggestion) == (12, None)


def test_syntax_error():
    p = problem("sum(w) +")
    assert p.message.startswith("invalid expr: ")
    assert p.column == 9  # just past the end: the operand is missing there
    assert problem("sum(w))").message.startswith("invalid expr: ")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty(text):
    assert problem(text).message == "expr is empty"


@pytest.mark.parametrize("text", ["1", "0.01 * 2", "-(3)"])
def test_must_use_w(text):
    assert problem(text).message == "expr never uses the weight tensor 'w'"


@pytest.mark.parametrize("text", ["w", "square(w)", "0.01 * abs(w)", "sum(w) + w"])
def test_must_reduce_to_a_scalar(text):
    assert problem(text).message == (
        "expr must reduce to a single number; wrap it in sum(...) or mean(...)")


def test_wrong_arity():
    assert problem("sum(w, w)").message == "function 'sum' takes 1 argument in expr, got 2"
    assert problem("0.1 + sum()").message == "function 'sum' takes 1 argument in expr, got 0"
    assert problem("0.1 + sum()").column == 7


def test_columns_count_from_the_text_as_written():
    assert problem("  sum(w  // 2)").column == 10  # leading blanks and the operator itself
    assert problem("(sum(w)\n +\n x)").column == 13  # across lines
    assert problem("sum(w) + é").column == 10  # characters, not UTF-8 bytes


@pytest.mark.parametrize("text, construct, column", [
    ("sum(w.numpy())", "attribute access", 5),
    ("w.numpy()", "attribute access", 1),
    ("sum(w[0])", "indexing", 5),
    ("lambda: 1", "lambda", 1),
    ('"a"', "string", 1),
    ("sum(w) + 'a'", "string", 10),
    ("sum(w) + True", "boolean", 10),
    ("sum(w) * 1j", "complex number", 10),
    ("sum(w) % 2", "%", 8),
    ("sum(w) @ w", "@", 8),
    ("~sum(w)", "~", 1),
    ("sum(w) > 0", "comparison", 1),
    ("sum(w) if w else 0", "if/else", 1),
    ("sum([w])", "list", 5),
    ("sum(w for w in w)", "comprehension", 4),
    ("sum(w, axis=0)", "keyword argument", 8),
    ("sum(*w)", "* unpacking", 5),
    ("sum(w).__class__", "attribute access", 1),
])
def test_forbidden_constructs(text, construct, column):
    p = problem(text)
    assert p.message == f"'{construct}' is not allowed in expr; {ALLOWED}"
    assert p.column == column


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "unknown function '__import__' in expr"),
    ("open(w)", "unknown function 'open' in expr"),
    ("eval(w)", "unknown function 'eval' in expr"),
    ("open", "unknown name 'open' in expr"),
    ("sum(__builtins__)", "unknown name '__builtins__' in expr"),
    ("sum", "unknown name 'sum' in expr"),
])
def test_builtins_are_unknown_names(text, message):
    assert problem(text).message.startswith(message + ";")


def test_absurd_nesting_is_an_error_not_a_crash():
    assert problem("-" * 100_000 + "sum(w)").message.startswith("invalid expr: ")
    assert problem("sum(w)" + "+sum(w)" * 50_000).message.startswith("invalid expr: ")
    assert problem("sum(w) * 1" + "0" * 400).message.startswith("number too large in expr")


def test_only_parses_never_compiles_to_code(monkeypatch):
    flags = []
    real = builtins.compile

    def spy(source, filename, mode, flags_=0, *args, **kwargs):
        flags.append(kwargs.get("flags", flags_))
        return real(source, filename, mode, flags_, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", spy)
    monkeypatch.setattr(builtins, "eval", None)
    monkeypatch.setattr(builtins, "exec", None)
    value("0.01 * sum(square(w))")
    problem("__import__('os').system('true')")
    import ast
    assert flags and all(f & ast.PyCF_ONLY_AST for f in flags)


def test_no_tensorflow_on_import():
    code = ("import sys, specc.vocab.expr, specc.vocab.plugins; "
            "specc.vocab.expr.parse_penalty('0.01 * sum(square(w))'); "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
            "print(*bad)")
    root = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# -- values ---------------------------------------------------------------------

def test_penalty_is_immutable_and_keeps_its_text():
    p = parse_penalty("0.01 * sum(square(w))")
    assert isinstance(p, Penalty) and p.text == "0.01 * sum(square(w))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.text = "sum(w)"


@pytest.mark.parametrize("text, expected", [
    ("sum(-w**2)", -np.sum(W**2)),  # ** binds tighter than unary minus
    ("-2**2 * sum(w)", -4 * np.sum(W)),
    ("2**3**2 * sum(w)", 512 * np.sum(W)),  # ** is right-associative
    ("2**-1 * sum(w)", 0.5 * np.sum(W)),
    ("sum(w) - 1 - 2", np.sum(W) - 3),  # - is left-associative
    ("sum(w) / 2 / 4", np.sum(W) / 8),
    ("1 + 2 * sum(w)", 1 + 2 * np.sum(W)),
    ("(1 + 2) * sum(w)", 3 * np.sum(W)),
    ("+sum(+w)", np.sum(W)),
    ("sum(w)**2", np.sum(W) ** 2),
    ("1e-2 * sum(w * w)", 0.01 * np.sum(W * W)),
    ("1.5E1 * mean(abs(w))", 15 * np.mean(np.abs(W))),
])
def test_precedence(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_matches_numpy(name):
    w = np.abs(W) + 0.1  # positive, so sqrt and log are defined
    reduce = name in ("sum", "mean", "max", "min")
    text = f"{name}(w)" if reduce else f"sum({name}(w))"
    fn = {"abs": np.abs, "exp": np.exp, "log": np.log, "max": np.max, "mean": np.mean,
          "min": np.min, "sqrt": np.sqrt, "square": np.square, "sum": np.sum,
          "tanh": np.tanh}[name]
    expected = fn(w) if reduce else np.sum(fn(w))
    assert value(text, w) == pytest.approx(expected, rel=1e-12)


def test_keras_ops_gives_the_same():
    keras = pytest.importorskip("keras")
    w = W.astype("float32")
    for text in ["0.01 * sum(square(w))", "sum(-w**2) / 3", "max(abs(w)) - min(w)",
                 "mean(tanh(w)) + sum(exp(w))", "sum(sqrt(abs(w))) + log(sum(abs(w)))"]:
        assert value(text, w, keras.ops) == pytest.approx(value(text, w), rel=1e-5), text
