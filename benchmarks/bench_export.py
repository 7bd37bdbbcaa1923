"""specc export/load against Keras's own serialization, on keras.applications models.

    python benchmarks/bench_export.py                      # prints the tables
    python benchmarks/bench_export.py --models ResNet50 --repeat 3 --results FILE.md

benchmarks/bench_commands.py runs these in-process figures too, next to whole
commands, and writes them into benchmarks/RESULTS.md.

Every figure is a ratio against Keras measured in the same run, on the same
model, with the runs of the two sides interleaved:

  (a) size   specc's TOML and JSON export vs Keras's config.json
             (``json.dumps(keras.saving.serialize_keras_object(model))``, what a
             ``.keras`` file holds)
  (b) export specc ``export`` + ``dumps`` vs Keras ``serialize_keras_object`` +
             ``json.dumps`` (specc's export starts from Keras's serialization,
             so this ratio cannot go below 1)
  (c) load   ``specc.load`` (checks only, no model) + ``specc.build`` of the
             exported spec vs ``keras.models.model_from_json`` of config.json
             (which builds the model); ``specc.load`` alone is shown too
  (d) memory peak of Python allocations (tracemalloc) during (b), both sides

Times are medians of --repeat runs (time.perf_counter), after one warm-up run
of each side that is not counted. Each rebuild starts from
``keras.backend.clear_session()`` (not timed). tracemalloc sees Python
allocations only, not TensorFlow's C++ buffers.

This file is a script, not a test: pytest collects only tests/ (and only
test_*.py files).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # benchmark the specc of this checkout, whatever is installed
DEFAULT_MODELS = ["MobileNetV2", "ResNet50", "EfficientNetB0", "DenseNet121"]


# ---- measuring ----------------------------------------------------------------


def timed(fn, before=None) -> float:
    if before is not None:
        before()
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(sides: dict, repeat: int, before=None, check=None) -> dict[str, list[float]]:
    """Run every side once untimed (check(name, result) sees it), then `repeat` rounds of all sides in turn."""
    for name, fn in sides.items():
        if before is not None:
            before()
        result = fn()
        if check is not None:
            check(name, result)
        del result
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            times[name].append(timed(fn, before))
    return times


def peak_bytes(fn) -> int:
    """Peak of traced Python memory while fn runs, above what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - base


# ---- one model ----------------------------------------------------------------


def bench_model(name: str, repeat: int, build_repeat: int, workdir: Path, make=None) -> dict:
    """Every figure of one model: keras.applications.<name>, or what make() returns."""
    import keras

    import specc
    from specc.writing.factor import dumps_factored
    from specc.exporting.export import export

    def dumps(spec, fmt: str) -> str:  # what `specc export` writes ([defaults], no blocks)
        return dumps_factored(spec, fmt, blocks=False)

    keras.backend.clear_session()
    model = make() if make is not None else getattr(keras.applications, name)(weights=None)

    def keras_text() -> str:
        return json.dumps(keras.saving.serialize_keras_object(model))

    def specc_toml() -> str:
        return dumps(export(model), "toml")

    def specc_json() -> str:
        return dumps(export(model), "json")

    # (a) sizes
    config_json = keras_text()
    spec = export(model)
    toml_text, json_text = dumps(spec, "toml"), dumps(spec, "json")
    sizes = {
        "keras": len(config_json.encode()),
        "toml": len(toml_text.encode()),
        "json": len(json_text.encode()),
        "json_compact": len(json.dumps(json.loads(json_text)).encode()),
    }

    # (b) export time
    export_times = interleaved(
        {"keras": keras_text, "toml": specc_toml, "json": specc_json}, repeat
    )

    # (d) peak Python memory of the same operations
    memory = {
        "keras": peak_bytes(keras_text),
        "toml": peak_bytes(specc_toml),
        "json": peak_bytes(specc_json),
    }

    # (c) load (+ build) from files
    keras_file = workdir / f"{name}.config.json"
    toml_file = workdir / f"{name}.toml"
    json_file = workdir / f"{name}.json"
    keras_file.write_text(config_json)
    toml_file.write_text(toml_text)
    json_file.write_text(json_text)
    layers = [(type(l).__name__, l.name) for l in model.layers]
    params = model.count_params()
    del model, spec
    gc.collect()

    def reset():
        keras.backend.clear_session()

    def keras_rebuild():
        return keras.models.model_from_json(keras_file.read_text())

    def specc_rebuild_toml():
        return specc.build(specc.load(toml_file))

    def code_rebuild():
        # The floor for anything that builds through Keras's constructors: the model's
        # own Python code, its weights made the way specc.build makes them (all at
        # once after the layers, collector paused), with no spec to read.
        from specc.building.budget import within
        from specc.collector import paused

        with paused():
            return within(lambda: make() if make is not None
                          else getattr(keras.applications, name)(weights=None), None)

    def same_model(side, rebuilt):
        # the round trip is the same model, or the comparison means nothing
        got = [(type(l).__name__, l.name) for l in rebuilt.layers]
        if got != layers or rebuilt.count_params() != params:
            raise SystemExit(f"{name}: the {side} rebuild is not the original model")

    load_times = interleaved(
        {
            "load_toml": lambda: specc.load(toml_file),
            "load_json": lambda: specc.load(json_file),
        },
        repeat,
    )
    build_times = interleaved(
        {
            "keras": keras_rebuild,
            "toml": specc_rebuild_toml,
            "code": code_rebuild,
        },
        build_repeat,
        before=reset,
        check=same_model,
    )
    reset()
    return {
        "model": name,
        "layers": len(layers),
        "params": params,
        "sizes": sizes,
        "export": export_times,
        "memory": memory,
        "load": load_times,
        "build": build_times,
    }


