"""A spec's text -> the same spec in one canonical layout (``specc fmt``).

The layout is the one everything specc writes has: keys in the canonical order
(specc/writing/order.py: sections model, inputs, constants, defaults, blocks, layers,
compile; a layer's arguments in the order of Keras's constructor signature), tables
inline while their line stays under ``WIDTH`` characters and numbers as Python writes
them (specc/writing/layout.py).
TOML comments stay with the key, header or table they were written at, and
the ``#:schema`` line stays first. The data never changes: the result reads
back equal to the input, or nothing is written.
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from specc.errors import SpecError
from specc.reading.load import parse_text
from specc.writing.comments import find_comments
from specc.writing.layout import json_text, toml_text
from specc.writing.order import canonical


@dataclass(frozen=True)
class Formatted:
    """One file before and after formatting."""

    path: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """The change as a unified diff (empty when there is none)."""
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=self.path, tofile=self.path))


def format_text(text: str, fmt: str = "toml", file: str = "<string>") -> str:
    """The spec ``text`` in the canonical layout; raises SpecError when it does not validate.

    >>> print(format_text('[[layers]]\\nunits = 2\\ntype = "Dense"\\n[[inputs]]\\nshape = [ 4 ]\\n'), end="")
    [[inputs]]
    shape = [4]
    <BLANKLINE>
    [[layers]]
    type = "Dense"
    units = 2
    """
    from specc.checking.validate import validate_document

    document = parse_text(text, fmt, file)
    validate_document(document)
    data = canonical(document.data)
    if fmt == "json":
        result = json_text(data) + "\n"
    else:
        result = toml_text(data, find_comments(text))
    if (json.loads(result) if fmt == "json" else tomllib.loads(result)) != document.data:
        # A bug here must never cost a user a spec.
        raise SpecError("internal error: the formatted spec would not read back the same; "
                        "the file is left as it is", file=file)
    return result


def format_file(path, write: bool = True) -> Formatted:
    """Format one spec file; with ``write``, replace it (atomically, same mode) when it changes.

    >>> format_file("specs/cnn.toml", write=False).changed
    False
    """
    from specc.files import write_atomically
    from specc.reading.load import load_document

    file = os.fspath(path)
    before = load_document(file).text  # read as every spec is read
    after = format_text(before, os.path.splitext(file)[1].lower()[1:], file)
    result = Formatted(file, before, after)
    if write and result.changed:
        target = Path(file).resolve()  # a symbolic link keeps pointing at the spec
        mode = stat.S_IMODE(target.stat().st_mode)
        write_atomically(target, lambda tmp: Path(tmp).write_text(after, encoding="utf-8"))
        os.chmod(target, mode)  # the file's own mode, not a new file's
    return result
