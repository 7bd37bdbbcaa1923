"""The "None" word: TOML has no null, so a spec writes Keras's None as "None".

Every stage that reads or writes spec values converts with these, in both
directions, so the word lives here only.

>>> in_words({"shape": [None, 3], "activation": None})
{'shape': ['None', 3], 'activation': 'None'}
>>> in_nones(["None", 3])
[None, 3]
"""

from __future__ import annotations

from typing import Any

NONE_WORD = "None"
NONE_DOC = 'Keras None: TOML has no null, so it is written "None"'


def from_word(value: Any) -> Any:
    """The spec's "None" word as None; any other value as it is."""
    return None if value == NONE_WORD else value


def to_word(value: Any) -> Any:
    """None as the spec's "None" word; any other value as it is."""
    return NONE_WORD if value is None else value


def in_words(value: Any) -> Any:
    """Every None in a structure of lists and tables written as the word."""
    return _everywhere(value, to_word)


def in_nones(value: Any) -> Any:
    """Every "None" word in a structure of lists and tables read as None."""
    return _everywhere(value, from_word)


def _everywhere(value: Any, convert) -> Any:
    if isinstance(value, dict):
        return {k: _everywhere(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_everywhere(v, convert) for v in value]
    return convert(value)
