"""specc expand: the flat spec, with [defaults] applied, blocks inlined, expressions computed."""

import sys
from pathlib import Path
from typing import Annotated, Optional

from specc.cli.output import out, report
from specc.errors import SpecError
from specc.files import write_atomically


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins, Sets
    from specc.cli.plugins import load_plugins

    @app.command()
    def expand(
        spec: Annotated[Path, typer.Argument(help="The spec to expand.")],
        output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the flat spec (.toml or .json); default: print TOML.")] = None,
        sets: Sets = None,
        plugin: Plugins = None,
    ) -> None:
        """Write the flat spec: [defaults] applied, blocks inlined, expressions computed."""
        from specc.checking.validate import check_file
        from specc.expanding.expand import escaped
        from specc.writing.dump import dumps_data

        if output is not None and output.suffix.lower() not in (".toml", ".json"):
            raise typer.BadParameter("the spec file must end in .toml or .json", param_hint="--output")
        if output is not None and output.resolve() == spec.resolve():
            raise typer.BadParameter("the output would overwrite the spec", param_hint="--output")
        try:
            load_plugins(plugin)
            flat = check_file(spec, overrides=sets or ()).document.data  # checked: it builds as it is
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        fmt = "json" if output is not None and output.suffix.lower() == ".json" else "toml"
        text = dumps_data(escaped(flat), fmt)
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomically(output, lambda tmp: Path(tmp).write_text(text))
            out.print(f"wrote {output}")
