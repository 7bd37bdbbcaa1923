"""Plain data -> plain data: constants, templates, [defaults] and [blocks] expanded.

The result is a flat spec, the form the check and build stages know: every
block instance inlined, every ``"{4 * filters}"`` computed, every default
written on its layer. Positions are not copied: an ``Expanded`` document maps
each path of the flat data back to the path it came from in the text (a
line of a block definition, of ``[defaults]``), and remembers through which
block uses it came, so that a problem is reported where it was written.

Expansion visits each template once per instance, so its cost is linear in
the size of the expanded model.
"""

from __future__ import annotations

import graphlib
import re
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

from specc.vocab import registry
from specc.errors import Problem, SpecError, suggest
from specc.vocab.expr import ExprFailure, evaluate_value, parse_value
from specc.reading.load import Document, Path, format_path

SECTIONS = ("constants", "defaults", "blocks")
# Keys that any layer table may carry, read here and never passed on.
LAYER_KEYS = ("repeat", "if", "defaults")
# Keys of a block use; every other key of it is a parameter of the block.
USE_KEYS = ("block", "name", "inputs", "repeat", "if")
BLOCK_KEYS = ("params", "inputs", "outputs", "names", "layers", "description")
PARAM_TYPES = {
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "table": ("a table", lambda v: isinstance(v, dict)),
    "any": ("any value", lambda v: True),
}
_PARAM = re.compile(r"^\s*(\w+)\s*(?:=(.*))?$", re.S)
_NAME = re.compile(r"^[A-Za-z_]\w*$")
DEFAULT_NAMES = "{instance}_{layer}"
DEFAULT_INPUTS = ["x"]
INDEX = "i"  # the repeat index in expressions
# Blocks nest at most this deep: deeper nesting is a mistake, not a model.
MAX_DEPTH = 50
# Bounds on the work a spec can ask for: a repeat of 10 ** 9 is a typo, not a model.
MAX_LAYERS = 100_000
MAX_STEPS = 1_000_000
_FAILED = ("failed",)  # a name whose entry failed: later uses of it stay quiet


@dataclass(frozen=True)
class Use:
    """One block instance on the way from the text to a flat layer."""

    path: Path        # the block use in the source
    instance: str     # the instance's name
    block: str
    index: int | None  # the repeat index, for a repeated use


@dataclass(frozen=True)
class Origin:
    path: Path
    uses: tuple[Use, ...] = ()


@dataclass
class Expanded(Document):
    """A flat spec whose paths are reported at the places of the source they came from."""

    source: Document | None = None
    origins: dict[Path, Origin] = field(default_factory=dict)

    def origin(self, path: Path) -> tuple[Path, str]:
        path = tuple(path)
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found is not None:
                return found.path + path[end:], _note(self.source, found.uses)
        return path, ""

    def locate(self, path: Path, key: bool = False) -> tuple[int | None, int | None]:
        return self.source.locate(self.origin(path)[0], key)

    def override(self, path: Path) -> str | None:
        return self.source.override(self.origin(path)[0])


def _note(doc: Document, uses: tuple[Use, ...]) -> str:
    """Where an instance was used: " (in 'conv2_block1', block 'residual' used at 40:5 ...)"."""
    if not uses:
        return ""
    parts = []
    for use in reversed(uses):
        line, _ = doc.locate(use.path)
        index = f", {INDEX} = {use.index}" if use.index is not None else ""
        at = f"line {line}, " if line is not None else ""
        parts.append(f"'{use.instance}' (block '{use.block}' used at {at}"
                     f"{format_path(use.path)}{index})")
    return " [in " + ", in ".join(parts) + "]"


def uses_expansion(data: Any) -> bool:
    """Whether a spec has anything to expand (else it is already flat)."""
    if not isinstance(data, dict):
        return False
    if any(key in data for key in SECTIONS):
        return True
    layers = data.get("layers")
    if isinstance(layers, list) and any(
            isinstance(e, dict) and any(k in e for k in (*LAYER_KEYS, "block")) for e in layers):
        return True
    return has_braces(data)


