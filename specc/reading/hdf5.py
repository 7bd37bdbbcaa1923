"""Reading the attributes of an HDF5 file (a Keras 2 ``.h5``) as untrusted data, with a bound.

A Keras 2 model file keeps its architecture in attributes (``model_config``,
``training_config``, each layer group's ``weight_names``), and an attribute can be
as large as the file. Each one is refused over ``--max-config-bytes`` before its
value is read, from what HDF5 tells without reading it:

- the object's attribute metadata (its object header, and the heap and index of
  its dense attribute storage): HDF5 loads and decodes these whole to find any
  attribute by name, so they are checked before an attribute is even looked up;
- a fixed-size attribute's storage size, which is its value's size;
- a variable-length attribute (a string, as h5py writes ``str`` and ``bytes``, so
  every Keras 2 file made with h5py 3) stores 16 bytes per value in the attribute
  and the values themselves in the file's global heap, which HDF5 has no call to
  measure. Each value is one heap object, inside a collection whose header
  (``GCOL``, version 1, its size) is in the file: the file is scanned for those
  headers once, and an attribute may hold at most the largest collection per
  value, and the heap in all. A file no larger than the limit is not scanned.

The bound assumes the heap's structure is the library's own: a file edited
below HDF5's level can still make HDF5 allocate a declared length before it
compares it with the heap (SECURITY.md, "Not covered").
"""

from __future__ import annotations

import os
from typing import Any

from specc.errors import SpecError
from specc.files import open_regular
from specc.reading.archive import over_limit

_SIGNATURE = int.from_bytes(b"GCOL", "little")
_CHUNK = 4 * 2**20


class Attributes:
    """The attributes of one open ``h5py.File``, each read only when it fits ``limit``.

    >>> with h5py.File("m.h5") as h5:  # doctest: +SKIP
    ...     config = Attributes(h5, "m.h5", 2**20, "Keras 2 model").read(h5, "model_config")
    """

    def __init__(self, h5, file: str, limit: int, what: str,
                 flag: str = "--max-config-bytes") -> None:
        self.h5, self.file, self.limit, self.what, self.flag = h5, file, limit, what, flag
        self._checked: set[str] = set()
        self._heap: tuple[int, int] | None = None  # (largest, total) object bytes

    def has(self, obj, name: str) -> bool:
        self._check_metadata(obj)
        return name in obj.attrs

    def read(self, obj, name: str, default: Any = None) -> Any:
        """The value of ``obj``'s attribute ``name`` (``default`` when it has none)."""
        if not self.has(obj, name):
            return default
        attribute = obj.attrs.get_id(name)
        try:
            stored = attribute.get_storage_size()
        except RuntimeError:  # h5py raises for a size of 0: an empty attribute (the fuzzer's
            stored = 0        # weight_names = []), which HDF5 stores with no data at all
        if stored > self.limit:
            raise self._too_big(f"the {name} attribute{self._of(obj)} is {stored:,} bytes")
        dtype = attribute.dtype
        if dtype.hasobject:  # variable-length values, kept in the global heap
            bound = self._heap_bound(_values(attribute.shape), _plain_vlen(dtype))
            if bound > self.limit:
                raise self._too_big(f"the {name} attribute{self._of(obj)} is a variable-length "
                                    f"value of up to {bound:,} bytes")
        value = obj.attrs[name]
        if isinstance(value, (bytes, str)) and len(value) > self.limit:  # a bound that lied
            raise self._too_big(f"the {name} attribute{self._of(obj)} is {len(value):,} bytes")
        return value

    def _check_metadata(self, obj) -> None:
        if obj.name in self._checked:
            return
        from h5py import h5o

        info = h5o.get_info(obj.id)
        size = info.hdr.space.total + info.meta_size.attr.heap_size + info.meta_size.attr.index_size
        if size > self.limit:
            raise self._too_big(f"the attributes of {obj.name} take {size:,} bytes")
        self._checked.add(obj.name)

    def _heap_bound(self, values: int, plain: bool) -> int:
        """The most bytes ``values`` variable-length values can hold (one heap object each
        when ``plain``), without scanning a file that cannot hold more than the limit."""
        file_size = self.h5.id.get_filesize()
        if values * file_size <= self.limit:
            return values * file_size
        if self._heap is None:
            self._heap = heap_objects(self.file, self.h5.id.get_create_plist().get_sizes()[1])
        largest, total = self._heap
        return min(values * largest, total) if plain else total

    def _too_big(self, size: str) -> SpecError:
        return over_limit(self.what, size, self.limit, self.file, self.flag)

    @staticmethod
    def _of(obj) -> str:
        return "" if obj.name == "/" else f" of {obj.name}"


def _values(shape) -> int:
    count = 1
    for dim in shape or ():
        count *= dim
    return count


def _plain_vlen(dtype) -> bool:
    """Whether each value of ``dtype`` is one heap object: a variable-length string, or a
    sequence of fixed-size items (not a compound, an array or a nested sequence)."""
    import h5py

    string = h5py.check_string_dtype(dtype)
    if string is not None:
        return string.length is None
    base = h5py.check_vlen_dtype(dtype)
    return base is not None and not base.hasobject


def heap_objects(file: str, length_size: int = 8) -> tuple[int, int]:
    """The largest and the total bytes the global heap collections of ``file`` can hold
    for their objects: every ``GCOL`` header found, read in chunks (linear time, a few
    MiB of memory); a header whose collection would run past the end is not one."""
    import numpy as np

    header = 8 + length_size  # signature, version, 3 reserved bytes, the collection's size
    largest = total = 0
    buffer = bytearray(_CHUNK + header)
    view = memoryview(buffer)
    carried = start = 0  # bytes kept from the last chunk; the file offset of buffer[0]
    with open_regular(file, "HDF5 file") as handle:
        size = os.fstat(handle.fileno()).st_size
        while True:
            read = handle.readinto(view[carried:])
            end = carried + read
            if end >= header:
                data = np.frombuffer(buffer, np.uint8, count=end)
                at = np.concatenate([np.flatnonzero(np.frombuffer(
                    buffer, "<u4", count=(end - k) // 4, offset=k) == _SIGNATURE) * 4 + k
                    for k in range(4)])
                at = at[at <= end - header]
                at = at[data[at + 4] == 1]
                declared = np.zeros(len(at), np.uint64)
                for j in range(min(length_size, 8)):
                    declared |= data[at + 8 + j].astype(np.uint64) << np.uint64(8 * j)
                fits = declared <= np.uint64(size) - (at + start).astype(np.uint64)
                # Room for objects: the collection less its header and one object's header.
                room = declared[fits & (declared > 2 * header)] - np.uint64(2 * header)
                if len(room):
                    largest = max(largest, int(room.max()))
                    total += int(room.sum())
                del data
            if read == 0 or end < header:
                return largest, total
            kept = header - 1  # a header may begin in the last bytes of this chunk
            view[:kept] = bytes(view[end - kept:end])
            start += end - kept
            carried = kept
