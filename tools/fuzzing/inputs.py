"""The fuzzer's inputs: seeds from the project's own files, and one payload per draw.

Seeds are every spec of specs/ and tests/ (text and data), the config.json and a
whole .keras file (weights included) of the models the shipped specs build, and
Keras 2 models (.h5 and model.to_json()) written by tf-keras
(tests/keras2/make_models.py, in its own process). Each draw picks a target by
its weight and mutates a seed for it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fuzzing import plugin, structure
from fuzzing.mutate import VALUES, mutate_data, mutate_text, to_keras_bytes
from fuzzing.targets import h5_recipe

ROOT = Path(__file__).resolve().parents[2]
KERAS2_MODELS = ["mlp", "cnn", "text", "multi_input", "nested", "bidirectional"]
WEIGHTED_SPECS = ["tutorial_combined", "cnn", "rnn"]


@dataclass
class Seeds:
    """The seeds of each kind. Documents are kept as JSON text: a fresh copy to mutate
    is parsed from it, several times faster than a deep copy of a large config."""

    texts: list[tuple[str, str]]  # (format, text)
    data: list[str]  # spec documents
    configs: list[str] = field(default_factory=list)
    keras_files: list[str] = field(default_factory=list)  # {"config", "weights": recipe}
    keras2: list[str] = field(default_factory=list)  # {"json": text, "h5": recipe}
    drawn: list = field(default_factory=list)  # hypothesis's specs, drawn a batch at a time


def pick(rng: random.Random, pool: list[str]):
    """A fresh copy of one seed of ``pool``."""
    return json.loads(rng.choice(pool))


def as_json(documents: list) -> list[str]:
    return [json.dumps(d, allow_nan=True) for d in documents]


def spec_seeds() -> tuple[list, list]:
    texts, data = [], []
    for path in sorted([*ROOT.glob("specs/*"), *ROOT.glob("tests/**/*")]):
        if path.suffix in (".toml", ".json") and path.is_file() and "keras2" not in path.parts:
            text = path.read_text(errors="replace")
            texts.append((path.suffix[1:], text))
            try:
                parsed = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                data.append(parsed)
    return texts, data


def model_seeds(cache: Path) -> tuple[list, list]:
    """config.json of every shipped spec that builds, and .keras files of a few with their
    weights (TensorFlow is imported once, here); cached under ``cache``."""
    stamp = hashlib.sha1(b"".join(p.read_bytes() for p in sorted(ROOT.glob("specs/*")))).hexdigest()
    saved = cache / f"models-{stamp[:12]}.json"
    if saved.is_file():
        found = json.loads(saved.read_text())
        return found["configs"], found["keras_files"]
    import keras

    from specc.building.build import build
    from specc.checking.validate import load
    from specc.errors import SpecError

    configs, keras_files = [], []
    cache.mkdir(parents=True, exist_ok=True)
    for path in sorted(ROOT.glob("specs/*")):
        try:
            model = build(load(path))
        except SpecError:
            continue
        configs.append(json.loads(json.dumps(keras.saving.serialize_keras_object(model))))
        if path.stem in WEIGHTED_SPECS:
            file = cache / f"{path.stem}.keras"
            model.save(file)
            with zipfile.ZipFile(file) as archive:
                weights = cache / f"{path.stem}.weights.h5"
                weights.write_bytes(archive.read("model.weights.h5"))
            keras_files.append({"config": configs[-1], "weights": h5_recipe(weights)})
    saved.write_text(json.dumps({"configs": configs, "keras_files": keras_files}))
    return configs, keras_files


def keras2_seeds(cache: Path) -> list[dict]:
    """Keras 2 models written by tf-keras; none (and a note) where tf-keras is missing."""
    script = ROOT / "tests" / "keras2" / "make_models.py"
    where = cache / f"keras2-{hashlib.sha1(script.read_bytes()).hexdigest()[:12]}"
    if not (where / "done").is_file():
        where.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([sys.executable, str(script), str(where), *KERAS2_MODELS],
                              capture_output=True, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if made.returncode != 0:
            print(f"fuzz: no Keras 2 seeds (tf-keras: {made.stderr.strip().splitlines()[-1:]})",
                  file=sys.stderr)
            return []
        (where / "done").write_text("")
    return [{"json": (where / f"{name}.json").read_text(), "h5": h5_recipe(where / f"{name}.h5")}
            for name in KERAS2_MODELS]


def load_seeds(cache: Path, models: bool) -> Seeds:
    texts, data = spec_seeds()
    seeds = Seeds(texts, as_json(data))
    if models:
        plugin.ready(import_now=True)  # Keras imported here, not in the first plugin draw
        configs, keras_files = model_seeds(cache)
        seeds.configs, seeds.keras_files = as_json(configs), as_json(keras_files)
        seeds.keras2 = as_json(keras2_seeds(cache))
    return seeds


# ---- one draw ----------------------------------------------------------------------

def b64(raw: bytes) -> dict:
    return {"b64": base64.b64encode(raw).decode()}


def keras_zip(config, weights: dict | None, method: int) -> bytes:
    """A .keras file: metadata, config.json and, from its recipe, model.weights.h5."""
    from fuzzing.targets import workdir, write_h5

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        archive.writestr("config.json", json.dumps(config))
        if weights is not None:
            with workdir() as where:
                write_h5(where / "w.h5", weights)
                archive.writestr("model.weights.h5", (where / "w.h5").read_bytes())
    return buffer.getvalue()


def spec_file(rng: random.Random, seeds: Seeds) -> tuple[str, str]:
    """A spec's text, from any of the spec generators: (format, text)."""
    r = rng.random()
    if r < 0.5:
        fmt, text = rng.choice(seeds.texts)
        return fmt, mutate_text(rng, text, seeds.texts)
    if r < 0.8:
        return "json", json.dumps(_mutated_spec(rng, seeds), allow_nan=True)
    return "json", json.dumps(_structural(rng, seeds), allow_nan=True)


