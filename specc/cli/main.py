"""The command line: parse arguments, call the library, print, return an exit code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from specc import __version__
from specc.reading.archive import DEFAULT_MAX_CONFIG_BYTES
from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.errors import SpecError
from specc.files import write_atomically

app = typer.Typer(
    name="specc",
    help="Compile declarative TOML/JSON model specs into tf.keras models, and back.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's formatting (markdown, tracebacks) triples
    # the time of `specc --help`, which must feel instant.
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich Console made on first use: importing rich costs more than the rest of
    ``specc --version``, and validate prints plain lines."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    def __getattr__(self, name):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out = _LazyConsole(highlight=False, soft_wrap=True)
err = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)

Plugins = Annotated[
    Optional[list[str]],
    typer.Option("--plugin", help="Import this Python module first (registers custom regularizers)."),
]


def _count(text: str) -> int:
    """A parameter count as a user writes it: 2000000000, 2_000_000_000 or 2e9."""
    try:
        value = float(str(text).replace("_", ""))
        whole = value == int(value) and value >= 1
    except (ValueError, OverflowError):  # "many", "nan", "inf"
        whole = False
    if not whole:
        raise typer.BadParameter(f"expected a positive whole number, received {text!r}")
    return int(value)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """specc: Keras models as reviewable data."""


def _report(exc: SpecError, fmt: str = "text") -> None:
    if fmt == "json":
        out.print_json(json.dumps([p.as_dict() for p in exc.problems]))
        return
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    count = len(exc.problems)
    err.print(f"{count} problem{'s' if count != 1 else ''} found", style="bold red")


def _load_plugins(plugins: list[str] | None) -> None:
    from specc.vocab import plugins as registry

    registry.load_entry_points()
    for module in plugins or []:
        registry.load_plugin_module(module)


Sets = Annotated[
    Optional[list[str]],
    typer.Option("--set", metavar="PATH=VALUE",
                 help="Change a value of the spec: layers.dense_1.units=128, layers[3].rate=0.3, "
                      "layers.*.kernel_regularizer='{ l2 = 0.001 }' (a TOML value)."),
]

# The same budget guards build and the weights rebuild of export.
MaxParams = Annotated[int, typer.Option(
    "--max-params", parser=_count, metavar="N",
    help="Refuse a model with more parameters than N, counted before any weight is made.",
)]


@app.command()
def validate(
    specs: Annotated[list[Path], typer.Argument(help="Spec files (.toml or .json).")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    sets: Sets = None,
) -> None:
    """Check specs without importing TensorFlow; report every problem at once."""
    from specc.checking.validate import load
    from specc.vocab import keras_version

    if fmt not in ("text", "json"):
        raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
    try:  # once, not once per spec
        keras_version.check_installed()
    except SpecError as exc:
        _report(exc, fmt)
        raise typer.Exit(1)
    problems = []
    for path in specs:
        try:
            load(path, overrides=sets or ())
        except SpecError as exc:
            problems.extend(exc.problems)
        else:
            if fmt == "text":
                typer.echo(f"{path}: ok")
    if problems:
        _report(SpecError(problems), fmt)
        raise typer.Exit(1)
    if fmt == "json":
        out.print_json("[]")


@app.command()
def fmt(
    specs: Annotated[list[Path], typer.Argument(help="Spec files (.toml or .json) to rewrite in place.")],
    check: Annotated[bool, typer.Option("--check", help="Change nothing; list the files that would change and exit 1 if any.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Change nothing; print the changes as a unified diff (exit 1 if any).")] = False,
) -> None:
    """Rewrite specs in one canonical layout, keeping every comment; invalid specs are left alone."""
    from specc.writing.fmt import format_file

    changed, same, failed = [], 0, False
    for path in specs:
        try:
            result = format_file(path, write=not (check or diff))
        except SpecError as exc:
            _report(exc)
            failed = True
            continue
        if not result.changed:
            same += 1
            continue
        changed.append(path)
        if diff:
            sys.stdout.write(result.diff())
        if check:
            out.print(f"would reformat {path}", markup=False)
        elif not diff:
            out.print(f"reformatted {path}", markup=False)
    verb = "would be reformatted" if check or diff else "reformatted"
    err.print(f"{_files(len(changed))} {verb}, {_files(same)} already formatted", markup=False)
    if failed or (changed and (check or diff)):
        raise typer.Exit(1)


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


@app.command()
def build(
    spec: Annotated[Path, typer.Argument(help="The spec to compile.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the .keras file.")] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", help="Load these weights (.weights.h5).")] = None,
    plugin: Plugins = None,
    max_params: MaxParams = DEFAULT_MAX_PARAMS,
    sets: Sets = None,
    dtype_policy: Annotated[Optional[str], typer.Option(
        "--dtype-policy", help="Build under this Keras dtype policy (mixed_float16, "
        "mixed_bfloat16, float32...): [build] dtype_policy.")] = None,
    strategy: Annotated[Optional[str], typer.Option(
        "--strategy", help="Build and compile in this tf.distribute strategy's scope "
        "(mirrored, multi_worker_mirrored, tpu): [build] strategy.")] = None,
) -> None:
    """Compile a spec into a .keras model file and print its summary."""
    from specc.reading.overrides import Override
    from specc.reading.places import placed_in
    from specc.checking.validate import check_file

    sets = list(sets or [])
    for key, value, option in (("dtype_policy", dtype_policy, "--dtype-policy"),
                               ("strategy", strategy, "--strategy")):
        if value is not None:  # the same as --set build.KEY=VALUE, named as written
            sets.append(Override(("build", key), value, f"{option} {value}"))

    target = output or spec.with_suffix(".keras")
    if not str(target).endswith(".keras"):
        raise typer.BadParameter("the output file must end in .keras", param_hint="--output")
    if target.resolve() == spec.resolve():
        raise typer.BadParameter("the output would overwrite the spec", param_hint="--output")
    try:
        _load_plugins(plugin)
        checked = check_file(spec, overrides=sets)
        parsed = checked.spec
        from specc.building.build import build as build_model

        with placed_in(checked.document):
            model = build_model(parsed, max_params=max_params)
        if weights is not None:
            from specc.exporting.weights import load_weights

            load_weights(model, weights)
        write_atomically(target, lambda tmp: _save(model, parsed, tmp))
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    out.print(summary_table(model))
    out.print(f"wrote {target}")


def _save(model, spec, path: str) -> None:
    """The .keras file, with the spec it was built from (overrides applied) inside."""
    from specc.writing.dump import dumps
    from specc.files import record_spec

    model.save(path)
    record_spec(path, dumps(spec))


def summary_table(model):
    """Layer, type, output shape, parameters and regularizers of a built model (a rich Table)."""
    from rich.table import Table

    table = Table(title=f"Model: {model.name}")
    for column in ("Layer", "Type", "Output shape", "Params", "Regularizers"):
        table.add_column(column, justify="right" if column == "Params" else "left")
    for layer in model.layers:
        try:
            shape = str(layer.output.shape)
        except (AttributeError, ValueError):
            shape = "?"
        config = layer.get_config()
        regs = [
            f"{k.removesuffix('_regularizer')}={v.get('class_name', v) if isinstance(v, dict) else v}"
            for k, v in config.items() if k.endswith("_regularizer") and v
        ]
        table.add_row(layer.name, type(layer).__name__, shape, f"{layer.count_params():,}", ", ".join(regs))
    table.caption = f"Total params: {model.count_params():,}"
    return table


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A .keras model file, or a Keras 2 .h5 or model.to_json() .json file (read as data, never loaded).")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the spec (.toml or .json); default: print TOML.")] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", help="Also write the weights (.weights.h5).")] = None,
    plugin: Plugins = None,
    max_params: MaxParams = DEFAULT_MAX_PARAMS,
    schema_ref: Annotated[Optional[str], typer.Option("--schema", help="Path or URL of specc.schema.json to reference for editors.")] = None,
    max_config_bytes: Annotated[int, typer.Option(
        "--max-config-bytes", parser=_count, metavar="N",
        help="Refuse a model whose config.json is over N bytes uncompressed (default 64 MiB).",
    )] = DEFAULT_MAX_CONFIG_BYTES,
    no_compile: Annotated[bool, typer.Option("--no-compile", help="Leave out the compile settings: export the architecture alone.")] = False,
    factor: Annotated[bool, typer.Option("--factor", help="Also write repeated sub-graphs as [blocks] (an argument value most layers of a type share is always written once, in [defaults]).")] = False,
) -> None:
    """Turn a .keras model file (or a Keras 2 .h5/.json one) into a spec (TOML or JSON)."""
    from specc.exporting import keras2
    from specc.exporting.export import export_file as export_keras3
    from specc.exporting.weights import copy_weights

    legacy = model.suffix.lower() in keras2.SUFFIXES
    export_file = keras2.export_file if legacy else export_keras3
    if legacy and weights is not None and model.suffix.lower() == ".json":
        raise typer.BadParameter("a .json model holds no weights: export its .h5 file",
                                 param_hint="--weights")

    if output is not None and output.suffix.lower() not in (".toml", ".json"):
        raise typer.BadParameter("the spec file must end in .toml or .json", param_hint="--output")
    if weights is not None and not str(weights).endswith(".weights.h5"):
        raise typer.BadParameter("the weights file must end in .weights.h5", param_hint="--weights")
    for target in (output, weights):
        if target is not None and target.resolve() == model.resolve():
            raise typer.BadParameter("the output would overwrite the model", param_hint="--output")
    try:
        if legacy:
            spec = export_file(model, compile=not no_compile)
        else:
            spec = export_file(model, compile=not no_compile, max_config_bytes=max_config_bytes)
        if weights is not None:
            from specc.building.build import build as build_model

            _load_plugins(plugin)  # the rebuilt model needs the user's penalties
            rebuilt = build_model(spec, max_params=max_params)
            copy_weights(rebuilt, model)
            write_atomically(weights, rebuilt.save_weights)
        _write_factored(spec, output, schema_ref, blocks=factor)
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    if output is not None:
        typer.echo(f"wrote {output}")


def _write_factored(spec, output: Path | None, schema_ref: str | None, blocks: bool) -> None:
    from specc.writing.factor import dumps_factored

    fmt = "json" if output is not None and output.suffix.lower() == ".json" else "toml"
    text = dumps_factored(spec, fmt, schema_ref, blocks=blocks)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, lambda tmp: Path(tmp).write_text(text))


@app.command()
def expand(
    spec: Annotated[Path, typer.Argument(help="The spec to expand.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the flat spec (.toml or .json); default: print TOML.")] = None,
    sets: Sets = None,
) -> None:
    """Write the flat spec: [defaults] applied, blocks inlined, expressions computed."""
    from specc.writing.dump import dumps_data
    from specc.expanding.expand import escaped
    from specc.checking.validate import check_file

    if output is not None and output.suffix.lower() not in (".toml", ".json"):
        raise typer.BadParameter("the spec file must end in .toml or .json", param_hint="--output")
    if output is not None and output.resolve() == spec.resolve():
        raise typer.BadParameter("the output would overwrite the spec", param_hint="--output")
    try:
        flat = check_file(spec, overrides=sets or ()).document.data  # checked: it builds as it is
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    fmt = "json" if output is not None and output.suffix.lower() == ".json" else "toml"
    text = dumps_data(escaped(flat), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, lambda tmp: Path(tmp).write_text(text))
        out.print(f"wrote {output}")


@app.command()
def summary(
    spec: Annotated[Path, typer.Argument(help="The spec to summarize.")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    sets: Sets = None,
) -> None:
    """Print each layer's output shape and parameters, and the totals, without TensorFlow."""
    from specc.reporting.printing import summary_json, summary_text
    from specc.reporting.shapes import summarize
    from specc.checking.validate import load

    if fmt not in ("text", "json"):
        raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
    try:
        result = summarize(load(spec, overrides=sets or ()))
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    if fmt == "json":
        sys.stdout.write(json.dumps(summary_json(result), indent=2) + "\n")
    else:
        sys.stdout.write(summary_text(result) + "\n")


