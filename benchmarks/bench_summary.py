"""`specc summary` against the time `import tensorflow` takes, on exported keras.applications specs.

    python benchmarks/bench_summary.py                       # ResNet50
    python benchmarks/bench_summary.py --models ResNet50 MobileNetV2 --repeat 5

Each side runs in a fresh Python process, as a user meets it: ``python -m specc
summary SPEC`` (reading, checking and summarizing the spec) against
``python -c "import tensorflow"``. The figure is the ratio of their medians over
--repeat interleaved runs, measured in the same run on the same machine. The
specs are exported first (that needs TensorFlow, and is not timed).

A script, not a test: pytest collects only tests/.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["ResNet50"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import keras

    from specc.writing.dump import dump
    from specc.exporting.export import export

    with tempfile.TemporaryDirectory() as folder:
        specs = {}
        for name in args.models:
            keras.backend.clear_session()
            specs[name] = Path(folder) / f"{name}.toml"
            dump(export(getattr(keras.applications, name)(weights=None)), specs[name])
        tf = [sys.executable, "-c", "import tensorflow"]
        for name, spec in specs.items():
            summary = [sys.executable, "-m", "specc", "summary", str(spec)]
            _seconds(summary), _seconds(tf)  # warm the file cache, not counted
            ours, theirs = [], []
            for _ in range(args.repeat):
                ours.append(_seconds(summary))
                theirs.append(_seconds(tf))
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"{name}: specc summary {a:.3f} s, import tensorflow {b:.3f} s, "
                  f"ratio {a / b:.3f} (medians of {args.repeat})")


if __name__ == "__main__":
    main()
