"""Wiring: names, references, cycles and outputs of a typed Spec.

The result, a ``Graph``, is what the build stage walks: every layer with its
final Keras name and the tensors it is called on, in an order where every
tensor exists before it is used.
"""

from __future__ import annotations

import graphlib
import heapq
from dataclasses import dataclass, field
from typing import Any

from specc.checking.spec import Apply, Nested, Op, Spec
from specc.errors import Problem, SpecError, suggest
from specc.vocab import registry
from specc.vocab.names import default_input_names, default_names, implied_names, split_ref
from specc.vocab.tuples import arrays, format_path, parse_path

Issue = tuple[tuple, str, str | None]  # (path, message, suggestion)


@dataclass
class Node:
    index: int              # position in spec.layers
    name: str               # the Keras layer name (or the name of a shared call)
    layer: Any              # the spec layer model, or Apply
    inputs: Any             # list of refs, or dict of call-argument name -> ref(s)

    def refs(self) -> list[str]:
        values = self.inputs.values() if isinstance(self.inputs, dict) else self.inputs
        found = [r for v in values for r in ([v] if not isinstance(v, list) else v)]
        return [r for r in found if isinstance(r, str)]  # numbers are constant operands


@dataclass
class Graph:
    inputs: list[str]
    nodes: list[Node] = field(default_factory=list)       # in dependency order
    outputs: list[str] | dict[str, str] = field(default_factory=list)
    sequential: bool = True


def leaves(structure: Any, at: tuple = ()):
    """(path, name) of every name in a structure of names (model inputs or outputs).

    >>> list(leaves({"a": ["x", "y"]}))
    [(('a', 0), 'x'), (('a', 1), 'y')]
    """
    if isinstance(structure, dict):
        for key, value in structure.items():
            yield from leaves(value, (*at, key))
    elif isinstance(structure, list):
        for n, value in enumerate(structure):
            yield from leaves(value, (*at, n))
    else:
        yield at, structure


def output_count(layer: Any, layers_by_name: dict[str, Any]) -> int | None:
    """How many tensors a call of this spec layer returns (None: only Keras knows).

    A reference without ``:N`` to a layer with several outputs means all of them.
    """
    if isinstance(layer, Apply):
        target = layers_by_name.get(layer.apply)
        return None if target is None or isinstance(target, Apply) else output_count(target, {})
    if isinstance(layer, Op):
        return None if layer.type.removeprefix("ops.") in registry.LIST_OPS else 1
    if isinstance(layer, Nested):
        outputs = layer.spec.model.outputs
        return 1 if outputs is None else sum(1 for _ in leaves(outputs))
    cls = registry.canonical_layer(layer.type)
    if cls in registry.MANY_OUTPUTS:
        refs = layer.inputs
        return len(refs) if isinstance(refs, list) and len(refs) > 1 else 1
    if (getattr(layer, "call", None) or {}).get("return_attention_scores") is True:
        return 2
    wrapped = getattr(layer, "layer", None)
    if cls == "Bidirectional" and wrapped is not None:
        states = registry.RECURRENT_STATES.get(registry.canonical_layer(wrapped.type), 0)
        merged = 2 if getattr(layer, "merge_mode", "concat") is None else 1
        return merged + (2 * states if getattr(wrapped, "return_state", False) else 0)
    if cls == "TimeDistributed" and wrapped is not None:
        return output_count(wrapped, {})
    if getattr(layer, "return_state", False) and cls in registry.RECURRENT_STATES:
        return 1 + registry.RECURRENT_STATES[cls]
    return 1


def input_names(spec: Spec) -> list[str]:
    return default_input_names([i.name for i in spec.inputs])


def layer_names(spec: Spec) -> list[str]:
    """Explicit names as written; the others named the way Keras would (dense, dense_1, ...)."""
    return default_names([(layer.name, getattr(layer, "type", None)) for layer in spec.layers],
                         taken=set(input_names(spec)))


def names_implied(spec: Spec) -> list[bool]:
    """For each layer, whether its explicit name is the one layer_names would give it
    anyway (``vocab.names.implied_names`` on the typed spec)."""
    return implied_names([(layer.name, None if isinstance(layer, Apply) else layer.type)
                          for layer in spec.layers], input_names(spec))


def wiring_problems(spec: Spec, at: tuple = ()) -> list[Issue]:
    """Every wiring problem of a spec and of the models nested in it, by path."""
    issues: list[Issue] = []
    try:
        resolve(spec)
    except _Wiring as exc:
        issues = [(at + path, message, suggestion) for path, message, suggestion in exc.issues]
    for index, layer in enumerate(spec.layers):
        if isinstance(layer, Nested):
            issues += wiring_problems(layer.spec, (*at, "layers", index, "spec"))
    return issues


