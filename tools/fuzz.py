"""A long-running mutation fuzzer for specc's readers: spec text and .keras configs.

    nice -n 19 taskset -c 0 python tools/fuzz.py --seconds 3600 --out fuzz-out

Every input is a mutation of a real spec (specs/, tests/corpus/) or of the
config.json of a model built from one, or random bytes. Each is fed to the
stage a user would feed it to:

- spec text (TOML or JSON) -> ``parse_text`` -> ``validate_document``;
- a config.json document -> ``export_config``;
- (every 50th input) a whole .keras zip, mutated as bytes -> ``export_file``.

The oracle is specc's promise: the result is a Spec or a ``SpecError``;
anything else (another exception, an input slower than --slow seconds, a
MemoryError under the address-space limit) is a finding, saved under
``--out/findings`` with its traceback. A summary (inputs per target, findings)
is written to ``--out/summary.json`` every minute and at the end.
Nothing is imported from the inputs: the fuzzer runs the same code the CLI does.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import random
import resource
import sys
import time
import traceback
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from specc.errors import SpecError  # noqa: E402
from specc.reading.load import parse_text  # noqa: E402
from specc.checking.validate import validate_document  # noqa: E402

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
        "output_layers", "keras_history", "args", "kwargs", "batch_shape", "build_input_shape"]
VALUES = [None, True, False, 0, -1, 1, 2**63, 2**64 + 1, 10**300, 1e308, float("inf"),
          float("nan"), "", "x", "None", "Dense", "ops.Full", "Lambda", "__lambda__",
          "keras.layers", "builtins", [], {}, [1, 2], {"class_name": "__lambda__", "config": {}},
          {"class_name": "Dense", "config": {}, "module": None}, ["x", 0, 0], [[["x", 0, 0]]]]


def seeds() -> list[tuple[str, str]]:
    found = []
    for path in sorted([*ROOT.glob("specs/*"), *ROOT.glob("tests/corpus/**/*")]):
        if path.suffix in (".toml", ".json") and path.is_file():
            found.append((path.suffix[1:], path.read_text(errors="replace")))
    return found


def model_configs() -> list[dict]:
    """config.json of every spec that builds (TensorFlow is imported once, here)."""
    import keras

    from specc.building.build import build
    from specc.checking.validate import load

    configs = []
    for path in sorted(ROOT.glob("specs/*")):
        try:
            model = build(load(path))
        except SpecError:
            continue
        configs.append(json.loads(json.dumps(keras.saving.serialize_keras_object(model))))
    return configs


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
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        archive.writestr("config.json", json.dumps(config))
    raw = bytearray(buffer.getvalue())
    for _ in range(rng.choice((0, 1, 1, 4))):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)


class Fuzzer:
    def __init__(self, out: Path, slow: float, seed: int):
        self.out, self.slow = out, slow
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}
        self.findings: dict[str, dict] = {}
        (out / "findings").mkdir(parents=True, exist_ok=True)

    def run_one(self, target: str, call, payload: bytes) -> None:
        self.counts[target] = self.counts.get(target, 0) + 1
        start = time.process_time()  # CPU time: a shared, nice'd core makes wall time noise
        try:
            call()
            outcome = None
        except SpecError:
            outcome = None
        except BaseException as exc:  # noqa: BLE001 - the finding itself
            if isinstance(exc, KeyboardInterrupt):
                raise
            outcome = "".join(traceback.format_exception(exc))
        took = time.process_time() - start
        if outcome is None and took > self.slow:
            outcome = f"slow: {took:.1f} s of CPU"
        if outcome is not None:
            key = hashlib.sha1(f"{target}:{outcome.splitlines()[-1][:200]}".encode()).hexdigest()[:12]
            if key not in self.findings:
                (self.out / "findings" / f"{key}.input").write_bytes(payload)
                (self.out / "findings" / f"{key}.txt").write_text(f"{target}\n{outcome}")
                self.findings[key] = {"target": target, "first_line": outcome.splitlines()[-1][:300]}
            self.findings[key]["count"] = self.findings[key].get("count", 0) + 1

    def summary(self, started: float, done: bool) -> None:
        (self.out / "summary.json").write_text(json.dumps({
            "seconds": round(time.time() - started), "finished": done,
            "inputs": sum(self.counts.values()), "per_target": self.counts,
            "findings": self.findings, "python": sys.version.split()[0],
        }, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--inputs", type=int, default=0, help="stop after this many (0: no limit)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow", type=float, default=5.0,
                        help="CPU seconds that make an input a finding")
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--no-export", action="store_true", help="skip the .keras targets (no TensorFlow)")
    args = parser.parse_args()
    limit = int(args.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fuzzer = Fuzzer(args.out, args.slow, args.seed)
    pool = seeds()
    configs = [] if args.no_export else model_configs()
    keras_file = args.out / "input.keras"
    started = last = time.time()
    n = 0
    while time.time() - started < args.seconds and (not args.inputs or n < args.inputs):
        n += 1
        try:
            fuzz_once(fuzzer, n, pool, configs, keras_file)
        except (MemoryError, RecursionError, ValueError, OverflowError):
            fuzzer.counts["not_generated"] = fuzzer.counts.get("not_generated", 0) + 1
        if time.time() - last > 60:
            fuzzer.summary(started, False)
            last = time.time()
    fuzzer.summary(started, True)
    print(json.dumps({"inputs": sum(fuzzer.counts.values()), "findings": len(fuzzer.findings)}))


def fuzz_once(fuzzer: Fuzzer, n: int, pool: list, configs: list, keras_file: Path) -> None:
    """Make one input and run it (a failure to make one is the fuzzer's, not specc's)."""
    from specc.exporting.export import export_config, export_file

    rng = fuzzer.rng
    r = rng.random()
    if configs and n % 50 == 0:
        data = mutate_data(rng, copy.deepcopy(rng.choice(configs)))
        raw = to_keras_bytes(rng, data)
        keras_file.write_bytes(raw)
        fuzzer.run_one("keras_file", lambda: export_file(keras_file), raw)
    elif configs and r < 0.2:
        data = mutate_data(rng, copy.deepcopy(rng.choice(configs)))
        fuzzer.run_one("config", lambda: export_config(data),
                       json.dumps(data, default=str).encode())
    elif r < 0.35:
        fmt, text = rng.choice(pool)
        try:
            data = json.loads(text) if fmt == "json" else __import__("tomllib").loads(text)
        except Exception:
            return
        for _ in range(rng.randint(1, 4)):
            data = mutate_data(rng, data)
        if not isinstance(data, dict):
            data = {"layers": data}
        text = json.dumps(data, allow_nan=True)
        fuzzer.run_one("spec_data", lambda: validate_document(parse_text(text, "json")),
                       text.encode())
    elif r < 0.4:
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        fmt = rng.choice(("toml", "json"))
        text = raw.decode("latin-1")
        fuzzer.run_one(f"bytes_{fmt}", lambda: validate_document(parse_text(text, fmt)), raw)
    else:
        fmt, text = rng.choice(pool)
        text = mutate_text(rng, text, pool)
        fuzzer.run_one(f"text_{fmt}", lambda: validate_document(parse_text(text, fmt)),
                       text.encode("utf-8", "surrogatepass"))


if __name__ == "__main__":
    main()
