"""specc fmt: one canonical layout, every comment kept, idempotent, never touching a bad spec."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import specc
from conftest import run_specc, spec_files
from specc.errors import SpecError
from specc.writing.fmt import format_text

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "valid"
EVERY_SPEC = spec_files() + sorted(p for p in CORPUS.iterdir() if p.suffix in (".toml", ".json"))
MESSY = sorted((HERE / "fmt").glob("*.toml")) + sorted((HERE / "fmt").glob("*.json"))


def comments(text: str) -> list[str]:
    """Every TOML comment in the text, found by a scan that skips strings."""
    found, i = [], 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            delim = c * 3 if text.startswith(c * 3, i) else c
            i += len(delim)
            while i < len(text) and not text.startswith(delim, i):
                i += 2 if c == '"' and text[i] == "\\" else 1
            i += len(delim)
        elif c == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            found.append(text[i:end])
            i = end
        else:
            i += 1
    return found


def read(text: str, fmt: str):
    return tomllib.loads(text) if fmt == "toml" else json.loads(text)


@pytest.mark.parametrize("path", EVERY_SPEC, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_idempotent_keeps_data_and_every_comment(path):
    text = path.read_text()
    fmt = path.suffix[1:]
    once = format_text(text, fmt, str(path))
    assert format_text(once, fmt, str(path)) == once
    assert read(once, fmt) == read(text, fmt)
    if fmt == "toml":
        assert Counter(comments(once)) == Counter(comments(text))
        assert comments(text) == [] or len(comments(once)) == len(comments(text)) > 0


def test_the_comment_counter_counts():
    assert comments('a = "#no" # yes\n# two\nb = \'#\'  # three\nc = """\n#x\n"""\n') == [
        "# yes", "# two", "# three"]


@pytest.mark.parametrize("path", MESSY, ids=lambda p: p.name)
def test_golden_layout(path):
    expected = Path(f"{path}.expected").read_text()
    assert format_text(path.read_text(), path.suffix[1:], str(path)) == expected


def test_comments_stay_with_what_they_describe():
    out = (HERE / "fmt" / "messy.toml.expected").read_text()
    assert out.startswith("#:schema ../../schemas/specc.schema.json\n"
                          "# File header, set apart by a blank line.\n\n# model comes last here\n[model]\n")
    assert "# About the inputs.\n[[inputs]]   # the only input\nshape = [784]    # flattened\n" in out
    assert "units = 64          # aligned\n# the activation first\nactivation = \"relu\"\n" in out
    assert "# under the last key\n\n# Dropout next.\n[[layers]]\ntype = \"Dropout\"\n" in out
    assert "    1,  # one\n" in out  # an array holding comments is kept as written
    assert "# About compile, written before the layers.\n[compile]\n" in out
    assert out.endswith("\n# The end.\n")


def test_layer_keys_in_keras_signature_order():
    text = ('[[inputs]]\nshape = [8, 8, 3]\n[[layers]]\npadding = "same"\nkernel_size = 3\n'
            'name = "c"\nactivation = "relu"\nfilters = 4\ntype = "Conv2D"\nstrides = 1\n')
    keys = [line.split(" = ")[0] for line in format_text(text).splitlines()[4:]]
    assert keys == ["type", "name", "filters", "kernel_size", "strides", "padding", "activation"]


def test_short_tables_inline_long_ones_as_sub_tables():
    long_layer = ", ".join(f"{k} = 0.25" for k in ("dropout", "recurrent_dropout")) + \
        ", return_sequences = true, kernel_initializer = \"glorot_uniform\", unit_forget_bias = true"
    text = ('[[inputs]]\nshape = [4, 3]\n[[layers]]\ntype = "Bidirectional"\n'
            f'layer = {{ type = "LSTM", units = 1234567, {long_layer} }}\n'
            '[[layers]]\ntype = "Dense"\nunits = 2\n[layers.kernel_regularizer]\nl2 = 1e-2\n')
    out = format_text(text)
    assert "[layers.layer]\ntype = \"LSTM\"\nunits = 1234567\n" in out
    assert "kernel_regularizer = { l2 = 0.01 }\n" in out
    assert read(out, "toml") == read(text, "toml")


def test_numbers_written_as_python_writes_them():
    text = ('[[inputs]]\nshape = [1_000]\n[[layers]]\ntype = "Dense"\nunits = 0x10\n'
            "kernel_regularizer = { l1 = 1E-5, l2 = 1.50e-1 }\n")
    assert "shape = [1000]\n" in format_text(text)
    assert "units = 16\nkernel_regularizer = { l1 = 1e-05, l2 = 0.15 }\n" in format_text(text)


def test_an_invalid_spec_is_refused():
    with pytest.raises(SpecError) as caught:
        format_text('[[inputs]]\nshape = [4]\n[[layers]]\ntype = "Dence"\n', "toml", "bad.toml")
    assert str(caught.value) == "bad.toml:4:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?"


def test_python_api():
    assert "format_text" in specc.__all__ and "format_file" in specc.__all__
    result = specc.format_file(HERE / "fmt" / "messy.toml", write=False)
    assert result.changed and result.after == (HERE / "fmt" / "messy.toml.expected").read_text()


