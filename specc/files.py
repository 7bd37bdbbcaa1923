"""The file system: inputs opened only when they are regular files, outputs
written without ever leaving a half-written file behind."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable

from specc.errors import SpecError

# The member of a .keras file (a zip) where specc build records the spec it built,
# overrides applied; Keras's loader reads only its own members and ignores it.
SPEC_MEMBER = "specc.toml"


def write_atomically(target: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it over.

    A file replaced keeps its mode; a new one gets the mode a plain open() gives.
    Any failure (a directory in the way, no permission, a full disk) is a
    SpecError of one line, and the old ``target`` is left as it was.

    >>> write_atomically(Path("out.toml"), lambda tmp: Path(tmp).write_text("x"))  # doctest: +SKIP
    """
    target = Path(target)
    try:
        old = os.stat(target)
    except OSError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        kind = "a directory" if stat.S_ISDIR(old.st_mode) else "not a regular file"
        raise SpecError(f"cannot write the output: it is {kind}", file=str(target))
    tmp = None
    try:
        if target.parent.exists() and not target.parent.is_dir():
            raise SpecError(f"cannot write the output: {target.parent} is not a directory",
                            file=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        # Keras picks the format from the suffix, so the temporary file keeps it.
        suffix = "".join(target.suffixes) or ".tmp"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(fd)
        write(tmp)
        if old is not None:
            mode = stat.S_IMODE(old.st_mode)
        else:
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        raise SpecError(f"cannot write the output: {exc.strerror or exc}", file=str(target)) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def open_regular(file: str, what: str):
    """Open ``file`` for reading only if it is a regular file (or a link to one).

    A FIFO would block and a device (/dev/zero) never ends: both are refused
    without reading a byte.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise SpecError(f"cannot read {what}: {e.strerror or e}", file=file) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        reason = os.strerror(errno.EISDIR) if stat.S_ISDIR(mode) else "not a regular file"
        raise SpecError(f"cannot read {what}: {reason}", file=file)
    return os.fdopen(fd, "rb")

def record_spec(keras_file: str, text: str) -> None:
    """Add the spec's text to a .keras file that Keras just wrote."""
    import zipfile

    with zipfile.ZipFile(keras_file, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(SPEC_MEMBER, text)