# ---- report -------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}"


def spread(specc: list[float], keras: list[float]) -> str:
    """Lowest and highest specc/Keras ratio of one round (the sides run in turn each round)."""
    ratios = [a / b for a, b in zip(specc, keras)]
    return f"{min(ratios):.2f}–{max(ratios):.2f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def tables(results: list[dict]) -> list[tuple[str, str]]:
    size_rows, export_rows, memory_rows, load_rows = [], [], [], []
    for r in results:
        s, e, m, lo, b = r["sizes"], r["export"], r["memory"], r["load"], r["build"]
        size_rows.append([
            r["model"], str(r["layers"]), kib(s["keras"]), kib(s["toml"]), kib(s["json"]),
            ratio(s["toml"], s["keras"]), ratio(s["json"], s["keras"]), ratio(s["json_compact"], s["keras"]),
        ])
        k = med(e["keras"])
        export_rows.append([
            r["model"], ms(k), ms(med(e["toml"])), ms(med(e["json"])),
            ratio(med(e["toml"]), k), spread(e["toml"], e["keras"]),
            ratio(med(e["json"]), k), spread(e["json"], e["keras"]),
        ])
        memory_rows.append([
            r["model"], mib(m["keras"]), mib(m["toml"]), mib(m["json"]),
            ratio(m["toml"], m["keras"]), ratio(m["json"], m["keras"]),
        ])
        k = med(b["keras"])
        load_rows.append([
            r["model"], ms(k), ms(med(b["toml"])), ms(med(lo["load_toml"])), ms(med(lo["load_json"])),
            ratio(med(b["toml"]), k), spread(b["toml"], b["keras"]),
            ratio(med(lo["load_toml"]), k), ratio(med(lo["load_json"]), k),
            ms(med(b["code"])), ratio(med(b["code"]), k),
        ])
    return [
        ("(a) Size: specc export vs Keras config.json (KiB; ratio = specc / Keras)", table(
            ["model", "layers", "Keras config.json", "specc TOML", "specc JSON",
             "TOML ratio", "JSON ratio", "JSON ratio, no indent"], size_rows)),
        ("(b) Export time: specc export+dumps vs Keras serialize_keras_object+json.dumps "
         "(median ms; ratio = specc / Keras)", table(
            ["model", "Keras", "specc TOML", "specc JSON", "TOML ratio", "(per round)",
             "JSON ratio", "(per round)"], export_rows)),
        ("(c) Load time: specc.load+build of the spec file vs keras.models.model_from_json "
         "of config.json (median ms; ratio = specc / Keras)", table(
            ["model", "Keras model_from_json", "specc load+build (TOML)", "specc.load only, TOML",
             "specc.load only, JSON", "load+build ratio", "(per round)", "load-only ratio, TOML",
             "load-only ratio, JSON", "model's own Keras code, weights made as specc does",
             "its ratio"], load_rows)),
        ("(d) Peak Python memory (tracemalloc) of the export in (b) (MiB; ratio = specc / Keras)", table(
            ["model", "Keras", "specc TOML", "specc JSON", "TOML ratio", "JSON ratio"], memory_rows)),
    ]