def _mutated_spec(rng: random.Random, seeds: Seeds):
    data = pick(rng, seeds.data)
    for _ in range(rng.randint(1, 4)):
        data = mutate_data(rng, data)
    return data if isinstance(data, dict) else {"layers": data}


def _structural(rng: random.Random, seeds: Seeds):
    if not seeds.drawn:
        seeds.drawn = structure.specs(rng, 300)
    return seeds.drawn.pop()


SET_PATHS = ["layers[0].units", "layers.dense_1.units", "layers.*.rate", "layers[-1]",
             "layers.*.kernel_regularizer", "model.outputs", "inputs[0].shape", "compile.loss",
             "blocks.residual.params", "defaults.Dense.units", "constants.side", "layers[99]",
             "layers..units", "[0]", "layers[x].units", "layers.*.*", "build.dtype_policy", ""]
SET_VALUES = ["128", "0.3", "'{ l2 = 0.001 }'", "{ l2 = 0.001 }", "[1, 2]", "[[1]]", "nan",
              "inf", "'relu'", "relu", "true", "{ a = [", "1979-05-27", '"x"', "{}", "[]", "9" * 30]


def set_argument(rng: random.Random, data) -> str:
    """A --set PATH=VALUE: a path that is in the spec, or one of the usual, and a TOML value."""
    path = rng.choice(SET_PATHS)
    if isinstance(data, dict) and rng.random() < 0.6:
        path, node = "", data
        for _ in range(rng.randint(1, 4)):
            if isinstance(node, dict) and node:
                key = rng.choice(list(node))
                path, node = f"{path}.{key}" if path else str(key), node[key]
            elif isinstance(node, list) and node:
                n = rng.randrange(len(node))
                path, node = f"{path}[{n}]", node[n]
    value = rng.choice(SET_VALUES) if rng.random() < 0.7 else json.dumps(rng.choice(VALUES))
    text = f"{path}={value}"
    return mutate_text(rng, text, [("toml", text)]) if rng.random() < 0.3 else text


SPEC_COMMANDS = [["validate"], ["validate", "--format", "json"], ["summary"],
                 ["summary", "--format", "json"], ["fmt", "--check"], ["fmt", "--diff"], ["fmt"],
                 ["expand"], ["expand", "-o", "{dir}/out.json"], ["diff"],
                 ["graph", "-o", "{dir}/g.dot"], ["graph", "-o", "{dir}/g.mmd"], ["set"]]


