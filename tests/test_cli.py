"""The command line: help, version, schema, exit codes, messages, safe writes."""

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys

import pytest

import specc
from conftest import ROOT, SCHEMA, SPECS, run_specc

HEAD = '''\
[[inputs]]
shape = [4]

[[layers]]
type = "Dense"
units = 8

[[layers]]
'''
# name -> (spec text, file:line:col and path the message must start with, a word it must hold)
BAD = {
    "wrong_type": (HEAD + 'type = "Dense"\nunits = "64"\n', ":10:9: layers[1].units: ", "integer"),
    "wrong_range": (HEAD + 'type = "Dropout"\nrate = 1.5\n', ":10:8: layers[1].rate: ", "< 1"),
    "unknown_key": (HEAD + 'type = "Dense"\nunitz = 4\n', ":10:1: layers[1].unitz: ", "units"),
    "dangling_input": (HEAD + 'type = "Dense"\nunits = 4\ninputs = ["dens"]\n',
                       ":11:11: layers[1].inputs[0]: ", "dens"),
    "cycle": (HEAD.replace('type = "Dense"', 'name = "a"\ntype = "Dense"\ninputs = ["b"]')
              + 'name = "b"\ntype = "Dense"\nunits = 4\ninputs = ["a"]\n',
              ":7:10: layers[0].inputs: ", "a -> b -> a"),
    "bad_toml": (HEAD + 'type = "Dense"\nactivation = relu\n', ":10:14: ", "invalid TOML"),
}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- help, version, schema --------------------------------------------------------

def test_help(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("validate", "build", "schema"):
        assert command in result.output


@pytest.mark.parametrize("command", ["validate", "build", "schema"])
def test_command_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert f"specc {command}" in result.output


def _keras_line() -> str:
    """What --version says of Keras here: the installed release and its catalog's."""
    version = importlib.metadata.version("keras")
    from specc.vocab.catalogs import minor_of, releases

    return f"Keras {version} (catalog of Keras {releases()[minor_of(version)]})"


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output == f"specc {specc.__version__}\n{_keras_line()}\n"
    assert specc.__version__ == importlib.metadata.version("specc")


def test_schema_prints_the_committed_schema(cli):
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(SCHEMA.read_text())
    assert result.output == SCHEMA.read_text()


# -- invalid specs: exit 1, each problem at FILE:LINE:COL: path ----------------------

@pytest.mark.parametrize("name", BAD)
def test_invalid_spec(cli, tmp_path, name):
    text, where, word = BAD[name]
    path = write(tmp_path, f"{name}.toml", text)
    result = cli("validate", path)
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}{where}"), first
    assert word in first
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == "1 problem found"


@pytest.mark.xfail(reason="a TOML syntax error is reported by line and column only")
def test_bad_toml_names_the_field(cli, tmp_path):
    text, _, _ = BAD["bad_toml"]
    result = cli("validate", write(tmp_path, "bad.toml", text))
    assert "layers[1].activation" in result.stderr


@pytest.mark.parametrize("name", BAD)
def test_build_refuses_invalid_spec(cli, tmp_path, name):
    path = write(tmp_path, f"{name}.toml", BAD[name][0])
    result = cli("build", path, "-o", tmp_path / "out.keras")
    assert result.exit_code == 1
    assert os.listdir(tmp_path) == [path.name]


def test_all_problems_at_once_and_as_json(cli, tmp_path):
    bad = [write(tmp_path, f"{n}.toml", BAD[n][0]) for n in ("wrong_type", "unknown_key")]
    good = SPECS / "tutorial_dropout.toml"
    result = cli("validate", "--format", "json", bad[0], good, bad[1])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert [(p["file"], p["path"]) for p in problems] == [
        (str(bad[0]), "layers[1].units"), (str(bad[1]), "layers[1].unitz")]
    assert problems[1]["suggestion"] == "units"


def test_valid_specs(cli):
    specs = sorted(SPECS.glob("*.toml"))
    result = cli("validate", *specs)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{p}: ok" for p in specs]


# -- usage errors: exit 2 -------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["validate"],                                               # missing argument
    ["build"],                                                  # missing argument
    ["validate", "--bogus", "specs/cnn.toml"],                  # unknown option
    ["validate", "--format", "xml", "specs/cnn.toml"],          # bad option value
    ["build", "specs/cnn.toml", "-o", "cnn.h5"],                # not a .keras file
    ["frobnicate"],                                             # unknown command
], ids=["validate-no-spec", "build-no-spec", "bad-option", "bad-format", "bad-suffix",
        "bad-command"])
