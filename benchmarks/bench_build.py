"""The build targets of issue 11 alone, in CPU time, for a shared machine.

    nice python benchmarks/bench_build.py                       # 4 applications
    nice python benchmarks/bench_build.py --models MLP --repeat 1 --process-repeat 1

bench_commands.py measures everything in wall time; on a loaded machine wall
times of the two sides drift apart, CPU times far less. This measures, the
sides alternating in every round after one untimed run of each:

  in process  ``specc.build(specc.load(M.toml))`` vs ``keras.models.model_from_json``
              of the same model's config.json (CPU time of this process, each
              build after ``keras.backend.clear_session()``; ``specc.load`` alone
              is shown too);
  processes   ``specc build M.toml`` vs a process doing ``model_from_json`` + ``save``
              (bench_commands.sides: wall and CPU time, peak RSS).

M.toml is what ``specc export`` writes for the keras.applications model.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_commands  # noqa: E402  (puts this checkout first on sys.path)


def prepare(name: str, workdir: Path) -> None:
    import keras

    from specc.exporting.export import export
    from specc.writing.factor import dumps_factored

    keras.backend.clear_session()
    model = bench_commands.make(name)
    (workdir / f"{name}.config.json").write_text(model.to_json())
    (workdir / f"{name}.toml").write_text(dumps_factored(export(model), "toml", blocks=False))
    keras.backend.clear_session()


def in_process(name: str, workdir: Path, repeat: int) -> dict[str, list[float]]:
    import keras

    import specc

    spec_file, config = workdir / f"{name}.toml", (workdir / f"{name}.config.json").read_text()
    loaded = {}

    def specc_side():
        start = time.process_time()
        spec = specc.load(spec_file)
        loaded["t"] = time.process_time() - start
        specc.build(spec)

    sides = {"keras": lambda: keras.models.model_from_json(config), "specc": specc_side}
    found: dict[str, list[float]] = {"keras": [], "specc": [], "load": []}
    for rnd in range(repeat + 1):
        for side, fn in sides.items():
            keras.backend.clear_session()
            gc.collect()
            start = time.process_time()
            fn()
            if rnd:  # the first round is the untimed warm-up
                found[side].append(time.process_time() - start)
        if rnd:
            found["load"].append(loaded["t"])
    return found


def processes(name: str, workdir: Path, repeat: int) -> dict:
    py = sys.executable
    out = workdir / "out"
    return bench_commands.sides({
        "specc": [py, "-m", "specc", "build", str(workdir / f"{name}.toml"), "-o", f"{out}.specc.keras"],
        "keras": [py, "-c", bench_commands.KERAS_BUILD, str(workdir / f"{name}.config.json"),
                  f"{out}.keras.keras"],
    }, repeat)


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def spread(specc: list[float], keras: list[float]) -> str:
    ratios = [s / k for s, k in zip(specc, keras)]
    return f"{min(ratios):.2f}–{max(ratios):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=bench_commands.DEFAULT_MODELS)
    parser.add_argument("--repeat", type=int, default=7, help="in-process rounds (default: 7)")
    parser.add_argument("--process-repeat", type=int, default=3, help="process rounds (default: 3)")
    args = parser.parse_args()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    rows_in, rows_proc = [], []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name in args.models:
            prepare(name, workdir)
            r = in_process(name, workdir, args.repeat)
            rows_in.append(f"| {name} | {ms(r['keras']):.0f} | {ms(r['specc']):.0f} | "
                           f"{ms(r['load']):.0f} | {ms(r['specc']) / ms(r['keras']):.2f} | "
                           f"{spread(r['specc'], r['keras'])} |")
            if args.process_repeat:
                p = processes(name, workdir, args.process_repeat)
                s, k = p["specc"], p["keras"]
                rows_proc.append(
                    f"| {name} | {ms(s['s']):.0f} | {ms(k['s']):.0f} | {ms(s['s']) / ms(k['s']):.2f} | "
                    f"{spread(s['s'], k['s'])} | {ms(s['cpu']):.0f} | {ms(k['cpu']):.0f} | "
                    f"{ms(s['cpu']) / ms(k['cpu']):.2f} | {spread(s['cpu'], k['cpu'])} | "
                    f"{statistics.median(s['mb']):.0f} | {statistics.median(k['mb']):.0f} |")
            print(name, "done", file=sys.stderr, flush=True)
    print("\nIn process, CPU ms (medians):\n")
    print("| model | Keras model_from_json | specc load+build | specc.load only | ratio | (per round) |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows_in))
    if rows_proc:
        print("\nProcesses (medians):\n")
        print("| model | specc (ms) | Keras (ms) | ratio | (per round) | specc CPU (ms) | "
              "Keras CPU (ms) | CPU ratio | (per round) | specc peak RSS (MB) | Keras peak RSS (MB) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        print("\n".join(rows_proc))
    print(f"\nload average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
