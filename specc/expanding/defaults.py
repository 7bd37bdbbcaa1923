"""[defaults]: arguments written once, for every layer of a type ([defaults.Conv2D])
or for every layer that takes them (``padding = "same"``).

A default never replaces an argument the layer writes itself, and reaches the
layers a layer wraps (Bidirectional's) too.
"""

from __future__ import annotations

from typing import Any

from specc.errors import suggest
from specc.expanding.expanded import Failed, Origin, show
from specc.expanding.templates import Templates
from specc.reading.load import Path
from specc.vocab import registry
from specc.vocab.catalogs import elsewhere
from specc.vocab.plugins import plugin_hint

# The arguments that hold a whole layer table, which [defaults] reaches as well.
WRAPPED = ("layer", "backward_layer")


class Defaults:
    """The [defaults] of a spec, each value with the path it was written at."""

    def __init__(self) -> None:
        self.by_type: dict[str, dict[str, tuple[Any, Path]]] = {}
        self.by_argument: dict[str, tuple[Any, Path]] = {}

    @classmethod
    def read(cls, section: Any, templates: Templates, constants: dict) -> Defaults:
        defaults = cls()
        if section is None:
            return defaults
        report = templates.report
        if not isinstance(section, dict):
            report.problem(("defaults",),
                           "expected a table: layer types, or arguments of any layer")
            return defaults
        arguments = {arg for name in registry.LAYERS for arg in registry.layer_args(name)}
        for key, value in section.items():
            path = ("defaults", key)
            layer_type = registry.canonical_layer(key)
            try:
                if layer_type is not None:
                    if not isinstance(value, dict):
                        report.fail(path, f"expected a table of {layer_type} arguments, "
                                    f"received {show(value)}")
                    table = defaults.by_type.setdefault(layer_type, {})
                    for arg, default in value.items():
                        table[arg] = (templates.value(default, constants, (*path, arg), ()),
                                      (*path, arg))
                elif key in arguments:
                    defaults.by_argument[key] = (templates.value(value, constants, path, ()),
                                                 path)
                # "pkg>Class": the user's own, from a plugin; or a class of another Keras
                elif hint := (plugin_hint(key) or elsewhere(key)):
                    report.fail(path, f"unknown layer type '{key}' in [defaults]: {hint}",
                                key=True)
                else:
                    choices = [*registry.layer_type_names(), *sorted(arguments)]
                    report.fail(path, f"unknown layer type or argument '{key}' in [defaults]",
                                key=True, suggestion=suggest(key, choices))
            except Failed:
                pass
        return defaults

    def apply(self, layer: dict, at: Path, origins: dict[Path, Origin]) -> None:
        """Write the defaults that layer (at path at of the flat spec) lacks."""
        layer_type = registry.canonical_layer(layer.get("type")) \
            if isinstance(layer.get("type"), str) else None
        if layer_type is None:
            return
        for arg, (value, path) in self.by_type.get(layer_type, {}).items():
            if arg not in layer:
                layer[arg] = _copy(value)
                origins[(*at, arg)] = Origin(path)
        if self.by_argument:
            args = registry.layer_args(layer_type)
            for arg, (value, path) in self.by_argument.items():
                if arg in args and arg not in layer:
                    layer[arg] = _copy(value)
                    origins[(*at, arg)] = Origin(path)
        for arg, value in list(layer.items()):
            if isinstance(value, dict) and "type" in value and arg in WRAPPED:
                self.apply(value, (*at, arg), origins)


def _copy(value: Any) -> Any:
    # Plain data only: three times as fast as copy.deepcopy, once per layer and default.
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
