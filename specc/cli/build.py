"""specc build: compile a spec into a .keras model file and print its summary.

Its common form (a spec, ``-o``, ``--set``) also has a fast path (``fast``) that
skips typer, as validate and export do: see specc/cli/main.py.
"""

from pathlib import Path
from typing import Annotated, Optional

from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.cli import words
from specc.cli.output import out, report
from specc.errors import SpecError
from specc.writing.saving import save

# The options of the fast path (spelling -> name), each taking a value; --set may repeat.
# The rest (--weights, --plugin, --max-params, --dtype-policy, --strategy) go to typer.
OPTIONS = {"-o": "output", "--output": "output", "--set": "set"}


def fast(args: list[str]) -> int | None:
    """``specc build ARGS`` run without typer, or None when typer must parse ARGS.

    Taken: one spec path, ``-o``/``--output`` and ``--set`` in the forms
    specc/cli/words.py takes, when typer would find nothing wrong with them
    (``usage_problem``); anything else is left to typer.
    """
    parsed = words.one_path(args, OPTIONS)
    if parsed is None:
        return None
    spec, values = parsed
    output = Path(words.last(values, "output")) if "output" in values else None
    if usage_problem(spec, output) is not None:
        return None
    return build_spec(spec, output, sets=values.get("set", []))


def _target(spec: Path, output: Path | None) -> Path:
    """The .keras file a build writes: -o, or the spec's name beside it."""
    return output or spec.with_suffix(".keras")


def usage_problem(spec: Path, output: Path | None) -> tuple[str, str] | None:
    """What is wrong with the command line (a message and the option it is about), or None."""
    target = _target(spec, output)
    if not str(target).endswith(".keras"):
        return "the output file must end in .keras", "--output"
    if target.resolve() == spec.resolve():
        return "the output would overwrite the spec", "--output"
    return None


def build_spec(spec: Path, output: Path | None, *, sets: list, weights: Path | None = None,
               plugin: list[str] | None = None, max_params: int = DEFAULT_MAX_PARAMS) -> int:
    """Build ``spec`` (after ``usage_problem``), save it (to ``output``, or beside the
    spec) and print its summary; report problems; the exit code."""
    target = _target(spec, output)
    from specc.checking.validate import check_file
    from specc.reading.places import placed_in
    from specc.cli.plugins import load_plugins

    try:
        load_plugins(plugin, installed=True)
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
        return 1
    out.print(summary_table(model))
    out.print(f"wrote {target}")
    return 0


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import MaxParams, Plugins, Sets

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

        sets = list(sets or [])
        for key, value, option in (("dtype_policy", dtype_policy, "--dtype-policy"),
                                   ("strategy", strategy, "--strategy")):
            if value is not None:  # the same as --set build.KEY=VALUE, named as written
                sets.append(Override(("build", key), value, f"{option} {value}"))
        problem = usage_problem(spec, output)
        if problem is not None:
            raise typer.BadParameter(problem[0], param_hint=problem[1])
        code = build_spec(spec, output, sets=sets,
                          weights=weights, plugin=plugin, max_params=max_params)
        if code:
            raise typer.Exit(code)


def summary_table(model):
    """Layer, type, output shape, parameters and regularizers of a built model (a rich Table)."""
    from rich.table import Table
    from rich.text import Text  # names are text, not markup: "[bold]x" is a valid layer name

    table = Table(title=Text(f"Model: {model.name}"))
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
        table.add_row(*map(Text, (layer.name, type(layer).__name__, shape,
                                  f"{layer.count_params():,}", ", ".join(regs))))
    table.caption = f"Total params: {model.count_params():,}"
    return table
