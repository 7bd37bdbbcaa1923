"""What users wait for: whole specc commands against Keras doing the same, and growth with size.

    python benchmarks/bench_commands.py            # everything; writes benchmarks/RESULTS.md
    python benchmarks/bench_commands.py --models MLP --sizes 10 100 --repeat 1 \\
        --build-repeat 1 --scale-repeat 1 --results -          # a smoke run (CI)
    python benchmarks/bench_commands.py --only validate --results -   # 1, 1b and start-up only

Every ratio is specc / Keras measured in the same run, the two sides run in
turn in each round, after one untimed warm-up run of each:

  1. ``specc validate M.toml`` as a process vs ``python -c "import tensorflow"``:
     wall time and peak RSS, and the modules ``-X importtime`` shows it importing
     (none of TensorFlow or Keras);
  2. ``specc export M.keras`` as a process vs a process doing
     ``keras.models.load_model`` + ``to_json``, with the same import check;
  3. ``specc build M.toml`` as a process vs a process doing
     ``keras.models.model_from_json`` + ``save``; in process, bench_export.py's
     ``specc.build(specc.load(...))`` vs ``model_from_json``, run from here;
  4. the size of the TOML spec vs ``config.json`` (bench_export.py, run from here);
  5. validate, build, export and dump in process on generated models of
     --sizes layers, a plain chain and a residual graph with branches and
     merges, and the exponent of each curve fitted by least squares on log-log.

Processes: ``sys.executable -m specc`` with this checkout first on PYTHONPATH;
wall time by ``time.perf_counter`` around the process, peak RSS by GNU time's
``%M`` (or a fresh Python's ``RUSAGE_CHILDREN`` where /usr/bin/time is missing). Python may write bytecode caches
(PYTHONDONTWRITEBYTECODE is dropped for the children), as an installed
package has them.

This file is a script, not a test; tests/test_benchmarks.py runs it at tiny sizes.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # benchmark the specc of this checkout, whatever is installed
sys.path.insert(0, str(HERE))

import bench_export  # noqa: E402  (in-process build and sizes: reused, not copied)
from bench_export import med, ms, ratio, spread, table  # noqa: E402

APPLICATIONS = ["ResNet50", "MobileNetV2", "EfficientNetB0", "DenseNet121"]
DEFAULT_MODELS = [*APPLICATIONS, "MLP"]
FOREIGN = ("tensorflow", "keras", "tf_keras")

IMPORT_TF = "import tensorflow"
KERAS_EXPORT = ("import sys, keras; m = keras.models.load_model(sys.argv[1]); "
                "open(sys.argv[2], 'w').write(m.to_json())")
KERAS_BUILD = ("import sys, keras; m = keras.models.model_from_json(open(sys.argv[1]).read()); "
               "m.save(sys.argv[2])")

# The targets of issue 11, checked against this run's figures.
TARGETS = {
    "validate": 0.08, "validate_rss_mb": 80, "export": 0.06, "build_in_process": 0.70,
    "build_process": 1.0, "toml_size": 0.12, "exponent": 1.1, "validate_10000_s": 2.0,
    "cli_start_s": 0.15,
}


# ---- models -------------------------------------------------------------------


def mlp():
    """A 10-layer MLP: 784 inputs, nine Dense(256, relu), a Dense(10, softmax)."""
    import keras

    layers = [keras.layers.Dense(256, activation="relu") for _ in range(9)]
    return keras.Sequential([keras.Input((784,)), *layers,
                             keras.layers.Dense(10, activation="softmax")], name="mlp")


def make(name: str):
    import keras

    return mlp() if name == "MLP" else getattr(keras.applications, name)(weights=None)


def chain(n: int) -> dict:
    """n Dense layers in a chain, named by default (dense, dense_1, ...)."""
    return {"inputs": [{"shape": [8]}], "layers": [{"type": "Dense", "units": 8}] * n}


def residual(n: int) -> dict:
    """n layers in blocks of four: x -> Dense -> Dense, x -> Dense, Add of the two
    (the last n % 4 layers are Dense in a chain)."""
    layers, previous = [], "input_layer"
    for i in range(n // 4):
        layers += [{"type": "Dense", "units": 8},
                   {"type": "Dense", "units": 8, "name": f"r{i}"},
                   {"type": "Dense", "units": 8, "name": f"s{i}", "inputs": [previous]},
                   {"type": "Add", "name": f"add{i}", "inputs": [f"r{i}", f"s{i}"]}]
        previous = f"add{i}"
    layers += [{"type": "Dense", "units": 8}] * (n - len(layers))
    return {"inputs": [{"shape": [8]}], "layers": layers}


GENERATED = {"chain": chain, "residual": residual}


# ---- processes ----------------------------------------------------------------


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


# A child's peak RSS counts the memory of the process it was forked from (Linux keeps
# the high-water mark across exec), and this one holds TensorFlow: GNU time forks the
# command from its own small process. Without it, a fresh Python does the same.
TIME = "/usr/bin/time"
LAUNCH = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
          "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
          "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime} {u.ru_stime}'); "
          "sys.exit(code)")


def process(argv: list[str], *, check: bool = True) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB), CPU seconds (user + system) and stderr of one command.

    CPU time is what the command itself computed: on a shared machine it varies far
    less than wall time, so it is given next to it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        peak, errors = Path(tmp) / "peak", Path(tmp) / "stderr"
        launch = ([TIME, "-f", "%M %U %S", "-o", str(peak)] if os.access(TIME, os.X_OK)
                  else [sys.executable, "-c", LAUNCH, str(peak)])
        with open(errors, "wb") as stderr:
            start = time.perf_counter()
            code = subprocess.call([*launch, *argv], stdout=subprocess.DEVNULL, stderr=stderr,
                                   env=child_env())
            seconds = time.perf_counter() - start
        text = errors.read_text(errors="replace")
        # GNU time writes "Command exited with non-zero status N" before the figures.
        figures = peak.read_text().split()[-3:] if peak.exists() else []
        kib, user, system = map(float, figures) if len(figures) == 3 else (math.nan,) * 3
    if check and code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(argv)}\n{text[-2000:]}")
    return seconds, kib / 1024, user + system, text


def sides(commands: dict[str, list[str]], repeat: int) -> dict[str, dict[str, list[float]]]:
    """Each command once untimed, then `repeat` rounds of all of them in turn."""
    for argv in commands.values():
        process(argv)
    found = {name: {"s": [], "mb": [], "cpu": []} for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            seconds, mb, cpu, _ = process(argv)
            found[name]["s"].append(seconds)
            found[name]["mb"].append(mb)
            found[name]["cpu"].append(cpu)
    return found


def imported(argv: list[str]) -> list[str]:
    """The modules a command imports, from ``python -X importtime``."""
    text = process([argv[0], "-X", "importtime", *argv[1:]])[-1]
    names = []
    for line in text.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.append(name)
    return names


def foreign(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in FOREIGN]


def bench_validate(name: str, workdir: Path, repeat: int) -> dict:
    py = sys.executable
    specc_validate = [py, "-m", "specc", "validate", str(workdir / f"{name}.toml")]
    return {"validate": sides({"specc": specc_validate, "keras": [py, "-c", IMPORT_TF]}, repeat),
            "validate_modules": imported(specc_validate)}


def bench_processes(name: str, workdir: Path, repeat: int, build_repeat: int) -> dict:
    py = sys.executable
    model, config = (workdir / f"{name}{s}" for s in (".keras", ".config.json"))
    spec, out = workdir / f"{name}.toml", workdir / "out"
    specc_export = [py, "-m", "specc", "export", str(model), "-o", f"{out}.toml"]
    export = sides({"specc": specc_export,
                    "keras": [py, "-c", KERAS_EXPORT, str(model), f"{out}.json"]}, repeat)
    build = sides({"specc": [py, "-m", "specc", "build", str(spec), "-o", f"{out}.specc.keras"],
                   "keras": [py, "-c", KERAS_BUILD, str(config), f"{out}.keras.keras"]},
                  build_repeat)
    return {**bench_validate(name, workdir, repeat), "export": export, "build": build,
            "export_modules": imported(specc_export)}


def bench_start(repeat: int) -> dict[str, dict[str, list[float]]]:
    py = sys.executable
    return sides({"--version": [py, "-m", "specc", "--version"],
                  "--help": [py, "-m", "specc", "--help"]}, repeat)


# ---- files --------------------------------------------------------------------


def prepare(name: str, workdir: Path) -> tuple[int, int]:
    """M.keras, M.config.json and M.toml (specc's export) of one model; its layers and parameters."""
    import keras

    from specc.writing.dump import dump
    from specc.exporting.export import export

    keras.backend.clear_session()
    model = make(name)
    model.save(workdir / f"{name}.keras")
    (workdir / f"{name}.config.json").write_text(model.to_json())
    dump(export(model), workdir / f"{name}.toml")
    counts = len(model.layers), model.count_params()
    keras.backend.clear_session()
    return counts


# ---- scaling ------------------------------------------------------------------


def bench_scaling(sizes: list[int], repeat: int, build_repeat: int, workdir: Path) -> dict:
    import keras

    import specc
    from specc.writing.dump import dumps
    from specc.exporting.export import export_file
    from specc.checking.spec import Spec

    steps = {"validate": [], "build": [], "export": [], "dump": []}
    found = {kind: {step: {} for step in steps} for kind in GENERATED}
    process_10000 = None
    for kind, generate in GENERATED.items():
        for n in sizes:
            toml = workdir / f"{kind}{n}.toml"
            saved = workdir / f"{kind}{n}.keras"
            toml.write_text(dumps(Spec.model_validate(generate(n)), "toml"))
            spec = specc.load(toml)
            layers = len(spec.layers)
            times = {step: [] for step in steps}
            for _ in range(build_repeat):
                keras.backend.clear_session()
                built: list = []
                times["build"].append(timed(lambda: built.append(specc.build(spec))))
                if not saved.exists():
                    built[0].save(saved)
                built.clear()
            for _ in range(repeat):
                times["validate"].append(timed(lambda: specc.load(toml)))
                times["dump"].append(timed(lambda: dumps(spec, "toml")))
                times["export"].append(timed(lambda: export_file(saved)))
            for step in steps:
                found[kind][step][layers] = times[step]
            print(f"  {kind} {layers}: " + ", ".join(
                f"{step} {med(t):.3f} s" for step, t in times.items()), file=sys.stderr, flush=True)
            if kind == "chain" and n == max(sizes):
                seconds = [process([sys.executable, "-m", "specc", "validate", str(toml)])[0]
                           for _ in range(repeat)]
                process_10000 = (layers, seconds)
            keras.backend.clear_session()
            gc.collect()
    return {"curves": found, "validate_process": process_10000}


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def exponent(points: dict[int, list[float]]) -> float:
    """The slope of log(median time) against log(layers), by least squares."""
    if len(points) < 2:
        return math.nan
    xs = [math.log(n) for n in points]
    ys = [math.log(max(med(t), 1e-9)) for t in points.values()]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


# ---- report -------------------------------------------------------------------


def span(values: list[float]) -> str:
    return f"{ms(min(values))}–{ms(max(values))}"


def process_rows(results: dict, step: str) -> list[list[str]]:
    rows = []
    for name, r in results.items():
        s, k = r["processes"][step]["specc"], r["processes"][step]["keras"]
        rows.append([name, str(r["layers"]), ms(med(s["s"])), span(s["s"]), ms(med(k["s"])),
                     span(k["s"]), ratio(med(s["s"]), med(k["s"])), spread(s["s"], k["s"]),
                     ms(med(s["cpu"])), ms(med(k["cpu"])), ratio(med(s["cpu"]), med(k["cpu"])),
                     f"{med(s['mb']):.0f}", f"{med(k['mb']):.0f}"])
    return rows


PROCESS_HEADER = ["model", "layers", "specc (ms)", "specc range", "Keras (ms)", "Keras range",
                  "ratio", "(per round)", "specc CPU (ms)", "Keras CPU (ms)", "CPU ratio",
                  "specc peak RSS (MB)", "Keras peak RSS (MB)"]


def listed(results: dict) -> tuple[str, ...]:
    """The commands whose imports were listed: validate alone under --only validate."""
    if all("export" in r["processes"] for r in results.values()):
        return ("validate", "export")
    return ("validate",)


def tables(results: dict, scaling: dict | None, start: dict | None) -> list[tuple[str, str]]:
    out = []
    full = results and "export" in listed(results)  # not --only validate
    if results:
        rows = [[name, *(str(n) for step in listed(results)
                         for n in (len(r["processes"][f"{step}_modules"]),
                                   len(foreign(r["processes"][f"{step}_modules"]))))]
                for name, r in results.items()]
        out += [
            ("1. `specc validate M.toml` vs `python -c \"import tensorflow\"` (processes)",
             table(PROCESS_HEADER, process_rows(results, "validate"))),
            ("1b. Modules imported (`python -X importtime`): TensorFlow/Keras ones must be 0",
             table(["model", *(f"{step}: {what}" for step in listed(results)
                               for what in ("modules", "TensorFlow/Keras"))], rows)),
        ]
    if full:
        out += [
            ("2. `specc export M.keras` vs `keras.models.load_model` + `to_json` (processes)",
             table(PROCESS_HEADER, process_rows(results, "export"))),
            ("3. `specc build M.toml` vs `keras.models.model_from_json` + `save` (processes)",
             table(PROCESS_HEADER, process_rows(results, "build"))),
        ]
        in_process = dict((title[:3], (title, body)) for title, body in
                          bench_export.tables([r["in_process"] for r in results.values()]))
        numbers = {"(c)": "3b. ", "(a)": "4. ", "(b)": "6. ", "(d)": "7. "}
        out += [(numbers[key] + in_process[key][0], in_process[key][1]) for key in numbers]
    if start:
        out.append(("Start-up: `specc --version` and `specc --help` (processes, ms)", table(
            ["command", "median", "range", "CPU median"],
            [[f"specc {k}", ms(med(v["s"])), span(v["s"]), ms(med(v["cpu"]))]
             for k, v in start.items()])))
    if scaling:
        curves = scaling["curves"]
        sizes = sorted(next(iter(next(iter(curves.values())).values())))
        rows = []
        for kind, steps in curves.items():
            for step, points in steps.items():
                last = dict(list(points.items())[-2:])
                rows.append([kind, step, *(f"{med(points[n]) * 1000:.1f}" for n in sizes),
                             f"{exponent(points):.2f}", f"{exponent(last):.2f}"])
        out.append(("5. Scaling in process: median ms by number of layers, fitted exponent",
                    table(["model", "step", *(f"{n} layers" for n in sizes), "exponent",
                           "exponent, last two sizes"], rows)))
    return out


def verdicts(results: dict, scaling: dict | None, start: dict | None) -> list[list[str]]:
    """Each target of issue 11 with this run's worst figure and whether it is met."""
    rows = []

    def add(what: str, worst: float, limit: float, shown: str) -> None:
        rows.append([what, shown, "yes" if worst <= limit else "**no**"])

    if results:
        def worst(step: str) -> tuple[float, str]:
            def over(r: dict, key: str) -> float:
                return med(r["processes"][step]["specc"][key]) / med(r["processes"][step]["keras"][key])

            ratios = {n: over(r, "s") for n, r in results.items()}
            name = max(ratios, key=ratios.get)
            return ratios[name], f"{ratios[name]:.3f} ({name}; CPU time {over(results[name], 'cpu'):.3f})"

        value, shown = worst("validate")
        add(f"validate <= {TARGETS['validate']} x import tensorflow", value, TARGETS["validate"], shown)
        rss = {n: med(r["processes"]["validate"]["specc"]["mb"]) for n, r in results.items()}
        top = max(rss, key=rss.get)
        add(f"validate peak RSS <= {TARGETS['validate_rss_mb']} MB", rss[top],
            TARGETS["validate_rss_mb"], f"{rss[top]:.0f} MB ({top})")
        tf = sum(len(foreign(r["processes"][f"{k}_modules"])) for r in results.values()
                 for k in listed(results))
        add(f"no TensorFlow/Keras module imported by {' or '.join(listed(results))}", tf, 0,
            f"{tf} modules")
    if results and "export" in listed(results):  # not --only validate
        value, shown = worst("export")
        add(f"export <= {TARGETS['export']} x load_model + to_json", value, TARGETS["export"], shown)
        value, shown = worst("build")
        add(f"build (processes) <= {TARGETS['build_process']} x model_from_json + save", value,
            TARGETS["build_process"], shown)
        build = {n: med(r["in_process"]["build"]["toml"]) / med(r["in_process"]["build"]["keras"])
                 for n, r in results.items()}
        top = max(build, key=build.get)
        times = results[top]["in_process"]["build"]
        floor = med(times["code"]) / med(times["keras"])  # see bench_export's code_rebuild
        add(f"build in process <= {TARGETS['build_in_process']} x model_from_json", build[top],
            TARGETS["build_in_process"], f"{build[top]:.2f} ({top}; its own Keras code, weights "
            f"made as specc does: {floor:.2f})")
        size = {n: r["in_process"]["sizes"]["toml"] / r["in_process"]["sizes"]["keras"]
                for n, r in results.items()}
        top = max(size, key=size.get)
        add(f"TOML size <= {TARGETS['toml_size']} x config.json", size[top], TARGETS["toml_size"],
            f"{size[top]:.3f} ({top})")
    if start:
        slowest = max(start, key=lambda k: med(start[k]["s"]))
        add(f"specc --help and --version < {TARGETS['cli_start_s']} s", med(start[slowest]["s"]),
            TARGETS["cli_start_s"], f"{ms(med(start[slowest]['s']))} ms ({slowest}; CPU time "
            f"{ms(med(start[slowest]['cpu']))} ms)")
    if scaling:
        fits = {f"{kind} {step}": exponent(points)
                for kind, steps in scaling["curves"].items() for step, points in steps.items()}
        top = max(fits, key=fits.get)
        add(f"every scaling exponent <= {TARGETS['exponent']}", fits[top], TARGETS["exponent"],
            f"{fits[top]:.2f} ({top})")
        layers, seconds = scaling["validate_process"]
        add(f"validate of the {layers}-layer chain < {TARGETS['validate_10000_s']} s "
            "(process)", med(seconds), TARGETS["validate_10000_s"], f"{med(seconds):.2f} s")
    return rows


def report(results, scaling, start, info: dict, command: str, args, total: float) -> str:
    out = [
        "# specc benchmarks: commands as users run them, and growth with size",
        "",
        "Produced by `benchmarks/bench_commands.py` (rewritten on every run with the default "
        "`--results`); the in-process tables come from `benchmarks/bench_export.py`, run by "
        "it. Every ratio is specc / Keras measured in the same run, the sides in turn each "
        "round; below 1 means specc is smaller or faster.",
        "",
        f"- command: `{command}`",
        *(f"- {key}: {value}" for key, value in info.items()),
        f"- repeats: {args.repeat} timed rounds of validate/export processes and of the "
        f"in-process export and load, {args.build_repeat} of build processes and in-process "
        f"rebuilds, {args.scale_repeat} per scaling point ({args.scale_build_repeat} for "
        "builds); medians, ranges are lowest–highest; each process after one untimed "
        "warm-up run",
        f"- total run time: {total:.0f} s",
        "",
        "## Targets (issue 11)",
        "",
        table(["target", "worst figure in this run", "met"], verdicts(results, scaling, start)),
        "",
    ]
    for title, body in tables(results, scaling, start):
        out += [f"## {title}", "", body, ""]
    out += [
        "## How each figure is measured",
        "",
        f"- Models: `keras.applications.<name>(weights=None)`; MLP: {mlp.__doc__.strip()} "
        "Each is saved as `M.keras` (`model.save`), `M.config.json` (`model.to_json()`) and "
        "`M.toml` (`specc export` of the live model).",
        "- Processes (1–3): `python -m specc ...` with this checkout first on `PYTHONPATH`, "
        "against `python -c` running the Keras code: "
        f"`{IMPORT_TF}`; `{KERAS_EXPORT}`; `{KERAS_BUILD}`. Wall time around the whole "
        "process (started by `/usr/bin/time`, which adds about a millisecond); CPU is the "
        "command's user + system time and peak RSS its `%M`, both from GNU time. The targets "
        "are judged on wall time; CPU time, far less sensitive to other work on a shared "
        "machine, is given next to it. stdout is discarded.",
        "- 1b: the module names `python -X importtime -m specc validate|export ...` prints.",
        "- 3b, 4, 6, 7: see `benchmarks/bench_export.py` (in process, same models).",
        "- 5: in process, `time.perf_counter`: validate = `specc.load(path)` of the TOML; "
        "build = `specc.build(spec)` after `keras.backend.clear_session()` (not timed); "
        "export = `specc.exporting.export.export_file` of the `.keras` file the build saved; dump = "
        "`specc.writing.dump.dumps(spec, \"toml\")`. chain: Dense(8) layers named by default; "
        "residual: " + residual.__doc__.split(":", 1)[1].strip() + " The exponent is the "
        "least-squares slope of log(median time) on log(layers) over all sizes (1 is "
        "linear); the last column is the slope between the two largest sizes alone, where "
        "fixed costs weigh least. The last "
        "target row runs `specc validate` of the largest chain as a process.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", nargs="*", default=DEFAULT_MODELS, metavar="NAME",
                        help="keras.applications names or MLP (default: %(default)s)")
    parser.add_argument("--sizes", nargs="*", type=int, default=[10, 100, 1000, 10000],
                        help="layers of the generated models (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed rounds of validate and export (default: %(default)s)")
    parser.add_argument("--build-repeat", type=int, default=3,
                        help="timed rounds of build, process and in process (default: %(default)s)")
    parser.add_argument("--scale-repeat", type=int, default=3,
                        help="timed runs per scaling point of validate, export and dump "
                        "(default: %(default)s)")
    parser.add_argument("--scale-build-repeat", type=int, default=1,
                        help="timed builds per scaling point: minutes at 10,000 layers "
                        "(default: %(default)s)")
    parser.add_argument("--only", choices=["validate"],
                        help="only validate and start-up: no export, build, in-process or "
                        "scaling figures (with --results -, to re-measure those rows)")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"),
                        help="Markdown file to write, '-' for none (default: benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    load_before = os.getloadavg()
    import keras  # noqa: F401  (imported before timing anything)

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        workdir = Path(tmp)
        launch = bench_start(args.repeat)
        for name in args.models:
            t = time.perf_counter()
            layers, params = prepare(name, workdir)
            if args.only:
                results[name] = {"layers": layers, "params": params,
                                 "processes": bench_validate(name, workdir, args.repeat)}
            else:
                results[name] = {
                    "layers": layers, "params": params,
                    "processes": bench_processes(name, workdir, args.repeat, args.build_repeat),
                    "in_process": bench_export.bench_model(name, args.repeat, args.build_repeat,
                                                           workdir, make=lambda: make(name)),
                }
            print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
            gc.collect()
        scaling = (bench_scaling(args.sizes, args.scale_repeat, args.scale_build_repeat, workdir)
                   if args.sizes and not args.only else None)
    total = time.perf_counter() - start
    load_after = os.getloadavg()

    command = "python benchmarks/bench_commands.py" + (
        " " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    info = bench_export.machine()
    info["load average (1 min) at start / end"] = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
    print(table(["target", "worst figure", "met"], verdicts(results, scaling, launch)))
    for title, body in tables(results, scaling, launch):
        print(f"\n{title}\n{body}")
    print(f"\n{info}\ntotal {total:.0f} s")
    if args.results != "-":
        Path(args.results).write_text(report(results, scaling, launch, info, command, args, total))
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
