"""specc layers: the layer types a spec can use (and those it refuses), or one layer's arguments."""

import json
from typing import Annotated, Optional

from specc.cli.output import out, report
from specc.errors import SpecError


def register(app) -> None:
    import typer  # when the whole command line is built (see validate.py)

    from specc.cli.options import Plugins
    from specc.cli.plugins import load_plugins

    @app.command()
    def layers(
        name: Annotated[Optional[str], typer.Argument(help="A layer type: list its arguments.")] = None,
        plugin: Plugins = None,
    ) -> None:
        """List the layer types a spec can use (and those it refuses), or one layer's arguments."""
        try:
            load_plugins(plugin)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        if name is None:
            out.print(*layer_tables())
            return
        try:
            tables = argument_tables(name)
        except SpecError as exc:
            report(exc)
            raise typer.Exit(1)
        out.print(*tables)


def layer_tables():
    """The supported layer types with their aliases, and the refused ones with why (rich Tables)."""
    from rich.markup import escape
    from rich.table import Table

    from specc.vocab import registry

    supported = Table(title=f"Supported layers ({len(registry.LAYERS)})")
    supported.add_column("Type")
    supported.add_column("Also written")
    for layer, info in registry.LAYERS.items():
        supported.add_row(layer, ", ".join(info.get("aliases", [])))
    refused = Table(title=f"Refused layers ({len(registry.REFUSED)})")
    refused.add_column("Type")
    refused.add_column("Why")
    for layer, reason in registry.REFUSED.items():
        refused.add_row(layer, escape(reason))
    return supported, refused


def argument_tables(name: str):
    """One layer type's constructor arguments, then its call arguments (rich Tables);
    SpecError for an unknown type."""
    from rich.markup import escape
    from rich.table import Table

    from specc.vocab import registry
    from specc.vocab.kinds import describe_layer

    rows = describe_layer(name)
    cls = registry.canonical_layer(name)
    legacy = registry.LAYERS[cls]["module"].startswith("keras.src.legacy")
    plugin = registry.plugin_of(cls)
    where = "tf.keras.layers, Keras 2 form" if legacy else \
        f"{plugin}.{registry.class_name(cls)}, from --plugin" if plugin else \
        f"{registry.package_of(cls) or 'keras'}.layers.{registry.class_name(cls)}"
    table = Table(title=f"{cls} ({where})",
                  caption="every layer also takes name and inputs")
    for column in ("Argument", "Type", "Default", "Required"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], escape(row["type"]),
                      "" if row["required"] else escape(_shown(row["default"])),
                      "required" if row["required"] else "")
    return table, call_table(cls)


def call_table(cls: str):
    """What one call of the layer takes: the keys of its inputs table, then its call table
    (a rich Table)."""
    from rich.markup import escape
    from rich.table import Table

    from specc.vocab import registry

    args = registry.call_arguments(cls)
    table = Table(title=f"Call arguments of {cls}",
                  caption="inputs = [NAME] passes the first; a table names each")
    for column in ("Call argument", "Written as (default)"):
        table.add_column(column)
    for arg in args["tensors"]:
        table.add_row(arg, escape(f"inputs = {{ {arg} = NAME }}"))
    for arg, default in args["options"].items():
        table.add_row(arg, escape(f"call = {{ {arg} = {_shown(default)} }}"))
    return table


def _shown(value) -> str:
    """A default as a spec would write it."""
    from specc.vocab.values import none_to_word

    return json.dumps(none_to_word(value))
