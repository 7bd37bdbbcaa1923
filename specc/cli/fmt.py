"""specc fmt: rewrite specs in the canonical layout, keeping every comment."""

import sys
from pathlib import Path
from typing import Annotated

from specc.cli.output import err, out, plural, report
from specc.errors import SpecError


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins
    from specc.cli.plugins import load_plugins

    @app.command()
    def fmt(
        specs: Annotated[list[Path], typer.Argument(help="Spec files (.toml or .json) to rewrite in place.")],
        check: Annotated[bool, typer.Option("--check", help="Change nothing; list the files that would change and exit 1 if any.")] = False,
        diff: Annotated[bool, typer.Option("--diff", help="Change nothing; print the changes as a unified diff (exit 1 if any).")] = False,
        plugin: Plugins = None,
    ) -> None:
        """Rewrite specs in one canonical layout, keeping every comment; invalid specs are left alone."""
        try:
            load_plugins(plugin)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        if code := rewrite(specs, check, diff):
            raise typer.Exit(code)


def rewrite(specs: list[Path], check: bool, diff: bool) -> int:
    """Format each spec (or only say what would change); the exit code."""
    from specc.writing.fmt import format_file

    changed, same, failed = [], 0, False
    for path in specs:
        try:
            result = format_file(path, write=not (check or diff))
        except SpecError as exc:
            report(exc)
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
    err.print(f"{plural(len(changed), 'file')} {verb}, {plural(same, 'file')} already formatted",
              markup=False)
    return 1 if failed or (changed and (check or diff)) else 0
