"""Weights into a model rebuilt from its spec: from a ``.keras`` file, a Keras 2 ``.h5``
file or a ``.weights.h5`` file (``specc build --weights``). Reading a spec back needs
no TensorFlow; this does, as the model it fills is built. Shapes are checked from the
file's metadata before any read.
"""

from __future__ import annotations

import os

from specc.building.budget import DEFAULT_MAX_PARAMS
from specc.errors import Problem, SpecError
from specc.reading.archive import DEFAULT_MAX_CONFIG_BYTES, check_weights, open_archive

# Keras 2 saved whole models as HDF5; their weights are read layer by layer here.
_KERAS2_SUFFIXES = (".h5", ".hdf5")


def copy_weights(model, path, max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> None:
    """The weights of the model file ``path`` (``.keras``, or a Keras 2 ``.h5``, whose
    attributes are read only up to ``max_config_bytes``) into ``model``, the model rebuilt
    from that file's exported spec."""
    if os.fspath(path).lower().endswith(_KERAS2_SUFFIXES):
        copy_weights_from_h5(model, path, max_config_bytes)
    else:
        copy_weights_from_file(model, path)


def load_weights(model, path) -> None:
    """``model.load_weights`` of a weights file (``specc build --weights``), any failure
    one line."""
    _load(model, path, "cannot load weights")


def copy_weights_from_file(model, path) -> None:
    """Load the weights stored in a .keras file into ``model`` (rebuilt from its spec).

    Keras reads only the weights archive here; the file's config is not deserialized.
    Every dataset's shape is checked first, from the HDF5 metadata: Keras reads a
    whole dataset before it compares shapes.
    """
    sizes = [_values(w.shape) for w in model.weights]
    with open_archive(path) as archive:
        check_weights(archive, max(sizes, default=0), sum(sizes), str(path))
    _load(model, path, "cannot read weights")


def _load(model, path, failure: str) -> None:
    try:
        model.load_weights(path)
    except Exception as exc:  # h5py, zipfile and Keras raise many kinds
        raise SpecError(f"{failure}: {' '.join(str(exc).split())[:300]}", file=str(path)) from None


def _values(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim or 0
    return count


def copy_weights_from_h5(model, path, max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> None:
    """Set ``model``'s weights (rebuilt from the exported spec) from a Keras 2 ``.h5``,
    layer by layer by name, as Keras 2 saved them; shapes are checked before reading, and
    each layer's ``weight_names`` attribute is read only up to ``max_config_bytes``."""
    import h5py

    from specc.reading.hdf5 import Attributes

    file = os.fspath(path)
    problems: list[Problem] = []
    try:
        with h5py.File(file, "r") as h5:
            attributes = Attributes(h5, file, max_config_bytes, "weights")
            group = h5["model_weights"] if "model_weights" in h5 else h5
            for layer in model.layers:
                if not layer.weights:
                    continue
                if layer.name not in group:
                    problems.append(Problem(f"no weights for layer '{layer.name}'"))
                    continue
                names = attributes.read(group[layer.name], "weight_names", [])
                _copy(layer, group[layer.name], _weight_names(names), problems)
    except (OSError, KeyError, ValueError) as exc:
        raise SpecError(f"cannot read weights: {exc}", file=file) from None
    if problems:
        raise SpecError(Problem(p.message, file=file) for p in problems)


def _weight_names(names) -> list[str]:
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _dataset(group, name: str):
    """The dataset at name, only when it is stored in this file: every part of the path
    a hard link, no external storage (an .h5 file could point anywhere)."""
    import h5py

    node = group
    for part in name.split("/"):
        if not isinstance(node, h5py.Group) or part not in node:
            return None
        if not isinstance(node.get(part, getlink=True), h5py.HardLink):
            return None
        node = node[part]
    if not isinstance(node, h5py.Dataset) or node.external or node.dtype.kind not in "fiub":
        return None
    return node


def _copy(layer, group, names: list[str], problems: list[Problem]) -> None:
    """A nested model's group lists all its layers' weights, "<layer>/<weight>"; each
    inner layer takes its own, in its own order (Keras 2 listed the model's trainable
    weights before the others, Keras 3 goes layer by layer)."""
    if hasattr(layer, "layers"):
        for inner in layer.layers:
            if inner.weights:
                _copy(inner, group, [n for n in names if n.startswith(f"{inner.name}/")],
                      problems)
        return
    expected = [tuple(w.shape) for w in layer.weights]
    if len(names) != len(expected):
        problems.append(Problem(f"layer '{layer.name}' has {len(expected)} weights, the file "
                                f"{len(names)}"))
        return
    arrays = []
    for name, shape in zip(names, expected):
        dataset = _dataset(group, name)
        if dataset is None:
            problems.append(Problem(f"weight '{name}' of layer '{layer.name}' is not a dataset "
                                    "stored in the file (a link or external data is not read)"))
            return
        if tuple(dataset.shape) != shape:
            problems.append(Problem(f"weight '{name}' of layer '{layer.name}' has shape "
                                    f"{tuple(dataset.shape)}, the model {shape}"))
            return
        arrays.append(dataset[()])
    layer.set_weights(arrays)


def write_weights(spec, model_path, weights_path, *,
                  max_params: int | None = DEFAULT_MAX_PARAMS,
                  max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES) -> None:
    """The weights of the model file ``model_path`` as a ``.weights.h5`` file that
    ``specc build --weights`` (or ``specc.build(..., weights=...)``) reads: the model
    is rebuilt from its exported ``spec`` and filled from the file (imports TensorFlow);
    a Keras 2 file's attributes are read up to ``max_config_bytes`` (``--max-config-bytes``)."""
    from specc.building.build import build
    from specc.files import write_atomically

    if not str(weights_path).endswith(".weights.h5"):
        raise SpecError("the weights file must end in .weights.h5", file=str(weights_path))
    rebuilt = build(spec, max_params=max_params)
    copy_weights(rebuilt, model_path, max_config_bytes)
    write_atomically(weights_path, rebuilt.save_weights)