def test_usage_errors(cli, args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Usage: specc" in result.output


# -- build writes safely -------------------------------------------------------------

def test_build_never_overwrites_the_spec(cli, tmp_path):
    text = (SPECS / "tutorial_dropout.toml").read_bytes()
    spec = tmp_path / "dropout.toml"
    spec.write_bytes(text)
    result = cli("build", spec, "-o", spec)
    assert result.exit_code == 2, result.output
    # A spec whose name already ends in .keras: the default output is the spec itself.
    odd = tmp_path / "odd.keras"
    odd.write_bytes(text)
    for args in ([odd], [odd, "-o", odd], [odd, "-o", tmp_path / "." / odd.name]):
        result = cli("build", *args)
        assert result.exit_code == 2, result.output
        assert "overwrite the spec" in result.output
    assert spec.read_bytes() == odd.read_bytes() == text
    assert sorted(os.listdir(tmp_path)) == ["dropout.toml", "odd.keras"]


def test_build_default_output_sits_beside_the_spec(cli, tmp_path):
    spec = tmp_path / "dropout.toml"
    spec.write_bytes((SPECS / "tutorial_dropout.toml").read_bytes())
    result = cli("build", spec)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == ["dropout.keras", "dropout.toml"]


def test_build_writes_atomically(cli, tmp_path):
    keras = pytest.importorskip("keras")
    out = tmp_path / "models" / "dropout.keras"
    result = cli("build", SPECS / "tutorial_dropout.toml", "-o", out)
    assert result.exit_code == 0, result.output
    assert "dropout" in result.output and "Total params: 55,050" in result.output
    assert os.listdir(out.parent) == ["dropout.keras"]
    before = out.read_bytes()

    # A write that dies half-way leaves the previous file as it was, and no litter.
    def broken_save(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half a model")
        raise OSError("disk full")

    save = keras.Model.save
    keras.Model.save = broken_save
    try:
        result = cli("build", SPECS / "tutorial_dropout.toml", "-o", out)
    finally:
        keras.Model.save = save
    assert result.exit_code != 0
    assert os.listdir(out.parent) == ["dropout.keras"]
    assert out.read_bytes() == before


# -- python -m specc --------------------------------------------------------------------

def test_python_dash_m():
    version = run_specc("--version")
    assert (version.returncode, version.stdout) == (0, f"specc {specc.__version__}\n{_keras_line()}\n")
    ok = run_specc("validate", "specs/tutorial_dropout.toml")
    assert (ok.returncode, ok.stdout) == (0, "specs/tutorial_dropout.toml: ok\n")
    usage = run_specc("validate")
    assert usage.returncode == 2 and "Missing argument" in usage.stderr


def test_python_dash_m_invalid_spec(tmp_path):
    path = write(tmp_path, "bad.toml", BAD["wrong_type"][0])
    result = run_specc("validate", path)
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(path))}:10:9: layers\[1\]\.units: ", result.stderr)
    assert "Traceback" not in result.stderr


# TensorFlow's C++ start-up lines: absl's preamble and its log lines (oneDNN, CUDA probes,
# the CPU feature guard), whatever their severity.
STARTUP_NOISE = re.compile(r"absl::InitializeLog|^[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+\] |oneDNN|"
                           r"cuda|cuInit|cpu_feature_guard|rebuild TensorFlow", re.M | re.I)


