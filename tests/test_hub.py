"""keras-hub's layers in a spec (issue 19): named by their registered names
("keras_hub>TransformerEncoder"), checked from the generated catalog without
TensorFlow or keras-hub, built with keras_hub.layers, shaped by summary, exported
from a model file without a plugin. Through the real command line where a user
meets them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, layer_config, run_specc

keras_hub = pytest.importorskip("keras_hub")
import keras  # noqa: E402

EXAMPLE = ROOT / "specs" / "transformer_classifier.toml"

HUB_SPEC = """\
[model]
name = "hub_demo"

[[inputs]]
name = "tokens"
shape = [16]
dtype = "int32"

[[layers]]
type = "keras_hub>TokenAndPositionEmbedding"
vocabulary_size = 100
sequence_length = 16
embedding_dim = 8

[[layers]]
type = "keras_hub>TransformerEncoder"
intermediate_dim = 16
num_heads = 2
dropout = 0.1

[[layers]]
type = "GlobalAveragePooling1D"

[[layers]]
type = "Dense"
units = 2
activation = "softmax"
"""


def _by_hand():
    """The same model written with keras_hub.layers, as a keras-io example writes it."""
    tokens = keras.Input((16,), dtype="int32", name="tokens")
    x = keras_hub.layers.TokenAndPositionEmbedding(100, 16, 8)(tokens)
    x = keras_hub.layers.TransformerEncoder(16, 2, dropout=0.1)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(tokens, keras.layers.Dense(2, activation="softmax")(x), name="hub_demo")


def _loads(text: str):
    from specc.checking.validate import validate_document
    from specc.reading.load import parse_text

    return validate_document(parse_text(text, "toml"))


def _without_names(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "name"}


def test_validate_imports_neither_tensorflow_nor_keras_hub(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC)
    code = ("import sys\nfrom specc.cli.main import main\ncode = main(['validate', sys.argv[1]])\n"
            "print(code, sorted(m for m in ('tensorflow', 'keras', 'keras_hub') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_spec_builds_the_layers_written_by_hand(tmp_path):
    from specc import build

    keras.backend.clear_session(free_memory=False)
    built = build(_loads(HUB_SPEC))
    keras.backend.clear_session(free_memory=False)
    hand = _by_hand()
    ours_, theirs_ = ([layer for layer in m.layers if not isinstance(layer, keras.layers.InputLayer)]
                      for m in (built, hand))
    assert [type(layer) for layer in ours_] == [type(layer) for layer in theirs_]
    for ours, theirs in zip(ours_, theirs_, strict=True):
        assert _without_names(layer_config(ours)) == _without_names(layer_config(theirs))
        assert ours.count_params() == theirs.count_params()
    assert [layer.name for layer in ours_] == [layer.name for layer in theirs_]
    assert built.count_params() == hand.count_params() == 1546


def test_a_misspelt_hub_argument_gets_a_did_you_mean_at_its_line(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC.replace("embedding_dim = 8", "embeding_dim = 8"))
    done = run_specc("validate", spec)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        f"{spec}:13:1: layers[0].embeding_dim: unknown argument 'embeding_dim' for "
        "keras_hub>TokenAndPositionEmbedding. Did you mean 'embedding_dim'?")


def test_a_bare_hub_class_name_is_pointed_at_its_registered_name(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC.replace('type = "keras_hub>TransformerEncoder"',
                                     'type = "TransformerEncoder"'))
    done = run_specc("validate", spec)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"{spec}:16:8: layers[1].type: unknown layer type 'TransformerEncoder'. "
        "Did you mean 'keras_hub>TransformerEncoder'?")


def test_specc_layers_lists_a_hub_layers_arguments():
    done = run_specc("layers", "keras_hub>TransformerEncoder")
    assert done.returncode == 0, done.stderr
    assert "keras_hub>TransformerEncoder (keras_hub.layers.TransformerEncoder)" in done.stdout
    for argument in ("intermediate_dim", "num_heads", "normalize_first", "layer_norm_epsilon"):
        assert argument in done.stdout


def test_the_four_refused_hub_layers_are_the_readmes():
    from specc.vocab import registry

    refused = sorted(name for name in registry.REFUSED if name.startswith("keras_hub>"))
    assert refused == ["keras_hub>MaskedLMHead", "keras_hub>RMSNormalization",
                       "keras_hub>RandomDeletion", "keras_hub>RandomSwap"]
    assert "Four of keras_hub.layers'" in (ROOT / "README.md").read_text()


def test_a_refused_hub_layer_says_why(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC + '\n[[layers]]\ntype = "keras_hub>RandomSwap"\nrate = 0.1\n')
    done = run_specc("validate", spec)
    assert done.returncode == 1
    assert "layer type 'keras_hub>RandomSwap' is not supported: takes Python functions" \
        in done.stderr


def test_an_unknown_package_is_refused_by_name_and_never_imported(tmp_path):
    """A module on sys.path whose import leaves a mark: no command imports it because a
    spec or a model file names it."""
    (tmp_path / "somepkg.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('IMPORTED').write_text('x')\n"
        "import keras\n@keras.saving.register_keras_serializable('somepkg')\n"
        "class Thing(keras.layers.Layer):\n    pass\n")
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC + '\n[[layers]]\ntype = "somepkg>Thing"\n')
    for command in (["validate"], ["summary"], ["expand"], ["build", "-o", "m.keras"]):
        done = run_specc(command[0], spec, *command[1:], cwd=tmp_path, PYTHONPATH=str(tmp_path))
        assert done.returncode == 1, (command, done.stderr)
        assert "layers[4].type: unknown layer type 'somepkg>Thing'" in done.stderr, command
        assert "Traceback" not in done.stderr
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(_by_hand())))
    config["config"]["layers"][2].update(
        {"module": "somepkg", "class_name": "Thing", "registered_name": "somepkg>Thing"})
    from test_hostile import keras_zip

    (tmp_path / "m.keras").write_bytes(keras_zip(config))
    done = run_specc("export", "m.keras", cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "is the class 'somepkg>Thing', which no plugin registered" in done.stderr
    assert not (tmp_path / "IMPORTED").exists()


def test_build_without_keras_hub_says_what_to_install(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(HUB_SPEC)
    code = ("import sys\nsys.modules['keras_hub'] = None  # as if it were not installed\n"
            "from specc.cli.main import main\nsys.exit(main(['build', sys.argv[1], '-o', "
            "sys.argv[2]]))")
    done = subprocess.run([sys.executable, "-c", code, str(spec), str(tmp_path / "m.keras")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(spec))]
    assert lines == [f"{spec}: this spec uses keras_hub layers, and keras_hub cannot be imported "
                     "(import of keras_hub halted; None in sys.modules): pip install "
                     "'specc[hub]' (or keras-hub)"], done.stderr
    assert not (tmp_path / "m.keras").exists()


def test_a_hub_model_file_exports_without_a_plugin_and_builds_back_the_same(tmp_path):
    """A functional model with a decoder attending to an encoder (named call arguments),
    saved by Keras: export -> build --weights gives the same predictions, in a fresh
    process that imports only specc and keras_hub."""
    import numpy as np

    keras.backend.clear_session(free_memory=False)
    source = keras.Input((6,), dtype="int32", name="source")
    target = keras.Input((5,), dtype="int32", name="target")
    encoded = keras_hub.layers.TransformerEncoder(16, 2, name="encoder")(
        keras_hub.layers.TokenAndPositionEmbedding(50, 6, 8, name="source_embedding")(source))
    positions = keras_hub.layers.SinePositionEncoding(name="sine")(
        keras_hub.layers.ReversibleEmbedding(40, 8, tie_weights=False, name="target_embedding")(
            target))
    decoded = keras_hub.layers.TransformerDecoder(16, 2, normalize_first=True, name="decoder")(
        positions, encoder_sequence=encoded)
    probs = keras.layers.Dense(40, activation="softmax", name="probs")(decoded)
    model = keras.Model([source, target], probs, name="translator")
    model.save(tmp_path / "m.keras")
    done = run_specc("export", "m.keras", "-o", "s.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "s.toml").read_text()
    assert 'type = "keras_hub>TransformerDecoder"' in text and "normalize_first = true" in text
    assert 'inputs = { decoder_sequence = "sine", encoder_sequence = "encoder" }' in text
    model.save_weights(tmp_path / "m.weights.h5")
    done = run_specc("build", "s.toml", "--weights", "m.weights.h5", "-o", "r.keras",
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 40, (3, 6)), rng.integers(0, 40, (3, 5))]
    np.save(tmp_path / "x0.npy", inputs[0])
    np.save(tmp_path / "x1.npy", inputs[1])
    np.save(tmp_path / "expected.npy", np.asarray(model(inputs)))
    code = ("import numpy as np, keras, keras_hub, specc\n"
            "m = keras.models.load_model('r.keras')\n"
            "got = np.asarray(m([np.load('x0.npy'), np.load('x1.npy')]))\n"
            "np.testing.assert_allclose(got, np.load('expected.npy'), atol=1e-5)\n"
            "print(m.count_params())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == model.count_params()


SHAPED = """\
[[inputs]]
name = "tokens"
shape = [12]
dtype = "int32"

