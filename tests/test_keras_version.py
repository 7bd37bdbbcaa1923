"""The supported Keras versions: the catalog's minor release, stated in pyproject.toml,
and any other installed Keras refused with one line (exit 1) before a spec is checked
or built against arguments it does not have."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib

import pytest

import specc
from conftest import ROOT, SPECS
from specc.vocab import keras_version

MESSAGE = ("Keras {} is installed, but specc supports Keras >=3.12,<3.16 (it has the catalogs of "
           "layers and arguments of Keras 3.12.4, 3.13.2, 3.14.1, 3.15.1): "
           "pip install 'keras>=3.12,<3.16'")


def test_the_range_is_the_catalogs_minor_releases_and_pyprojects():
    from specc.vocab.catalogs import releases

    assert keras_version.SUPPORTED == ">=3.12,<3.16"
    assert releases() == {"3.12": "3.12.4", "3.13": "3.13.2", "3.14": "3.14.1", "3.15": "3.15.1"}
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d for d in dependencies if d.startswith("keras")] == ["keras>=3.12,<3.16"]


def test_the_installed_keras_is_supported():
    assert keras_version.supports(importlib.metadata.version("keras"))


@pytest.mark.parametrize("version, supported", [
    ("3.15.0", True), ("3.15.1", True), ("3.15.2rc1", True), ("3.15.3.dev0", True),
    ("3.14.1", True), ("3.12.0", True), ("3.11.3", False), ("3.16.0", False), ("3.1.5", False),
    ("4.15.0", False), ("3.1", False), ("3.120.0", False),
    ("2.15.0", False), ("", False), ("unknown", False),
])
def test_supports(version, supported):
    assert keras_version.supports(version) is supported


def _specc(version_in_metadata: str, *args, prelude: str = ""):
    """``python -m specc ARGS`` in a fresh process whose installed-Keras metadata says
    ``version_in_metadata``; at exit it prints which of keras and tensorflow it imported."""
    code = (
        "import atexit, importlib.metadata, runpy, sys\n"
        "real = importlib.metadata.version\n"
        f"importlib.metadata.version = lambda name: {version_in_metadata!r} if name == 'keras' "
        "else real(name)\n"
        "atexit.register(lambda: print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)))\n"
        f"{prelude}"
        f"sys.argv = ['specc', *{[str(a) for a in args]!r}]\n"
        "runpy.run_module('specc', run_name='__main__', alter_sys=True)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)


def test_validate_refuses_another_keras_once_without_importing_it():
    result = _specc("3.11.3", "validate", SPECS / "cnn.toml", SPECS / "rnn.toml")
    assert (result.returncode, result.stdout) == (1, "[]\n")
    assert result.stderr == MESSAGE.format("3.11.3") + "\n1 problem found\n"


def test_validate_with_the_supported_keras_is_ok():
    result = _specc("3.15.0", "validate", SPECS / "cnn.toml")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{SPECS / 'cnn.toml'}: ok\n[]\n", "")


def test_build_refuses_another_keras_before_importing_tensorflow(tmp_path):
    out = tmp_path / "cnn.keras"
    result = _specc("4.0.0", "build", SPECS / "cnn.toml", "-o", out)
    assert (result.returncode, result.stdout) == (1, "[]\n")
    assert result.stderr == MESSAGE.format("4.0.0") + "\n1 problem found\n"
    assert list(tmp_path.iterdir()) == []


def test_build_refuses_an_imported_keras_its_metadata_does_not_name(tmp_path):
    # A Keras found first on sys.path, whose version is not the installed distribution's.
    out = tmp_path / "cnn.keras"
    installed = importlib.metadata.version("keras")
    other = "3.13.0" if installed.startswith("3.14.") else "3.14.0"  # another supported minor
    result = _specc(installed, "build", SPECS / "cnn.toml", "-o", out,
                    prelude=f"import keras\nkeras.__version__ = '{other}'\n")
    assert result.returncode == 1
    # Found while building that spec, the problem is placed in its file (the CLI's way).
    assert result.stderr.splitlines()[-2:] == [
        f"{SPECS / 'cnn.toml'}: Keras {other} is imported, but the installed Keras is {installed}, "
        "whose catalog specc checks specs against: import the installed Keras", "1 problem found"]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_python_api_refuses_another_keras(monkeypatch):
    spec = specc.load(SPECS / "tutorial_dropout.toml")
    monkeypatch.setattr(keras_version, "installed", lambda: "3.11.3")
    with pytest.raises(specc.SpecError) as loading:
        specc.load(SPECS / "tutorial_dropout.toml")
    with pytest.raises(specc.SpecError) as building:
        specc.build(spec)
    assert [str(p) for p in loading.value.problems] == [MESSAGE.format("3.11.3")]
    assert [str(p) for p in building.value.problems] == [MESSAGE.format("3.11.3")]


def test_the_readme_states_the_range_and_shows_the_message():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "specc supports Keras 3.12 to 3.15 (`keras>=3.12,<3.16`, as `pyproject.toml` requires)" in readme
    assert f"`{MESSAGE.format('3.11.3')}`" in readme


OTHER_KERAS = """\
[[inputs]]
shape = [8, 4]

