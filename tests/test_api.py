"""The Python API does what the command line does (issue 9: ``specc.__all__`` covers
every command), checked against the command's own output in a fresh process."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import specc
from conftest import random_array, run_specc
from specc.cli.app import COMMANDS, app

# Each command -> the public functions that do its work.
API_OF_COMMAND = {
    "validate": ["load"], "fmt": ["format_file", "format_text"], "build": ["build", "save"],
    "export": ["export", "dump", "dumps"], "expand": ["expand"], "summary": ["summary"],
    "graph": ["draw"], "diff": ["diff_models"], "layers": ["layers"], "schema": ["schema"],
}


def test_every_command_has_its_functions_in_the_api():
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert commands == set(API_OF_COMMAND) == {m.__name__.rsplit(".", 1)[1] for m in COMMANDS}
    for names in API_OF_COMMAND.values():
        for name in names:
            assert name in specc.__all__ and callable(getattr(specc, name)), name


def test_schema_is_what_specc_schema_prints():
    done = run_specc("schema")
    assert done.returncode == 0
    assert specc.schema() == json.loads(done.stdout)


def test_layers_lists_what_specc_layers_prints():
    described = specc.layers("Conv2D")
    assert described["type"] == "Conv2D"
    names = [row["name"] for row in described["arguments"]]
    assert names[:2] == ["filters", "kernel_size"]  # the required ones first
    shown = run_specc("layers", "Conv2D").stdout
    assert all(name in shown for name in names)
    every = specc.layers()
    assert "AvgPool2D" in every["supported"]["AveragePooling2D"]
    assert "Lambda" in every["refused"] and "Lambda" not in every["supported"]
    with pytest.raises(specc.SpecError, match="unknown layer type 'Dense2'"):
        specc.layers("Dense2")


def _config(archive) -> dict:
    """config.json less the ids Keras gives shared objects (memory addresses)."""
    return json.loads(archive.read("config.json"),
                      object_hook=lambda d: {k: v for k, v in d.items() if k != "shared_object_id"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """specs/cnn.toml built and saved through the API, with its weights."""
    folder = tmp_path_factory.mktemp("api")
    spec = specc.load("specs/cnn.toml")
    model = specc.build(spec)
    specc.save(model, folder / "cnn.keras", spec)
    return folder, spec, model


def test_save_writes_what_specc_build_writes(built, tmp_path):
    folder, spec, model = built
    assert run_specc("build", "specs/cnn.toml", "-o", tmp_path / "cli.keras").returncode == 0
    with zipfile.ZipFile(folder / "cnn.keras") as ours, \
            zipfile.ZipFile(tmp_path / "cli.keras") as theirs:
        assert ours.read("specc.toml") == theirs.read("specc.toml")
        assert _config(ours) == _config(theirs)
    with pytest.raises(specc.SpecError, match="must end in .keras"):
        specc.save(model, tmp_path / "cnn.h5", spec)


def test_dumps_and_dump_write_what_specc_export_writes(built, tmp_path):
    folder, _, _ = built
    exported = specc.export(folder / "cnn.keras")
    for fmt in ("toml", "json"):
        done = run_specc("export", folder / "cnn.keras", "-o", tmp_path / f"cli.{fmt}")
        assert done.returncode == 0, done.stderr
        specc.dump(exported, tmp_path / f"api.{fmt}")
        expected = (tmp_path / f"cli.{fmt}").read_text()
        assert (tmp_path / f"api.{fmt}").read_text() == expected
        assert specc.dumps(exported, fmt) == expected
    assert specc.dumps(exported) == run_specc("export", folder / "cnn.keras").stdout
    (tmp_path / "keep.yaml").write_text("old")
    with pytest.raises(specc.SpecError, match="must end in .toml or .json"):
        specc.dump(exported, tmp_path / "keep.yaml")
    assert (tmp_path / "keep.yaml").read_text() == "old"


def test_export_weights_then_build_weights_gives_the_same_predictions(built, tmp_path):
    folder, _, model = built
    weights = tmp_path / "cnn.weights.h5"
    spec = specc.export(folder / "cnn.keras", weights=weights)
    specc.dump(spec, tmp_path / "cnn.toml")
    rebuilt = specc.build(tmp_path / "cnn.toml", weights=weights)
    x = random_array((2, *model.input_shape[1:]))
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
    # The command line reads the same weights file.
    done = run_specc("build", tmp_path / "cnn.toml", "--weights", weights, "-o", tmp_path / "w.keras")
    assert done.returncode == 0, done.stderr
