"""Where the published JSON Schema lives: schema.py writes it, validation and
``specc schema`` read it."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent.parent  # the specc package
# A checkout has schemas/ beside the package; an installed wheel carries it inside.
SCHEMA_PATH = next(
    (p for p in (_HERE.parent / "schemas" / "specc.schema.json",
                 _HERE / "schemas" / "specc.schema.json") if p.exists()),
    _HERE.parent / "schemas" / "specc.schema.json",
)
