"""specc validate: check specs without TensorFlow, every problem at once.

Editors and pre-commit hooks run it on every save, so it also has a fast path
(``fast``) that skips typer: see specc/cli/main.py.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from specc.cli import words
from specc.cli.output import out, report
from specc.errors import SpecError

FORMATS = ("text", "json")
# The options of the fast path (spelling -> name), each taking a value; --set may repeat.
OPTIONS = {"--format": "format", "--set": "set"}


def check(specs: list[Path], fmt: str, sets, echo: Callable[[str], None],
          plugin: list[str] | None = None) -> int:
    """Load each spec; print ``PATH: ok`` for each good one (text) and every problem
    of the others; the exit code."""
    from specc.checking.validate import load
    from specc.vocab import keras_version

    try:  # once, not once per spec
        keras_version.check_installed()
        if plugin:  # the user's layer classes: this imports their module, and Keras
            from specc.cli.plugins import load_plugins

            load_plugins(plugin)
    except SpecError as exc:
        report(exc, fmt)
        return 1
    problems = []
    for path in specs:
        try:
            load(path, overrides=sets or ())
        except SpecError as exc:
            problems.extend(exc.problems)
        else:
            if fmt == "text":
                echo(f"{path}: ok")
    if problems:
        report(SpecError(problems), fmt)
        return 1
    if fmt == "json":
        out.print_json("[]")
    return 0


def fast(args: list[str]) -> int | None:
    """``specc validate ARGS`` run without typer, or None when typer must parse ARGS.

    Taken: spec paths, ``--format X``, ``--format=X``, ``--set X`` and ``--set=X``
    (the forms specc/cli/words.py takes). Anything else (help, another option, a
    missing or wrong value) is left to typer, which reports usage errors.
    """
    parsed = words.parse(args, OPTIONS)
    if parsed is None:
        return None
    specs, values = parsed
    fmt = words.last(values, "format", "text")
    if not specs or fmt not in FORMATS:
        return None
    return check([Path(s) for s in specs], fmt, values.get("set", []),
                 echo=lambda line: print(line, flush=True))


def register(app) -> None:
    # typer is imported only here, when the whole command line is built: the fast
    # path never imports it.
    import typer

    from specc.cli.options import Plugins, Sets

    @app.command()
    def validate(
        specs: Annotated[list[Path], typer.Argument(help="Spec files (.toml or .json).")],
        fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
        sets: Sets = None,
        plugin: Plugins = None,
    ) -> None:
        """Check specs without importing TensorFlow (unless a --plugin imports it); report
        every problem at once."""
        if fmt not in FORMATS:
            raise typer.BadParameter("expected 'text' or 'json'", param_hint="--format")
        if code := check(specs, fmt, sets, echo=typer.echo, plugin=plugin):
            raise typer.Exit(code)
