"""Expansion time against the size of the expanded model: it should grow linearly.

    python benchmarks/bench_expand.py                  # 1,000 to 100,000 layers
    python benchmarks/bench_expand.py --sizes 1000 10000 --repeat 5

A spec of two nested blocks (a stack of residual pairs) is expanded with
``specc.expand`` for growing repeat counts; the table gives the median time and
the time per expanded layer, which stays flat when expansion is linear, with
Python's garbage collector on (as users run it) and off (its full collections
walk every live object, which grows with the model whatever specc does). Also
timed: ``specc.load`` of specs/resnet50.toml (blocks) against the flat spec
``specc expand`` writes for it, in the same run.

A script, not a test: pytest collects only tests/.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

import specc
from specc.writing.dump import dumps_data
from specc.expanding.expand import escaped

ROOT = Path(__file__).resolve().parent.parent


def _spec(stacks: int) -> dict:
    return {
        "inputs": [{"shape": [16]}],
        "defaults": {"Dense": {"kernel_regularizer": {"l2": 1e-4}}},
        "blocks": {
            "pair": {"params": {"units": "int"}, "layers": [
                {"name": "dense", "type": "Dense", "units": "{units}", "activation": "relu"},
                {"name": "back", "type": "Dense", "units": 16},
                {"name": "add", "type": "Add", "inputs": ["x", "back"]}]},
            "stack": {"params": {"units": "int"}, "layers": [
                {"block": "pair", "name": "pair{i}", "repeat": 10, "units": "{units}"}]},
        },
        "layers": [{"block": "stack", "name": "stack{i}", "repeat": stacks, "units": 32}],
    }


def _median(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| expanded layers | expand (s) | per layer (us) | gc off (s) | per layer, gc off (us) |")
    print("|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        data = _spec(max(size // 30, 1))
        layers = len(specc.expand(data)["layers"])
        seconds = _median(lambda: specc.expand(data), args.repeat)
        gc.disable()
        try:
            quiet = _median(lambda: specc.expand(data), args.repeat)
        finally:
            gc.enable()
        print(f"| {layers:,} | {seconds:.3f} | {seconds / layers * 1e6:.1f} | {quiet:.3f} | "
              f"{quiet / layers * 1e6:.1f} |")
    blocks = ROOT / "specs" / "resnet50.toml"
    with tempfile.TemporaryDirectory() as tmp:
        flat = Path(tmp) / "resnet50_flat.toml"
        flat.write_text(dumps_data(escaped(specc.expand(blocks))))
        with_blocks = _median(lambda: specc.load(blocks), args.repeat)
        written_flat = _median(lambda: specc.load(flat), args.repeat)
    print(f"\nspecc.load of specs/resnet50.toml: {with_blocks:.3f} s with blocks, "
          f"{written_flat:.3f} s flat (ratio {with_blocks / written_flat:.2f})")


if __name__ == "__main__":
    main()
