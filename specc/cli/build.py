"""specc build: compile a spec into a .keras model file and print its summary."""

from pathlib import Path
from typing import Annotated, Optional

from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.cli.output import out, report
from specc.errors import SpecError
from specc.writing.saving import save


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import MaxParams, Plugins, Sets, load_plugins

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
        from specc.checking.validate import check_file
        from specc.reading.overrides import Override
        from specc.reading.places import placed_in

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
            load_plugins(plugin)
            checked = check_file(spec, overrides=sets)
            parsed = checked.spec
            from specc.building.build import build as build_model

            with placed_in(checked.document):
                model = build_model(parsed, max_params=max_params)
            if weights is not None:
                from specc.exporting.weights import load_weights

                load_weights(model, weights)
            save(model, target, parsed)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        out.print(summary_table(model))
        out.print(f"wrote {target}")


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
