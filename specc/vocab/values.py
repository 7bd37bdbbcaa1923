"""The "None" word: TOML has no null, so a spec writes Keras's None as "None".

Every stage that reads or writes spec values converts with these, in both
directions, so the word lives here only.

>>> none_to_word({"shape": [None, 3], "activation": None})
{'shape': ['None', 3], 'activation': 'None'}
>>> word_to_none(["None", 3])
[None, 3]
"""

from __future__ import annotations

from typing import Any

NONE_WORD = "None"
NONE_DOC = 'Keras None: TOML has no null, so it is written "None"'


def from_word(value: Any) -> Any:
    """The "None" word as None; any other value (a list too) as it is."""
    return None if value == NONE_WORD else value


def _to_word(value: Any) -> Any:
    return NONE_WORD if value is None else value


def none_to_word(value: Any) -> Any:
    """None written as the word, everywhere in a value (lists and tables too)."""
    return _everywhere(value, _to_word)


def word_to_none(value: Any) -> Any:
    """The word read as None, everywhere in a value (lists and tables too)."""
    return _everywhere(value, from_word)


def _everywhere(value: Any, convert) -> Any:
    if isinstance(value, dict):
        return {k: _everywhere(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [_everywhere(v, convert) for v in value]
    return convert(value)
