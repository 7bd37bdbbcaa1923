"""Mutations: of spec text, of JSON documents, and of .keras zips as bytes.

Pure functions of a ``random.Random``: the same seed makes the same inputs.
"""

from __future__ import annotations

import copy
import io
import json
import random
import zipfile

TOKENS = [
    "[", "]", "{", "}", "[[", "]]", "[[layers]]", "[[inputs]]", "[model]", "[compile]", ",", "=",
    ":", '"', "'", '"""', "\\", "\n", "#", ".", "-", "+", "e", "1e999", "-1e999", "nan", "inf",
    "9" * 40, "9" * 4400, "0.0", "-1", "true", "null", '"None"', "1979-05-27", "07:32:00",
    '"ops.Full"', '"ops.WhileLoop"', '"Lambda"', '"TFSMLayer"', '"StringLookup"', '"Model"',
    '"Dense"', '"Dence"', '"class_name"', '"__lambda__"', '"module"', '"builtins.eval"',
    '"os.system"', "expr", '"sum(w) / 0"', '"9**9**9 * sum(w)"', '"1111111111111111111111111;"',
    "call", "inputs", "apply", "kernel_regularizer", "layer", "spec", "shape", "units", "type",
    "\x00", "\ufeff", "\u2028", "[" * 200, "{" * 100,
]
KEYS = ["type", "name", "inputs", "units", "shape", "layer", "spec", "call", "apply", "expr",
        "l1", "l2", "custom", "kernel_regularizer", "kernel_initializer", "kernel_constraint",
        "activation", "rate", "outputs", "kind", "optimizer", "loss", "metrics", "class_name",
        "config", "module", "registered_name", "layers", "inbound_nodes", "input_layers",
        "output_layers", "keras_history", "args", "kwargs", "batch_shape", "build_input_shape",
        "block", "blocks", "repeat", "params", "names", "if", "defaults", "constants", "build",
        "dtype_policy", "dtype", "batch_input_shape", "input_shape", "training_config",
        "optimizer_config", "weight_names", "layer_names", "tuples", "specc.tuples"]
VALUES = [None, True, False, 0, -1, 1, 2**63, 2**64 + 1, 10**300, 1e308, float("inf"),
          float("nan"), "", "x", "None", "Dense", "ops.Full", "Lambda", "__lambda__",
          "keras.layers", "builtins", [], {}, [1, 2], {"class_name": "__lambda__", "config": {}},
          [["a", "b"]], "a:1", "x:0", ["outputs", "inputs[0]"], 'outputs["a"].b', "{i}", "{1/0}", {"block": "b"}, {"l2": 0.01},
          {"class_name": "Dense", "config": {}, "module": None}, ["x", 0, 0], [[["x", 0, 0]]]]


MAX_TEXT = 2**20  # mutations repeat slices: keep inputs to a megabyte


def mutate_text(rng: random.Random, text: str, pool: list[tuple[str, str]]) -> str:
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        text = text[:MAX_TEXT]
        n = len(text)
        i, j = sorted((rng.randrange(n + 1), rng.randrange(n + 1)))
        r = rng.random()
        if r < 0.3:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif r < 0.45:
            text = text[:i] + text[j:]
        elif r < 0.6:
            text = text[:i] + text[i:j] * rng.randint(2, 50) + text[j:]
        elif r < 0.7:
            other = rng.choice(pool)[1]
            k = rng.randrange(len(other) + 1)
            text = text[:i] + other[k:k + rng.randint(1, 400)] + text[j:]
        elif r < 0.85 and n:
            code = rng.choice((rng.randrange(32, 127), rng.randrange(0x10FFFF)))
            # A file decoded as UTF-8 never holds a lone surrogate.
            text = text[:i] + ("?" if 0xD800 <= code < 0xE000 else chr(code)) + text[i + 1:]
        else:
            text = text[:i] + "".join(chr(rng.randrange(256)) for _ in range(rng.randint(1, 16))) \
                + text[i:]
    return text[:MAX_TEXT]


def mutate_data(rng: random.Random, data, depth: int = 0):
    """Replace, delete, add or deepen one random place of a JSON document."""
    if isinstance(data, (dict, list)) and data and depth < 40 and rng.random() < 0.8:
        keys = list(data.keys()) if isinstance(data, dict) else list(range(len(data)))
        key = rng.choice(keys)
        r = rng.random()
        if r < 0.1:
            del data[key]
        elif r < 0.2 and isinstance(data, dict):
            data[rng.choice(KEYS)] = copy.deepcopy(rng.choice(VALUES))
        elif r < 0.3 and isinstance(data, list):
            data.extend(copy.deepcopy(data[: rng.randint(1, 5)]) * rng.randint(1, 20))
        else:
            data[key] = mutate_data(rng, data[key], depth + 1)
        return data
    r = rng.random()
    if r < 0.6:
        return copy.deepcopy(rng.choice(VALUES))
    if r < 0.8:
        value = data
        for _ in range(rng.choice((2, 10, 70, 150))):
            value = [value] if rng.random() < 0.5 else {rng.choice(KEYS): value}
        return value
    return rng.choice(KEYS)


def to_keras_bytes(rng: random.Random, config: dict) -> bytes:
    buffer = io.BytesIO()
    method = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                         zipfile.ZIP_LZMA))
    with zipfile.ZipFile(buffer, "w", method) as archive:
        # Written by another Keras, supported or not (exporting/versions.py), or nonsense.
        archive.writestr("metadata.json", rng.choice((
            '{"keras_version": "3.0.0"}', '{"keras_version": "3.12.4"}',
            '{"keras_version": "3.14.1"}', '{"keras_version": "3.13.0rc1"}',
            '{"keras_version": 3.12}', '[', '{"keras_version": "' + "3" * 100 + '"}')))
        archive.writestr("config.json", json.dumps(config))
    raw = bytearray(buffer.getvalue())
    for _ in range(rng.choice((0, 1, 1, 4))):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)
