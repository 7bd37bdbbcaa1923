"""Import Keras (and so TensorFlow) without TensorFlow's C++ start-up lines.

TensorFlow 2.21 writes its first log lines (oneDNN, "Could not find cuda
drivers", absl's "before absl::InitializeLog()" warning) before it reads
``TF_CPP_MIN_LOG_LEVEL``, so the variable does not hide them, and its first
device probe logs a CUDA *error* on every machine without a GPU. specc only
builds models, for which none of this matters. So the import and the device
probe run with file descriptor 2 sent to a temporary file; afterwards every
line is written back (Python warnings included) except those C++ log lines,
unless ``TF_CPP_MIN_LOG_LEVEL`` is unset or 0: then nothing is filtered, as
in plain TensorFlow. The variable is only read here; the command line sets it
for its own process (specc.cli.main.run).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager

from specc.vocab import keras_version

# absl's C++ log line: severity letter, MMDD, time (epoch seconds before absl is
# initialized), thread id, file:line]
_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\]\s]+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"


def import_keras():
    """``import keras`` and probe the devices, keeping back TensorFlow's start-up log lines.

    A Keras that specc's catalog does not describe is refused with a SpecError:
    before the import when its installed metadata says so, after it otherwise.

    >>> import_keras().__name__  # doctest: +SKIP
    'keras'
    """
    keras_version.check_installed()
    keras = _import_keras()
    keras_version.check(keras.__version__)
    tensorflow_only_if_imported(keras)
    return keras


def import_keras_unchecked():
    """``import keras`` as import_keras does, for a Keras of any version (the generator of
    a newer Keras's catalog)."""
    return _import_keras()


def _import_keras():
    level = log_level()
    if "keras" in sys.modules or level == 0:
        import keras

        return keras
    captured: list[str] = []
    try:
        with _stderr_to_file(captured):
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow

                tensorflow.config.list_physical_devices()  # the CUDA probe logs now
    finally:  # a failed import still shows what TensorFlow said
        sys.stderr.write(without_hidden_lines("".join(captured), level))
        sys.stderr.flush()
    return keras


def log_level() -> int:
    """The TF_CPP_MIN_LOG_LEVEL in force (0: show everything), as TensorFlow reads it."""
    try:
        return max(0, min(3, int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))))
    except ValueError:
        return 0


def without_hidden_lines(text: str, level: int) -> str:
    """The lines of ``text`` (TensorFlow's start-up) shown at TF_CPP_MIN_LOG_LEVEL=level.

    >>> without_hidden_lines("I0000 00:00:1795641394.68 7404 port.cc:153] oneDNN on\\nkept\\n", 1)
    'kept\\n'
    """
    if level == 0:
        return text
    kept = []
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if (match and match.group(1) != "F") or line.startswith(_ABSL_PREAMBLE):
            continue
        kept.append(line)
    return "".join(kept)


@contextmanager
def _stderr_to_file(captured: list[str]):
    """Send file descriptor 2 (C++ code writes there) to a temporary file meanwhile;
    append what was written to ``captured``."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    with tempfile.TemporaryFile() as file:
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            file.seek(0)
            captured.append(file.read().decode("utf-8", errors="replace"))


def tensorflow_only_if_imported(keras) -> None:
    """On JAX or torch, keep TensorFlow unimported. Keras asks ``tf.available`` (can
    TensorFlow be imported?) of every object it serializes (each get_config, each save)
    and of every dataset, which imports TensorFlow when it is installed: 2 s, and a JAX
    user's process holding TensorFlow. An object can only be one of TensorFlow's once
    TensorFlow is imported, so Keras's lazy module is made to answer exactly that; where
    TensorFlow is imported (by the user, or as the backend) nothing changes."""
    if keras.backend.backend() == "tensorflow":
        return
    from keras.src.utils import module_utils

    lazy = module_utils.tensorflow
    if isinstance(lazy, _OnlyIfImported) or not isinstance(lazy, module_utils.LazyModule):
        return
    lazy.__class__ = type("_OnlyIfImported", (_OnlyIfImported, type(lazy)), {})


class _OnlyIfImported:
    @property
    def available(self):
        return "tensorflow" in sys.modules and super().available
