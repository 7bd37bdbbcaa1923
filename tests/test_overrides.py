"""--set PATH=VALUE overrides: paths, values, every command, messages naming the argument."""

import json
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest

import specc
from conftest import ROOT, SPECS, run_specc
from specc.reading.overrides import parse

COMBINED = SPECS / "tutorial_combined.toml"  # dense, dropout, dense_1, dropout_1, probs


def test_the_four_forms_of_the_issue():
    spec = specc.load(COMBINED, overrides=[
        "layers.dense_1.units=128",
        "layers[3].rate=0.3",
        "compile.optimizer.learning_rate=1e-4",
        "layers.*.kernel_regularizer={ l2 = 0.001 }",
    ])
    dense, dropout, dense_1, dropout_1, probs = spec.layers
    assert (dense.units, dense_1.units, probs.units) == (64, 128, 10)
    assert (dropout.rate, dropout_1.rate) == (0.5, 0.3)
    assert spec.compile.optimizer.learning_rate == 1e-4
    assert spec.compile.optimizer.type == "Adam"
    # every layer that takes a kernel regularizer, and no Dropout
    assert [layer.model_dump(exclude_unset=True).get("kernel_regularizer")
            for layer in spec.layers] == [{"l2": 0.001}, None, {"l2": 0.001}, None, {"l2": 0.001}]


def test_the_file_is_not_changed():
    before = COMBINED.read_bytes()
    specc.load(COMBINED, overrides=["layers.dense.units=1"])
    assert COMBINED.read_bytes() == before
    assert specc.load(COMBINED).layers[0].units == 64


@pytest.mark.parametrize("text, keys, value", [
    ("layers.dense_1.units=128", ("layers", "dense_1", "units"), 128),
    ("layers[3].rate=0.3", ("layers", 3, "rate"), 0.3),
    ("layers[-1].activation=relu", ("layers", -1, "activation"), "relu"),
    ('layers.*.kernel_regularizer={ l2 = 0.001 }', ("layers", "*", "kernel_regularizer"),
     {"l2": 0.001}),
    ('inputs[0].shape=["None", 16]', ("inputs", 0, "shape"), ["None", 16]),
    ('model."name"="a b"', ("model", "name"), "a b"),
    ("compile.metrics=[]", ("compile", "metrics"), []),
    ("layers.dense.use_bias=false", ("layers", "dense", "use_bias"), False),
], ids=lambda v: v if isinstance(v, str) else None)
def test_parse(text, keys, value):
    override = parse(text)
    assert (override.keys, override.value) == (keys, value)


def test_names_are_kerass_default_names_and_written_names():
    spec = specc.load(COMBINED, overrides=["layers.probs.units=3", "layers.dropout_1.rate=0.1",
                                           "inputs.pixels.shape=[28]"])
    assert (spec.layers[4].units, spec.layers[3].rate, spec.inputs[0].shape) == (3, 0.1, [28])


def test_a_name_becomes_a_table_to_set_one_argument():
    spec = specc.load(SPECS / "cnn.toml", overrides=["layers.conv2d.kernel_initializer.seed=3"])
    assert spec.layers[0].kernel_initializer.model_dump(exclude_unset=True) == \
        {"type": "he_normal", "seed": 3}
    spec = specc.load(SPECS / "functional_multi_input.json",  # optimizer = "adam"
                      overrides=["compile.optimizer.learning_rate=0.01"])
    assert (spec.compile.optimizer.type, spec.compile.optimizer.learning_rate) == ("Adam", 0.01)


def test_a_missing_section_is_made():
    spec = specc.load(SPECS / "cnn.toml", overrides=[
        'compile.optimizer={ type = "SGD", momentum = 0.9 }', 'compile.loss="mse"'])
    assert (spec.compile.optimizer.type, spec.compile.optimizer.momentum,
            spec.compile.loss) == ("SGD", 0.9, "mse")


def test_later_overrides_win():
    spec = specc.load(COMBINED, overrides=["layers.dense.units=1", "layers[0].units=2"])
    assert spec.layers[0].units == 2


# -- golden messages through the command line ------------------------------------------

SPEC = "specs/tutorial_combined.toml"
GOLDEN = {
    "unknown layer name": (
        ["layers.dens_1.units=128"],
        f"{SPEC}: --set layers.dens_1.units=128: no layer named 'dens_1' in layers. "
        "Did you mean 'dense_1'?"),
    "index out of range": (
        ["layers[7].rate=0.3"],
        f"{SPEC}: --set layers[7].rate=0.3: index 7 is out of range: layers has 5 entries"),
    "path into a value": (
        ["compile.loss.reduction=sum"],
        f"{SPEC}: --set compile.loss.reduction=sum: compile.loss is "
        "'sparse_categorical_crossentropy', not a table"),
    "path syntax": (
        ["layers[x].rate=0.3"],
        f"{SPEC}: --set layers[x].rate=0.3: cannot read the path at '[x].rate': expected "
        "name.name, [index] or *"),
    "no equals sign": (
        ["layers.dense.units"],
        f"{SPEC}: --set layers.dense.units: expected PATH=VALUE, such as layers.dense.units=128"),
    "no layer takes it": (
        ["layers.*.unitz=4"], f"{SPEC}: --set layers.*.unitz=4: no layer takes 'unitz'"),
    "bad value type": (
        ["layers.dense_1.units=abc"],
        f"{SPEC}: --set layers.dense_1.units=abc: layers[2].units: expected an integer, "
        "received 'abc'"),
    "bad value range": (
        ["layers[3].rate=1.5"],
        f"{SPEC}: --set layers[3].rate=1.5: layers[3].rate: expected a finite number < 1, "
        "received 1.5"),
    "bad TOML value": (
        ["layers.*.kernel_regularizer={ l2 = }"],
        f"{SPEC}: --set layers.*.kernel_regularizer={{ l2 = }}: invalid TOML value "
        "'{ l2 = }': Invalid value"),
    "unknown argument set": (
        ["layers.dense.use_bais=false"],
        f"{SPEC}: --set layers.dense.use_bais=false: layers[0].use_bais: unknown argument "
        "'use_bais' for Dense. Did you mean 'use_bias'?"),
    "two at once": (
        ["layers.dense.units=0", "layers.probs.activation=rellu"],
        f"{SPEC}: --set layers.dense.units=0: layers[0].units: expected an integer >= 1, "
        "received 0\n"
        f"{SPEC}: --set layers.probs.activation=rellu: layers[4].activation: unknown "
        "activation 'rellu'. Did you mean 'relu'?"),
}


