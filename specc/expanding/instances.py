"""[[layers]] and block bodies walked into flat layers: ``repeat``, ``if``, block
uses (instances) and the names their layers get from the block's name template.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

from specc.errors import suggest
from specc.expanding.blocks import Block, bind_params
from specc.expanding.defaults import Defaults
from specc.expanding.expanded import INDEX, Failed, Use, show
from specc.expanding.templates import Templates, text
from specc.expanding.wiring import FAILED, Emitted, leaves_mapped, pick, single
from specc.reading.load import Path
from specc.vocab.names import split_ref

# Keys that any layer table may carry, read here and never passed on.
LAYER_KEYS = ("repeat", "if", "defaults")
# Blocks nest at most this deep: deeper nesting is a mistake, not a model.
MAX_DEPTH = 50
# Bounds on the work a spec can ask for: a repeat of 10 ** 9 is a typo, not a model.
MAX_LAYERS = 100_000
MAX_STEPS = 1_000_000


class TooLarge(Exception):
    """The spec expands to more than MAX_LAYERS layers (or MAX_STEPS steps)."""

    def __init__(self, path: Path, uses: tuple):
        self.path, self.uses = path, uses


@dataclass
class Scope:
    uses: tuple[Use, ...]
    block: Block | None = None            # None: the spec's own [[layers]]
    instance: str | None = None
    local: dict[str, Any] = field(default_factory=dict)  # local name -> ref(s)


class Walker:
    """Turns entries into flat layers (in ``out``), block uses into their layers."""

    def __init__(self, data: dict, templates: Templates, constants: dict,
                 blocks: dict[str, Block], defaults: Defaults):
        self.data = data
        self.report = templates.report
        self.templates = templates
        self.constants = constants
        self.blocks = blocks
        self.defaults = defaults
        self.out = Emitted()
        self.counts: dict[str, int] = {}  # block -> its unnamed uses so far
        self.steps = 0
        self.value = templates.value  # called for every value of every layer

    def scope(self, entries: list, path: Path, env, scope: Scope, start: list) -> list:
        """Expand the entries of [[layers]] or of a block; the refs of the last output."""
        previous = start
        for j, entry in enumerate(entries):
            where = (*path, j)
            if not isinstance(entry, dict):
                if scope.block is not None:
                    self.report.problem(where, f"expected a layer table, received "
                                        f"{show(entry)}", scope.uses)
                    continue
                self.out.emit(entry, where, scope.uses, previous, True, False)
                previous = [("layer", len(self.out.layers) - 1, None)]
                continue
            try:
                count = self.repeat(entry, where, env, scope.uses)
            except Failed:
                self.poison(entry, scope)
                continue
            for index in range(count):
                local_env = ChainMap({INDEX: index}, env) if "repeat" in entry else env
                try:
                    out = self.entry(entry, where, local_env, scope, previous,
                                     index if "repeat" in entry else None)
                except Failed:
                    self.poison(entry, scope)
                    break
                if out is not None:
                    previous = out
        return previous

    def poison(self, entry: dict, scope: Scope) -> None:
        name = entry.get("name")
        if isinstance(name, str) and "{" not in name:
            (scope.local if scope.block else self.out.aliases)[name] = [FAILED]

    def repeat(self, entry: dict, where: Path, env, uses) -> int:
        if "repeat" not in entry:
            return 1
        count = self.value(entry["repeat"], env, (*where, "repeat"), uses)
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            self.report.fail((*where, "repeat"), f"expected an integer >= 0, received "
                             f"{show(count)}", uses)
        if count > MAX_LAYERS:
            self.report.fail((*where, "repeat"), f"expected at most {MAX_LAYERS:,} repeats, "
                             f"received {count:,}", uses)
        return count

    def entry(self, entry: dict, where: Path, env, scope: Scope, previous: list,
              index: int | None) -> list | None:
        uses = scope.uses
        self.steps += 1
        if self.steps > MAX_STEPS or len(self.out.layers) >= MAX_LAYERS:
            raise TooLarge(where, uses)
        # A repeated entry's inputs go to its first repeat; the others form a chain.
        chained = "inputs" not in entry or bool(index)
        refs = previous if chained else self.refs(entry["inputs"], (*where, "inputs"), env, scope)
        if "if" in entry:
            present = self.value(entry["if"], env, (*where, "if"), uses)
            if not isinstance(present, bool):
                self.report.fail((*where, "if"), f"expected true or false, received "
                                 f"{show(present)}", uses)
            if not present:
                # An absent layer stands for its input: later layers that name it take that.
                name = self.value(entry.get("name"), env, (*where, "name"), uses)
                if isinstance(name, str):
                    target = scope.local if scope.block else self.out.aliases
                    target[name] = refs if single(refs) else [("absent", where, name)]
                return None
        if "block" in entry:
            return self.instance(entry, where, env, scope, refs, index)
        return [self.layer(entry, where, env, scope, refs, chained, index)]

    def refs(self, value: Any, path: Path, env, scope: Scope) -> Any:
        """The inputs of an entry with each name turned into a ref."""
        value = self.value(value, env, path, scope.uses)
        return leaves_mapped(value, lambda name, at: self.ref(name, (*path, *at), scope))

    def ref(self, name: Any, path: Path, scope: Scope) -> Any:
        if not isinstance(name, str):
            return name  # a constant operand, or a mistake that the checks report
        if scope.block is None:
            return ("name", name)
        base, index = split_ref(name)  # "d:abc" (or "d:²") is a name, and not one of the block's
        found = scope.local.get(base)
        if found is None:
            self.report.fail(path, f"unknown input '{name}' in block '{scope.block.name}'",
                             scope.uses, suggestion=suggest(base.partition(":")[0], scope.local))
        return pick(found, index)

    def layer(self, entry: dict, where: Path, env, scope: Scope, refs: Any, implicit: bool,
              index: int | None) -> tuple:
        uses = scope.uses
        layer = {}
        for key, value in entry.items():
            if key not in LAYER_KEYS and key != "inputs":
                layer[key] = self.value(value, env, (*where, key), uses)
        local = layer.get("name") if scope.block is not None else None
        if isinstance(local, str):
            layer["name"] = self.full_name(scope, local, env)
        if scope.block is not None and isinstance(layer.get("apply"), str):
            layer["apply"] = self.ref(layer["apply"], (*where, "apply"), scope)
        k = self.out.emit(layer, where, scope.uses, refs, implicit,
                          scope.block is not None or index is not None)
        if isinstance(local, str):
            scope.local[local] = [("layer", k, None)]
        option = entry.get("defaults")
        if option is not False:
            if option is not None and option is not True:
                self.report.fail((*where, "defaults"), f"expected false (no [defaults] for "
                                 f"this layer), received {show(option)}", uses)
            self.defaults.apply(layer, ("layers", k), self.out.origins)
        return ("layer", k, None)

    def full_name(self, scope: Scope, local: str, env) -> str:
        """A name inside a block as its name template makes it ("{instance}_{layer}")."""
        names_env = ChainMap({"instance": scope.instance, "layer": local}, env)
        return text(self.templates.render(scope.block.names, names_env,
                                          (*scope.block.path, "names"), scope.uses))

    def instance(self, entry: dict, where: Path, env, scope: Scope, refs: Any,
                 index: int | None) -> list:
        uses = scope.uses
        name = entry["block"]
        block = self.blocks.get(name) if isinstance(name, str) else None
        if block is None:
            written = self.data.get("blocks")
            known = isinstance(name, str) and isinstance(written, dict) and name in written
            self.report.fail((*where, "block"), f"block '{name}' is not usable: its definition "
                             "has problems" if known else f"unknown block {show(name)}", uses,
                             suggestion=None if known else suggest(name, self.blocks))
        if len(uses) >= MAX_DEPTH:
            self.report.fail(where, f"blocks nest more than {MAX_DEPTH} deep", uses)
        params = bind_params(entry, where, env, block, uses, self.templates, self.constants)
        local = self.value(entry.get("name"), env, (*where, "name"), uses)
        if local is None:
            n = self.counts.get(name, 0)
            self.counts[name] = n + 1
            local = name if n == 0 else f"{name}_{n}"
        elif not isinstance(local, str):
            self.report.fail((*where, "name"), f"expected a string, received {show(local)}",
                             uses)
        full = self.full_name(scope, local, env) if scope.block else local
        if not isinstance(refs, list) or len(refs) != len(block.inputs):
            got = len(refs) if isinstance(refs, list) else "a table"
            self.report.fail((*where, "inputs") if "inputs" in entry else where,
                             f"block '{name}' takes {len(block.inputs)} input"
                             f"{'s' if len(block.inputs) != 1 else ''} "
                             f"({', '.join(block.inputs)}), received {got}", uses)
        inner = Scope((*uses, Use(where, full, name, index)), block, full,
                      dict(zip(block.inputs, ([r] for r in refs))))
        last = self.scope(block.layers, (*block.path, "layers"),
                          ChainMap(params, self.constants), inner, [refs[0]])
        outputs = [last[0]]
        if block.outputs:
            outputs = []
            for n, out in enumerate(block.outputs):
                found = inner.local.get(out)
                if found is None:
                    self.report.fail((*block.path, "outputs", n), f"unknown output '{out}' of "
                                     f"block '{name}'", inner.uses,
                                     suggestion=suggest(out, inner.local))
                outputs.append(found[0])
        target = scope.local if scope.block else self.out.aliases
        target[local] = outputs
        return outputs[:1]
