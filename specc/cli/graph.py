"""specc graph: draw the architecture (Graphviz or Mermaid)."""

from pathlib import Path
from typing import Annotated

from specc.cli.output import err, report
from specc.errors import SpecError


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins, Sets
    from specc.cli.plugins import load_plugins

    @app.command()
    def graph(
        spec: Annotated[Path, typer.Argument(help="The spec to draw.")],
        output: Annotated[Path, typer.Option("-o", "--output",
                                             help="The picture: .svg or .png (Graphviz), .dot or .mmd (text).")],
        sets: Sets = None,
        plugin: Plugins = None,
    ) -> None:
        """Draw the architecture: layers with their shapes, parameters, activations and regularizers."""
        from specc.checking.validate import load
        from specc.reporting.drawing import draw

        if output.suffix.lower() not in (".svg", ".png", ".dot", ".mmd"):
            raise typer.BadParameter("the picture must end in .svg, .png, .dot or .mmd",
                                     param_hint="--output")
        if output.resolve() == spec.resolve():
            raise typer.BadParameter("the output would overwrite the spec", param_hint="--output")
        try:
            load_plugins(plugin)
            parsed = load(spec, overrides=sets or ())
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        try:
            draw(parsed, output)
        except SpecError as exc:  # not the spec's fault: Graphviz is missing or failed
            err.print(f"specc graph: {exc.problems[0].message}", markup=False)
            raise typer.Exit(1)
        typer.echo(f"wrote {output}")