@pytest.mark.parametrize("case", GOLDEN)
def test_golden_messages(cli, case):
    sets, expected = GOLDEN[case]
    result = cli("validate", SPEC, *[a for s in sets for a in ("--set", s)])
    assert result.exit_code == 1
    count = len(expected.splitlines())
    assert result.stderr == f"{expected}\n{count} problem{'s' if count > 1 else ''} found\n"


def test_a_file_problem_keeps_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(COMBINED.read_text().replace("rate = 0.5", "rate = 2.5", 1))
    result = run_specc("validate", bad, "--set", "layers.dense.units=x")
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        f"{bad}: --set layers.dense.units=x: layers[0].units: expected an integer, received 'x'",
        f"{bad}:20:8: layers[1].rate: expected a finite number < 1, received 2.5",
    ]


def test_json_report_names_the_argument():
    result = run_specc("validate", SPEC, "--format", "json", "--set", "layers.dens.units=1")
    assert result.returncode == 1
    assert json.loads(result.stdout) == [{
        "file": SPEC, "line": None, "column": None, "path": "",
        "message": "no layer named 'dens' in layers", "suggestion": "dense",
        "override": "--set layers.dens.units=1"}]


def test_summary_with_set():
    result = run_specc("summary", SPEC, "--format", "json", "--set", "layers.dense_1.units=128")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["layers"]}
    assert rows["dense_1"]["output_shape"] == [None, 128]
    assert rows["dense_1"]["params"] == 64 * 128 + 128


def test_validate_applies_overrides_to_every_spec():
    result = run_specc("validate", SPEC, "specs/cnn.toml", "--set", "layers[1].rate=0.25")
    assert result.returncode == 1  # cnn's layers[1] is a BatchNormalization
    assert result.stderr.splitlines()[0] == (
        "specs/cnn.toml: --set layers[1].rate=0.25: layers[1].rate: unknown argument 'rate' "
        "for BatchNormalization")


def test_build_records_the_final_spec(tmp_path):
    out = tmp_path / "m.keras"
    result = run_specc("build", SPEC, "-o", out, "--set", "layers.dense_1.units=128",
                        "--set", "compile.optimizer.learning_rate=1e-4")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        recorded = archive.read("specc.toml").decode()
    copy = tmp_path / "recorded.toml"
    copy.write_text(recorded)
    expected = specc.load(COMBINED, overrides=["layers.dense_1.units=128",
                                               "compile.optimizer.learning_rate=1e-4"])
    assert specc.load(copy).model_dump() == expected.model_dump()
    check = ("import keras, sys; m = keras.models.load_model(sys.argv[1]); "
             "print(m.get_layer('dense_1').units, round(float(m.optimizer.learning_rate), 9))")
    loaded = subprocess.run([sys.executable, "-c", check, str(out)], capture_output=True,
                            text=True, cwd=ROOT)
    assert loaded.stdout.split()[-2:] == ["128", "0.0001"], loaded.stderr


def test_readme_example():
    block = re.search(r"^```console\n\$ specc validate (specs/\S+) (--set .*?)\n(.*?)^```",
                      (ROOT / "README.md").read_text(), re.M | re.S)
    assert block is not None, "the README shows a --set run"
    spec, sets, printed = block.groups()
    args = re.findall(r"--set (\S+)", sets)
    result = run_specc("validate", spec, *[a for s in args for a in ("--set", s)])
    assert result.stdout + result.stderr == printed


def test_docs_examples_are_what_specc_prints():
    docs = (ROOT / "docs" / "spec-format.md").read_text()
    section = docs[docs.index("## Overrides"):docs.index("## Supported layers")]
    lines = re.search(r"```text\n(.*?)```", section, re.S).group(1).splitlines()
    assert len(lines) == 3
    for line in lines:
        spec, arg = re.match(r"(\S+): --set (\S+): ", line).groups()
        result = run_specc("validate", spec, "--set", arg)
        assert result.stderr.splitlines()[0] == line


EXPANDING = """\
[constants]
width = 8

[[inputs]]
shape = [4]

[defaults.Dense]
activation = "relu"

[[layers]]
type = "Dense"
units = "{width}"

[[layers]]
type = "Dense"
units = 2
"""


def test_expand_with_set(tmp_path):
    # Overrides change the spec as written, before expansion: a constant, a layer's value.
    path = tmp_path / "blocks.toml"
    path.write_text(EXPANDING)
    result = run_specc("expand", path, "--set", "constants.width=3", "--set", "layers.dense_1.units=5")
    assert result.returncode == 0, result.stderr
    flat = tomllib.loads(result.stdout)
    assert [(layer["units"], layer["activation"]) for layer in flat["layers"]] == [(3, "relu"), (5, "relu")]
    bad = run_specc("expand", path, "--set", "layers.dense_1.units=-1")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == (f"{path}: --set layers.dense_1.units=-1: layers[1].units: "
                          "expected an integer >= 1, received -1\n1 problem found\n")
