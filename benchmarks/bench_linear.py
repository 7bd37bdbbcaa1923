"""How specc's checking time grows with the size of hostile inputs.

    python benchmarks/bench_linear.py            # prints a Markdown table

For each shape of input the issue found slow (thousands of misspelt references
or types, a chain written in reverse, long lists, a 10,000-layer .keras
export), the input is made at sizes N, 2N, 4N and 8N and run once in this
process; the table shows CPU seconds (resource.getrusage) and the ratio of
each size to the one before: about 2 is linear, about 4 quadratic.
Not a test: timing belongs here, the corpus in tests/ checks generous bounds.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from specc.errors import SpecError  # noqa: E402
from specc.exporting.export import export_file  # noqa: E402
from specc.reading.load import parse_text  # noqa: E402
from specc.checking.validate import validate_document  # noqa: E402


def misspelt_inputs(n):
    return {"inputs": [{"name": "x", "shape": [4]}],
            "layers": [{"type": "Dense", "units": 2, "name": f"d{i}", "inputs": [f"q{i}"]}
                       for i in range(n)]}


def misspelt_types(n):
    return {"inputs": [{"shape": [4]}], "layers": [{"type": f"Dence{i}"} for i in range(n)]}


def reversed_chain(n):
    layers = [{"type": "Dense", "units": 2, "name": f"d{i}", "inputs": [f"d{i - 1}" if i else "x"]}
              for i in range(n)]
    return {"inputs": [{"name": "x", "shape": [4]}], "model": {"outputs": [f"d{n - 1}"]},
            "layers": layers[::-1]}


def long_list(n):
    return {"inputs": [{"shape": list(range(1, n + 1))}], "layers": [{"type": "Flatten"}]}


def sequential_keras(n):
    inp = {"module": "keras.layers", "class_name": "InputLayer",
           "config": {"batch_shape": [None, 4], "name": "x"}}
    layers = [{"module": "keras.layers", "class_name": "Dense",
               "config": {"name": f"dense_{i}" if i else "dense", "units": 2}} for i in range(n)]
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"name": "s", "layers": [inp, *layers]}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(config))
    return buffer.getvalue()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def validate_seconds(data) -> float:
    text = json.dumps(data)
    start = cpu()
    try:
        validate_document(parse_text(text, "json"))
    except SpecError:
        pass
    return cpu() - start


def export_seconds(raw: bytes) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "m.keras")
        path.write_bytes(raw)
        start = cpu()
        try:
            export_file(path)
        except SpecError:
            pass
        return cpu() - start


SHAPES = [
    ("misspelt inputs references", misspelt_inputs, validate_seconds, 1000),
    ("misspelt layer types", misspelt_types, validate_seconds, 2500),
    ("chain written in reverse", reversed_chain, validate_seconds, 500),
    ("list of integers", long_list, validate_seconds, 250_000),
    ("export of a Sequential .keras", sequential_keras, export_seconds, 1250),
]


def main() -> None:
    print("| input | N | CPU s at N, 2N, 4N, 8N | ratios |")
    print("|---|---:|---|---|")
    for label, make, measure, n in SHAPES:
        measure(make(n // 4))  # warm-up: imports, pydantic models
        times = [measure(make(n * k)) for k in (1, 2, 4, 8)]
        ratios = [b / a if a else float("nan") for a, b in zip(times, times[1:])]
        print(f"| {label} | {n:,} | {', '.join(f'{t:.2f}' for t in times)} | "
              f"{', '.join(f'{r:.1f}' for r in ratios)} |", flush=True)


if __name__ == "__main__":
    main()
