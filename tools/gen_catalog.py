"""Regenerate specc/vocab/catalog.json from the installed Keras.

    python tools/gen_catalog.py            # rewrite the committed files
    python tools/gen_catalog.py --check    # exit 1 when one is stale
    python tools/gen_catalog.py --versions DIR   # catalog_versions.json, one venv per Keras in DIR

catalog.json is the newest supported Keras's (the one installed here); --versions
runs the generator in a venv of each older release in KERAS_RELEASES (made in DIR
on first use, over this Python's site-packages: only Keras differs) and writes
the JSON Patch from the newest catalog to each (specc/vocab/catalogs.py).
--check compares the catalog specc uses for the installed Keras, patched where
that Keras is an older one, with what this Keras gives.

Two catalogs: catalog.json from Keras, catalog_hub.json from keras-hub (its layers
keyed by their registered names, "keras_hub>TransformerEncoder"). The generator is
specc's own (specc/building/catalog.py): specc runs it for a Keras newer than these.

The catalog records facts only Keras knows (constructor arguments, which are
required, the config each default produces) so that validation and export
never import TensorFlow. How arguments are *typed* lives in specc/vocab/registry.py.
specc supports the Keras minor releases of KERAS_RELEASES (specc/vocab/keras_version.py):
after adding one, update the range in pyproject.toml and the README
(tests/test_keras_version.py fails until they agree).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# The generator itself is specc's: it also writes a newer Keras's catalog at run time.
from specc.building.catalog import describe, generate, render  # noqa: F401

CATALOG = Path(__file__).resolve().parent.parent / "specc" / "vocab" / "catalog.json"
VERSIONS = CATALOG.with_name("catalog_versions.json")
# Each supported Keras minor and the release its catalog is generated from; catalog.json
# is the last one's, the others are patches from it.
KERAS_RELEASES = {"3.12": "3.12.4", "3.13": "3.13.2", "3.14": "3.14.1", "3.15": "3.15.1"}
# keras-hub's layers, named as Keras registers them ("keras_hub>TransformerEncoder").
HUB_CATALOG = CATALOG.with_name("catalog_hub.json")


# keras_hub.layers classes a spec cannot describe, and why (the rest are in catalog_hub.json).
HUB_REFUSED = {
    "RMSNormalization": "its constructor takes no name or dtype: Keras cannot load it back",
    "MaskedLMHead": "takes another layer object (token_embedding) whose weights it shares",
    "RandomDeletion": "takes Python functions (skip_fn, skip_py_fn) and works on strings",
    "RandomSwap": "takes Python functions (skip_fn, skip_py_fn) and works on strings",
}


def generate_hub() -> dict:
    """keras-hub's public layers, keyed by their registered names; their facts as
    ``generate`` records Keras's (building imports keras_hub, validation never does)."""
    import keras
    import keras_hub

    layers = {}
    for name in sorted(dir(keras_hub.layers)):
        cls = getattr(keras_hub.layers, name)
        if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)) \
                or name in HUB_REFUSED:
            continue
        keras.backend.clear_session(free_memory=False)
        layers[keras.saving.get_registered_name(cls)] = {**describe(cls), "class": name}
    return {"package": "keras_hub", "version": keras_hub.__version__, "layers": layers,
            "refused": {f"keras_hub>{name}": why for name, why in HUB_REFUSED.items()}}


def venv_python(release: str, root: Path) -> Path:
    """The Python of a venv with Keras ``release`` over this Python's packages (made once)."""
    import subprocess

    folder = root / f"keras-{release}"
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(folder)],
                       check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                        f"keras=={release}"], check=True)
    return python


def generate_in(release: str, root: Path) -> dict:
    """generate() run by Keras ``release`` in its venv."""
    import subprocess

    done = subprocess.run([str(venv_python(release, root)), __file__, "--print"],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    catalog = json.loads(done.stdout)
    assert catalog["keras_version"] == release, (catalog["keras_version"], release)
    return catalog


def generate_versions(root: Path) -> dict:
    """catalog_versions.json: the patch from the newest catalog to each older minor's."""
    import jsonpatch

    newest = generate()
    minors = list(KERAS_RELEASES)
    assert newest["keras_version"] == KERAS_RELEASES[minors[-1]], \
        f"run --versions with Keras {KERAS_RELEASES[minors[-1]]} installed"
    patches = {minor: jsonpatch.make_patch(newest, generate_in(KERAS_RELEASES[minor], root)).patch
               for minor in minors[:-1]}
    return {"newest": newest["keras_version"], "releases": KERAS_RELEASES, "patches": patches}


def for_installed() -> dict:
    """The catalog specc uses for the Keras installed here (patched for an older one)."""
    import keras

    from specc.vocab.catalogs import catalog_for

    return catalog_for(keras.__version__)


def main(argv: list[str]) -> int:
    if "--print" in argv:
        print(render(generate()), end="")
        return 0
    if "--versions" in argv:
        root = Path(argv[argv.index("--versions") + 1]).resolve()
        VERSIONS.write_text(render(generate_versions(root)))
        print(f"wrote {VERSIONS}")
        return 0
    stale = 0
    for path, text in ((CATALOG, render(generate())), (HUB_CATALOG, render(generate_hub()))):
        if "--check" in argv:
            committed = render(for_installed()) if path == CATALOG else path.read_text()
            if committed != text:
                print(f"specc/vocab/{path.name} is stale: run python tools/gen_catalog.py")
                stale = 1
            continue
        path.write_text(text)
        print(f"wrote {path}")
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
