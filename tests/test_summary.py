"""`specc summary` through the real command line: golden text and JSON, exit codes,
unknown layers, and no TensorFlow import. (tests/test_shapes.py checks the numbers
against Keras.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import specc
from conftest import ROOT, run_specc

GOLDEN = ROOT / "tests" / "golden"
# spec -> its golden files, tests/golden/NAME.summary.txt and .json; after an
# intended change: python -m specc summary SPEC [--format json] > tests/golden/NAME.summary.txt|json
CASES = ["specs/cnn.toml", "specs/functional_multi_input.json",
         "tests/corpus/valid/shared_layer_apply.toml"]


def _golden(spec: str, suffix: str) -> str:
    name = spec.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return (GOLDEN / f"{name}.summary.{suffix}").read_text()


@pytest.mark.parametrize("spec", CASES)
def test_text_is_golden(spec):
    result = run_specc("summary", spec)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == _golden(spec, "txt")


@pytest.mark.parametrize("spec", CASES)
def test_json_is_golden(spec):
    result = run_specc("summary", spec, "--format", "json")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == _golden(spec, "json")
    data = json.loads(result.stdout)
    assert data["total"] == sum(row["params"] for row in data["layers"])


def test_summary_does_not_import_tensorflow():
    code = ("import runpy, sys\n"
            "sys.argv = ['specc', 'summary', 'specs/rnn.toml']\n"
            "try:\n    runpy.run_module('specc', run_name='__main__')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Total params: 52,593" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"


UNKNOWN = """\
[[inputs]]
shape = [16000]

[[layers]]
type = "MelSpectrogram"

[[layers]]
type = "Dense"
units = 4
"""


def test_unknown_layer_is_a_question_mark_with_its_reason(tmp_path):
    path = tmp_path / "audio.toml"
    path.write_text(UNKNOWN)
    result = run_specc("summary", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["input_layer", "InputLayer", "(None,", "16000)", "0"]
    assert lines[3].split(None, 4) == ["mel_spectrogram", "MelSpectrogram", "?", "?",
                                       "specc has no shape rule for MelSpectrogram"]
    assert lines[4].split(None, 4) == ["dense", "Dense", "?", "?",
                                       "the shape of its input 'mel_spectrogram' is unknown"]
    assert lines[5:] == ["Total params: 0 (partial: 2 layers unknown)",
                         "Trainable params: 0 (partial: 2 layers unknown)",
                         "Non-trainable params: 0 (partial: 2 layers unknown)"]
    data = json.loads(run_specc("summary", path, "--format", "json").stdout)
    assert (data["partial"], data["unknown"]) == (True, ["mel_spectrogram", "dense"])
    assert data["layers"][1]["output_shape"] is None and data["layers"][1]["params"] is None


def test_invalid_spec_exits_1_with_its_problems(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dence"\n')
    result = run_specc("summary", path)
    assert result.returncode == 1 and result.stdout == ""
    assert f"{path}:5:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?" in result.stderr


def test_bad_format_is_a_usage_error():
    result = run_specc("summary", "specs/cnn.toml", "--format", "yaml")
    assert result.returncode == 2
    assert "expected 'text' or 'json'" in result.stderr


def test_python_api():
    summary = specc.summary(specc.load(ROOT / "specs" / "cnn.toml"))
    assert (summary.total, summary.trainable, summary.non_trainable) == (16394, 16362, 32)
    assert [row.name for row in summary.layers][:2] == ["input_layer", "conv2d"]
    assert "summary" in specc.__all__ and "draw" in specc.__all__


def test_readme_shows_what_specc_summary_prints():
    import re

    block = re.search(r"^```console\n\$ specc summary (\S+)\n(.*?)^```", (ROOT / "README.md").read_text(),
                      re.M | re.S)
    assert block is not None, "the README shows a specc summary run"
    result = run_specc("summary", block[1])
    assert (result.returncode, result.stdout) == (0, block[2])
