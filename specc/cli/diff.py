"""specc diff: compare two models (specs or .keras files, read as data)."""

import sys
from pathlib import Path
from typing import Annotated

from specc.cli.output import out, report
from specc.errors import SpecError


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins
    from specc.cli.plugins import load_plugins

    @app.command()
    def diff(
        a: Annotated[Path, typer.Argument(help="The first model: a spec (.toml, .json) or a .keras file.")],
        b: Annotated[Path, typer.Argument(help="The second model, the same kinds.")],
        fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
        plugin: Plugins = None,
    ) -> None:
        """Compare two models (specs or .keras files, read as data): exit 0 same, 1 different."""
        from specc.reporting.diff import diff_models, diff_table, write_json

        if fmt not in ("text", "json"):
            raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
        try:
            load_plugins(plugin)
            result = diff_models(a, b)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(2)  # as diff(1): 2 is trouble, 1 means "they differ"
        if fmt == "json":
            sys.stdout.write(write_json(result))
        elif result.same:
            out.print(f"same: {a} and {b} describe the same model", markup=False)
        else:
            out.print(diff_table(result))
        if not result.same:
            raise typer.Exit(1)
