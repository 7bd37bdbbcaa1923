"""A mutation and structure fuzzer for everything a user feeds specc.

    python tools/fuzz.py --seconds 150 --seed commit          # what .ci/run does
    nice -n 19 python tools/fuzz.py --seconds 3600 --seed 1 --out fuzz-out
    python tools/fuzz.py --replay fuzz-out/findings/KEY.json  # reproduce one finding

Targets (inputs/draw): spec text (TOML, JSON) and random bytes through validate;
spec data, mutated or drawn by hypothesis from the spec's shape
(fuzzing/structure.py); the real command line, in this process: validate,
summary, fmt, expand, diff and graph of those specs, with --set PATH=VALUE
values; config.json documents; .keras files (mutated configs, weights and zip
bytes), Keras 2 .h5 files (attributes and weights, made with h5py) and
model.to_json() files through export, export --weights and diff; specs and
.keras configs naming the layer classes of the fuzzer's own plugin module
(fuzzing/plugin.py), with --plugin: registration, checking and export of them.

The oracle is specc's promise: a result or a SpecError (exit 0 or 1); any other
exception, exit code 3 ("internal error"), a traceback, more than --slow seconds
of CPU, or a MemoryError under the address-space limit is a finding. Findings
are told apart by the exception and the place in specc that raised it; each is
minimized, saved as ``--out/findings/KEY.json`` (replay it with --replay) and
printed with its traceback at the end. The exit code is 1 when anything was
found. The same seed makes the same inputs in the same order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import signal
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from fuzzing import inputs  # noqa: E402
from fuzzing.minimize import minimize  # noqa: E402
from fuzzing.targets import RUNNERS, Finding, NotMade, environment, key_of  # noqa: E402
from specc.errors import SpecError  # noqa: E402


class Hang(BaseException):
    """An input ran past the CPU limit: raised inside it by a timer (a BaseException, so
    that no ``except Exception`` on the way turns it into an answer)."""


def _hang(signum, frame):
    raise Hang()


@contextmanager
def cpu_limit(seconds: float):
    """Raise Hang in whatever runs longer than ``seconds`` of CPU (an endless loop would
    stop the fuzzer, and CI, with no finding)."""
    signal.signal(signal.SIGPROF, _hang)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def outcome(runner: str, payload: dict) -> tuple[str, str] | None:
    """(key, details) when the payload breaks the promise; None when it does not
    (NotMade when the payload could not be made into files)."""
    try:
        RUNNERS[runner](payload)
    except SpecError:
        return None
    except Finding as found:
        return found.key, found.details
    except BaseException as exc:  # noqa: BLE001 - the finding itself
        if isinstance(exc, (KeyboardInterrupt, SystemExit, NotMade)):
            raise
        return key_of(exc), "".join(traceback.format_exception(exc))
    return None


class Fuzzer:
    def __init__(self, out: Path, slow: float, seed: int):
        self.out, self.slow, self.seed = out, slow, seed
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}
        self.findings: dict[str, dict] = {}
        (out / "findings").mkdir(parents=True, exist_ok=True)

    def run_one(self, target: str, runner: str, payload: dict) -> None:
        start = time.process_time()  # CPU time: a shared, nice'd core makes wall time noise
        try:
            with cpu_limit(max(3 * self.slow, 15)):
                found = outcome(runner, payload)
        except NotMade:
            target = "not_generated"
            found = None
        took = time.process_time() - start
        self.counts[target] = self.counts.get(target, 0) + 1
        if found is None and took > self.slow:
            found = (f"slow: over {self.slow:g} s of CPU in {target}", f"{took:.1f} s of CPU")
        if found is None:
            return
        key, details = found
        if key not in self.findings:
            self.findings[key] = {"key": key, "target": target, "runner": runner, "count": 0,
                                  "payload": payload, "details": details}
            self.save(self.findings[key])
        self.findings[key]["count"] += 1

    def save(self, finding: dict) -> Path:
        path = self.out / "findings" / f"{hashlib.sha1(finding['key'].encode()).hexdigest()[:12]}.json"
        path.write_text(json.dumps(finding, indent=1, allow_nan=True))
        finding["file"] = str(path)
        return path

    def summary(self, started: float, done: bool) -> None:
        (self.out / "summary.json").write_text(json.dumps({
            "seed": self.seed, "seconds": round(time.time() - started), "finished": done,
            "inputs": sum(v for k, v in self.counts.items() if k != "not_generated"),
            "per_target": self.counts,
            "findings": {k: {"target": f["target"], "count": f["count"]}
                         for k, f in self.findings.items()},
            "commit": commit(), "python": sys.version.split()[0],
        }, indent=2))


def _same(runner: str, payload: dict, key: str) -> bool:
    try:
        with cpu_limit(15):
            return (outcome(runner, payload) or ("",))[0] == key
    except NotMade:
        return False


def commit() -> str | None:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def seed_of(text: str) -> int:
    """``commit``: a seed from the checked-out commit, so every commit explores new inputs."""
    if text != "commit":
        return int(text)
    return int((commit() or "0")[:8], 16)


def report(finding: dict) -> str:
    payload = json.dumps(finding["payload"], allow_nan=True)
    details = finding["details"].rstrip().splitlines()
    return "\n".join([
        f"FINDING {finding['key']}  (target {finding['target']}, {finding['count']} inputs)",
        f"  input (minimized): {payload[:3000]}{' ...' if len(payload) > 3000 else ''}",
        "  " + "\n  ".join(details[-40:]),
        f"  reproduce: python tools/fuzz.py --replay {finding['file']}",
    ])


def replay(path: Path) -> int:
    finding = json.loads(path.read_text())
    with cpu_limit(60):
        found = outcome(finding["runner"], finding["payload"])
    if found is None:
        print(f"{path}: no longer fails (target {finding['target']})")
        return 0
    print(f"{path}: {found[0]} (target {finding['target']})\n{found[1]}")
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--inputs", type=int, default=0, help="stop after this many (0: no limit)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    parser.add_argument("--seed", default="0", help="a number, or 'commit' (from git HEAD)")
    parser.add_argument("--slow", type=float, default=5.0,
                        help="CPU seconds that make an input a finding")
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--no-models", action="store_true",
                        help="spec targets only (no TensorFlow, no model files)")
    parser.add_argument("--minimize-seconds", type=float, default=20.0)
    parser.add_argument("--stop-on-finding", action="store_true")
    parser.add_argument("--replay", type=Path, help="run one saved finding again")
    args = parser.parse_args()
    environment()
    if args.replay:
        return replay(args.replay)
    seed = seed_of(args.seed)
    print(f"fuzz: seed {seed}, {args.seconds:g} s (the same inputs again: "
          f"python tools/fuzz.py --seed {seed} --seconds {args.seconds:g})", flush=True)
    limit = int(args.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fuzzer = Fuzzer(args.out, args.slow, seed)
    seeds = inputs.load_seeds(args.out / "seeds", models=not args.no_models)
    started = last = time.time()
    n = 0
    while time.time() - started < args.seconds and (not args.inputs or n < args.inputs):
        n += 1
        try:
            with cpu_limit(30):
                target, runner, payload = inputs.draw(fuzzer.rng, seeds, n)
        except (Exception, Hang):  # noqa: BLE001 - the fuzzer could not make this input (draw runs no specc)
            fuzzer.counts["not_generated"] = fuzzer.counts.get("not_generated", 0) + 1
            continue
        fuzzer.run_one(target, runner, payload)
        if args.stop_on_finding and fuzzer.findings:
            break
        if time.time() - last > 60:
            fuzzer.summary(started, False)
            last = time.time()
    fuzzer.summary(started, True)
    for finding in fuzzer.findings.values():
        if not finding["key"].startswith(("slow:", "Hang ")):
            key, runner = finding["key"], finding["runner"]
            finding["original"] = finding["payload"]
            finding["payload"] = minimize(
                finding["payload"], lambda p: _same(runner, p, key),
                args.minimize_seconds)
            finding["details"] = (outcome(runner, finding["payload"]) or (key, finding["details"]))[1]
        fuzzer.save(finding)
        print(report(finding), flush=True)
    total = sum(v for k, v in fuzzer.counts.items() if k != "not_generated")
    print(f"fuzz: {total} inputs in {time.time() - started:.0f} s, "
          f"{len(fuzzer.findings)} findings; per target: {json.dumps(fuzzer.counts)}")
    return 1 if fuzzer.findings else 0


if __name__ == "__main__":
    sys.exit(main())
