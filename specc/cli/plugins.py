"""What --plugin does on every command that reads a spec or a model file."""

from __future__ import annotations


def load_plugins(plugin: list[str] | None, *, installed: bool = False) -> None:
    """Import each module named (its layer classes and regularizers register themselves),
    after Keras, imported as specc imports it (without TensorFlow's start-up log lines):
    the modules import Keras anyway. Without one, nothing at all, unless ``installed``:
    then installed packages' entry points still register (a command that builds a model
    needs their penalties). SpecError when one fails."""
    if plugin or installed:
        from specc.vocab.plugins import load_plugins as load

        if plugin:
            from specc.building.startup import import_keras

            import_keras()
        load(plugin)
