"""A Keras newer than specc's catalogs gets its catalog made from it, once, cached and
checked when read (specc/vocab/next_keras.py). The newer Keras is faked: a
``keras-3.16.0.dist-info`` ahead of site-packages on PYTHONPATH is what
importlib.metadata reports, and the catalog is made from the Keras installed here."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SPECS

pytest.importorskip("keras")
MADE = "specc: Keras 3.16.0 is newer than specc's catalogs: reading its layers and arguments once"


@pytest.fixture
def newer(tmp_path):
    """(run specc with Keras 3.16.0 "installed", the cache file it uses)."""
    fake = tmp_path / "site"
    info = fake / "keras-3.16.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: keras\nVersion: 3.16.0\n")
    env = {**os.environ, "SPECC_CACHE_DIR": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)])}

    def specc(*args):
        return subprocess.run([sys.executable, "-m", "specc", *map(str, args)], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=900)

    return specc, tmp_path / "cache" / "catalog-keras-3.16.0.json"


def test_a_newer_keras_gets_its_catalog_made_once_and_cached(newer):
    specc, cache = newer
    first = specc("validate", SPECS / "cnn.toml")
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith(MADE) and first.stderr.count("\n") == 1, first.stderr
    catalog = json.loads(cache.read_text())
    assert catalog["keras_version"] == "3.16.0" and "Dense" in catalog["layers"]
    assert cache.with_name(cache.name + ".sha256").read_text().strip() == \
        hashlib.sha256(cache.read_bytes()).hexdigest()
    again = specc("validate", SPECS / "cnn.toml", SPECS / "rnn.toml")
    assert (again.returncode, again.stderr) == (0, "")  # read from the cache: nothing made
    version = specc("--version")
    assert version.stdout.splitlines()[1] == (
        f"Keras 3.16.0 (newer than specc's catalogs; its catalog made from it, cached in {cache})")


def test_a_corrupt_or_tampered_cache_file_is_made_again(newer):
    specc, cache = newer
    assert specc("validate", SPECS / "cnn.toml").returncode == 0
    cache.write_bytes(cache.read_bytes()[:1000])  # cut short: the hash no longer agrees
    done = specc("validate", SPECS / "cnn.toml")
    assert done.returncode == 0 and done.stderr.startswith(MADE), done.stderr
    # Tampered with, its hash made to agree: building would import the module it names.
    catalog = json.loads(cache.read_text())
    catalog["layers"]["Dense"]["module"] = "os"
    text = json.dumps(catalog)
    cache.write_text(text)
    cache.with_name(cache.name + ".sha256").write_text(hashlib.sha256(text.encode()).hexdigest())
    done = specc("validate", SPECS / "cnn.toml")
    assert done.returncode == 0 and done.stderr.startswith(MADE), done.stderr
    assert json.loads(cache.read_text())["layers"]["Dense"]["module"].startswith("keras.")


def test_a_catalog_that_cannot_be_made_is_one_line_and_exit_1(newer, tmp_path):
    specc, cache = newer
    broken = tmp_path / "site" / "keras"  # a Keras that cannot even be imported
    broken.mkdir()
    (broken / "__init__.py").write_text("raise RuntimeError('this Keras is broken')\n")
    done = specc("validate", SPECS / "cnn.toml")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        MADE + f" (this imports Keras and TensorFlow) into {cache}",
        "Keras 3.16.0 is installed, newer than specc's catalogs (Keras 3.12.4, 3.13.2, 3.14.1, "
        "3.15.1), and specc could not read its layers and arguments: RuntimeError: this Keras "
        "is broken", "1 problem found"]
    assert not cache.exists()


def test_well_formed_refuses_what_specc_did_not_write():
    from specc.vocab.catalogs import catalog_for
    from specc.vocab.next_keras import well_formed

    good = catalog_for("3.15.1")
    assert well_formed(good, "3.15.1")
    assert not well_formed(good, "3.16.0")  # made for another version
    for change in (lambda c: c.pop("ops"), lambda c: c.update(layers=[]),
                   lambda c: c["layers"]["Dense"].update(args=None),
                   lambda c: c["initializers"]["Zeros"].update(tf_module="builtins"),
                   lambda c: c["layers"]["Dense"].update(module="keras.layers; import os")):
        bad = catalog_for("3.15.1")
        change(bad)
        assert not well_formed(bad, "3.15.1")
