"""A serialized Sequential or functional model -> spec data: inputs, layers, wiring, outputs."""

from __future__ import annotations

from typing import Any

from specc.errors import Problem
from specc.checking.spec import INPUT_FLAGS
from specc.exporting.config_shape import MODEL_CLASSES
from specc.exporting.layers import layer_entry
from specc.exporting.wiring import (TUPLES, call_constants, call_inputs, histories,
                                    history_leaves, map_histories, without_unused_ops)
from specc.vocab.values import none_to_word


def model_data(config: dict, problems: list[Problem], where: str) -> dict:
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES or config.get("module", "keras").split(".")[0] != "keras":
        problems.append(Problem(
            f"'{cls}' is not a Sequential or functional Keras model (subclassed models are Python code)",
            path=where or "model",
        ))
        return {}
    body = config["config"]
    if cls == "Sequential":
        return _sequential(body, problems, where)
    return _functional(body, problems, where)


def _input(config: dict, name: str | None) -> dict:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    entry: dict[str, Any] = {"shape": [none_to_word(d) for d in shape[1:]]}
    if name:
        entry = {"name": name, **entry}
    if config.get("dtype") not in (None, "float32"):
        entry["dtype"] = config["dtype"]
    for flag in INPUT_FLAGS:
        if config.get(flag):
            entry[flag] = True
    if shape[0] is not None:
        entry["batch_size"] = shape[0]
    return entry


def _sequential(body: dict, problems: list[Problem], where: str) -> dict:
    layers = body["layers"]
    inputs = []
    if layers and layers[0]["class_name"] == "InputLayer":
        first, layers = layers[0]["config"], layers[1:]  # the caller's config stays as it was
        inputs.append(_input(first, first["name"]))
    elif body.get("build_input_shape"):
        inputs.append({"shape": [none_to_word(d) for d in body["build_input_shape"][1:]]})
    else:
        problems.append(Problem("the Sequential model has no input shape: it was never built",
                                path=where or "model"))
    if not layers:  # Keras itself cannot build one (a crafted or corrupt file)
        problems.append(Problem("the Sequential model has no layers", path=where or "model"))
    spec_layers = [layer_entry(l, problems, f"{where}layers[{i}]") for i, l in enumerate(layers)]
    return {"model": {"name": body.get("name"), "kind": "sequential"}, "inputs": inputs,
            "layers": spec_layers}


def _functional(body: dict, problems: list[Problem], where: str) -> dict:
    layers = body["layers"]
    by_name = {l["name"]: l for l in layers}
    input_names = [h[0] for h in history_leaves(body["input_layers"])]
    inputs = [_input(by_name[n]["config"], n) for n in input_names]

    def ref(history: list, output: bool = False) -> str:
        """A tensor as the spec names it: "<layer>" or "<layer>_call_<n>" (call n of a
        shared layer), then ":<tensor>" (minimize.drop_zero_indexes drops ":0" where a
        call has one output)."""
        name, node, tensor = history
        if output and by_name[name]["class_name"] == "Functional":
            node -= 1  # Keras counts a nested model's own graph as node 0 here, not in calls
        target = name if node == 0 else f"{name}_call_{node}"
        return f"{target}:{tensor}"

    def implicit_mask(args: list, mask: Any) -> bool:
        """A mask computed by an operation from what produced our input (Embedding's
        mask_zero records ops.not_equal(tokens, 0)): Keras recomputes it itself."""
        if mask is None or not args:
            return False
        producer = by_name[mask["config"]["keras_history"][0]]
        if not (producer.get("module") or "").startswith("keras.src.ops"):
            return False
        source = by_name[next(histories(args[0]))[0]]
        fed = {tuple(h) for n in source.get("inbound_nodes", []) for h in histories(n)}
        used = {tuple(h) for n in producer.get("inbound_nodes", []) for h in histories(n)}
        return bool(used) and used <= fed

    spec_layers = []
    for layer in layers:
        if layer["class_name"] == "InputLayer":
            continue
        path = f"{where}layers[{len(spec_layers)}]"
        entry = layer_entry(layer, problems, path)
        nodes = layer.get("inbound_nodes", [])
        calls = [call_inputs(layer, entry, node, ref, implicit_mask, problems, path)
                 for node in nodes]
        if calls:
            entry["inputs"] = calls[0]
            constants = call_constants(nodes[0], entry.get("type"))
            if constants:
                entry["call"] = constants
        spec_layers.append(entry)
        spec_layers.extend(
            {"apply": layer["name"], "name": f"{layer['name']}_call_{n}", "inputs": call}
            for n, call in enumerate(calls[1:], start=1)
        )
    model: dict[str, Any] = {"name": body.get("name"), "kind": "functional"}
    outputs = map_histories(body["output_layers"], lambda h: ref(h, output=True))
    spec_layers = without_unused_ops(
        spec_layers, [ref(h, output=True).partition(":")[0]
                      for h in history_leaves(body["output_layers"])])
    model["outputs"] = [outputs] if isinstance(outputs, str) else outputs
    tuples = body.get(TUPLES) or []  # a live model's (export.py), never a file's
    if tuples:
        model["tuples"] = tuples
    if isinstance(outputs, list) and len(outputs) == 1 and isinstance(outputs[0], str) \
            and "outputs" not in tuples:
        model["outputs_form"] = "list"
    structure = map_histories(body["input_layers"], lambda h: h[0])
    if any(t.startswith("inputs") for t in tuples):
        model["inputs"] = structure  # written out: the paths are of the structure as written
    elif isinstance(structure, dict) and all(k == v for k, v in structure.items()):
        model["inputs_form"] = "dict"
    elif structure == input_names[:1]:
        model["inputs_form"] = "list"
    elif not (isinstance(structure, str) or structure == input_names):
        model["inputs"] = structure  # nested, or a dict keyed otherwise than the inputs' names
    return {"model": model, "inputs": inputs, "layers": spec_layers}

