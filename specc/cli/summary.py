"""specc summary: each layer's output shape and parameters, and the totals, without TensorFlow."""

import json
import sys
from pathlib import Path
from typing import Annotated

from specc.cli.output import report
from specc.errors import SpecError


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins, Sets
    from specc.cli.plugins import load_plugins

    @app.command()
    def summary(
        spec: Annotated[Path, typer.Argument(help="The spec to summarize.")],
        fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
        sets: Sets = None,
        plugin: Plugins = None,
    ) -> None:
        """Print each layer's output shape and parameters, and the totals, without TensorFlow."""
        from specc.checking.validate import load
        from specc.reporting.printing import summary_json, summary_text
        from specc.reporting.shapes import summarize

        if fmt not in ("text", "json"):
            raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
        try:
            load_plugins(plugin)
            result = summarize(load(spec, overrides=sets or ()))
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        if fmt == "json":
            sys.stdout.write(json.dumps(summary_json(result), indent=2) + "\n")
        else:
            sys.stdout.write(summary_text(result) + "\n")
