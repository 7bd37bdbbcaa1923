"""A Keras newer than specc's catalogs: its catalog, made from it once and cached.

The first time specc meets, say, Keras 3.16.0, it runs ``python -m
specc.building.catalog`` in a process of its own (which imports Keras, and
TensorFlow: one line on stderr says so) and keeps what that writes in the user's
cache directory (platformdirs), named by the Keras version, beside its SHA-256.
Read back, the file is checked, never trusted: its size, its hash, its shape (the
sections and kinds of the committed catalog, the version it was made for), and
that every module it names is one of Keras's or TensorFlow's, since building
imports the modules a catalog names. A file that fails any check is made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# A catalog is 250 KB; a cache file far larger than that was not written by specc.
LIMIT = 16 * 2**20
_MODULES = {"module": re.compile(r"keras(\.\w+)*"), "tf_keras_module": re.compile(r"keras(\.\w+)*"),
            "tf_module": re.compile(r"tensorflow(\.\w+)*")}
MAKING = "SPECC_MAKING_CATALOG"
# Why no catalog could be made for a version (keras_version's refusal says it).
FAILED: dict[str, str] = {}


def cache_path(version: str) -> Path:
    """Where the catalog of Keras ``version`` is cached: ``$SPECC_CACHE_DIR``, else the
    user's cache directory (``~/.cache/specc`` on Linux)."""
    folder = os.environ.get("SPECC_CACHE_DIR")
    if not folder:
        from platformdirs import user_cache_dir

        folder = user_cache_dir("specc")
    safe = re.sub(r"[^0-9A-Za-z.+-]", "_", version)[:64]
    return Path(folder) / f"catalog-keras-{safe}.json"


def catalog_of(version: str) -> dict | None:
    """The catalog of Keras ``version``, read from the cache or made (None: it could not be;
    FAILED says why)."""
    path = cache_path(version)
    catalog = _read(path, version)
    if catalog is None and os.environ.get(MAKING) != "1":
        _make(path, version)
        catalog = _read(path, version)
        if catalog is None:
            FAILED.setdefault(version, "what it made did not pass specc's checks")
    return catalog


def _make(path: Path, version: str) -> None:
    print(f"specc: Keras {version} is newer than specc's catalogs: reading its layers and "
          f"arguments once (this imports Keras and TensorFlow) into {path}", file=sys.stderr,
          flush=True)
    # MAKING: the maker imports specc, whose registry would ask for this catalog again.
    env = {**os.environ, MAKING: "1",
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    from specc.files import write_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "specc.building.catalog", str(path)],
                              capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
            FAILED[version] = lines[-1]
            return
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        write_atomically(Path(f"{path}.sha256"), lambda tmp: Path(tmp).write_text(digest + "\n"))
    except (OSError, subprocess.SubprocessError) as exc:  # an unwritable cache, a hang
        FAILED[version] = f"{type(exc).__name__}: {exc}"


def _read(path: Path, version: str) -> dict | None:
    try:
        if path.stat().st_size > LIMIT:
            return None
        data = path.read_bytes()
        digest = Path(f"{path}.sha256").read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        catalog = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return catalog if well_formed(catalog, version) else None


def well_formed(catalog, version: str) -> bool:
    """Whether ``catalog`` has the committed catalog's sections, each of the same kind,
    layers that are tables with arguments, names only Keras's and TensorFlow's modules,
    and was made for ``version``."""
    from specc.vocab.catalogs import newest_text

    newest = json.loads(newest_text())
    if not isinstance(catalog, dict) or set(catalog) != set(newest) \
            or any(type(catalog[k]) is not type(newest[k]) for k in newest) \
            or catalog["keras_version"] != version:
        return False
    if not all(isinstance(entry, dict) and isinstance(entry.get("args"), dict)
               for entry in catalog["layers"].values()):
        return False
    stack = [catalog]
    while stack:  # iterative: json.loads already bounded the depth
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _MODULES and value is not None and not (
                        isinstance(value, str) and _MODULES[key].fullmatch(value)):
                    return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return True