[[inputs]]
name = "memory"
shape = [7, 8]

[[layers]]
name = "embedded"
type = "keras_hub>TokenAndPositionEmbedding"
vocabulary_size = 30
sequence_length = 12
embedding_dim = 8
tie_weights = false
inputs = ["tokens"]

[[layers]]
name = "positions"
type = "keras_hub>PositionEmbedding"
sequence_length = 12

[[layers]]
name = "rotary"
type = "keras_hub>RotaryEmbedding"

[[layers]]
name = "sine"
type = "keras_hub>SinePositionEncoding"

[[layers]]
name = "encoder"
type = "keras_hub>TransformerEncoder"
intermediate_dim = 10
num_heads = 4

[[layers]]
name = "fnet"
type = "keras_hub>FNetEncoder"
intermediate_dim = 6

[[layers]]
name = "decoder"
type = "keras_hub>TransformerDecoder"
intermediate_dim = 12
num_heads = 2
inputs = { decoder_sequence = "fnet", encoder_sequence = "memory" }

[[layers]]
name = "self_only"
type = "keras_hub>TransformerDecoder"
intermediate_dim = 4
num_heads = 1

[[layers]]
name = "attention"
type = "keras_hub>CachedMultiHeadAttention"
num_heads = 2
key_dim = 3
inputs = { query = "self_only", value = "memory" }

[[layers]]
name = "reversible"
type = "keras_hub>ReversibleEmbedding"
input_dim = 30
output_dim = 5
inputs = ["tokens"]

[model]
outputs = ["attention", "reversible"]
"""


def test_summary_shapes_and_parameters_are_keras_hubs(tmp_path):
    """specc summary (no TensorFlow) against the model Keras builds, layer by layer."""
    from specc import build

    spec = tmp_path / "s.toml"
    spec.write_text(SHAPED)
    done = run_specc("summary", spec, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["layers"]}
    model = build(_loads(SHAPED))
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        row = rows[layer.name]
        assert row["params"] == layer.count_params(), layer.name
        assert tuple(row["output_shape"]) == tuple(layer.output.shape), layer.name