def machine() -> dict:
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "specc"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split("\n")
        dirty = [line[3:] for line in dirty if line.strip()]
        if dirty:
            commit += " with uncommitted changes to " + ", ".join(dirty)
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "specc": f"{ROOT} at commit {commit}",
    }


def report(results: list[dict], info: dict, command: str, repeat: int, build_repeat: int, total: float) -> str:
    out = [
        "# specc export/load benchmark",
        "",
        "Produced by `benchmarks/bench_export.py --results FILE` (`bench_commands.py` writes "
        "these tables into benchmarks/RESULTS.md). Every ratio is specc / Keras, measured in the same run; below 1 means "
        "specc is smaller or faster.",
        "",
        f"- command: `{command}`",
        *(f"- {key}: {value}" for key, value in info.items()),
        f"- repeats: {repeat} timed runs per side for (b) and specc.load, {build_repeat} for the "
        "rebuilds of (c); medians; each after one untimed warm-up run",
        f"- total run time: {total:.0f} s",
        "",
    ]
    for title, body in tables(results):
        out += [f"## {title}", "", body, ""]
    out += [
        "## How each figure is measured",
        "",
        "- Models: `keras.applications.<name>(weights=None)`.",
        "- (a) UTF-8 bytes. Keras: `json.dumps(keras.saving.serialize_keras_object(model))`, "
        "the `config.json` of a `.keras` file (no indentation). specc: "
        "`specc.writing.factor.dumps_factored(specc.exporting.export.export(model), fmt, "
        "blocks=False)`, what `specc export` writes (repeated argument values in `[defaults]`); "
        "specc's JSON is indented (2 spaces), so the last column also gives it without "
        "indentation.",
        "- Ratio columns: ratio of the medians; \"(per round)\": the lowest and highest ratio "
        "of a single round, each round timing both sides back to back, which shows how noisy "
        "the machine was.",
        "- (b) `time.perf_counter` around the calls of (a). `specc.exporting.export.export` starts from "
        "`keras.saving.serialize_keras_object`, so the ratio is at least 1 by construction.",
        "- (c) From files written by (a). Keras: `keras.models.model_from_json(path.read_text())` "
        "(builds the model). specc: `specc.build(specc.load(path))` of the TOML spec. "
        "`specc.load` alone (TOML and JSON spec) only parses and checks the spec, building "
        "nothing, so its ratio against a full Keras rebuild is given for scale only. "
        "`keras.backend.clear_session()` before each rebuild, not timed. The warm-up rebuild of "
        "each side is checked to have the original's layer classes, layer names and parameter "
        "count.",
        "- (c), last two columns: the floor of any builder that goes through Keras's layer "
        "constructors. The model's own Keras code (`keras.applications.<name>(weights=None)`, or "
        "the function that made the model) with its weights made as `specc.build` makes them "
        "(`specc.building.budget.within`: every weight deferred in a `keras.StatelessScope`, "
        "then made at once; the cycle collector paused), and no spec to read or check. Timed "
        "in the same rounds as the other two sides. The same code without deferring the "
        "weights takes about as long as `model_from_json` (measured 0.99-1.00 x).",
        "- (d) `tracemalloc` peak minus traced memory at start, one run after the warm-up. "
        "Python allocations only: TensorFlow's C++ memory is not seen.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, metavar="NAME",
                        help="keras.applications names (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs per side of (b) and of specc.load in (c) (default: %(default)s)")
    parser.add_argument("--build-repeat", type=int, default=3,
                        help="timed rebuilds per side in (c) (default: %(default)s)")
    parser.add_argument("--results", default="-",
                        help="Markdown file to write, '-' for none (default: %(default)s; "
                        "benchmarks/RESULTS.md is bench_commands.py's)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    load_before = os.getloadavg()
    import keras  # noqa: F401  (imported before timing anything)

    results = []
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        for name in args.models:
            t = time.perf_counter()
            results.append(bench_model(name, args.repeat, args.build_repeat, Path(tmp)))
            print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
            gc.collect()
    total = time.perf_counter() - start
    load_after = os.getloadavg()

    for title, body in tables(results):
        print(f"\n{title}\n{body}")
    command = "python benchmarks/bench_export.py" + (
        " " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""
    )
    info = machine()
    info["load average (1 min) at start / end"] = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
    print(f"\n{info}\ntotal {total:.0f} s")
    if args.results != "-":
        Path(args.results).write_text(report(results, info, command, args.repeat, args.build_repeat, total))
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
