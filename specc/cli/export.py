"""specc export: a .keras model file (or a Keras 2 .h5/.json one), read as data, into a spec.

CI jobs run it on big models, so its common forms also have a fast path
(``fast``) that skips typer: see specc/cli/main.py.
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.cli import words
from specc.cli.output import report
from specc.errors import SpecError
from specc.reading.archive import DEFAULT_MAX_CONFIG_BYTES

# The options of the fast path (spelling -> name): the rest (--weights, which builds
# the model with TensorFlow, --plugin, --max-params, --max-config-bytes) go to typer.
OPTIONS = {"-o": "output", "--output": "output", "--schema": "schema"}
FLAGS = {"--no-compile": "no_compile", "--factor": "factor"}


def fast(args: list[str]) -> int | None:
    """``specc export ARGS`` run without typer, or None when typer must parse ARGS.

    Taken: one model path, ``-o``/``--output``, ``--schema``, ``--no-compile`` and
    ``--factor`` in the forms specc/cli/words.py takes, when typer would find nothing
    wrong with them (``usage_problem``); anything else is left to typer.
    """
    parsed = words.one_path(args, OPTIONS, FLAGS)
    if parsed is None:
        return None
    model, values = parsed
    output = Path(words.last(values, "output")) if "output" in values else None
    if usage_problem(model, output, None) is not None:
        return None
    return export_model(model, output, schema_ref=words.last(values, "schema"),
                        compile="no_compile" not in values, factor="factor" in values,
                        echo=lambda line: print(line, flush=True))


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import MaxParams, Plugins, count

    @app.command()
    def export(
        model: Annotated[Path, typer.Argument(help="A .keras model file, or a Keras 2 .h5 or model.to_json() .json file (read as data, never loaded).")],
        output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the spec (.toml or .json); default: print TOML.")] = None,
        weights: Annotated[Optional[Path], typer.Option("--weights", help="Also write the weights (.weights.h5).")] = None,
        plugin: Plugins = None,
        max_params: MaxParams = DEFAULT_MAX_PARAMS,
        schema_ref: Annotated[Optional[str], typer.Option("--schema", help="Path or URL of specc.schema.json to reference for editors.")] = None,
        max_config_bytes: Annotated[int, typer.Option(
            "--max-config-bytes", parser=count, metavar="N",
            help="Refuse a model whose config.json (uncompressed), Keras 2 .json file or Keras 2 .h5 attribute is over N bytes (default 64 MiB).",
        )] = DEFAULT_MAX_CONFIG_BYTES,
        no_compile: Annotated[bool, typer.Option("--no-compile", help="Leave out the compile settings: export the architecture alone.")] = False,
        factor: Annotated[bool, typer.Option("--factor", help="Also write repeated sub-graphs as [blocks] (an argument value most layers of a type share is always written once, in [defaults]).")] = False,
    ) -> None:
        """Turn a .keras model file (or a Keras 2 .h5/.json one) into a spec (TOML or JSON)."""
        wrong = usage_problem(model, output, weights)
        if wrong is not None:
            raise typer.BadParameter(wrong[0], param_hint=wrong[1])
        code = export_model(model, output, weights=weights, plugin=plugin, max_params=max_params,
                            schema_ref=schema_ref, max_config_bytes=max_config_bytes,
                            compile=not no_compile, factor=factor, echo=typer.echo)
        if code:
            raise typer.Exit(code)


def usage_problem(model: Path, output: Path | None, weights: Path | None) -> tuple[str, str] | None:
    """What is wrong with the command line (a message and the option it is about), or None."""
    if model.suffix.lower() == ".json" and weights is not None:
        return "a .json model holds no weights: export its .h5 file", "--weights"
    if output is not None and output.suffix.lower() not in (".toml", ".json"):
        return "the spec file must end in .toml or .json", "--output"
    if weights is not None and not str(weights).endswith(".weights.h5"):
        return "the weights file must end in .weights.h5", "--weights"
    for target in (output, weights):
        if target is not None and target.resolve() == model.resolve():
            return "the output would overwrite the model", "--output"
    return None


def export_model(model: Path, output: Path | None, *, weights: Path | None = None,
                 plugin: list[str] | None = None, max_params: int = DEFAULT_MAX_PARAMS,
                 schema_ref: str | None = None,
                 max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES, compile: bool = True,
                 factor: bool = False, echo: Callable[[str], None]) -> int:
    """Export ``model`` (after ``usage_problem``): print or write the spec, and the weights
    too when asked; report problems; the exit code."""
    from specc.exporting.export import export_any_file

    from specc.cli.plugins import load_plugins

    try:
        # The user's layer classes before their configs are read; with --weights, the
        # installed penalties too, which the rebuilt model needs.
        load_plugins(plugin, installed=weights is not None)
        spec = export_any_file(model, compile=compile, max_config_bytes=max_config_bytes)
        if weights is not None:
            from specc.exporting.weights import write_weights

            write_weights(spec, model, weights, max_params=max_params,
                          max_config_bytes=max_config_bytes)
        _write_factored(spec, output, schema_ref, blocks=factor)
    except SpecError as exc:
        report(exc)
        return 1
    if output is not None:
        echo(f"wrote {output}")
    return 0


def _write_factored(spec, output: Path | None, schema_ref: str | None, blocks: bool) -> None:
    if output is None:
        from specc.writing.factor import dumps_factored

        sys.stdout.write(dumps_factored(spec, "toml", schema_ref, blocks=blocks))
        return
    from specc.writing.saving import write_spec

    write_spec(spec, output, schema=schema_ref, blocks=blocks)