# -- the command line -------------------------------------------------------------------

@pytest.fixture
def messy(tmp_path):
    path = tmp_path / "messy.toml"
    shutil.copy(HERE / "fmt" / "messy.toml", path)
    path.chmod(0o640)
    return path


def test_cli_rewrites_in_place_keeping_the_mode(messy):
    result = run_specc("fmt", messy.name, cwd=messy.parent)
    assert (result.returncode, result.stdout) == (0, "reformatted messy.toml\n"), result.stderr
    assert result.stderr == "1 file reformatted, 0 files already formatted\n"
    assert messy.read_text() == (HERE / "fmt" / "messy.toml.expected").read_text()
    assert messy.stat().st_mode & 0o777 == 0o640
    again = run_specc("fmt", messy.name, cwd=messy.parent)
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr == "0 files reformatted, 1 file already formatted\n"
    assert sorted(os.listdir(messy.parent)) == ["messy.toml"]  # no temporary file left


def test_cli_check_lists_what_would_change_and_changes_nothing(messy):
    before = messy.read_text()
    result = run_specc("fmt", "--check", messy, *spec_files())
    assert result.returncode == 1
    assert result.stdout == f"would reformat {messy}\n"
    assert result.stderr == (f"1 file would be reformatted, {len(spec_files())} files already "
                             "formatted\n")
    assert messy.read_text() == before


def test_specs_are_formatted():
    result = run_specc("fmt", "--check", *spec_files())
    assert result.returncode == 0, result.stdout


def test_cli_diff_shows_the_change(messy):
    before = messy.read_text()
    result = run_specc("fmt", "--diff", messy.name, cwd=messy.parent)
    assert result.returncode == 1
    expected = "".join(difflib.unified_diff(
        before.splitlines(keepends=True),
        (HERE / "fmt" / "messy.toml.expected").read_text().splitlines(keepends=True),
        fromfile="messy.toml", tofile="messy.toml"))
    assert result.stdout == expected
    assert "+# model comes last here\n+[model]\n" in result.stdout
    assert messy.read_text() == before


def test_cli_never_rewrites_an_invalid_spec(tmp_path, messy):
    bad = tmp_path / "bad.toml"
    text = '[[inputs]]\nshape = [ 4 ]\n\n[[layers]]\ntype = "Dence"\n'
    bad.write_text(text)
    result = run_specc("fmt", "bad.toml", "messy.toml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "bad.toml:5:8: layers[0].type: unknown layer type 'Dence'. Did you mean 'Dense'?\n"
        "1 problem found\n1 file reformatted, 0 files already formatted\n")
    assert bad.read_text() == text
    assert result.stdout == "reformatted messy.toml\n"  # the others are still formatted


def test_cli_json(tmp_path):
    path = tmp_path / "messy.json"
    shutil.copy(HERE / "fmt" / "messy.json", path)
    assert run_specc("fmt", path).returncode == 0
    assert path.read_text() == (HERE / "fmt" / "messy.json.expected").read_text()


def test_cli_missing_file_and_usage(tmp_path):
    missing = run_specc("fmt", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.startswith("nope.toml: cannot read spec: No such file or directory\n")
    assert run_specc("fmt", cwd=tmp_path).returncode == 2


def test_tables_holding_comments_stay_tables_and_nested_models_are_arrays_of_tables():
    text = ('[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nunits = 2\n\n'
            "[layers.kernel_regularizer]\n# why so strong\nl2 = 0.5\n")
    assert format_text(text).endswith(
        '[[layers]]\ntype = "Dense"\nunits = 2\n\n[layers.kernel_regularizer]\n# why so strong\nl2 = 0.5\n')
    nested = format_text((CORPUS / "nested_model.toml").read_text())
    assert "\n[[layers.spec.inputs]]\nshape = [8]\n\n[[layers.spec.layers]]\ntype = \"Dense\"\n" in nested
    dotted = format_text((CORPUS / "dotted_keys.toml").read_text())
    assert 'kernel_initializer = { type = "Orthogonal", gain = 1.5 }\n' in dotted
    assert dotted.startswith("# Dotted keys and inline tables are the same data as sub-tables.\n[model]\n")


def test_a_long_array_is_one_value_per_line():
    boundaries = ", ".join(f"{n}.5" for n in range(40))
    text = f'[[inputs]]\nshape = [1]\n[[layers]]\ntype = "Discretization"\nbin_boundaries = [{boundaries}]\n'
    out = format_text(text)
    assert "bin_boundaries = [\n    0.5,\n    1.5,\n" in out and out.endswith("    39.5,\n]\n")
    assert format_text(out) == out


def test_cli_formats_through_a_symbolic_link(messy):
    link = messy.parent / "link.toml"
    link.symlink_to(messy.name)
    result = run_specc("fmt", "link.toml", cwd=messy.parent)
    assert (result.returncode, result.stdout) == (0, "reformatted link.toml\n")
    assert link.is_symlink() and messy.read_text() == (HERE / "fmt" / "messy.toml.expected").read_text()
