"""Every example in specs/: valid by the JSON Schema and by specc, builds with
``specc build``, and the .keras file reloads as the same model."""

import json
import subprocess
import sys
import tomllib

import jsonschema
import pytest

import specc
from conftest import SCHEMA, SPECS, configs, spec_files

FILES = spec_files()
ids = [p.name for p in FILES]


def as_json(value):
    # A reloaded config has lists where the built one has tuples (build_config).
    return json.loads(json.dumps(value))


def read(path):
    text = path.read_text()
    return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)


def test_the_examples_are_there():
    names = {p.name for p in FILES}
    for name in ("tutorial_l2_l1.toml", "tutorial_custom.toml", "tutorial_dropout.toml",
                 "tutorial_combined.toml", "cnn.toml", "rnn.toml", "functional_multi_input.json"):
        assert name in names


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_points_editors_at_the_schema(path):
    if path.suffix == ".toml":
        first = path.read_text().splitlines()[0]
        assert first == "#:schema ../schemas/specc.schema.json"
        target = first.removeprefix("#:schema ")
    else:
        target = read(path)["$schema"]
    assert (path.parent / target).resolve() == SCHEMA


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)  # 3 s: once, not per spec
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_valid_by_the_json_schema(path, validator):
    errors = list(validator.iter_errors(read(path)))
    assert [f"{e.json_path}: {e.message}" for e in errors] == []


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_valid_by_specc(path):
    spec = specc.load(path)
    assert isinstance(spec, specc.Spec)
    assert len(spec.layers) == len(read(path)["layers"])


# Keras says so for any compiled model saved before its first training step.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("path", FILES, ids=ids)
def test_builds_and_reloads(path, tmp_path, cli):
    keras = pytest.importorskip("keras")
    import specc.regularizers  # noqa: F401  lets load_model find ExprRegularizer

    out = tmp_path / "x.keras"
    keras.backend.clear_session()  # default names (lstm, lstm_1, ...) restart at zero
    result = cli("build", path, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    loaded = keras.models.load_model(out)

    keras.backend.clear_session()
    built = specc.build(specc.load(path))
    assert type(loaded) is type(built)
    assert as_json(configs(loaded)) == as_json(configs(built))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in built.layers]
    assert loaded.count_params() == built.count_params()
    if read(path).get("compile"):
        assert type(loaded.optimizer) is type(built.optimizer)
        assert loaded.loss == built.loss


def test_validate_does_not_import_tensorflow(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[inputs]]\nshape = [4]\n[[layers]]\ntype = "Dense"\nunits = 0\n')
    code = f"""
import sys
from typer.testing import CliRunner
from specc.cli import app
runner = CliRunner()
good = runner.invoke(app, ["validate", *{[str(p) for p in FILES]!r}])
assert good.exit_code == 0, good.output
bad = runner.invoke(app, ["validate", {str(bad)!r}])
assert bad.exit_code == 1, bad.output
assert "layers[0].units" in bad.output, bad.output
imported = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
assert not imported, imported
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
