"""The Keras versions specc supports: those whose layers and arguments its catalog describes.

``catalog.json`` is generated from one Keras release (tools/gen_catalog.py
records it as ``keras_version``). Minor releases change what it holds: the
catalog generated from Keras 3.14.1 differs from 3.15.1's in 44 layers (the
variance-scaling initializers' default configs gained ``input_axes`` and
``output_axes``; MultiHeadAttention gained ``sliding_window``), 7 initializers,
14 optimizers (the default ``name``) and 20 operations (15 new, 5 gone), while
3.15.0 gives the same catalog as 3.15.1. So specc supports the catalog's minor
release, and refuses another installed Keras rather than checking specs
against arguments it does not have.
The range in pyproject.toml is the same (tests/test_keras_version.py).
"""

from __future__ import annotations

import importlib.metadata
import re
from functools import cache

from specc.errors import SpecError
from specc.vocab.registry import CATALOG

CATALOG_VERSION: str = CATALOG["keras_version"]
_MAJOR, _MINOR = (int(part) for part in CATALOG_VERSION.split(".")[:2])
SUPPORTED = f">={_MAJOR}.{_MINOR},<{_MAJOR}.{_MINOR + 1}"


@cache  # reading metadata costs about a millisecond, and every spec checked asks
def installed() -> str | None:
    """The version of the installed Keras distribution (None: none is installed),
    read from its metadata: Keras (and TensorFlow) stay unimported."""
    try:
        return importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        return None


def supports(version: str) -> bool:
    """Whether the catalog describes Keras ``version``.

    >>> supports(CATALOG_VERSION), supports("3.14.1"), supports("4.0.0")
    (True, False, False)
    """
    found = re.match(r"(\d+)\.(\d+)", version)
    return found is not None and (int(found[1]), int(found[2])) == (_MAJOR, _MINOR)


def check_installed() -> None:
    """Refuse the installed Keras when the catalog does not describe it."""
    check(installed())


def check(version: str | None) -> None:
    """Refuse a Keras ``version`` the catalog does not describe (None: nothing to check)."""
    if version is None or supports(version):
        return
    raise SpecError(
        f"Keras {version} is installed, but specc supports Keras {SUPPORTED} (its catalog "
        f"of layers and arguments is Keras {CATALOG_VERSION}'s): "
        f"pip install 'keras{SUPPORTED}'")
