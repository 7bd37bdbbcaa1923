"""Writing outputs without ever leaving a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

# The member of a .keras file (a zip) where specc build records the spec it built,
# overrides applied; Keras's loader reads only its own members and ignores it.
SPEC_MEMBER = "specc.toml"


def write_atomically(target: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it over.

    >>> write_atomically(Path("out.toml"), lambda tmp: Path(tmp).write_text("x"))  # doctest: +SKIP
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keras picks the format from the suffix, so the temporary file keeps it.
    suffix = "".join(target.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def record_spec(keras_file: str, text: str) -> None:
    """Add the spec's text to a .keras file that Keras just wrote."""
    import zipfile

    with zipfile.ZipFile(keras_file, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(SPEC_MEMBER, text)