def cli_spec(rng: random.Random, seeds: Seeds) -> dict:
    fmt, text = spec_file(rng, seeds)
    name = f"s.{fmt}"
    command = list(rng.choice(SPEC_COMMANDS))
    files = {name: {"text": text}}
    if command == ["set"]:
        try:
            data = json.loads(text) if fmt == "json" else tomllib.loads(text)
        except ValueError:
            data = None
        sets = [arg for _ in range(rng.randint(1, 3)) for arg in ("--set", set_argument(rng, data))]
        command = [rng.choice(["validate", "summary", "expand"]), *sets]
    if command == ["diff"]:
        other_fmt, other = rng.choice(seeds.texts)
        files[f"t.{other_fmt}"] = {"text": other}
        return {"argv": ["diff", f"{{dir}}/{name}", f"{{dir}}/t.{other_fmt}"], "files": files}
    return {"argv": [command[0], f"{{dir}}/{name}", *command[1:]], "files": files}


def model_file(rng: random.Random, seeds: Seeds) -> tuple[str, dict]:
    """A model file for export: a .keras zip, a Keras 2 .h5 or a model.to_json() file."""
    r = rng.random()
    methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
    if r < 0.35 or not seeds.keras2:
        if seeds.keras_files and rng.random() < 0.3:
            seed = pick(rng, seeds.keras_files)
            config = mutate_data(rng, seed["config"]) if rng.random() < 0.5 else seed["config"]
            weights = mutate_data(rng, seed["weights"]) if rng.random() < 0.7 else seed["weights"]
            return "m.keras", b64(keras_zip(config, weights, rng.choice(methods)))
        return "m.keras", b64(to_keras_bytes(rng, mutate_data(rng, pick(rng, seeds.configs))))
    seed = pick(rng, seeds.keras2)
    if r < 0.65:
        text = seed["json"]
        if rng.random() < 0.5:
            text = mutate_text(rng, text, [("json", text)])
        else:
            text = json.dumps(mutate_data(rng, json.loads(text)))
        return "m.json", {"text": text}
    recipe = seed["h5"]
    part = rng.random()
    if part < 0.4:
        config = recipe["attrs"].get("model_config", "{}")
        recipe["attrs"]["model_config"] = mutate_text(rng, config, [("json", config)]) \
            if rng.random() < 0.3 else json.dumps(mutate_data(rng, json.loads(config)))
    elif part < 0.6 and "training_config" in recipe["attrs"]:
        recipe["attrs"]["training_config"] = json.dumps(mutate_data(
            rng, json.loads(recipe["attrs"]["training_config"])))
    else:
        recipe = mutate_data(rng, recipe)
    return "m.h5", {"h5": recipe}


def cli_model(rng: random.Random, seeds: Seeds) -> dict:
    name, file = model_file(rng, seeds)
    argv = ["export", f"{{dir}}/{name}"]
    r = rng.random()
    if r < 0.3:
        argv += ["-o", "{dir}/out.toml"]
    elif r < 0.45 and name != "m.json":
        argv += ["--weights", "{dir}/w.weights.h5"]
    elif r < 0.55:
        fmt, text = rng.choice(seeds.texts)
        return {"argv": ["diff", f"{{dir}}/{name}", f"{{dir}}/s.{fmt}"],
                "files": {name: file, f"s.{fmt}": {"text": text}}}
    return {"argv": argv, "files": {name: file}}


PLUGIN_COMMANDS = [["validate"], ["summary"], ["expand"], ["fmt", "--check"],
                   ["graph", "-o", "{dir}/g.mmd"], ["diff"]]


