"""The Keras versions specc supports: the minor releases it has a catalog of.

Each catalog is generated from one Keras release (tools/gen_catalog.py records it
as ``keras_version``; specc/vocab/catalogs.py picks the installed Keras's). Minor
releases change what it holds: 3.14.1's catalog differs from 3.15.1's in 44
layers (the variance-scaling initializers' default configs gained
``input_axes`` and ``output_axes``; MultiHeadAttention gained
``sliding_window``), 7 initializers, 14 optimizers and 20 operations, while
3.15.0 gives the same catalog as 3.15.1. So specc supports the minors it has a
catalog of and checks a spec against the installed one's; a newer Keras gets a
catalog made from it (next_keras.py); an older one is refused rather than
checking specs against arguments it does not have.
The range in pyproject.toml is the same (tests/test_keras_version.py).
"""

from __future__ import annotations

from specc.errors import SpecError
from specc.vocab.catalogs import installed, minor_of, releases
from specc.vocab.registry import CATALOG

__all__ = ["CATALOG_VERSION", "SUPPORTED", "check", "check_installed", "installed", "supports"]

# The release whose catalog is in use (the newest's where the installed Keras has none).
CATALOG_VERSION: str = CATALOG["keras_version"]
_FIRST, _LAST = list(releases())[0], list(releases())[-1]
_MAJOR, _NEXT = _LAST.split(".")[0], int(_LAST.split(".")[1]) + 1
SUPPORTED = f">={_FIRST},<{_MAJOR}.{_NEXT}"


def supports(version: str) -> bool:
    """Whether specc has a catalog of Keras ``version``'s minor release.

    >>> supports(CATALOG_VERSION), supports("3.12.0"), supports("3.11.3"), supports("4.0.0")
    (True, True, False, False)
    """
    return minor_of(version) in releases()


def check_installed() -> None:
    """Refuse the installed Keras when no catalog describes it."""
    check(installed())


def check(version: str | None) -> None:
    """Refuse a Keras ``version`` whose minor is not the catalog in use's (None: nothing
    to check): one no catalog describes, or a Keras imported from elsewhere than the
    installed distribution whose catalog was chosen."""
    if version is None or minor_of(version) == minor_of(CATALOG_VERSION):
        return
    from specc.vocab.catalogs import newer
    from specc.vocab.next_keras import FAILED

    if newer(version) and version in FAILED:
        raise SpecError(f"Keras {version} is installed, newer than specc's catalogs "
                        f"(Keras {', '.join(releases().values())}), and specc could not read "
                        f"its layers and arguments: {FAILED[version]}")
    if not supports(version):
        raise SpecError(
            f"Keras {version} is installed, but specc supports Keras {SUPPORTED} (it has the "
            f"catalogs of layers and arguments of Keras {', '.join(releases().values())}): "
            f"pip install 'keras{SUPPORTED}'")
    raise SpecError(
        f"Keras {version} is imported, but the installed Keras is {installed()}, whose "
        "catalog specc checks specs against: import the installed Keras")

