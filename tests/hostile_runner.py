"""Run hostile corpus cases through specc's command line, one process per batch.

    python tests/hostile_runner.py MANIFEST.json RESULTS.json

Started by tests/test_hostile.py in a fresh interpreter. An audit hook,
installed before specc is imported, records every module imported and every
file opened, per case. Each case runs the real CLI entry (``specc.cli.main.run``)
in its own directory with its output streams captured, and is measured with
``resource``: CPU seconds, and how much the process's peak memory grew.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback

EVENTS: list[tuple[str, str]] = []


def _hook(event: str, args: tuple) -> None:
    if event == "import":
        EVENTS.append(("import", args[0]))
    elif event == "open" and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        EVENTS.append(("open", path))
    elif event == "os.listdir" and args and isinstance(args[0], (str, bytes)):
        EVENTS.append(("list", os.fsdecode(args[0])))


sys.addaudithook(_hook)


def run_case(case: dict) -> dict:
    from specc.cli.main import run

    os.chdir(case["cwd"])
    sys.argv = ["specc", *case["argv"]]
    if case.get("sys_path"):  # a module there must never be imported because a file names it
        sys.path.insert(0, case["cwd"])
    saved = {key: os.environ.get(key) for key in case.get("env", {})}
    os.environ.update(case.get("env", {}))
    out, err = io.StringIO(), io.StringIO()
    start_events = len(EVENTS)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    code, crash = 0, None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - exactly what the corpus must never see
            crash = traceback.format_exc()
            code = None
    after = resource.getrusage(resource.RUSAGE_SELF)
    if case.get("sys_path"):
        sys.path.remove(case["cwd"])
    for key, value in saved.items():
        if value is None:
            del os.environ[key]
        else:
            os.environ[key] = value
    events = EVENTS[start_events:]

    def paths(wanted: str) -> list[str]:
        return sorted({os.path.realpath(p) if os.path.isabs(p) else
                       os.path.realpath(os.path.join(case["cwd"], p))
                       for kind, p in events if kind == wanted})

    return {
        "id": case["id"],
        "cwd": os.path.realpath(case["cwd"]),
        "argv": case["argv"],
        "code": code,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "crash": crash,
        "wall": time.perf_counter() - start,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        # ru_maxrss is the process's peak (kB on Linux): its growth bounds this case's peak.
        "rss_growth_kb": after.ru_maxrss - before.ru_maxrss,
        "imports": sorted({name for kind, name in events if kind == "import"}),
        "opened": paths("open"),
        "listed": paths("list"),
        # The import system lists these folders again whenever their modification
        # time changes (a test run writes .pytest_cache or .hypothesis into the root).
        "sys_path": sorted({os.path.realpath(p or ".") for p in sys.path}),
    }


def main() -> None:
    manifest, results_path = sys.argv[1], sys.argv[2]
    with open(manifest) as handle:
        cases = json.load(handle)
    results = [run_case(case) for case in cases]
    with open(results_path, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