def cli_plugin_spec(rng: random.Random, seeds: Seeds) -> dict:
    """A spec naming the fuzzer's plugin classes, mutated, with --plugin (mostly)."""
    fmt, text = rng.choice(plugin.SPECS)
    r = rng.random()
    if r < 0.35:
        text = mutate_text(rng, text, [*plugin.SPECS, *rng.sample(seeds.texts, 3)])
    elif r < 0.85:  # the same spec as data, mutated: most such specs parse
        data = json.loads(text) if fmt == "json" else tomllib.loads(text)
        for _ in range(rng.randint(1, 2)):
            data = mutate_data(rng, data)
        fmt, text = "json", json.dumps(data, allow_nan=True)
    name = f"s.{fmt}"
    command = list(rng.choice(PLUGIN_COMMANDS))
    flags = ["--plugin", plugin.MODULE] if rng.random() < 0.9 else []
    if command == ["diff"]:
        return {"argv": ["diff", f"{{dir}}/{name}", f"{{dir}}/t.{fmt}", *flags],
                "files": {name: {"text": text}, f"t.{fmt}": {"text": rng.choice(plugin.SPECS)[1]}}}
    if rng.random() < 0.05:
        layer = rng.choice(["fuzz>Block", "fuzz>Scale", "fuzz>Fixed", "fuzz>Blok", "fuzz>"])
        return {"argv": ["layers", layer, *flags], "files": {}}
    return {"argv": [command[0], f"{{dir}}/{name}", *command[1:], *flags],
            "files": {name: {"text": text}}}


def cli_plugin_model(rng: random.Random, seeds: Seeds) -> dict:
    """A .keras file of the plugin's layers (its config mutated) through export --plugin."""
    config = json.loads(json.dumps(plugin.CONFIG))
    for _ in range(rng.randint(0, 3)):
        config = mutate_data(rng, config)
    argv = ["export", "{dir}/m.keras", *(["--plugin", plugin.MODULE] if rng.random() < 0.9
                                         else [])]
    if rng.random() < 0.3:
        argv += ["-o", "{dir}/out.toml"]
    methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    raw = keras_zip(config, None, rng.choice(methods)) if rng.random() < 0.8 \
        else to_keras_bytes(rng, config)  # corrupt bytes too, now and then
    return {"argv": argv, "files": {"m.keras": b64(raw)}}


_CATALOG: list[str] = []


def catalog_cache(rng: random.Random) -> dict:
    """A cached catalog of a newer Keras (3.99.0): the committed catalog mutated as data or
    as text, its hash file agreeing or not."""
    if not _CATALOG:
        from specc.vocab.catalogs import newest_text

        catalog = json.loads(newest_text())
        _CATALOG.append(json.dumps({**catalog, "keras_version": "3.99.0"}))
    if rng.random() < 0.6:
        text = json.dumps(mutate_data(rng, json.loads(_CATALOG[0])), allow_nan=True)
    else:
        text = mutate_text(rng, _CATALOG[0], [("json", _CATALOG[0])])
    return {"text": text, "hash": rng.random() < 0.8}


def draw(rng: random.Random, seeds: Seeds, n: int) -> tuple[str, str, dict]:
    """(target, runner, payload) of the n-th input."""
    models = bool(seeds.configs)
    r = rng.random()
    # The plugin draws need Keras (the plugin imports it): only where the model seeds are.
    if models and n % 30 == 7:
        return "cli_plugin_spec", "cli", cli_plugin_spec(rng, seeds)
    if models and n % 40 == 25:
        return "cli_plugin_model", "cli", cli_plugin_model(rng, seeds)
    if models and n % 40 == 0:
        return "cli_model", "cli", cli_model(rng, seeds)
    if models and n % 10 == 0:
        name, file = model_file(rng, seeds)
        return f"file_{name.rsplit('.', 1)[1]}", "file", {"name": name, "file": file}
    if n % 50 == 33:
        return "catalog_cache", "catalog_cache", catalog_cache(rng)
    if n % 12 == 0:
        return "cli_spec", "cli", cli_spec(rng, seeds)
    if n % 40 == 1:  # hypothesis draws are the slowest: about 10 ms each
        return "structure", "data", {"data": _structural(rng, seeds)}
    if models and r < 0.2:
        return "config", "config", {"data": mutate_data(rng, pick(rng, seeds.configs))}
    if r < 0.35:
        return "spec_data", "data", {"data": _mutated_spec(rng, seeds)}
    if r < 0.4:
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        fmt = rng.choice(("toml", "json"))
        return f"bytes_{fmt}", "text", {"format": fmt, "text": raw.decode("latin-1")}
    fmt, text = rng.choice(seeds.texts)
    return f"text_{fmt}", "text", {"format": fmt, "text": mutate_text(rng, text, seeds.texts)}
