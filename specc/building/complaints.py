"""Keras's complaints about a spec -> problems placed on the spec layer.

Keras checks arguments and shapes itself and says why in an exception. Only
ValueError, TypeError and NotImplementedError raised inside Keras (or
TensorFlow, keras-hub, or a plugin's own layer class) are a complaint about the
spec; anything else is a bug in specc.
"""

from __future__ import annotations

import re

from specc.errors import Problem, SpecError
from specc.checking.graph import Node
from specc.checking.spec import Apply

# What Keras raises when it refuses arguments or shapes; anything else (KeyError,
# AttributeError, ...) or anything raised by specc's own code is a bug in specc.
KERAS_COMPLAINTS = (ValueError, TypeError, NotImplementedError)
_KERAS_PACKAGES = ("keras", "tensorflow", "keras_hub")


def guarded(node: Node, step):
    """Run a Keras step; a Keras complaint becomes a problem on that spec layer.

    Any other exception is a bug in specc and propagates unchanged, with a note
    naming the layer.
    """
    try:
        return step()
    except SpecError as exc:  # e.g. an unknown custom regularizer: point at its layer
        raise SpecError(
            p if p.path else Problem.at_path(("layers", node.index), p.message,
                                             suggestion=p.suggestion)
            for p in exc.problems
        ) from None
    except Exception as exc:
        kind = "apply" if isinstance(node.layer, Apply) else node.layer.type
        if not (isinstance(exc, KERAS_COMPLAINTS) and raised_in_keras(exc)):
            exc.add_note(f"specc: while building layer '{node.name}' ({kind}), layers[{node.index}]")
            raise
        reason = first_sentence(str(exc))
        raise SpecError(Problem.at_path(
            ("layers", node.index), f"Keras rejected layer '{node.name}' ({kind}): {reason}",
        )) from None


def raised_in_keras(exc: BaseException) -> bool:
    """True when the innermost frame of the traceback is Keras's or TensorFlow's code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return module.split(".")[0] in _KERAS_PACKAGES or _in_plugin(module)


def _in_plugin(module: str) -> bool:
    """Whether a module is (in) one of the plugin modules whose layer classes the
    registry holds: the user's class refusing its arguments is a complaint too."""
    from specc.vocab.plugins import plugin_modules

    return any(module == p or module.startswith(p + ".") for p in plugin_modules())


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Keras wraps an error raised inside call() in a report of the call's arguments.
_CALL_REPORT = re.compile(r"Exception encountered when calling [^\n]*\n+(.*?)"
                          r"(?:\n\s*\nArguments received by|\Z)", re.S)
_INPUT_NAME = re.compile(r"Input (\d+) with name '[^']*' of layer '[^']*'")


def first_sentence(text: str) -> str:
    """Keras's reason in one sentence, with what it received when it says so.

    >>> first_sentence("Inputs have incompatible shapes. Received shapes (4,) and (5,)")
    'inputs have incompatible shapes; received shapes (4,) and (5,)'
    """
    text = _ANSI.sub("", text).strip()
    report = _CALL_REPORT.search(text)
    if report:
        text = report.group(1)
    text = " ".join(_INPUT_NAME.sub(r"input \1", text).split())
    head, _, rest = text.partition(". ")
    if rest.lower().startswith(("received", "full shape received")):
        head = f"{head}; {rest[0].lower()}{rest[1:].partition('. ')[0]}"
    head = head.rstrip(".")
    if len(head) > 240:
        head = head[:237] + "..."
    if head[:1].isupper() and not head[1:2].isupper():
        head = head[0].lower() + head[1:]
    return head or "no reason given"