[[layers]]
type = "MultiHeadAttention"
num_heads = 2
key_dim = 4
sliding_window = 3
inputs = { query = "input_layer", value = "input_layer" }

[[layers]]
type = "AdaptiveAveragePooling1D"
output_size = 2
"""


@pytest.mark.parametrize("version, catalog", [
    ("3.12.0", "3.12.4"), ("3.13.1", "3.13.2"), ("3.14.0", "3.14.1"), ("3.15.0", "3.15.1")])
def test_each_supported_keras_is_checked_against_its_own_catalog(version, catalog):
    result = _specc(version, "--version")
    assert result.stdout.splitlines()[1] == f"Keras {version} (catalog of Keras {catalog})"
    specs = sorted(SPECS.glob("*.toml"))
    result = _specc(version, "validate", *specs, prelude=(
        "import atexit\nfrom specc.vocab import registry\n"
        "atexit.register(lambda: print(registry.CATALOG['keras_version']))\n"))
    assert result.returncode == 0, result.stderr
    # atexit runs the last hook registered first: the catalog, then the modules imported.
    assert result.stdout.splitlines()[-2:] == [catalog, "[]"]


def test_a_name_another_keras_has_says_which_keras_has_it(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(OTHER_KERAS)
    result = _specc("3.12.1", "validate", path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:8:1: layers[0].sliding_window: unknown argument 'sliding_window' for "
        "MultiHeadAttention: not in Keras 3.12 (it is in 3.15 and later)",
        f"{path}:12:8: layers[1].type: unknown layer type 'AdaptiveAveragePooling1D': not in "
        "Keras 3.12 (it is in 3.13 and later)", "2 problems found"]
    result = _specc("3.14.0", "validate", path)
    assert result.stderr.splitlines() == [
        f"{path}:8:1: layers[0].sliding_window: unknown argument 'sliding_window' for "
        "MultiHeadAttention: not in Keras 3.14 (it is in 3.15 and later)", "1 problem found"]
    (tmp_path / "d.toml").write_text(OTHER_KERAS.split("[[layers]]")[0]
                                     + "[defaults]\nAdaptiveMaxPooling1D = { output_size = 2 }\n")
    result = _specc("3.12.1", "validate", tmp_path / "d.toml")
    assert result.stderr.splitlines()[0].endswith(
        "defaults.AdaptiveMaxPooling1D: unknown layer type 'AdaptiveMaxPooling1D' in [defaults]: "
        "not in Keras 3.12 (it is in 3.13 and later)")
    result = _specc("3.15.1", "validate", path)
    assert result.returncode == 0, result.stderr


def test_the_patches_give_each_release_s_catalog():
    from specc.vocab.catalogs import catalog_for, releases

    for minor, release in releases().items():
        catalog = catalog_for(release)
        assert catalog["keras_version"] == release
        assert catalog == catalog_for(f"{minor}.99")  # any release of the minor
    # What the patches hold: what the Keras versions really differ in (measured).
    assert "AdaptiveAveragePooling1D" not in catalog_for("3.12.4")["layers"]
    assert "AdaptiveAveragePooling1D" in catalog_for("3.13.2")["layers"]
    assert "use_gate" in catalog_for("3.14.1")["layers"]["MultiHeadAttention"]["args"]
    assert "sliding_window" not in catalog_for("3.14.1")["layers"]["MultiHeadAttention"]["args"]


def test_a_file_a_newer_keras_wrote_exports_for_the_installed_one(tmp_path):
    # Saved by the Keras installed here (3.15: metadata.json says so), exported as if
    # 3.12 were installed: the arguments 3.12 lacks are left out where the file holds
    # 3.15's defaults (use_gate, sliding_window), and named where it does not.
    from specc.vocab.catalogs import minor_of, releases

    if minor_of(importlib.metadata.version("keras")) != list(releases())[-1]:
        pytest.skip("the file must come from the newest supported Keras (tools/keras_smoke.py "
                    "runs this file in the older ones too)")
    made = subprocess.run([sys.executable, "-c", """
import keras
x = keras.Input((8, 4))
keras.Model(x, keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)).save("plain.keras")
y = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, sliding_window=3, name="mha")(x, x)
keras.Model(x, keras.layers.AdaptiveAveragePooling1D(2)(y)).save("newer.keras")
"""], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert made.returncode == 0, made.stderr[-2000:]
    writer = importlib.metadata.version("keras")
    result = _specc("3.12.1", "export", tmp_path / "newer.keras")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'newer.keras'}: layers[0]: layer 'mha' sets "
        f"sliding_window = 3, which MultiHeadAttention of Keras 3.12 does not have: the file "
        f"was written by Keras {writer}",
        f"{tmp_path / 'newer.keras'}: layers[1]: layer 'adaptive_average_pooling1d' is a "
        "AdaptiveAveragePooling1D: not in Keras 3.12 (it is in 3.13 and later)",
        "2 problems found"]
    result = _specc("3.12.1", "export", tmp_path / "plain.keras", "-o", tmp_path / "plain.toml")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "plain.toml").read_text()
    assert "MultiHeadAttention" in text and "use_gate" not in text and "sliding_window" not in text
    result = _specc("3.12.1", "validate", tmp_path / "plain.toml")
    assert result.returncode == 0, result.stderr
