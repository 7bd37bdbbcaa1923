"""tools/fuzz.py: its targets, its minimizer, and that CI's run of it catches a crash.

The planted crash is a bug put into specc in the fuzzer's own process (a
function that raises for some inputs, as the bugs issue 18 lists did): the
fuzzer, run as .ci/run runs it, must find it within CI's budget, print the
minimized input, the traceback and the command that replays it, and exit 1.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))

from fuzzing import inputs  # noqa: E402
from fuzzing.minimize import minimize  # noqa: E402
from fuzzing.targets import Finding, run_cli  # noqa: E402

# What .ci/run gives the fuzzer (keep the two equal).
CI_SECONDS = 150
CI_RUN = (ROOT / ".ci" / "run").read_text()

# Every payload the fuzzer makes, by target name.
SPEC_TARGETS = {"text_toml", "text_json", "bytes_toml", "bytes_json", "spec_data", "structure",
                "cli_spec", "catalog_cache"}
MODEL_TARGETS = {"config", "file_keras", "file_h5", "file_json", "cli_model", "cli_plugin_spec",
                 "cli_plugin_model"}


def test_ci_runs_the_fuzzer_with_the_budget_and_a_seed_from_the_commit():
    assert re.search(rf"tools/fuzz.py --seconds {CI_SECONDS} --seed commit\b", CI_RUN)


@pytest.fixture(scope="module")
def seeds():
    spec_texts, spec_data = inputs.spec_seeds()
    seeds = inputs.Seeds(spec_texts, inputs.as_json(spec_data))
    # Stand-ins for the model seeds (which need TensorFlow): the shapes draw reads.
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 4], "name": "x"}},
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 2}}]}}
    seeds.configs = inputs.as_json([config])
    seeds.keras_files = inputs.as_json([{"config": config, "weights": {"attrs": {}, "groups": {
        "layers/dense/vars": {"attrs": {}, "datasets": {"0": [[4, 2], "float32"]}}}}}])
    seeds.keras2 = inputs.as_json([{"json": json.dumps(config), "h5": {"attrs": {
        "model_config": json.dumps(config)}, "groups": {}}}])
    return seeds


def test_the_draws_cover_every_target_and_command(seeds):
    rng = random.Random(5)
    targets, commands, sets = set(), set(), 0
    for n in range(1, 6001):
        try:
            target, runner, payload = inputs.draw(rng, seeds, n)
        except Exception:  # a mutated recipe the fuzzer cannot write: it counts and goes on
            continue
        targets.add(target)
        if runner == "cli":
            commands.add(payload["argv"][0])
            sets += "--set" in payload["argv"]
            weights = "--weights" in payload["argv"]
            commands.add("export --weights") if weights else None
            commands.add("--plugin") if "--plugin" in payload["argv"] else None
    assert targets == SPEC_TARGETS | MODEL_TARGETS
    assert commands == {"validate", "summary", "fmt", "expand", "diff", "graph", "export",
                        "export --weights", "layers", "--plugin"}
    assert sets > 10


def test_the_structural_generator_reaches_every_section():
    from fuzzing import structure

    drawn = structure.specs(random.Random(3), 300)
    keys = set().union(*(d for d in drawn if isinstance(d, dict)))
    assert {"inputs", "layers", "model", "compile", "blocks", "defaults", "constants",
            "build"} <= keys
    layers = [layer for d in drawn if isinstance(d.get("layers"), list) for layer in d["layers"]]
    assert any(isinstance(layer, dict) and "block" in layer for layer in layers)
    assert any(isinstance(layer, dict) and isinstance(layer.get("inputs"), list)
               and any(isinstance(i, (list, dict)) for i in layer["inputs"]) for layer in layers)


def test_minimize_keeps_only_what_fails():
    text = "".join(f"line {i}\n" for i in range(200)).replace("line 150", "line BAD")
    small = minimize({"format": "toml", "text": text}, lambda p: "BAD" in p["text"], 10)
    assert small["text"] == "BAD"
    data = {"a": [1, 2, {"b": ["x", "BAD"]}], "c": {"d": 3}}
    small = minimize({"data": data}, lambda p: "BAD" in json.dumps(p["data"]), 10)
    assert small["data"] == "BAD"


def test_an_endless_input_is_stopped_by_the_cpu_limit():
    import fuzz

    with pytest.raises(fuzz.Hang):
        with fuzz.cpu_limit(0.3):
            while True:
                pass


def test_the_cli_oracle_calls_exit_3_a_finding(monkeypatch):
    import specc.checking.validate as validate

    payload = {"argv": ["validate", "{dir}/s.toml"], "files": {"s.toml": {"text": "x = 1\n"}}}
    run_cli(payload)  # a clean SpecError: exit 1, no finding
    monkeypatch.setattr(validate, "check_document", lambda doc: {}["planted"])
    monkeypatch.setenv("SPECC_DEBUG", "1")  # as tools/fuzz.py sets it
    with pytest.raises(Finding) as found:
        run_cli(payload)
    assert found.value.key.startswith("KeyError in ")
    assert "Traceback (most recent call last)" in found.value.details  # SPECC_DEBUG=1


# A bug planted in specc: names.split_ref raises for a reference to tensor 2 or more of a
# layer ("a:2"), which the fuzzer must make by mutating a spec's inputs or outputs.
PLANT = """
import runpy, sys
import specc.vocab.names as names

split = names.split_ref

def planted(ref):
    name, index = split(ref)
    if index is not None and index >= 2:
        raise ZeroDivisionError("planted")
    return name, index

names.split_ref = planted
for module in list(sys.modules.values()):
    if getattr(module, "split_ref", None) is split:
        module.split_ref = planted
sys.argv = ["fuzz.py", *sys.argv[1:]]
runpy.run_path(%r, run_name="__main__")
"""


def fuzz(*args, plant: bool = False, timeout: int = 600) -> subprocess.CompletedProcess:
    script = ROOT / "tools" / "fuzz.py"
    command = ["-c", PLANT % str(script)] if plant else [str(script)]
    return subprocess.run([sys.executable, *command, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.slow
def test_a_planted_crash_is_caught_within_the_ci_budget(tmp_path):
    """As .ci/run runs it (the same budget, the commit's seed), stopping at the first find."""
    done = fuzz("--seconds", str(CI_SECONDS), "--seed", "commit", "--out", str(tmp_path),
                "--stop-on-finding", plant=True)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout
    assert re.search(r"^fuzz: seed \d+, 150 s", output, re.M)
    found = re.search(r"^FINDING (ZeroDivisionError in vocab/names\.py:\d+|ZeroDivisionError "
                      r"in \S+)  \(target (\w+)", output, re.M)
    assert found, output[-3000:]
    assert "input (minimized): " in output and "ZeroDivisionError: planted" in output
    replay = re.search(r"reproduce: python tools/fuzz.py --replay (\S+)", output).group(1)
    saved = json.loads(Path(replay).read_text())
    assert re.search(r":[2-9]", json.dumps(saved["payload"]))  # the reference is kept
    again = fuzz("--replay", replay, plant=True, timeout=300)
    assert again.returncode == 1 and "ZeroDivisionError: planted" in again.stdout
    fixed = fuzz("--replay", replay, timeout=300)
    assert fixed.returncode == 0 and "no longer fails" in fixed.stdout
