"""Checks that must stay quick whatever the model: the JSON Schema on a large spec,
and the parameter budget refusing a huge model.

    python benchmarks/bench_checks.py                 # prints a Markdown table
    python benchmarks/bench_checks.py --sizes 100 --repeat 1 --no-budget   # a smoke run

1. The committed JSON Schema (what editors and CI check specs with), through
   jsonschema's Draft 2020-12 validator, on specs of N, 2N, 4N, 8N layers (a
   Dense with a regularizer and an initializer, then a Dropout, repeated):
   seconds of the check (median of --repeat), the validator made once.
2. ``build`` of a spec whose one Dense layer has 10,000,100,000 parameters (40 GB
   of float32 weights), refused by the budget: seconds from ``build()`` to the
   SpecError, with TensorFlow imported and warm, and how much the process's
   peak memory grew (the weights are never made).

Wall time by ``time.perf_counter``; memory by ``resource`` (ru_maxrss, KiB on
Linux). Not a test: tests/test_corpus.py and tests/test_budget.py check what is
accepted or refused and that no weight is allocated; timing belongs here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmark the specc of this checkout, whatever is installed

SCHEMA = ROOT / "schemas" / "specc.schema.json"
HUGE = """\
[[inputs]]
shape = [100000]

[[layers]]
type = "Dense"
units = 100000
"""


def large_spec(layers: int) -> dict:
    pair = [{"type": "Dense", "units": 8, "activation": "relu",
             "kernel_regularizer": {"l2": 0.01}, "kernel_initializer": "he_normal"},
            {"type": "Dropout", "rate": 0.1}]
    return {"inputs": [{"shape": [8]}], "layers": pair * (layers // 2)}


def schema_rows(sizes: list[int], repeat: int) -> list[str]:
    import jsonschema

    start = time.perf_counter()
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    made = time.perf_counter() - start
    rows = [f"| JSON Schema: load the schema, make the validator (s) | - | {made:.3f} |"]
    validator.is_valid(large_spec(sizes[0]))  # warm-up: jsonschema compiles its $refs lazily
    for n in sizes:
        spec = large_spec(n)
        seconds = []
        for _ in range(repeat):
            start = time.perf_counter()
            valid = validator.is_valid(spec)
            seconds.append(time.perf_counter() - start)
        assert valid, "the generated spec is valid"
        rows.append(f"| JSON Schema: check a spec of N layers (s, median) | {n:,} | "
                    f"{statistics.median(seconds):.3f} |")
    return rows


def budget_rows(repeat: int) -> list[str]:
    import specc
    from specc.building.build import build

    build(specc.load(ROOT / "specs" / "cnn.toml"))  # TensorFlow imported and warm
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "huge.toml")
        path.write_text(HUGE)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = []
        for _ in range(repeat):
            spec = specc.load(path)
            start = time.perf_counter()
            try:
                build(spec)
            except specc.SpecError:
                pass
            else:
                raise AssertionError("the huge spec was built")
            seconds.append(time.perf_counter() - start)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return [f"| budget: build() refuses a 10,000,100,000-parameter Dense (s, median) | 1 | "
            f"{statistics.median(seconds):.3f} |",
            f"| budget: peak memory grown while refusing it (MB) | 1 | {grown / 1024:.1f} |"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 800, 1600])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-budget", action="store_true", help="skip the build (no TensorFlow)")
    args = parser.parse_args(argv)
    print("| measure | N | value |")
    print("|---|---:|---:|")
    for row in schema_rows(args.sizes, args.repeat):
        print(row, flush=True)
    if not args.no_budget:
        for row in budget_rows(args.repeat):
            print(row, flush=True)


if __name__ == "__main__":
    main()