@app.command()
def graph(
    spec: Annotated[Path, typer.Argument(help="The spec to draw.")],
    output: Annotated[Path, typer.Option("-o", "--output",
                                         help="The picture: .svg or .png (Graphviz), .dot or .mmd (text).")],
    sets: Sets = None,
) -> None:
    """Draw the architecture: layers with their shapes, parameters, activations and regularizers."""
    from specc.reporting.drawing import draw
    from specc.checking.validate import load

    if output.suffix.lower() not in (".svg", ".png", ".dot", ".mmd"):
        raise typer.BadParameter("the picture must end in .svg, .png, .dot or .mmd",
                                 param_hint="--output")
    if output.resolve() == spec.resolve():
        raise typer.BadParameter("the output would overwrite the spec", param_hint="--output")
    try:
        parsed = load(spec, overrides=sets or ())
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    try:
        draw(parsed, output)
    except SpecError as exc:  # not the spec's fault: Graphviz is missing or failed
        err.print(f"specc graph: {exc.problems[0].message}", markup=False)
        raise typer.Exit(1)
    typer.echo(f"wrote {output}")


@app.command()
def diff(
    a: Annotated[Path, typer.Argument(help="The first model: a spec (.toml, .json) or a .keras file.")],
    b: Annotated[Path, typer.Argument(help="The second model, the same kinds.")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Compare two models (specs or .keras files, read as data): exit 0 same, 1 different."""
    from specc.reporting.diff import diff_models, diff_table, write_json

    if fmt not in ("text", "json"):
        raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
    try:
        result = diff_models(a, b)
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(2)  # as diff(1): 2 is trouble, 1 means "they differ"
    if fmt == "json":
        sys.stdout.write(write_json(result))
    elif result.same:
        out.print(f"same: {a} and {b} describe the same model", markup=False)
    else:
        out.print(diff_table(result))
    if not result.same:
        raise typer.Exit(1)


@app.command()
def layers(
    name: Annotated[Optional[str], typer.Argument(help="A layer type: list its arguments.")] = None,
) -> None:
    """List the layer types a spec can use (and those it refuses), or one layer's arguments."""
    from rich.markup import escape
    from rich.table import Table

    from specc.vocab import registry
    from specc.vocab.kinds import describe_layer

    if name is None:
        supported = Table(title=f"Supported layers ({len(registry.LAYERS)})")
        supported.add_column("Type")
        supported.add_column("Also written")
        for layer, info in registry.LAYERS.items():
            supported.add_row(layer, ", ".join(info.get("aliases", [])))
        refused = Table(title=f"Refused layers ({len(registry.REFUSED)})")
        refused.add_column("Type")
        refused.add_column("Why")
        for layer, reason in registry.REFUSED.items():
            refused.add_row(layer, escape(reason))
        out.print(supported, refused)
        return
    try:
        rows = describe_layer(name)
    except SpecError as exc:
        _report(exc)
        raise typer.Exit(1)
    cls = registry.canonical_layer(name)
    legacy = registry.LAYERS[cls]["module"].startswith("keras.src.legacy")
    table = Table(title=f"{cls} ({'tf.keras.layers, Keras 2 form' if legacy else 'keras.layers'})",
                  caption="every layer also takes name and inputs")
    for column in ("Argument", "Type", "Default", "Required"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], escape(row["type"]),
                      "" if row["required"] else escape(_shown(row["default"])),
                      "required" if row["required"] else "")
    out.print(table, call_table(cls))


def call_table(cls: str):
    """What one call of the layer takes: the keys of its inputs table, then its call table
    (a rich Table)."""
    from rich.markup import escape
    from rich.table import Table

    from specc.vocab import registry

    args = registry.call_arguments(cls)
    table = Table(title=f"Call arguments of {cls}",
                  caption="inputs = [NAME] passes the first; a table names each")
    for column in ("Call argument", "Written as (default)"):
        table.add_column(column)
    for arg in args["tensors"]:
        table.add_row(arg, escape(f"inputs = {{ {arg} = NAME }}"))
    for arg, default in args["options"].items():
        table.add_row(arg, escape(f"call = {{ {arg} = {_shown(default)} }}"))
    return table


def _shown(value) -> str:
    """A default as a spec would write it."""
    from specc.vocab.values import none_to_word

    return json.dumps(none_to_word(value))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from specc.checking.schema_file import SCHEMA_PATH

    sys.stdout.write(SCHEMA_PATH.read_text())


def run() -> None:
    """Entry point of the console script and of ``python -m specc``."""
    # Our own process: TensorFlow's C++ start-up lines (oneDNN, CUDA probes) are not
    # for specc's users unless they ask (specc.building.startup keeps to the level they set).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    app(prog_name="specc")
