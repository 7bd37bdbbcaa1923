"""What --plugin does on every command that reads a spec or a model file."""

from __future__ import annotations


def load_plugins(plugin: list[str] | None) -> None:
    """Import each module named (its layer classes and regularizers register themselves),
    after Keras, imported as specc imports it (without TensorFlow's start-up log lines):
    the modules import Keras anyway. Nothing at all without one; SpecError when one fails."""
    if plugin:
        from specc.building.startup import import_keras
        from specc.vocab.plugins import load_plugins as load

        import_keras()
        load(plugin)