@pytest.mark.parametrize("level", [None, "1", "0"])
def test_build_prints_no_tensorflow_start_up_lines(tmp_path, level):
    """Unless the user asks for them with TF_CPP_MIN_LOG_LEVEL=0."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    out = tmp_path / "model.keras"
    result = subprocess.run([sys.executable, "-m", "specc", "build", "specs/tutorial_combined.toml",
                             "-o", str(out)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert bool(STARTUP_NOISE.findall(result.stderr)) == (level == "0")
    assert result.stdout.rstrip().endswith(f"wrote {out}")


# -- custom regularizers come from --plugin, never from the spec ---------------------

PLUGIN = '''
import keras
import specc

@specc.register_regularizer("cli_test_l1")
def cli_test_l1(w, factor=0.01):
    return factor * keras.ops.sum(keras.ops.abs(w))
'''
CUSTOM = HEAD + 'type = "Dense"\nunits = 2\nkernel_regularizer = { custom = "cli_test_l1", factor = 0.5 }\n'


def test_build_with_plugin(cli, tmp_path, monkeypatch):
    spec = write(tmp_path, "custom.toml", CUSTOM)
    out = tmp_path / "custom.keras"
    assert cli("validate", spec).exit_code == 0  # the form is checked, the name is not
    result = cli("build", spec, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{spec}:8:1: layers[1]: unknown custom regularizer 'cli_test_l1'")
    assert not out.exists()

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "cli_test_plugin.py").write_text(PLUGIN)
    result = cli("build", spec, "-o", out, "--plugin", "cli_test_plugin")
    assert result.exit_code == 0, result.output
    assert "kernel=CustomRegularizer" in result.stdout
    import keras

    import specc.building.regularizers  # noqa: F401

    layer = keras.models.load_model(out).layers[1]
    w = layer.kernel.numpy()
    assert float(layer.losses[0]) == pytest.approx(0.5 * abs(w).sum(), rel=1e-6)


def test_unknown_plugin(cli, tmp_path):
    spec = write(tmp_path, "custom.toml", CUSTOM)
    result = cli("build", spec, "--plugin", "no_such_module_for_specc")
    assert result.exit_code == 1
    assert "cannot import plugin 'no_such_module_for_specc'" in result.stderr


# -- validate's fast path (specc/cli/main.py): what typer would print, without typer -------

def _typer(args, capsys):
    """The command line through typer alone: (exit code, stdout, stderr)."""
    from specc.cli.app import app

    with pytest.raises(SystemExit) as exit:
        app([str(a) for a in args], prog_name="specc")
    out, err = capsys.readouterr()
    return exit.value.code, out, err


@pytest.mark.parametrize("args", [
    [SPECS / "cnn.toml"],
    [SPECS / "cnn.toml", SPECS / "tutorial_dropout.toml"],
    ["BAD", SPECS / "cnn.toml", "BAD2"],
    ["--format", "json", SPECS / "cnn.toml"],
    ["--format=json", "BAD", SPECS / "cnn.toml"],
    [SPECS / "cnn.toml", "--format", "text", "BAD"],
    ["--set", "layers[0].filters=0", SPECS / "cnn.toml"],
    ["--set=layers[0].filters=4", "--set", "layers[1].pool_size=3", SPECS / "cnn.toml"],
    ["--format", "json", "--set", "layers.nope.units=1", SPECS / "cnn.toml"],
    [ROOT / "no_such_spec.toml"],
], ids=["one", "two", "bad", "json", "json-bad", "text-bad", "set-bad", "sets", "set-json",
        "missing-file"])
def test_fast_validate_prints_what_typer_prints(tmp_path, capsys, args):
    from specc.cli import validate

    bad = {"BAD": write(tmp_path, "bad.toml", BAD["wrong_type"][0]),
           "BAD2": write(tmp_path, "bad2.toml", BAD["cycle"][0])}
    args = [str(bad.get(a, a)) for a in args]
    code = validate.fast(args)
    out, err = capsys.readouterr()
    assert code is not None, "the fast path should take these arguments"
    assert (code, out, err) == _typer(["validate", *args], capsys)
    assert out or err


@pytest.mark.parametrize("args", [
    [], ["--help"], ["specs/cnn.toml", "--bogus"], ["-x", "specs/cnn.toml"], ["--format"],
    ["specs/cnn.toml", "--format", "xml"], ["--format", "--set", "specs/cnn.toml"],
    ["--set=", "specs/cnn.toml"], ["--", "specs/cnn.toml"], ["-"], [""],
    ["specs/\x1b[31mcnn.toml"], ["specs/cnn.toml", "--set", "a=\n1"],
])
def test_fast_validate_leaves_everything_else_to_typer(args):
    from specc.cli import validate

    assert validate.fast(args) is None


@pytest.mark.parametrize("name", ["validate", "export", "build"])
def test_a_fast_path_takes_only_options_typer_gives_its_command(name):
    """Each spelling a fast path reads is an option of the command in typer, taking a
    value (a flag when the fast path reads it as one; --set alone repeats), and the
    spellings it reads as one option are typer's spellings of one option."""
    import importlib

    import typer.main

    from specc.cli.app import app

    module = importlib.import_module(f"specc.cli.{name}")
    command = typer.main.get_command(app).commands[name]
    options = {spelling: param for param in command.params for spelling in param.opts}
    for spelling in module.OPTIONS:
        assert not options[spelling].is_flag
        assert options[spelling].multiple == (spelling == "--set")
    for spelling in getattr(module, "FLAGS", {}):
        assert options[spelling].is_flag
    read = {**module.OPTIONS, **getattr(module, "FLAGS", {})}
    for spelling, key in read.items():
        same = {s for s, k in read.items() if k == key}
        assert same <= set(options[spelling].opts), (spelling, same)


