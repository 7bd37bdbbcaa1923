"""Every supported Keras minor, each in a fresh venv: the check .ci/run makes after the suite.

    python tools/keras_smoke.py [--dir DIR] [RELEASE[:jax] ...]   # default: every one

For each Keras release of tools/gen_catalog.py's KERAS_RELEASES: a fresh venv (made
once, in DIR) with TensorFlow 2.21 and that Keras; then ``pip install .``, which must
leave that Keras installed (the README's promise: pip keeps a project's pinned
Keras); then the smoke suite against the installed specc (not this checkout's
source: PYTHONSAFEPATH keeps the current directory off sys.path):
tests/test_smoke.py (validate, summary, build, export and build again with the
weights, a model that Keras saved), tests/test_keras_version.py, and the catalog's
drift test, which checks that release's patch in catalog_versions.json.

The newest release runs on JAX instead (``3.15.1:jax``: jax installed too,
KERAS_BACKEND=jax, and tests/test_backends.py beside the smoke suite): the main
suite has run it on TensorFlow already, and its catalog's drift test with it.
Exit 1 when any run fails; pytest's summary line ends each.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENSORFLOW = "tensorflow==2.21.*"
SUITE = ["tests/test_smoke.py", "tests/test_keras_version.py",
         "tests/test_schema.py::test_committed_catalog_is_current"]
JAX_SUITE = ["tests/test_smoke.py", "tests/test_keras_version.py", "tests/test_backends.py"]


def releases() -> dict[str, str]:
    """gen_catalog.KERAS_RELEASES, read from its source: importing the generator would
    import specc here, outside the venvs."""
    source = (ROOT / "tools" / "gen_catalog.py").read_text()
    line = next(line for line in source.splitlines() if line.startswith("KERAS_RELEASES = "))
    return ast.literal_eval(line.partition("=")[2].strip())


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(map(str, args)), flush=True)
    return subprocess.run(list(map(str, args)), **kwargs)


def venv(release: str, backend: str, root: Path) -> Path:
    """The venv's Python: TensorFlow 2.21 and Keras ``release`` (and jax for the JAX
    backend), then specc from this checkout (``pip install .``) and what the suite needs."""
    jax = backend == "jax"
    folder = root / f"keras-{release}{'-jax' if jax else ''}"
    python = folder / "bin" / "python"
    if not python.exists():
        run(sys.executable, "-m", "venv", folder, check=True)
        run(python, "-m", "pip", "install", "-q", TENSORFLOW, f"keras=={release}",
            *(["jax"] if jax else []), check=True)
    run(python, "-m", "pip", "install", "-q", ROOT, "pytest", "scipy", check=True)
    return python


def installed_keras(python: Path) -> str:
    return run(python, "-c", "import importlib.metadata as m; print(m.version('keras'))",
               capture_output=True, text=True, check=True).stdout.strip()


def smoke(release: str, backend: str, root: Path) -> bool:
    python = venv(release, backend, root)
    kept = installed_keras(python)
    if kept != release:
        print(f"keras_smoke: pip install . replaced Keras {release} with {kept}", flush=True)
        return False
    env = {**os.environ, "PYTHONSAFEPATH": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
           "KERAS_BACKEND": backend}
    suite = JAX_SUITE if backend == "jax" else SUITE
    done = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite, cwd=ROOT, env=env)
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) /
                        "specc-keras-venvs")
    parser.add_argument("--clean", action="store_true",
                        help="remove each venv after its run (CI: about 2.3 GB each)")
    parser.add_argument("releases", nargs="*", metavar="RELEASE[:jax]")
    args = parser.parse_args()
    known = list(releases().values())
    chosen = args.releases or [*known[:-1], f"{known[-1]}:jax"]
    failed = []
    for run_name in chosen:
        release, _, backend = run_name.partition(":")
        started = time.time()
        ok = smoke(release, backend or "tensorflow", args.dir)
        if args.clean:  # TensorFlow makes each venv 2.3 GB: one at a time on CI's disk
            shutil.rmtree(args.dir / f"keras-{release}{'-jax' if backend == 'jax' else ''}",
                          ignore_errors=True)
        print(f"keras_smoke: Keras {run_name}: {'ok' if ok else 'FAILED'} "
              f"in {time.time() - started:.0f} s", flush=True)
        if not ok:
            failed.append(run_name)
    print(f"keras_smoke: {len(chosen) - len(failed)} of {len(chosen)} runs passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
