"""The last line of defence: a bug in specc is one line and exit code 3, never a traceback.

Each test plants a bug (a function of specc that raises) in a fresh interpreter
that then runs the real command line, on the fast path (validate, export) and
through typer (summary, fmt); SPECC_DEBUG=1 shows the traceback too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, SPECS

LINE = re.compile(r"^specc: internal error: (\w+) in ([\w/]+\.py):(\d+); "
                  r"please report it with the input$")


def planted(module: str, function: str, argv: list[str], **env) -> subprocess.CompletedProcess:
    """``specc ARGV`` in a fresh process where ``module.function`` raises a KeyError."""
    script = (f"import sys, {module} as m\n"
              "def planted(*args, **kwargs):\n"
              "    return {}['planted']\n"
              f"m.{function} = planted\n"
              "from specc.cli.main import run\n"
              f"sys.argv = ['specc', *{argv!r}]\n"
              "run()\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=120)


@pytest.mark.parametrize("argv, module, function", [
    (["validate", str(SPECS / "cnn.toml")], "specc.checking.validate", "check_document"),
    (["summary", str(SPECS / "cnn.toml")], "specc.checking.validate", "check_document"),
    (["fmt", "--check", str(SPECS / "cnn.toml")], "specc.writing.fmt", "format_file"),
], ids=["validate-fast-path", "summary-through-typer", "fmt-through-typer"])
def test_an_unexpected_exception_is_one_line_and_exit_3(argv, module, function):
    done = planted(module, function, argv)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    found = LINE.match(lines[0])
    assert found, lines[0]
    # The place is the innermost frame of specc's own code: here, the planted function's
    # caller, a file of the package that exists at that line.
    name, path, line = found.groups()
    assert name == "KeyError"
    source = (ROOT / "specc" / path).read_text().splitlines()
    assert int(line) <= len(source)


def test_specc_debug_shows_the_traceback_then_the_line():
    done = planted("specc.checking.validate", "check_document",
                   ["validate", str(SPECS / "cnn.toml")], SPECC_DEBUG="1")
    assert done.returncode == 3
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "KeyError: 'planted'" in done.stderr
    assert LINE.match(done.stderr.strip().splitlines()[-1])


def test_a_spec_error_is_still_exit_1(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('blocks = 3\n[[inputs]]\nshape = [4]\n[[layers]]\nblock = "b"\n')
    done = subprocess.run([sys.executable, "-m", "specc", "summary", str(spec)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"{spec}:1:10: blocks: expected a table of blocks",
                                        f"{spec}:5:9: layers[0].block: unknown block 'b'",
                                        "2 problems found"]
