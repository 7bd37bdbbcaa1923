"""The command line as typer sees it: the app, its --version, and every command module.

Each command lives in its own module (specc/cli/<command>.py) and adds itself
with ``register(app)``; the order below is the order of ``specc --help``.
"""

from functools import cache
from typing import Annotated

import typer
import typer.main

from specc import __version__
from specc.cli import build, diff, expand, export, fmt, graph, layers, schema, summary, validate

COMMANDS = (validate, fmt, build, export, expand, summary, graph, diff, layers, schema)

app = typer.Typer(
    name="specc",
    help="Compile declarative TOML/JSON model specs into tf.keras models, and back.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's formatting (markdown, tracebacks) triples
    # the time of `specc --help`, which must feel instant.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from specc.vocab.catalogs import version_text

        typer.echo(version_text(__version__))
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """specc: Keras models as reviewable data."""


for _command in COMMANDS:
    _command.register(app)


@cache
def command() -> typer.core.TyperGroup:
    """The click command ``app`` makes, made once per process: ``app()`` makes it again on
    every call (7 ms of typer introspection), which a process that runs many command lines
    (the fuzzer, tests) pays each time. The same object typer would call."""
    return typer.main.get_command(app)
