"""Make a finding's input small: the smallest payload that still fails the same way.

Greedy, within a time budget: text loses chunks of lines, then of characters
(delta debugging, as in Zeller's ddmin); data loses keys and items, and values
are replaced by their children or by simpler ones. A candidate is kept only
when it still raises the finding of the same key. Bytes are kept as they are.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable, Iterator

Check = Callable[[dict], bool]


def minimize(payload: dict, fails: Check, seconds: float = 20.0) -> dict:
    """The smallest payload found within ``seconds`` for which ``fails`` still holds."""
    deadline = time.monotonic() + seconds
    best = payload
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for candidate in _candidates(best):
            if time.monotonic() >= deadline:
                break
            if _size(candidate) < _size(best) and fails(candidate):
                best, progress = candidate, True
                break
    return best


def _size(value: Any) -> int:
    import json

    return len(json.dumps(value, default=str, allow_nan=True))


def _candidates(payload: dict) -> Iterator[dict]:
    """Smaller payloads: each text and data field of the payload, shrunk."""
    for key, value in payload.items():
        if key in ("text", "format", "name", "b64", "argv"):
            if key == "text":
                for text in shrink_text(value):
                    yield {**payload, key: text}
            continue
        for smaller in shrink_data(value):
            yield {**payload, key: smaller}


def shrink_text(text: str) -> Iterator[str]:
    lines = text.splitlines(keepends=True)
    for parts, join in ((lines, "".join), (list(text), "".join)):
        n = len(parts)
        chunk = max(1, n // 2)
        while chunk >= 1 and n > 1:
            for start in range(0, n, chunk):
                yield join(parts[:start] + parts[start + chunk:])
            if chunk == 1:
                break
            chunk //= 2


SIMPLE = (None, 0, "", [], {})


def shrink_data(value: Any, depth: int = 0) -> Iterator[Any]:
    """Copies of ``value`` with one place made smaller (breadth first: whole parts first)."""
    if depth > 250 or (isinstance(value, dict) and "b64" in value):  # bytes stay whole
        return
    if isinstance(value, dict):
        for key in list(value):
            yield {k: v for k, v in value.items() if k != key}
        for key, item in value.items():
            for smaller in shrink_data(item, depth + 1):
                copied = dict(value)
                copied[key] = smaller
                yield copied
    elif isinstance(value, list):
        n = len(value)
        chunk = max(1, n // 2)
        while chunk >= 1 and n:
            for start in range(0, n, chunk):
                yield value[:start] + value[start + chunk:]
            if chunk == 1:
                break
            chunk //= 2
        for n_item, item in enumerate(value):
            for smaller in shrink_data(item, depth + 1):
                copied = list(value)
                copied[n_item] = smaller
                yield copied
    if isinstance(value, (dict, list)):
        for child in (value.values() if isinstance(value, dict) else value):
            yield copy.deepcopy(child)
    for simple in SIMPLE:
        if value != simple or type(value) is not type(simple):
            if not isinstance(value, (dict, list)) or simple in ([], {}):
                yield simple
    if isinstance(value, str) and len(value) > 1:
        yield from shrink_text(value)
