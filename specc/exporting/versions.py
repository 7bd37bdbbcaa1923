"""The Keras that wrote the file being exported, where it is not the installed one.

A ``.keras`` file's metadata.json names the Keras that saved it. specc writes the
spec for the installed Keras (export checks the file against the installed
catalog), and asks the writer's catalog of what the installed one lacks: an
argument the writer's Keras has and the installed one does not is left out when
the file holds the writer's default for it (the model is the same), and is a
problem naming both versions otherwise (the installed Keras cannot build it so).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from specc.vocab import catalogs

WRITER: ContextVar[str | None] = ContextVar("writer", default=None)


@contextmanager
def written_by(version: str | None):
    """Export a file that Keras ``version`` wrote (None: unknown, nothing is asked)."""
    token = WRITER.set(version)
    try:
        yield
    finally:
        WRITER.reset(token)


def writer_of(metadata: bytes | None) -> str | None:
    """The ``keras_version`` of a metadata.json, when it is a short version string.

    >>> writer_of(b'{"keras_version": "3.15.1", "date_saved": "2026-12-08"}'), writer_of(b"[")
    ('3.15.1', None)
    """
    try:
        version = json.loads(metadata or b"null").get("keras_version")
    except (ValueError, AttributeError, RecursionError):
        return None
    return version if isinstance(version, str) and len(version) <= 64 else None


def writer_argument(cls: str, key: str) -> tuple[str, dict] | None:
    """(the writer's version, its catalog's entry of argument ``key`` of ``cls``) for an
    argument the installed Keras's ``cls`` lacks, where the file's writer is a supported
    Keras of another minor that has it; None otherwise."""
    writer, own = WRITER.get(), catalogs.minor_of(catalogs.installed())
    minor = catalogs.minor_of(writer)
    if writer is None or minor == own or minor not in catalogs.releases():
        return None
    info = catalogs.every_catalog()[minor]["layers"].get(cls, {}).get("args", {}).get(key)
    return (writer, info) if info is not None else None


def lacked(cls: str, name: str, key: str, value: Any, writer: str) -> str:
    """The problem of a layer setting an argument the installed Keras lacks to a value other
    than its writer's default."""
    own = catalogs.minor_of(catalogs.installed())
    return (f"layer '{name}' sets {key} = {json.dumps(value)}, which {cls} of Keras {own} "
            f"does not have: the file was written by Keras {writer}")
