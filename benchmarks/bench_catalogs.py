"""Validate with each Keras minor's catalog: choosing and patching one must not slow it.

    python benchmarks/bench_catalogs.py                 # writes benchmarks/CATALOGS.md
    python benchmarks/bench_catalogs.py --repeat 1 --results -   # a smoke run (tests)

For each supported Keras minor, ``specc validate specs/cnn.toml specs/rnn.toml`` as a
process whose installed-Keras metadata says that minor's release (the catalog of
3.15 is catalog.json as it is; the others are it with their JSON Patch applied)
against ``python -c "import tensorflow"``, the two in turn in each round after an
untimed warm-up of each. The target is bench_commands.py's for validate: at most
0.08 x ``import tensorflow`` (wall time, median).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_commands  # noqa: E402 - the process timing, peak RSS and CPU time
from bench_export import machine, med, ms, ratio, spread, table  # noqa: E402

ROOT = HERE.parent
TARGET = bench_commands.TARGETS["validate"]
# The launcher fakes only what importlib.metadata says of Keras: what specc reads.
FAKED = ("import importlib.metadata, runpy, sys\nreal = importlib.metadata.version\n"
         "importlib.metadata.version = lambda name: {release!r} if name == 'keras' else real(name)\n"
         "sys.argv = ['specc', 'validate', *sys.argv[1:]]\n"
         "runpy.run_module('specc', run_name='__main__', alter_sys=True)\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--results", default=str(HERE / "CATALOGS.md"))
    args = parser.parse_args(argv)
    from specc.vocab.catalogs import releases

    specs = [str(ROOT / "specs" / "cnn.toml"), str(ROOT / "specs" / "rnn.toml")]
    commands = {f"specc validate, Keras {release}": [sys.executable, "-c",
                                                     FAKED.format(release=release), *specs]
                for release in releases().values()}
    commands["import tensorflow"] = [sys.executable, "-c", bench_commands.IMPORT_TF]
    load = os.getloadavg()[0]
    found = bench_commands.sides(commands, args.repeat)
    keras = found.pop("import tensorflow")
    rows = [[name, ms(med(s["s"])), ms(med(keras["s"])), ratio(med(s["s"]), med(keras["s"])),
             spread(s["s"], keras["s"]), ms(med(s["cpu"])), f"{med(s['mb']):.0f}",
             "yes" if med(s["s"]) / med(keras["s"]) <= TARGET else "NO"]
            for name, s in found.items()]
    body = table(["command", "specc (ms)", "import tensorflow (ms)", "ratio", "(per round)",
                  "specc CPU (ms)", "peak RSS (MB)", f"ratio <= {TARGET}"], rows)
    text = (f"# Validate with each Keras minor's catalog\n\n{__doc__.split(chr(10) * 2, 1)[1]}\n"
            f"Command: `python benchmarks/bench_catalogs.py"
            f"{' ' + ' '.join(argv or sys.argv[1:]) if (argv or sys.argv[1:]) else ''}`, "
            f"{args.repeat} rounds, load average (1 min) {load:.2f} at the start "
            f"(other work at nice 19 shared the machine when it is above 0).\n\n{body}\n\n"
            f"{machine()}\n")
    print(body)
    if args.results != "-":
        Path(args.results).write_text(text)
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