@pytest.mark.parametrize("args", [["validate", "specs/cnn.toml"], ["--version"]])
def test_validate_and_version_run_without_typer(args):
    """The commands an editor or a hook runs on every save import neither typer nor rich."""
    _, imported = _run_watching(args, {"typer", "click", "rich"})
    assert imported == []


def _run_watching(args: list, watched: set[str]) -> tuple[str, list[str]]:
    """``specc ARGS`` in a fresh process, which must succeed: what it printed, and which
    of the watched top-level modules it imported."""
    code = ("import sys\nfrom specc.cli.main import run\n"
            f"sys.argv = ['specc', *{[str(a) for a in args]!r}]\n"
            "try:\n    run()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {watched!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    printed, _, modules = result.stdout.rstrip("\n").rpartition("\n")
    return printed, ast.literal_eval(modules)


def test_the_command_line_turns_pydantic_plugins_off_unless_told(monkeypatch, capsys):
    """specc's models are its own: its process does not look for pydantic plugins."""
    from specc.cli.main import run

    for name in ("TF_CPP_MIN_LOG_LEVEL", "PYDANTIC_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)  # restored afterwards, as run() changes them
    monkeypatch.setattr(sys, "argv", ["specc", "--version"])
    for given, kept in ((None, "1"), ("logfire", "logfire")):
        if given is not None:
            monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", given)
        with pytest.raises(SystemExit) as exit:
            run()
        assert exit.value.code == 0 and os.environ["PYDANTIC_DISABLE_PLUGINS"] == kept
    assert capsys.readouterr().out == f"specc {specc.__version__}\n{_keras_line()}\n" * 2


# -- export's fast path: the same output, files and exit codes as typer, without typer ------

@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A keras-io example (the simple MNIST convnet, compiled) as a .keras file, and a
    .keras file holding a Lambda layer, which export refuses."""
    import keras

    folder = tmp_path_factory.mktemp("saved")
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.save(folder / "mnist.keras")
    i = keras.Input((4,), name="x")
    keras.Model(i, keras.layers.Lambda(lambda t: t * 2, name="double")(i)).save(
        folder / "lambda.keras")
    (folder / "broken.keras").write_text("not a zip file")
    return folder


@pytest.mark.parametrize("args", [
    ["mnist.keras"],
    ["mnist.keras", "-o", "OUT.toml"],
    ["--output=OUT.json", "mnist.keras"],
    ["mnist.keras", "--output", "OUT.json", "--no-compile"],
    ["mnist.keras", "--factor", "--schema", "../schemas/specc.schema.json"],
    ["--schema=x.json", "mnist.keras", "-o", "elsewhere.toml", "-o", "OUT.toml"],
    ["lambda.keras"],
    ["broken.keras", "-o", "OUT.toml"],
    ["missing.keras"],
], ids=["print", "toml", "json", "no-compile", "factor-schema", "last-o", "lambda", "broken",
        "missing"])
def test_fast_export_does_what_typer_does(saved, tmp_path, capsys, args):
    from specc.cli import export

    args = [str(tmp_path / "OUT").join(a.split("OUT")) if "OUT" in a else
            str(saved / a) if a.endswith(".keras") else a for a in args]
    written = tmp_path / ("OUT.json" if any(a.endswith("OUT.json") for a in args) else "OUT.toml")

    def outcome(code, out, err):
        """The exit code, what was printed and what was written (then removed)."""
        text = written.read_text() if written.exists() else None
        written.unlink(missing_ok=True)
        return code, out, err, text

    code = export.fast(args)
    assert code is not None, "the fast path should take these arguments"
    fast = outcome(code, *capsys.readouterr())
    assert fast == outcome(*_typer(["export", *args], capsys))
    code, out, err, text = fast
    refused = any(word in "".join(args) for word in ("lambda", "broken", "missing"))
    assert code == (1 if refused else 0)
    assert ("problem found" in err) if refused else (out and (text or 'type = "Conv2D"' in out))


@pytest.mark.parametrize("args", [
    [], ["--help"], ["M", "M"], ["M", "--weights", "w.weights.h5"], ["M", "-o", "x.txt"],
    ["M", "-o", "M"], ["M", "-o"], ["M", "-oout.toml"], ["M", "-o=out.toml"], ["M", "--factor=1"],
    ["M", "--max-config-bytes", "10"], ["--", "M"], ["M", "--plugin", "x"], ["M", "--bogus"],
    ["M", "-o", "-x.toml"], ["M", "--schema", ""], ["spec\x1b[31m.keras"],
], ids=str)
def test_fast_export_leaves_everything_else_to_typer(args):
    from specc.cli import export

    assert export.fast(["m.keras" if a == "M" else a for a in args]) is None


def test_export_runs_without_typer(saved):
    printed, imported = _run_watching(["export", saved / "mnist.keras"],
                                      {"typer", "click", "rich", "tensorflow", "keras"})
    assert 'type = "Conv2D"' in printed and imported == []


# -- build's fast path: the same output, file and exit code as typer, without typer ------

@pytest.mark.parametrize("args", [
    ["SPEC", "-o", "OUT.keras"],
    ["--output=OUT.keras", "SPEC"],
    ["SPEC", "--set", "layers[0].units=16", "--set=layers[1].rate=0.25", "-o", "OUT.keras"],
    ["SPEC", "--set", "layers[0].units=0", "-o", "OUT.keras"],
    ["BAD", "-o", "OUT.keras"],
    ["missing.toml", "-o", "OUT.keras"],
], ids=["o", "output", "sets", "set-bad", "bad", "missing"])
def test_fast_build_does_what_typer_does(tmp_path, capsys, args):
    import zipfile

    from specc.cli import build

    bad = write(tmp_path, "bad.toml", BAD["wrong_type"][0])
    args = [str(tmp_path / "OUT").join(a.split("OUT")) if "OUT" in a else
            str(SPECS / "tutorial_dropout.toml") if a == "SPEC" else
            str(bad) if a == "BAD" else str(tmp_path / a) if a.endswith(".toml") else a
            for a in args]
    written = tmp_path / "OUT.keras"

    def outcome(code, out, err):
        """The exit code, what was printed and the spec the .keras file records (then removed)."""
        recorded = None
        if written.exists():
            with zipfile.ZipFile(written) as archive:
                recorded = [n for n in archive.namelist() if n.endswith(".toml")]
            written.unlink()
        return code, out, err, recorded

    code = build.fast(args)
    assert code is not None, "the fast path should take these arguments"
    fast = outcome(code, *capsys.readouterr())
    assert fast == outcome(*_typer(["build", *args], capsys))
    code, out, err, recorded = fast
    refused = any(word in " ".join(args) for word in ("units=0", "bad.toml", "missing.toml"))
    assert code == (1 if refused else 0)
    assert ("problem found" in err and recorded is None) if refused else (
        f"wrote {written}" in out and recorded)


@pytest.mark.parametrize("args", [
    [], ["--help"], ["S", "S"], ["S", "--weights", "w.weights.h5"], ["S", "-o", "x.h5"],
    ["S", "-o", "S"], ["S", "-o"], ["S", "-oout.keras"], ["S", "-o=out.keras"],
    ["S", "--plugin", "x"], ["S", "--max-params", "10"], ["S", "--dtype-policy", "float32"],
    ["S", "--strategy", "mirrored"], ["S", "--bogus"], ["--", "S"], ["S", "--set="],
    ["spec\x1b[31m.toml"],
], ids=str)
def test_fast_build_leaves_everything_else_to_typer(args):
    from specc.cli import build

    assert build.fast(["specs/cnn.toml" if a == "S" else a for a in args]) is None


def test_build_runs_without_typer(tmp_path):
    out = tmp_path / "out.keras"
    printed, imported = _run_watching(["build", "specs/tutorial_dropout.toml", "-o", out],
                                      {"typer", "click"})
    assert f"wrote {out}" in printed and imported == []


def test_build_summary_shows_names_that_look_like_markup_as_written(tmp_path):
    spec = write(tmp_path, "m.toml", '[model]\nname = "[red]m"\n\n[[inputs]]\nshape = [4]\n\n'
                 '[[layers]]\ntype = "Dense"\nname = "[bold]d"\nunits = 2\n')
    result = run_specc("build", spec, "-o", tmp_path / "m.keras")
    assert result.returncode == 0, result.stderr
    assert "Model: [red]m" in result.stdout and "│ [bold]d │" in result.stdout, result.stdout