def has_braces(value: Any) -> bool:
    """Whether a string anywhere in value has a brace (a template, or an escaped brace)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and ("{" in item or "}" in item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def expand_document(doc: Document) -> Document:
    """The flat form of a parsed spec (the document itself when nothing needs expanding)."""
    if not uses_expansion(doc.data):
        return doc
    expander = _Expander(doc)
    try:
        data = expander.run()
    except RecursionError:  # values nested hundreds deep
        raise SpecError("the spec nests too deeply to expand", file=doc.file) from None
    if expander.problems:
        unique = list(dict.fromkeys(expander.problems))
        raise SpecError(sorted(unique, key=lambda p: (p.line or 0, p.column or 0)))
    return Expanded(data, doc.file, text=doc.text, source=doc, origins=expander.origins)


def expand(spec) -> dict:
    """The flat spec of a spec file (a path) or of plain data (a dict): defaults written
    on every layer, blocks inlined, expressions computed; raises SpecError.

    >>> expand({"constants": {"n": 8}, "inputs": [{"shape": [4]}],
    ...         "layers": [{"type": "Dense", "units": "{2 * n}"}]})["layers"]
    [{'type': 'Dense', 'units': 16}]
    """
    from specc.reading.load import load_document

    doc = spec if isinstance(spec, Document) else (
        Document(spec, "<spec>") if isinstance(spec, dict) else load_document(spec))
    return expand_document(doc).data


def escaped(data: Any) -> Any:
    """Flat data with every brace of a string doubled, so that expanding it again
    changes nothing (what ``specc expand`` writes)."""
    if isinstance(data, str):
        return data.replace("{", "{{").replace("}", "}}")
    if isinstance(data, dict):
        return {k: escaped(v) for k, v in data.items()}
    if isinstance(data, list):
        return [escaped(v) for v in data]
    return data


# ---- the expander -----------------------------------------------------------

class _Fail(Exception):
    """The entry at hand cannot be expanded; its problem is recorded already."""


class _TooLarge(Exception):
    """The spec expands to more than MAX_LAYERS layers (or MAX_STEPS steps)."""

    def __init__(self, path: Path, uses: tuple):
        self.path, self.uses = path, uses


@dataclass
class _Block:
    name: str
    path: Path
    params: dict[str, tuple[str, Any, Path]]  # name -> (type, default tree or None, path)
    inputs: list[str]
    outputs: list[str] | None
    names: list
    layers: list


@dataclass
class _Scope:
    uses: tuple[Use, ...]
    block: _Block | None = None            # None: the spec's own [[layers]]
    instance: str | None = None
    local: dict[str, Any] = field(default_factory=dict)  # local name -> ref(s)


class _Expander:
    def __init__(self, doc: Document):
        self.doc = doc
        self.data = doc.data
        self.problems: list[Problem] = []
        self.flat: list[dict] = []
        self.wiring: list[tuple[Any, bool]] = []  # per flat layer: its input refs, implicit
        self.generated: list[bool] = []  # per flat layer: made by a block or a repeat
        self.origins: dict[Path, Origin] = {}
        self.aliases: dict[str, list] = {}  # top-level instance or absent layer -> output refs
        self.counts: dict[str, int] = {}
        self.steps = 0
        self.templates: dict[str, list] = {}
        self.constants: dict[str, Any] = {}
        self.blocks: dict[str, _Block] = {}
        self.type_defaults: dict[str, dict[str, tuple[Any, Path]]] = {}
        self.arg_defaults: dict[str, tuple[Any, Path]] = {}

    # -- reporting

    def problem(self, path: Path, message: str, uses: tuple[Use, ...] = (), *,
                key: bool = False, suggestion: str | None = None, offset: int = 0) -> None:
        line, column = self.doc.locate(path, key=key)
        if offset and column is not None:
            column += offset
        if line is None:
            line, column = 1, 1
        self.problems.append(Problem(message + _note(self.doc, uses), format_path(path),
                                     self.doc.file, line, column, suggestion))

    def fail(self, *args, **kwargs):
        self.problem(*args, **kwargs)
        raise _Fail()

    # -- the whole spec

    def run(self) -> dict:
        data = self.data
        self.read_constants(data.get("constants"))
        self.read_blocks(data.get("blocks"))
        self.read_defaults(data.get("defaults"))
        flat = {}
        for key, value in data.items():
            if key in SECTIONS or key == "layers":
                continue
            try:
                flat[key] = self.value(value, self.constants, (key,), ())
            except _Fail:
                flat[key] = value
        layers = data.get("layers")
        if not isinstance(layers, list) or not layers:
            if "layers" in data:
                flat["layers"] = layers
            return flat
        try:
            outputs = self.scope(layers, ("layers",), self.constants, _Scope(()), [("start",)])
        except _TooLarge as exc:
            self.problem(exc.path, f"the spec expands to more than {MAX_LAYERS:,} layers "
                         f"(or {MAX_STEPS:,} steps); check repeat", exc.uses)
            return flat
        flat["layers"] = self.flat
        if self.problems:
            return flat
        self.finish(flat, outputs)
        return flat

    def read_constants(self, constants: Any) -> None:
        if constants is None:
            return
        if not isinstance(constants, dict):
            self.problem(("constants",), "expected a table of names and values")
            return
        for name, value in constants.items():
            if not _NAME.match(name) or name == INDEX:
                self.problem(("constants", name), f"'{name}' cannot be a constant's name: use "
                             f"letters, digits and _ (and not '{INDEX}')", key=True)
                continue
            try:
                self.constants[name] = self.value(value, self.constants, ("constants", name), ())
            except _Fail:
                pass

    def read_defaults(self, defaults: Any) -> None:
        if defaults is None:
            return
        if not isinstance(defaults, dict):
            self.problem(("defaults",), "expected a table: layer types, or arguments of any layer")
            return
        arguments = {arg for name in registry.LAYERS for arg in registry.layer_args(name)}
        for key, value in defaults.items():
            path = ("defaults", key)
            cls = registry.canonical_layer(key)
            try:
                if cls is not None:
                    if not isinstance(value, dict):
                        self.fail(path, f"expected a table of {cls} arguments, "
                                  f"received {_show(value)}")
                    table = self.type_defaults.setdefault(cls, {})
                    for arg, default in value.items():
                        table[arg] = (self.value(default, self.constants, (*path, arg), ()),
                                      (*path, arg))
                elif key in arguments:
                    self.arg_defaults[key] = (self.value(value, self.constants, path, ()), path)
                else:
                    choices = [*registry.layer_type_names(), *sorted(arguments)]
                    self.fail(path, f"unknown layer type or argument '{key}' in [defaults]",
                              key=True, suggestion=suggest(key, choices))
            except _Fail:
                pass

    def read_blocks(self, blocks: Any) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, dict):
            self.problem(("blocks",), "expected a table of blocks")
            return
        for name, body in blocks.items():
            try:
                self.blocks[name] = self.read_block(name, body)
            except _Fail:
                pass
        self.check_cycles()

    def read_block(self, name: str, body: Any) -> _Block:
        path = ("blocks", name)
        if not isinstance(body, dict):
            self.fail(path, f"expected a table (params, inputs, layers), received {_show(body)}")
        for key in body:
            if key not in BLOCK_KEYS:
                self.problem((*path, key), f"unknown key '{key}' in block '{name}'", key=True,
                             suggestion=suggest(key, BLOCK_KEYS))
        params = {}
        declared = body.get("params", {})
        if not isinstance(declared, dict):
            self.fail((*path, "params"), 'expected a table of parameters: { filters = "int", '
                      'stride = "int = 1" }')
        for param, text in declared.items():
            where = (*path, "params", param)
            match = _PARAM.match(text) if isinstance(text, str) else None
            if not _NAME.match(param) or param == INDEX:
                self.fail(where, f"'{param}' cannot be a parameter's name: use letters, digits "
                          f"and _ (and not '{INDEX}')", key=True)
            if match is None or match.group(1) not in PARAM_TYPES:
                kind = match.group(1) if match else None
                self.fail(where, f"expected \"TYPE\" or \"TYPE = DEFAULT\" with TYPE one of "
                          f"{', '.join(PARAM_TYPES)}, received {_show(text)}",
                          suggestion=suggest(kind, PARAM_TYPES))
            default = match.group(2)
            params[param] = (match.group(1), self.parse(default, where, ())
                             if default is not None else None, where)
        inputs = body.get("inputs", DEFAULT_INPUTS)
        outputs = body.get("outputs")
        for key, value in (("inputs", inputs), ("outputs", outputs)):
            if value is not None and (not isinstance(value, list) or not value
                                      or not all(isinstance(v, str) for v in value)):
                self.fail((*path, key), f"expected a list of names, received {_show(value)}")
        names = body.get("names", DEFAULT_NAMES)
        if not isinstance(names, str):
            self.fail((*path, "names"), f"expected a name template such as "
                      f"'{DEFAULT_NAMES}', received {_show(names)}")
        layers = body.get("layers")
        if not isinstance(layers, list) or not layers:
            self.fail((*path, "layers") if "layers" in body else path,
                      "a block needs 'layers': a list of layer tables")
        return _Block(name, path, params, inputs, outputs,
                      self.template(names, (*path, "names"), ()), layers)

    def check_cycles(self) -> None:
        sorter = graphlib.TopologicalSorter()
        for name, block in self.blocks.items():
            sorter.add(name)
            for entry in block.layers:
                if isinstance(entry, dict) and isinstance(entry.get("block"), str):
                    sorter.add(name, entry["block"])
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            first, second = cycle[0], cycle[1]
            index = next(j for j, e in enumerate(self.blocks[first].layers)
                         if isinstance(e, dict) and e.get("block") == second)
            self.problem(("blocks", first, "layers", index, "block"),
                         f"blocks use each other in a cycle: {' -> '.join(cycle)}")
            for name in set(cycle):
                self.blocks.pop(name, None)

    # -- values and templates

    def parse(self, text: str, path: Path, uses, offset: int = 0) -> tuple:
        try:
            return parse_value(text)
        except SpecError as exc:
            p = exc.problems[0]
            self.fail(path, p.message, uses, suggestion=p.suggestion,
                      offset=offset + (p.column or 1))

    def template(self, text: str, path: Path, uses) -> list:
        """A string as parts: plain text, and (tree, offset) for each {expression}."""
        parts = self.templates.get(text)
        if parts is not None:
            return parts
        parts, plain, i = [], "", 0
        while i < len(text):
            c = text[i]
            if text.startswith("{{", i) or text.startswith("}}", i):
                plain += c
                i += 2
            elif c == "{":
                end = text.find("}", i)
                if end < 0:
                    self.fail(path, "unclosed '{' in a template: write '{{' for a brace", uses,
                              offset=i + 1)
                if plain:
                    parts.append(plain)
                    plain = ""
                parts.append((self.parse(text[i + 1:end], path, uses, offset=i + 1), i + 1))
                i = end + 1
            elif c == "}":
                self.fail(path, "unmatched '}' in a template: write '}}' for a brace", uses,
                          offset=i + 1)
            else:
                plain += c
                i += 1
        if plain or not parts:
            parts.append(plain)
        self.templates[text] = parts
        return parts

    def render(self, parts: list, env, path: Path, uses) -> Any:
        values = []
        for part in parts:
            if isinstance(part, str):
                values.append(part)
                continue
            tree, offset = part
            try:
                values.append(evaluate_value(tree, env))
            except ExprFailure as exc:
                index = f" (with {INDEX} = {env[INDEX]})" if INDEX in env else ""
                self.fail(path, f"cannot compute this expression: {exc.message}{index}", uses,
                          suggestion=exc.suggestion, offset=offset + (exc.column or 1))
        if len(parts) == 1 and not isinstance(parts[0], str):
            return values[0]  # "{4 * filters}" keeps its type
        return "".join(v if isinstance(v, str) else _text(v) for v in values)

    def value(self, value: Any, env, path: Path, uses) -> Any:
        """A copy of value with every template string computed."""
        if isinstance(value, str):
            if "{" not in value and "}" not in value:
                return value
            return self.render(self.template(value, path, uses), env, path, uses)
        if isinstance(value, dict):
            return {k: self.value(v, env, (*path, k), uses) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, env, (*path, n), uses) for n, v in enumerate(value)]
        return value

    # -- layers, blocks, instances

    def scope(self, entries: list, path: Path, env, scope: _Scope, start: list) -> list:
        """Expand the entries of [[layers]] or of a block; the refs of the last output."""
        previous = start
        for j, entry in enumerate(entries):
            where = (*path, j)
            if not isinstance(entry, dict):
                if scope.block is not None:
                    self.problem(where, f"expected a layer table, received {_show(entry)}",
                                 scope.uses)
                    continue
                self.emit(entry, where, scope, previous, True, False)
                previous = [("layer", len(self.flat) - 1, None)]
                continue
            try:
                count = self.repeat(entry, where, env, scope.uses)
            except _Fail:
                self.poison(entry, scope)
                continue
            for index in range(count):
                local_env = ChainMap({INDEX: index}, env) if "repeat" in entry else env
                try:
                    out = self.entry(entry, where, local_env, scope, previous,
                                     index if "repeat" in entry else None)
                except _Fail:
                    self.poison(entry, scope)
                    break
                if out is not None:
                    previous = out
        return previous

    def poison(self, entry: dict, scope: _Scope) -> None:
        name = entry.get("name")
        if isinstance(name, str) and "{" not in name:
            (scope.local if scope.block else self.aliases)[name] = [_FAILED]

    def repeat(self, entry: dict, where: Path, env, uses) -> int:
        if "repeat" not in entry:
            return 1
        count = self.value(entry["repeat"], env, (*where, "repeat"), uses)
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            self.fail((*where, "repeat"), f"expected an integer >= 0, received {_show(count)}",
                      uses)
        if count > MAX_LAYERS:
            self.fail((*where, "repeat"), f"expected at most {MAX_LAYERS:,} repeats, received "
                      f"{count:,}", uses)
        return count

    def entry(self, entry: dict, where: Path, env, scope: _Scope, previous: list,
              index: int | None) -> list | None:
        uses = scope.uses
        self.steps += 1
        if self.steps > MAX_STEPS or len(self.flat) >= MAX_LAYERS:
            raise _TooLarge(where, uses)
        # A repeated entry's inputs go to its first repeat; the others form a chain.
        chained = "inputs" not in entry or bool(index)
        refs = previous if chained else self.refs(entry["inputs"], (*where, "inputs"), env, scope)
        if "if" in entry:
            present = self.value(entry["if"], env, (*where, "if"), uses)
            if not isinstance(present, bool):
                self.fail((*where, "if"), f"expected true or false, received {_show(present)}",
                          uses)
            if not present:
                # An absent layer stands for its input: later layers that name it take that.
                name = self.value(entry.get("name"), env, (*where, "name"), uses)
                if isinstance(name, str):
                    target = scope.local if scope.block else self.aliases
                    target[name] = refs if _single(refs) else [("absent", where, name)]
                return None
        if "block" in entry:
            return self.instance(entry, where, env, scope, refs, index)
        return [self.layer(entry, where, env, scope, refs, chained, index)]

    def refs(self, value: Any, path: Path, env, scope: _Scope) -> Any:
        """The inputs of an entry with each name turned into a ref."""
        value = self.value(value, env, path, scope.uses)
        return _leaves_mapped(value, lambda name, at: self.ref(name, (*path, *at), scope))

    def ref(self, name: Any, path: Path, scope: _Scope) -> Any:
        if not isinstance(name, str):
            return name  # a constant operand, or a mistake that the checks report
        if scope.block is None:
            return ("name", name)
        base, _, tensor = name.partition(":")
        found = scope.local.get(base)
        if found is None:
            self.fail(path, f"unknown input '{name}' in block '{scope.block.name}'", scope.uses,
                      suggestion=suggest(base, scope.local))
        return _pick(found, int(tensor) if tensor.isdigit() else None)

    def layer(self, entry: dict, where: Path, env, scope: _Scope, refs: Any, implicit: bool,
              index: int | None) -> tuple:
        uses = scope.uses
        layer = {}
        for key, value in entry.items():
            if key not in LAYER_KEYS and key != "inputs":
                layer[key] = self.value(value, env, (*where, key), uses)
        local = layer.get("name") if scope.block is not None else None
        if isinstance(local, str):
            layer["name"] = self.full_name(scope, local, env, where)
        if scope.block is not None and isinstance(layer.get("apply"), str):
            layer["apply"] = self.ref(layer["apply"], (*where, "apply"), scope)
        k = self.emit(layer, where, scope, refs, implicit,
                      scope.block is not None or index is not None)
        if isinstance(local, str):
            scope.local[local] = [("layer", k, None)]
        if entry.get("defaults", True) is not False:
            self.apply_defaults(layer, k, entry.get("defaults"), (*where, "defaults"), uses)
        return ("layer", k, None)

    def emit(self, layer: Any, where: Path, scope: _Scope, refs: Any, implicit: bool,
             generated: bool) -> int:
        k = len(self.flat)
        self.flat.append(layer)
        self.wiring.append((refs, implicit))
        self.generated.append(generated)
        self.origins[("layers", k)] = Origin(where, scope.uses)
        return k

    def full_name(self, scope: _Scope, local: str, env, where: Path) -> str:
        names_env = ChainMap({"instance": scope.instance, "layer": local}, env)
        return _text(self.render(scope.block.names, names_env, (*scope.block.path, "names"),
                                 scope.uses))

    def apply_defaults(self, layer: dict, k: int, opt: Any, where: Path, uses) -> None:
        if opt is not None and opt is not True:
            self.fail(where, f"expected false (no [defaults] for this layer), received "
                      f"{_show(opt)}", uses)
        self.defaults_of(layer, ("layers", k))

    def defaults_of(self, layer: dict, at: Path) -> None:
        cls = registry.canonical_layer(layer.get("type")) \
            if isinstance(layer.get("type"), str) else None
        if cls is None:
            return
        for arg, (value, path) in self.type_defaults.get(cls, {}).items():
            if arg not in layer:
                layer[arg] = _copy(value)
                self.origins[(*at, arg)] = Origin(path)
        if self.arg_defaults:
            args = registry.layer_args(cls)
            for arg, (value, path) in self.arg_defaults.items():
                if arg in args and arg not in layer:
                    layer[arg] = _copy(value)
                    self.origins[(*at, arg)] = Origin(path)
        for arg, value in list(layer.items()):
            # A wrapped layer (Bidirectional's) is a layer of its type too.
            if isinstance(value, dict) and "type" in value and arg in ("layer", "backward_layer"):
                self.defaults_of(value, (*at, arg))

    def instance(self, entry: dict, where: Path, env, scope: _Scope, refs: Any,
                 index: int | None) -> list:
        uses = scope.uses
        name = entry["block"]
        block = self.blocks.get(name) if isinstance(name, str) else None
        if block is None:
            known = isinstance(name, str) and name in (self.data.get("blocks") or {})
            self.fail((*where, "block"), f"block '{name}' is not usable: its definition has "
                      "problems" if known else f"unknown block {_show(name)}", uses,
                      suggestion=None if known else suggest(name, self.blocks))
        if len(uses) >= MAX_DEPTH:
            self.fail(where, f"blocks nest more than {MAX_DEPTH} deep", uses)
        params = self.params(entry, where, env, block, uses)
        local = self.value(entry.get("name"), env, (*where, "name"), uses)
        if local is None:
            n = self.counts.get(name, 0)
            self.counts[name] = n + 1
            local = name if n == 0 else f"{name}_{n}"
        elif not isinstance(local, str):
            self.fail((*where, "name"), f"expected a string, received {_show(local)}", uses)
        full = self.full_name(scope, local, env, where) if scope.block else local
        if not isinstance(refs, list) or len(refs) != len(block.inputs):
            got = len(refs) if isinstance(refs, list) else "a table"
            self.fail((*where, "inputs") if "inputs" in entry else where,
                      f"block '{name}' takes {len(block.inputs)} input"
                      f"{'s' if len(block.inputs) != 1 else ''} "
                      f"({', '.join(block.inputs)}), received {got}", uses)
        inner = _Scope((*uses, Use(where, full, name, index)), block, full,
                       dict(zip(block.inputs, ([r] for r in refs))))
        last = self.scope(block.layers, (*block.path, "layers"), ChainMap(params, self.constants),
                          inner, [refs[0]])
        outputs = [last[0]]
        if block.outputs:
            outputs = []
            for n, out in enumerate(block.outputs):
                found = inner.local.get(out)
                if found is None:
                    self.fail((*block.path, "outputs", n), f"unknown output '{out}' of block "
                              f"'{name}'", inner.uses, suggestion=suggest(out, inner.local))
                outputs.append(found[0])
        target = scope.local if scope.block else self.aliases
        target[local] = outputs
        return outputs[:1]

    def params(self, entry: dict, where: Path, env, block: _Block, uses) -> dict:
        found = len(self.problems)
        given = {}
        for key, value in entry.items():
            if key in USE_KEYS:
                continue
            if key not in block.params:
                self.problem((*where, key), f"unknown parameter '{key}' of block '{block.name}'",
                             uses, key=True, suggestion=suggest(key, block.params))
                continue
            given[key] = self.value(value, env, (*where, key), uses)
        values: dict[str, Any] = {}
        inner_env = ChainMap(values, self.constants)
        for param, (kind, default, path) in block.params.items():
            if param in given:
                value, at = given[param], (*where, param)
            elif default is not None:
                try:
                    value = evaluate_value(default, inner_env)
                except ExprFailure as exc:
                    self.fail(path, f"cannot compute the default of '{param}': {exc.message}",
                              uses, suggestion=exc.suggestion)
                at = path
            else:
                self.fail(where, f"missing parameter '{param}' of block '{block.name}'", uses)
            if isinstance(value, float) and value.is_integer() and kind == "int":
                value = int(value)
            noun, fits = PARAM_TYPES[kind]
            if not fits(value):
                self.fail(at, f"parameter '{param}' of block '{block.name}' is {noun}, received "
                          f"{_show(value)}", uses)
            values[param] = value
        if len(self.problems) > found:
            raise _Fail()
        return values

    # -- names and wiring of the flat layers

    def finish(self, flat: dict, outputs: list) -> None:
        inputs = flat.get("inputs")
        input_names = _input_names(inputs)
        from specc.vocab.names import default_names

        names = default_names(
            [(layer.get("name") if isinstance(layer.get("name"), str) else None,
              layer.get("type") if isinstance(layer.get("type"), str) else "layer")
             if isinstance(layer, dict) else (None, "layer") for layer in self.flat],
            set(input_names))
        self.check_names(names, input_names)
        if self.problems:
            return

        def resolve(ref, depth: int = 0) -> Any:
            kind = ref[0] if isinstance(ref, tuple) else None
            if kind == "layer":
                return names[ref[1]] + (f":{ref[2]}" if ref[2] is not None else "")
            if kind == "start":
                return input_names[0] if input_names else "input_layer"
            if kind == "name":
                base, _, tensor = ref[1].partition(":")
                alias = self.aliases.get(base)
                if alias is None or depth > len(self.aliases) or base in names:
                    return ref[1]
                return resolve(_pick(alias, int(tensor) if tensor.isdigit() else None),
                               depth + 1)
            if kind == "absent":
                self.problem(ref[1], f"layer '{ref[2]}' is left out (its 'if' is false) and has "
                             "several inputs: nothing can stand for it")
                return ref[2]
            if kind == "failed":
                return "?"
            return ref

        for k, (refs, implicit) in enumerate(self.wiring):
            layer = self.flat[k]
            if not isinstance(layer, dict):
                continue
            if isinstance(layer.get("apply"), tuple):
                layer["apply"] = resolve(layer["apply"]).partition(":")[0]
            previous = ("start",) if k == 0 else ("layer", k - 1, None)
            if implicit and (refs == [previous] or (k == 0 and refs == [("start",)])):
                continue
            if isinstance(refs, (list, dict)):
                layer["inputs"] = _leaves_mapped(refs, lambda ref, _: resolve(ref))
            if "inputs" in layer:
                layer["inputs"] = layer.pop("inputs")  # after the arguments, as export writes
        model = flat.get("model") if isinstance(flat.get("model"), dict) else None
        written = model.get("outputs") if model else None
        if isinstance(written, (list, dict)):
            model["outputs"] = _leaves_mapped(
                written, lambda o, _: resolve(("name", o)) if isinstance(o, str) else o)
        elif outputs and outputs[0] != ("layer", len(self.flat) - 1, None):
            # The spec ends with a block whose output is not its last layer.
            flat.setdefault("model", {})["outputs"] = [resolve(outputs[0])]

    def check_names(self, names: list[str], input_names: list[str]) -> None:
        seen: dict[str, int] = {}
        for k, name in enumerate(names):
            first = seen.setdefault(name, k)
            if first == k or not (self.generated[k] or self.generated[first]):
                continue  # two plain layers: the wiring check reports it
            here, there = self.origins[("layers", k)], self.origins[("layers", first)]
            line, _ = self.doc.locate(there.path)
            if here.path == there.path and here.uses[:-1] == there.uses[:-1]:
                message = (f"layer name '{name}' is given twice by the same line: put "
                           f"{{{INDEX}}} or a parameter in the name")
            else:
                message = f"layer name '{name}' is also given at line {line}"
                if there.uses:
                    use = there.uses[-1]
                    message += (f", by '{use.instance}' (block '{use.block}' used at line "
                                f"{self.doc.locate(use.path)[0]})")
            self.problem((*here.path, "name") if "name" in self.flat[k] else here.path,
                         message, here.uses)
        for k, name in enumerate(names):
            if name in input_names and self.generated[k]:
                here = self.origins[("layers", k)]
                self.problem(here.path, f"layer name '{name}' is also an input's name",
                             here.uses)


def _leaves_mapped(structure: Any, change, at: tuple = ()) -> Any:
    """A structure of lists and tables with change(leaf, path) applied to every leaf."""
    if isinstance(structure, dict):
        return {k: _leaves_mapped(v, change, (*at, k)) for k, v in structure.items()}
    if isinstance(structure, list):
        return [_leaves_mapped(v, change, (*at, n)) for n, v in enumerate(structure)]
    return change(structure, at)


def _single(refs: Any) -> bool:
    return isinstance(refs, list) and len(refs) == 1


def _pick(outputs: list, index: int | None) -> Any:
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


def _input_names(inputs: Any) -> list[str]:
    from specc.vocab.names import default_input_names

    if not isinstance(inputs, list):
        return []
    return default_input_names([i.get("name") if isinstance(i, dict) and isinstance(
        i.get("name"), str) else None for i in inputs])


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    return repr(value)
