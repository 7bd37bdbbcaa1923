"""The flat layers as they are emitted, with their inputs as refs, and the last
step of expansion: every ref written as the name Keras will give its layer.

A ref is a tuple: ``("layer", k, tensor)`` the k-th flat layer, ``("name", text)``
a name written in [[layers]], ``("start",)`` the first input, ``("absent", path,
name)`` a layer left out by its ``if``, ``FAILED`` a name whose entry failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from specc.expanding.expanded import INDEX, Origin, Reporter, Use
from specc.reading.load import Path
from specc.vocab.names import keras_names, split_ref

FAILED = ("failed",)  # a name whose entry failed: later uses of it stay quiet


@dataclass
class Emitted:
    """The flat layers so far, each with its input refs and where it came from."""

    layers: list = field(default_factory=list)
    wiring: list[tuple[Any, bool]] = field(default_factory=list)  # (input refs, implicit)
    generated: list[bool] = field(default_factory=list)  # made by a block or a repeat
    origins: dict[Path, Origin] = field(default_factory=dict)
    aliases: dict[str, list] = field(default_factory=dict)  # instance or absent layer -> refs

    def emit(self, layer: Any, where: Path, uses: tuple[Use, ...], refs: Any, implicit: bool,
             generated: bool) -> int:
        k = len(self.layers)
        self.layers.append(layer)
        self.wiring.append((refs, implicit))
        self.generated.append(generated)
        self.origins[("layers", k)] = Origin(where, uses)
        return k


def leaves_mapped(structure: Any, change, at: tuple = ()) -> Any:
    """A structure of lists and tables with change(leaf, path) applied to every leaf."""
    if isinstance(structure, dict):
        return {k: leaves_mapped(v, change, (*at, k)) for k, v in structure.items()}
    if isinstance(structure, list):
        return [leaves_mapped(v, change, (*at, n)) for n, v in enumerate(structure)]
    return change(structure, at)


def single(refs: Any) -> bool:
    return isinstance(refs, list) and len(refs) == 1


def pick(outputs: list, index: int | None) -> Any:
    """Output index of a block's outputs, or tensor index of its one output ("name:1")."""
    if len(outputs) > 1 and index is not None and index < len(outputs):
        return outputs[index]
    return _with_tensor(outputs[0], index)


def _with_tensor(ref: Any, index: int | None) -> Any:
    if index is None or not isinstance(ref, tuple):
        return ref
    if ref[0] == "layer" and ref[2] is None:
        return ("layer", ref[1], index)
    if ref[0] == "name" and ":" not in ref[1]:
        return ("name", f"{ref[1]}:{index}")
    return ref


def finish(flat: dict, outputs: list, out: Emitted, report: Reporter) -> None:
    """Name every flat layer and write its inputs (and the model's outputs) as names."""
    input_names, names = keras_names({"inputs": flat.get("inputs"), "layers": out.layers},
                                     untyped="layer")
    _check_names(names, input_names, out, report)
    if report.problems:
        return

    def resolve(ref, depth: int = 0) -> Any:
        kind = ref[0] if isinstance(ref, tuple) else None
        if kind == "layer":
            return names[ref[1]] + (f":{ref[2]}" if ref[2] is not None else "")
        if kind == "start":
            return input_names[0] if input_names else "input_layer"
        if kind == "name":
            base, index = split_ref(ref[1])  # "x:abc" is a name, which no alias has
            alias = out.aliases.get(base)
            if alias is None or depth > len(out.aliases) or base in names:
                return ref[1]
            return resolve(pick(alias, index), depth + 1)
        if kind == "absent":
            report.problem(ref[1], f"layer '{ref[2]}' is left out (its 'if' is false) and has "
                           "several inputs: nothing can stand for it")
            return ref[2]
        if kind == "failed":
            return "?"
        return ref

    for k, (refs, implicit) in enumerate(out.wiring):
        layer = out.layers[k]
        if not isinstance(layer, dict):
            continue
        if isinstance(layer.get("apply"), tuple):
            layer["apply"] = resolve(layer["apply"]).partition(":")[0]
        previous = ("start",) if k == 0 else ("layer", k - 1, None)
        if implicit and (refs == [previous] or (k == 0 and refs == [("start",)])):
            continue
        if isinstance(refs, (list, dict)):
            layer["inputs"] = leaves_mapped(refs, lambda ref, _: resolve(ref))
        if "inputs" in layer:
            layer["inputs"] = layer.pop("inputs")  # after the arguments, as export writes
    model = flat.get("model") if isinstance(flat.get("model"), dict) else None
    written = model.get("outputs") if model else None
    if isinstance(written, (list, dict)):
        model["outputs"] = leaves_mapped(
            written, lambda o, _: resolve(("name", o)) if isinstance(o, str) else o)
    elif outputs and outputs[0] != ("layer", len(out.layers) - 1, None) \
            and isinstance(flat.get("model", {}), dict):  # a [model] of another kind is refused
        # The spec ends with a block whose output is not its last layer.
        flat.setdefault("model", {})["outputs"] = [resolve(outputs[0])]


def _check_names(names: list[str], input_names: list[str], out: Emitted,
                 report: Reporter) -> None:
    """Names given twice where a block or a repeat made one of them (plain layers named
    twice are the wiring check's to report)."""
    doc = report.doc
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        first = seen.setdefault(name, k)
        if first == k or not (out.generated[k] or out.generated[first]):
            continue
        here, there = out.origins[("layers", k)], out.origins[("layers", first)]
        line, _ = doc.locate(there.path)
        if here.path == there.path and here.uses[:-1] == there.uses[:-1]:
            message = (f"layer name '{name}' is given twice by the same line: put "
                       f"{{{INDEX}}} or a parameter in the name")
        else:
            message = f"layer name '{name}' is also given at line {line}"
            if there.uses:
                use = there.uses[-1]
                message += (f", by '{use.instance}' (block '{use.block}' used at line "
                            f"{doc.locate(use.path)[0]})")
        report.problem((*here.path, "name") if "name" in out.layers[k] else here.path,
                       message, here.uses)
    for k, name in enumerate(names):
        if name in input_names and out.generated[k]:
            here = out.origins[("layers", k)]
            report.problem(here.path, f"layer name '{name}' is also an input's name", here.uses)
