"""specc export: a .keras model file (or a Keras 2 .h5/.json one), read as data, into a spec."""

import sys
from pathlib import Path
from typing import Annotated, Optional

from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.cli.output import report
from specc.errors import SpecError
from specc.reading.archive import DEFAULT_MAX_CONFIG_BYTES


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import MaxParams, Plugins, count, load_plugins

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
            help="Refuse a model whose config.json is over N bytes uncompressed (default 64 MiB).",
        )] = DEFAULT_MAX_CONFIG_BYTES,
        no_compile: Annotated[bool, typer.Option("--no-compile", help="Leave out the compile settings: export the architecture alone.")] = False,
        factor: Annotated[bool, typer.Option("--factor", help="Also write repeated sub-graphs as [blocks] (an argument value most layers of a type share is always written once, in [defaults]).")] = False,
    ) -> None:
        """Turn a .keras model file (or a Keras 2 .h5/.json one) into a spec (TOML or JSON)."""
        from specc.exporting import keras2
        from specc.exporting.export import export_file as export_keras3
        from specc.exporting.weights import write_weights

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
                load_plugins(plugin)  # the rebuilt model needs the user's penalties
                write_weights(spec, model, weights, max_params=max_params)
            _write_factored(spec, output, schema_ref, blocks=factor)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        if output is not None:
            typer.echo(f"wrote {output}")


def _write_factored(spec, output: Path | None, schema_ref: str | None, blocks: bool) -> None:
    if output is None:
        from specc.writing.factor import dumps_factored

        sys.stdout.write(dumps_factored(spec, "toml", schema_ref, blocks=blocks))
        return
    from specc.writing.saving import write_spec

    write_spec(spec, output, schema=schema_ref, blocks=blocks)