class _Wiring(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues


def resolve(spec: Spec) -> Graph:
    """Check the wiring and order the layers; raises SpecError on bad wiring."""
    issues: list[Issue] = []
    inputs = input_names(spec)
    if len(spec.inputs) > 1:
        for n, i in enumerate(spec.inputs):
            if i.name is None:
                issues.append((("inputs", n), "a spec with several inputs must name each one", None))
    names = layer_names(spec)
    seen: dict[str, tuple] = {}
    for n, name in enumerate(inputs):
        if name in seen:
            issues.append((("inputs", n, "name"), f"duplicate name '{name}'", None))
        seen[name] = ("inputs", n)
    for index, name in enumerate(names):
        if name in seen:
            issues.append((("layers", index, "name"), f"duplicate name '{name}'", None))
        seen[name] = ("layers", index)
    layers_by_name = {name: spec.layers[i] for i, name in enumerate(names)}
    nodes = []
    explicit = False
    for index, (name, layer) in enumerate(zip(names, spec.layers)):
        if layer.inputs is not None or isinstance(layer, (Apply, Op)):
            explicit = True
        refs = layer.inputs
        if refs is None:
            if index == 0 and len(inputs) > 1:
                issues.append((("layers", 0), "needs 'inputs': the spec has several inputs", None))
            refs = [inputs[0]] if index == 0 else [names[index - 1]]
        node = Node(index, name, layer, refs)
        for ref in node.refs():
            target, _ = split_ref(ref)
            if target not in seen:
                hint = suggest(target, seen)  # no list per reference: linear in the spec
                issues.append((_ref_path(index, layer, ref), f"unknown input '{ref}'",
                               hint if hint != name else None))
            else:
                issues += _index_issues(ref, _ref_path(index, layer, ref), inputs, layers_by_name)
        if isinstance(layer, Apply):
            target = layers_by_name.get(layer.apply)
            if target is None or isinstance(target, Apply):
                issues.append((("layers", index, "apply"), f"unknown layer '{layer.apply}'",
                               suggest(layer.apply, [n for n, l in layers_by_name.items()
                                                     if not isinstance(l, Apply)])))
        nodes.append(node)
    outputs = spec.model.outputs or [names[-1]]
    out_refs = []
    for at, ref in leaves(outputs):
        out_refs.append(ref)
        if split_ref(ref)[0] not in seen:
            issues.append((("model", "outputs", *at), f"unknown output '{ref}'",
                           suggest(split_ref(ref)[0], names)))
        else:
            issues += _index_issues(ref, ("model", "outputs", *at), inputs, layers_by_name)
    issues += _structure_issues(spec, inputs)
    issues += _tuple_issues(spec)
    if issues:
        raise _Wiring(issues)
    ordered = _order(nodes, inputs)
    _check_used(ordered, inputs, out_refs, spec)
    chain = len(inputs) == 1 and outputs == [names[-1]] and spec.model.inputs is None \
        and not spec.model.tuples and all(
        not isinstance(node.layer, (Apply, Op))
        and node.refs() == [inputs[0] if node.index == 0 else names[node.index - 1]]
        for node in nodes
    )
    if spec.model.kind == "sequential" and not chain:
        raise _Wiring([(("model", "kind"), "a sequential model returns one tensor, never a "
                        "tuple: leave out [model] tuples" if spec.model.tuples else "a sequential "
                        "model needs one input, layers in a chain and the last layer as its "
                        "output", None)])
    sequential = spec.model.kind == "sequential" or (
        spec.model.kind is None and not explicit and chain
    )
    return Graph(inputs, ordered, outputs, sequential)


def _index_issues(ref: str, path: tuple, inputs: list[str], layers_by_name: dict) -> list[Issue]:
    """"name:N" must pick one of the N tensors a layer returns; one tensor is never indexed."""
    target, index = split_ref(ref)
    if index is None:
        return []
    if target in inputs:
        return [(path, f"input '{target}' is one tensor: write '{target}', not '{ref}'", None)]
    count = output_count(layers_by_name[target], layers_by_name)
    if count == 1:
        return [(path, f"layer '{target}' has one output: write '{target}', not '{ref}'", None)]
    if count is not None and index >= count:
        return [(path, f"layer '{target}' has {count} outputs: '{target}:0' to "
                       f"'{target}:{count - 1}'", None)]
    return []


def _structure_issues(spec: Spec, inputs: list[str]) -> list[Issue]:
    """model.inputs names every input once, and only inputs."""
    if spec.model.inputs is None:
        return []
    if spec.model.inputs_form is not None:
        return [(("model", "inputs_form"), "write either 'inputs' or 'inputs_form'", None)]
    issues: list[Issue] = []
    used: set[str] = set()
    for at, name in leaves(spec.model.inputs):
        if name not in inputs:
            issues.append((("model", "inputs", *at), f"unknown input '{name}'", suggest(name, inputs)))
        elif name in used:
            issues.append((("model", "inputs", *at), f"input '{name}' is named twice", None))
        used.add(name)
    missing = [n for n in inputs if n not in used]
    if missing and not issues:
        listed = ", ".join(f"'{n}'" for n in missing)
        issues.append((("model", "inputs"), f"every input must appear once: {listed} is missing"
                       if len(missing) == 1 else f"every input must appear once: {listed} are missing", None))
    return issues


def _tuple_issues(spec: Spec) -> list[Issue]:
    """Each path of model.tuples names an array of model.outputs or model.inputs, once."""
    issues: list[Issue] = []
    seen: set[tuple] = set()
    for n, text in enumerate(spec.model.tuples or []):
        at = ("model", "tuples", n)
        parts = parse_path(text)
        if parts is None:
            issues.append((at, f"'{text}' is not a path: write 'outputs' or 'inputs', then "
                           "'.KEY', '[\"KEY\"]' or '[N]' for each step down", None))
            continue
        structure = getattr(spec.model, parts[0])
        found: Any = structure
        for part in parts[1:]:
            if isinstance(found, dict) and isinstance(part, str) and part in found:
                found = found[part]
            elif isinstance(found, list) and isinstance(part, int) and part < len(found):
                found = found[part]
            else:
                found = None
                break
        if not isinstance(found, list):
            what = ("" if structure is not None else f" ([model] {parts[0]} is not written)") \
                if found is None else " (it names a table)" if isinstance(found, dict) \
                else f" (it names '{found}')"
            issues.append((at, f"'{text}' names no array of [model] {parts[0]}{what}",
                           suggest(text, [format_path((parts[0], *p)) for p in arrays(structure)])))
        elif parts in seen:
            issues.append((at, f"'{text}' is named twice", None))
        seen.add(parts)
    return issues


def _ref_path(index: int, layer: Any, ref: str) -> tuple:
    refs = layer.inputs
    if isinstance(refs, dict):
        for key, value in refs.items():
            if value == ref:
                return ("layers", index, "inputs", key)
            if isinstance(value, list) and ref in value:
                return ("layers", index, "inputs", key, value.index(ref))
    if isinstance(refs, list) and ref in refs:
        return ("layers", index, "inputs", refs.index(ref))
    return ("layers", index)


# The layers a cycle is named by at each end: the whole of a 10,000-layer cycle would
# be a line of 100 KB.
CYCLE_ENDS = 10


def _cycle_text(cycle: list[str]) -> str:
    """A cycle (its first name again at the end) as a line, its middle left out when long.

    >>> _cycle_text(["a", "b", "a"])
    'a -> b -> a'
    >>> _cycle_text([f"d{i}" for i in range(1000)] + ["d0"]).split(" -> ")[8:13]
    ['d8', 'd9', '... (980 more)', 'd990', 'd991']
    """
    if len(cycle) <= 2 * CYCLE_ENDS + 2:
        return " -> ".join(cycle)
    left = len(cycle) - 1 - 2 * CYCLE_ENDS
    return " -> ".join([*cycle[:CYCLE_ENDS], f"... ({left:,} more)", *cycle[-CYCLE_ENDS - 1:]])


def _order(nodes: list[Node], inputs: list[str]) -> list[Node]:
    """A topological order that keeps spec order wherever it can; a cycle is
    reported with its members. graphlib, not a recursive walk: a long chain
    written in reverse would overflow the stack."""
    by_name = {node.name: node for node in nodes}
    sorter = graphlib.TopologicalSorter()
    for node in nodes:
        needs = [split_ref(ref)[0] for ref in node.refs()]
        if isinstance(node.layer, Apply):
            needs.append(node.layer.apply)
        sorter.add(node.name, *(n for n in needs if n in by_name))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each node before the ones that take it; say it the other way,
        # from the layer written first.
        cycle = list(reversed(exc.args[1]))[:-1]
        start = min(range(len(cycle)), key=lambda i: by_name[cycle[i]].index)
        cycle = cycle[start:] + cycle[:start + 1]
        first = by_name[cycle[0]]
        raise _Wiring([(("layers", first.index, "inputs"), "cycle: " + _cycle_text(cycle), None)])
    ready: list[tuple[int, str]] = []
    ordered: list[Node] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, (by_name[name].index, name))
        _, name = heapq.heappop(ready)
        ordered.append(by_name[name])
        sorter.done(name)
    return ordered


def _check_used(nodes: list[Node], inputs: list[str], outputs: list[str], spec: Spec) -> None:
    """Every layer must lie on a path from the inputs to an output."""
    by_name = {node.name: node for node in nodes}
    needed: set[str] = set()
    stack = [split_ref(r)[0] for r in outputs]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        node = by_name.get(name)
        if node is not None:
            stack.extend(split_ref(r)[0] for r in node.refs())
            if isinstance(node.layer, Apply):
                stack.append(node.layer.apply)
    issues = [(("layers", n.index), f"layer '{n.name}' does not lead to any output", None)
              for n in sorted(nodes, key=lambda n: n.index) if n.name not in needed]
    issues += [(("inputs", i), f"input '{name}' is never used", None)
               for i, name in enumerate(inputs) if name not in needed]
    if issues:
        raise _Wiring(issues)


def graph(spec: Spec) -> Graph:
    """The wiring of a valid spec (raises SpecError when it is not)."""
    try:
        return resolve(spec)
    except _Wiring as exc:
        raise SpecError([Problem.at_path(p, m, suggestion=s) for p, m, s in exc.issues]) from None
