"""Checks of a typed, well-wired spec beyond its wiring: the keys of each layer's
``inputs`` and ``call`` tables, and the per-output values of [compile].

Each returns issues, (path, message, suggestion), for the checking stage to place.
"""

from __future__ import annotations

from specc.checking.graph import Issue, layer_names, leaves
from specc.checking.spec import Apply, Nested, Op, Spec
from specc.errors import suggest
from specc.vocab import registry
from specc.vocab.names import split_ref


def call_problems(spec: Spec, at: tuple = ()) -> list[Issue]:
    """Keys of ``inputs`` and ``call`` tables that the layer's ``call()`` does not take.

    The path of each issue is the key at fault (of this spec and of nested ones).
    """
    issues: list[Issue] = []
    by_name = dict(zip(layer_names(spec), spec.layers))
    for index, layer in enumerate(spec.layers):
        if isinstance(layer, Nested):
            issues += call_problems(layer.spec, (*at, "layers", index, "spec"))
        target = by_name.get(layer.apply) if isinstance(layer, Apply) else layer
        if target is None or isinstance(target, (Nested, Op, Apply)):
            continue  # a model's call takes its own inputs; operations take tensors in order
        cls = registry.canonical_layer(target.type)
        args = registry.call_arguments(cls)
        where = (*at, "layers", index)
        for key in layer.inputs if isinstance(layer.inputs, dict) else ():
            if key in args["options"]:
                issues.append(((*where, "inputs", key), f"call argument '{key}' of {cls} takes "
                               "a constant, not a tensor: write it in the layer's 'call' table",
                               None))
            elif key not in args["tensors"]:
                issues.append(((*where, "inputs", key), f"unknown call argument '{key}' for {cls}; "
                               f"its call takes {', '.join(args['tensors'])}",
                               suggest(key, args["tensors"])))
        every = [*args["tensors"], *args["options"]]
        for key in getattr(layer, "call", None) or {}:
            if key not in every:
                issues.append(((*where, "call", key), f"unknown call argument '{key}' for {cls}; "
                               f"its call takes {', '.join(every)}", suggest(key, every)))
    return issues


def output_names(spec: Spec) -> list[str]:
    """The names Keras gives a model's outputs: the table's keys, else the output layers'."""
    outputs = spec.model.outputs or [layer_names(spec)[-1]]
    if isinstance(outputs, dict):
        return list(outputs)
    return [split_ref(ref)[0] for _, ref in leaves(outputs)]


def compile_problems(spec: Spec) -> list[Issue]:
    """[compile] values given per output must name the model's outputs, as Keras checks at fit."""
    if spec.compile is None:
        return []
    names = output_names(spec)
    issues: list[Issue] = []
    for key in ("loss", "metrics", "weighted_metrics", "loss_weights"):
        value = getattr(spec.compile, key)
        where = ("compile", key)
        if isinstance(value, dict):
            unknown = [((*where, k), f"unknown output '{k}'", suggest(k, names))
                       for k in value if k not in names]
            missing = [repr(n) for n in names if n not in value]
            if key == "loss" and missing and not unknown:
                unknown.append((where, f"no loss for output {', '.join(missing)}: a table of "
                                "losses names every output", None))
            issues += unknown
        elif isinstance(value, list) and len(value) > len(names) and (
                key in ("loss", "loss_weights") or any(isinstance(v, list) for v in value)):
            # A flat list of metrics is for every output; a list of lists has one per output.
            issues.append((where, f"expected at most {len(names)} entries, one per output, "
                           f"received {len(value)}", None))
    return issues
