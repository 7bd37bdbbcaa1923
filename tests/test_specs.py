"""Every example in specs/: valid by the JSON Schema and by specc, builds with
``specc build``, and the .keras file reloads as the same model."""

import json
import re
import subprocess
import sys
import tomllib

import jsonschema
import pytest

import specc
from conftest import ROOT, SCHEMA, SPECS, configs, random_array, round_trip, same_outputs, spec_files

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
    assert len(spec.layers) == len(specc.expand(path)["layers"])


# Keras says so for any compiled model saved before its first training step.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("path", FILES, ids=ids)
def test_builds_and_reloads(path, tmp_path, cli):
    keras = pytest.importorskip("keras")
    import specc.building.regularizers  # noqa: F401  lets load_model find ExprRegularizer

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
from specc.cli.app import app
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


# -- the documentation's examples are specs that work ---------------------------------

DOCS = [ROOT / "README.md", ROOT / "docs" / "spec-format.md"]
FENCE = re.compile(r"^```(toml|json)\n(.*?)^```", re.M | re.S)


# A spec with mistakes, then (past some prose, no other block) what specc validate prints.
VALIDATE_EXAMPLE = re.compile(
    r"^```toml\n(?P<spec>(?:(?!```).)*)^```\n(?:(?!```).)*"
    r"^```console\n\$ specc validate (?P<file>\S+)\n(?P<output>(?:(?!```).)*)^```", re.M | re.S)


def doc_examples():
    """Every complete spec (one with inputs and layers) in a fenced block of the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        mistaken = {m["spec"] for m in VALIDATE_EXAMPLE.finditer(text)}
        for n, (fmt, text) in enumerate(FENCE.findall(text)):
            if text in mistaken:
                continue
            if ("[[inputs]]" in text and "[[layers]]" in text) or '"layers": [' in text:
                found.append(pytest.param(fmt, text, id=f"{doc.name}-{n}"))
    return found


@pytest.mark.parametrize("fmt, text", doc_examples())
def test_doc_example(fmt, text, tmp_path):
    keras = pytest.importorskip("keras")
    path = tmp_path / f"example.{fmt}"
    path.write_text(text)
    keras.backend.clear_session()
    model = specc.build(specc.load(path))
    # Each layer the example names is in the model, of the class it says.
    named = {layer["name"]: layer["type"] for layer in specc.expand(path)["layers"]
             if "name" in layer and "type" in layer}
    assert named == {name: type(model.get_layer(name)).__name__ for name in named}
    # Exported, the model comes back with the same layers, configs, parameters, outputs.
    _, rebuilt = round_trip(model)
    arrays = [random_array((2, *(d or 5 for d in i.shape[1:])), n) for n, i in enumerate(model.inputs)]
    same_outputs(model, rebuilt, arrays[0] if len(arrays) == 1 else arrays)


def test_readme_shows_what_specc_validate_really_prints(cli, tmp_path, monkeypatch):
    example = VALIDATE_EXAMPLE.search((ROOT / "README.md").read_text())
    assert example is not None, "the README shows a bad spec and specc validate's output"
    (tmp_path / example["file"]).write_text(example["spec"])
    monkeypatch.chdir(tmp_path)
    result = cli("validate", example["file"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == example["output"]


def test_docs_have_examples():
    assert len(doc_examples()) >= 3


def test_readme_begins_with_the_two_commands():
    blocks = re.findall(r"^```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.M | re.S)
    install_and_build, install_and_test = blocks[:2]
    # .ci/run runs the README's test command first, then the checks with their own set-up.
    commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.startswith("python3 ")]
    assert commands[0] == install_and_test
    assert install_and_build.startswith("python3 -m pip install . && specc build specs/")
    spec = install_and_build.split("specc build ")[1].split()[0]
    assert (ROOT / spec).is_file()
    assert (ROOT / "README.md").read_text().startswith(f"# specc\n\n```sh\n{install_and_build}\n```")
