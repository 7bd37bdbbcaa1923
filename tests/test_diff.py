"""specc diff: two models (TOML, JSON, .keras) compared through one normal form.

Each folder of tests/diff holds a, b and the exact output of ``specc diff a b``
(expected.txt, expected.json). SPECC_REGEN_GOLDEN=1 rewrites them from what
specc prints now; review the change before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import specc
from conftest import ROOT, run_specc, spec_files
from specc.reporting.diff import diff_models

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in (HERE / "diff").iterdir() if p.is_dir())
REGEN = os.environ.get("SPECC_REGEN_GOLDEN") == "1"


def sides(case: Path) -> list[str]:
    return sorted(p.name for p in case.iterdir() if p.stem in ("a", "b"))


def golden(path: Path, text: str) -> str:
    if REGEN:
        path.write_text(text)
    return path.read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_text(case):
    result = run_specc("diff", *sides(case), cwd=case, COLUMNS="80")
    expected = golden(case / "expected.txt", result.stdout)
    assert result.stdout == expected
    assert result.stderr == ""
    assert result.returncode == (0 if expected.startswith("same: ") else 1)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_json(case):
    result = run_specc("diff", "--format", "json", *sides(case), cwd=case)
    assert result.stdout == golden(case / "expected.json", result.stdout)
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["same"] else 1)
    assert report["same"] == (report["changes"] == [])


def test_the_expected_reports():
    """What each golden file says, in words: the cases the diff exists for."""
    def changes(case):
        return json.loads((HERE / "diff" / case / "expected.json").read_text())["changes"]

    assert [(c["change"], c["layer"], c.get("key"), c["a"], c["b"]) for c in changes("argument")] \
        == [("argument", "dense", "units", 64, 128)]
    assert [(c["change"], c["layer"], c["a"], c["b"]) for c in changes("renamed")] == \
        [("renamed", "scores", "probs", "scores")]
    # An inserted Dense takes the default name "dense": the old one is renamed, not changed.
    assert [(c["change"], c["layer"]) for c in changes("inserted")] == \
        [("added", "dense"), ("renamed", "dense_1"), ("wiring", "dense_1")]
    assert changes("inserted")[0]["b"] == {"inputs": ["pixels"], "units": 256, "activation": "relu"}
    assert [(c["change"], c["layer"], c["type"]) for c in changes("wiring")] == [
        ("wiring", "right", "Dense"), ("removed", "merged", "Concatenate"),
        ("added", "merged", "Add"), ("added", "dropout", "Dropout"), ("wiring", "out", "Dense")]
    assert changes("same_across_formats") == []
    # Parameters of each changed layer and in total, counted without Keras.
    assert [c["params"] for c in changes("argument")] == [[50240, 100480]]
    assert [c.get("params") for c in changes("wiring")] == [[136, 72], [0, None], [None, 0],
                                                            [None, 0], [17, 9]]
    totals = json.loads((HERE / "diff" / "inserted" / "expected.json").read_text())["params"]
    assert totals == {"a": 784 * 64 + 64 + 64 * 10 + 10,
                      "b": 784 * 256 + 256 + 256 * 64 + 64 + 64 * 10 + 10}


@pytest.mark.parametrize("path", spec_files(), ids=lambda p: p.name)
def test_a_spec_and_the_keras_file_built_from_it_are_the_same(path, tmp_path):
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    built = tmp_path / "model.keras"
    specc.build(specc.load(path)).save(built)
    result = diff_models(path, built)
    assert [c.as_dict() for c in result.changes] == []


def test_cli_says_same_for_a_spec_and_its_keras_file(tmp_path):
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    built = tmp_path / "dropout.keras"
    specc.build(specc.load(ROOT / "specs" / "tutorial_dropout.toml")).save(built)
    result = run_specc("diff", "specs/tutorial_dropout.toml", built)
    assert (result.returncode, result.stdout) == (
        0, f"same: specs/tutorial_dropout.toml and {built} describe the same model\n")
    json_result = run_specc("diff", "--format", "json", built, "specs/tutorial_dropout.toml")
    assert json.loads(json_result.stdout)["same"] is True and json_result.returncode == 0


def test_changes_show_against_the_keras_file(tmp_path):
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    case = HERE / "diff" / "inserted"
    built = tmp_path / "a.keras"
    specc.build(specc.load(case / "a.toml")).save(built)
    from_spec = diff_models(case / "a.toml", case / "b.toml")
    from_keras = diff_models(built, case / "b.toml")
    assert from_keras.as_dict()["changes"] == from_spec.as_dict()["changes"]


def test_usage_errors_exit_2(tmp_path):
    case = HERE / "diff" / "argument"
    assert run_specc("diff", "a.toml", cwd=case).returncode == 2
    bad_format = run_specc("diff", "a.toml", "b.toml", "--format", "yaml", cwd=case)
    assert bad_format.returncode == 2 and "expected 'text' or 'json'" in bad_format.stderr
    (tmp_path / "model.txt").write_text("")
    wrong = run_specc("diff", "model.txt", case / "a.toml", cwd=tmp_path)
    assert (wrong.returncode, wrong.stderr) == (
        2, "model.txt: unsupported model format: expected .toml, .json or .keras\n1 problem found\n")
    invalid = tmp_path / "bad.toml"
    invalid.write_text('[[inputs]]\nshape = [4]\n[[layers]]\ntype = "Dence"\n')
    refused = run_specc("diff", "bad.toml", case / "a.toml", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("bad.toml:4:8: layers[0].type: unknown layer type 'Dence'")
    (tmp_path / "broken.keras").write_text("not a zip")
    assert run_specc("diff", "broken.keras", case / "a.toml", cwd=tmp_path).returncode == 2


def test_two_specs_are_compared_without_tensorflow():
    code = ("import sys; import specc; d = specc.diff_models('tests/diff/inserted/a.toml', "
            "'tests/diff/inserted/b.toml'); assert not d.same; "
            "assert not {'tensorflow', 'keras'} & set(sys.modules), sorted(sys.modules)")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_python_api():
    result = specc.diff_models(HERE / "diff" / "renamed" / "a.toml", HERE / "diff" / "renamed" / "b.toml")
    assert not result.same
    assert [c.kind for c in result.changes] == ["renamed"]
    assert "diff_models" in specc.__all__


def test_readme_shows_what_specc_diff_really_prints():
    import re

    shown = re.search(r"^```console\n\$ specc diff (\S+) (\S+)\n(.*?)^```",
                      (ROOT / "README.md").read_text(), re.M | re.S)
    assert shown is not None, "the README shows a specc diff run"
    result = run_specc("diff", shown[1], shown[2], COLUMNS="80")
    assert result.returncode == 1
    assert result.stdout == shown[3]


CORPUS = sorted(p for p in (HERE / "corpus" / "valid").iterdir() if p.suffix in (".toml", ".json"))


@pytest.mark.slow
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_valid_corpus_spec_equals_its_keras_file(path, tmp_path):
    # Caught here: Hashing's own default dtype (int64) reported as a change
    # (corpus/valid/hashing.toml), a model inside TimeDistributed crashing the comparison.
    keras = pytest.importorskip("keras")
    if path.name == "regularizer_custom.toml":
        pytest.skip("builds only with its plugin registered")
    keras.backend.clear_session()
    built = tmp_path / "model.keras"
    specc.build(specc.load(path)).save(built)
    changes = [c.as_dict() for c in diff_models(path, built).changes]
    assert changes == KERAS_LOSES.get(path.name, [])


# What a .keras file really loses of a spec, so diff rightly reports it: Keras's
# Huber.get_config() does not save delta, and the loss comes back with delta = 1.0.
KERAS_LOSES = {
    "compile_per_output_objects.json": [
        {"change": "compile", "key": "loss",
         "a": {"score": {"type": "Huber", "delta": 2.0}, "label": "ce"},
         "b": {"score": {"type": "Huber"}, "label": "ce"}}],
}


def diff_texts(tmp_path, a: str, b: str) -> list[dict]:
    (tmp_path / "a.toml").write_text(a)
    (tmp_path / "b.toml").write_text(b)
    return [c.as_dict() for c in diff_models(tmp_path / "a.toml", tmp_path / "b.toml").changes]


DENSE_PAIR = '[[inputs]]\nshape = [8]\n\n[[layers]]\ntype = "Dense"\nunits = 4\n{}\n' \
             '[[layers]]\ntype = "Dense"\nunits = 2\n{}\n'


def test_build_dtype_policy_is_each_layers_dtype(tmp_path):
    policy = DENSE_PAIR.format("", "") + '[build]\ndtype_policy = "mixed_float16"\n'
    per_layer = DENSE_PAIR.format('dtype = "mixed_float16"', 'dtype = "mixed_float16"')
    assert diff_texts(tmp_path, policy, per_layer) == []
    # A layer's own dtype wins over the policy, as in Keras.
    own = DENSE_PAIR.format("", 'dtype = "float32"') + '[build]\ndtype_policy = "mixed_float16"\n'
    assert diff_texts(tmp_path, own, per_layer) == [
        {"change": "argument", "layer": "dense_1", "type": "Dense", "key": "dtype",
         "b": "mixed_float16", "params": [10, 10]}]


COMPILED = '[[inputs]]\nshape = [8]\n\n[[layers]]\ntype = "Dense"\nunits = 10\n\n[compile]\n{}\n'


def test_compile_defaults_written_or_left_out_are_the_same(tmp_path):
    written = COMPILED.format(
        'optimizer = { type = "SGD", learning_rate = { type = "CosineDecay", '
        'initial_learning_rate = 0.1, decay_steps = 100, alpha = 0.0 } }\n'
        'loss = { type = "SparseCategoricalCrossentropy", from_logits = false }\n'
        'metrics = [{ type = "SparseTopKCategoricalAccuracy", k = 5 }]\n'
        'run_eagerly = false\nsteps_per_execution = 1\njit_compile = "auto"')
    left_out = COMPILED.format(
        'optimizer = { type = "SGD", learning_rate = { type = "CosineDecay", '
        'initial_learning_rate = 0.1, decay_steps = 100 } }\n'
        'loss = { type = "SparseCategoricalCrossentropy" }\n'
        'metrics = [{ type = "SparseTopKCategoricalAccuracy" }]\njit_compile = false')
    assert diff_texts(tmp_path, written, left_out) == []


def test_compile_values_other_than_the_defaults_are_reported(tmp_path):
    a = COMPILED.format('loss = "mse"\nmetrics = [{ type = "SparseTopKCategoricalAccuracy", k = 3 }]\n'
                        'jit_compile = true')
    b = COMPILED.format('loss = "mse"\nmetrics = [{ type = "SparseTopKCategoricalAccuracy", k = 5 }]\n'
                        'jit_compile = "auto"')
    assert diff_texts(tmp_path, a, b) == [
        {"change": "compile", "key": "metrics", "a": [{"type": "SparseTopKCategoricalAccuracy", "k": 3}],
         "b": [{"type": "SparseTopKCategoricalAccuracy"}]},
        {"change": "compile", "key": "jit_compile", "a": True},  # "auto": Keras decides, false here
    ]


def test_a_spec_under_a_dtype_policy_and_its_keras_file_are_the_same(tmp_path):
    """Keras saves the policy on every layer, the wrapped LSTM included; export and diff
    read it back as [build] dtype_policy."""
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    spec = tmp_path / "policy.toml"
    spec.write_text('[[inputs]]\nshape = [5, 3]\n\n[[layers]]\ntype = "Bidirectional"\n'
                    'layer = { type = "LSTM", units = 4 }\n\n[[layers]]\ntype = "Dense"\nunits = 2\n\n'
                    '[build]\ndtype_policy = "mixed_bfloat16"\n')
    built = tmp_path / "policy.keras"
    specc.build(specc.load(spec)).save(built)
    assert [c.as_dict() for c in diff_models(spec, built).changes] == []
    from specc.exporting.export import export_file

    exported = export_file(built)
    assert exported.build.dtype_policy == "mixed_bfloat16"
    assert (exported.layers[0].dtype, exported.layers[0].layer.dtype) == (None, None)


def test_names_that_look_like_markup_are_shown_as_written(tmp_path):
    """rich reads "[bold]" in a string as markup: names and titles are passed as text."""
    head = '[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nname = "[bold]d"\nunits = '
    (tmp_path / "[red]a.toml").write_text(head + "2\n")
    (tmp_path / "b.toml").write_text(head + "3\n")
    result = run_specc("diff", "[red]a.toml", "b.toml", cwd=tmp_path, COLUMNS="120")
    assert result.returncode == 1, result.stderr
    assert "[red]a.toml -> b.toml" in result.stdout and "[bold]d" in result.stdout, result.stdout
