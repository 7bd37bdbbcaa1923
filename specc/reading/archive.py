"""Reading a ``.keras`` file as untrusted data: a regular file, a zip read with bounds.

A ``.keras`` file is a zip holding ``config.json`` (the architecture) and
``model.weights.h5``. Nothing here extracts a member to disk or follows a
member's name; ``config.json`` is read only after its size in the zip
directory fits the limit, and the limit is enforced again while it is
decompressed (a directory can lie). The weights are checked shape by shape,
from the HDF5 metadata, before Keras reads a single value.
"""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager

from specc.errors import SpecError
from specc.files import open_regular

# The uncompressed size config.json may have; --max-config-bytes raises it.
# ResNet152's config.json is about 0.5 MB.
DEFAULT_MAX_CONFIG_BYTES = 64 * 2**20
# Bytes of the zip directory (about 100 per member); Keras writes three members.
MAX_DIRECTORY_BYTES = 2**20
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
# The compression methods the zipfile module reads; anything else is refused
# from the directory, before any data is touched.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
            zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_CHUNK = 2**20


@contextmanager
def open_archive(path):
    """Open ``path`` as a zip, only if it is a regular file (not a FIFO, a device
    or a link to one); every failure is a one-line SpecError.

    >>> with open_archive("model.keras") as archive:  # doctest: +SKIP
    ...     config = read_member(archive, "config.json", 2**20)
    """
    file = str(path)
    handle = open_regular(file, "Keras model")
    try:
        _check_directory(handle, file)
        try:
            archive = zipfile.ZipFile(handle)
        except Exception as exc:  # BadZipFile, OSError, EOFError, NotImplementedError (version)...
            raise SpecError(f"cannot read Keras model: not a zip file ({_reason(exc)})",
                            file=file) from None
        with archive:
            yield archive
    finally:
        handle.close()


def _check_directory(handle, file: str) -> None:
    """Refuse a zip directory too large to hold in memory, before zipfile reads it."""
    try:
        end = zipfile._EndRecData(handle)  # the end record, as zipfile itself finds it
    except (OSError, ValueError, EOFError):
        end = None
    if end is None:
        raise SpecError("cannot read Keras model: not a zip file", file=file)
    if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise SpecError(f"cannot read Keras model: its zip directory is {end[zipfile._ECD_SIZE]:,} "
                        f"bytes, over the limit of {MAX_DIRECTORY_BYTES:,}", file=file)
    handle.seek(0)


def member_info(archive: zipfile.ZipFile, name: str, file: str) -> zipfile.ZipInfo:
    """The directory entry of a member, refused when it is encrypted or uses a
    compression method zipfile does not read."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise SpecError(f"cannot read Keras model: it has no {name}", file=file) from None
    if info.flag_bits & 0x1:
        raise SpecError(f"cannot read Keras model: {name} is encrypted", file=file)
    if info.compress_type not in _METHODS:
        raise SpecError(f"cannot read Keras model: {name} uses the unknown compression method "
                        f"{info.compress_type}", file=file)
    return info


def read_member(archive: zipfile.ZipFile, name: str, limit: int, file: str = "",
                flag: str = "--max-config-bytes") -> bytes:
    """A member's bytes, at most ``limit`` of them once decompressed."""
    info = member_info(archive, name, file)

    def too_big(size: str) -> SpecError:
        return over_limit("Keras model", f"{name} is {size} bytes uncompressed", limit, file, flag)

    if info.file_size > limit:
        raise too_big(f"{info.file_size:,}")
    out = io.BytesIO()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                if out.tell() + len(chunk) > limit:  # the directory understated the size
                    raise too_big(f"more than {limit:,}")
                out.write(chunk)
    except SpecError:
        raise
    except Exception as exc:  # zlib.error, lzma.LZMAError, OSError, EOFError, BadZipFile...
        raise SpecError(f"cannot read Keras model: {name} is corrupt ({_reason(exc)})",
                        file=file) from None
    return out.getvalue()


def over_limit(what: str, size: str, limit: int, file: str,
               flag: str = "--max-config-bytes") -> SpecError:
    """The line for an input over its size limit, as every reader words it: ``cannot read
    Keras model: config.json is 9 bytes uncompressed, over the limit of 8; raise it with
    --max-config-bytes``."""
    return SpecError(f"cannot read {what}: {size}, over the limit of {limit:,}; raise it with "
                     f"{flag}", file=file)


def check_weights(archive: zipfile.ZipFile, largest: int, total: int, file: str = "") -> None:
    """Refuse weights Keras should not read: a member larger than the model's
    weights (``total`` values) and its optimizer's could fill, a dataset with more
    values than the largest weight of the model (Keras reads a whole dataset
    before comparing shapes), data kept in other files, links to other files.

    Only the zip directory and HDF5 metadata are read here; the walk is iterative.
    """
    import h5py

    info = member_info(archive, WEIGHTS, file)
    # The weights and two optimizer slots each, as float64, and room for HDF5's own data.
    limit = 16 * 2**20 + 3 * 8 * total
    if info.file_size > limit:
        raise SpecError(f"cannot read weights: {WEIGHTS} is {info.file_size:,} bytes uncompressed, "
                        f"more than the model's weights can fill ({limit:,})", file=file)
    try:
        with archive.open(info) as stream, h5py.File(stream, "r") as weights:
            stack = [weights]
            while stack:
                group = stack.pop()
                for key in group:
                    link = group.get(key, getlink=True)
                    where = f"{group.name.rstrip('/')}/{key}"
                    if isinstance(link, h5py.ExternalLink):
                        raise SpecError(f"cannot read weights: {where} links to another file",
                                        file=file)
                    if isinstance(link, h5py.SoftLink):
                        continue  # points inside this file, at something walked anyway
                    item = group[key]
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                    elif isinstance(item, h5py.Dataset):
                        _check_dataset(item, where, largest, file)
    except SpecError:
        raise
    except Exception as exc:  # h5py's OSError, zipfile's and zlib's errors
        raise SpecError(f"cannot read weights: {_reason(exc)}", file=file) from None


def _check_dataset(dataset, where: str, largest: int, file: str) -> None:
    if dataset.is_virtual or dataset.external:
        raise SpecError(f"cannot read weights: {where} keeps its data in other files", file=file)
    values = 1
    for dim in dataset.shape or ():
        values *= dim
    if values > max(largest, 1) or dataset.dtype.itemsize > 16:
        raise SpecError(f"cannot read weights: {where} has shape {tuple(dataset.shape)}, larger "
                        f"than any weight of the model ({largest:,} values at most)", file=file)


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
