"""The user's own layer classes (issue 19): registered with
keras.saving.register_keras_serializable in a module given with --plugin (or an installed
package's entry point, group specc.layers), checked from the class itself, built with it,
exported from a model file that uses it. Through the real command line, each step in a
fresh process; the classes are keras-io's (tests/plugins/demo_layers.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, run_specc

PLUGIN = Path(__file__).parent / "plugins" / "demo_layers.py"

# The keras-io examples' models as they write them, scaled down.
MODELS = {
    # examples/nlp/text_classification_with_transformer.py
    "text_classifier": ("""
        from demo_layers import TokenAndPositionEmbedding, TransformerBlock
        maxlen, vocab_size, embed_dim, num_heads, ff_dim = 8, 50, 8, 2, 8
        inputs = layers.Input(shape=(maxlen,))
        embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
        x = embedding_layer(inputs)
        transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
        x = transformer_block(x)
        x = layers.GlobalAveragePooling1D()(x)
        x = layers.Dropout(0.1)(x)
        x = layers.Dense(20, activation="relu")(x)
        x = layers.Dropout(0.1)(x)
        outputs = layers.Dense(2, activation="softmax")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x = np.random.default_rng(0).integers(0, vocab_size, (3, maxlen))
    """, ["demo>TokenAndPositionEmbedding", "demo>TransformerBlock"]),
    # examples/generative/vae.py: the encoder
    "vae_encoder": ("""
        from demo_layers import Sampling
        latent_dim = 2
        encoder_inputs = keras.Input(shape=(8, 8, 1))
        x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
        x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(16, activation="relu")(x)
        z_mean = layers.Dense(latent_dim, name="z_mean")(x)
        z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
        z = Sampling()([z_mean, z_log_var])
        model = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
        x = np.random.default_rng(0).random((3, 8, 8, 1), dtype="float32")
    """, ["demo>Sampling"]),
    # examples/vision/image_classification_with_vision_transformer.py
    "vit": ("""
        from demo_layers import PatchEncoder, Patches
        patch_size, projection_dim, num_heads = 4, 8, 2
        num_patches = (8 // patch_size) ** 2
        inputs = keras.Input(shape=(8, 8, 3))
        patches = Patches(patch_size)(inputs)
        encoded_patches = PatchEncoder(num_patches, projection_dim)(patches)
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        attention_output = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=projection_dim, dropout=0.1)(x1, x1)
        x2 = layers.Add()([attention_output, encoded_patches])
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        for units in [projection_dim * 2, projection_dim]:
            x3 = layers.Dense(units, activation=keras.activations.gelu)(x3)
            x3 = layers.Dropout(0.1)(x3)
        encoded_patches = layers.Add()([x3, x2])
        representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        representation = layers.Flatten()(representation)
        logits = layers.Dense(5)(representation)
        model = keras.Model(inputs=inputs, outputs=logits)
        x = np.random.default_rng(0).random((3, 8, 8, 3), dtype="float32")
    """, ["demo>Patches", "demo>PatchEncoder"]),
}


def _python(code: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=cwd, env={"PYTHONPATH": str(cwd),
                                                   **_env()}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _specc(*args, cwd: Path):
    return run_specc(*args, cwd=cwd, PYTHONPATH=str(cwd))


@pytest.fixture
def folder(tmp_path):
    shutil.copy(PLUGIN, tmp_path / "demo_layers.py")
    return tmp_path


@pytest.mark.parametrize("example", sorted(MODELS))
def test_a_keras_io_model_exports_validates_and_builds_back_with_its_plugin(folder, example):
    code, classes = MODELS[example]
    _python("import numpy as np, keras\nfrom keras import layers\n" + textwrap.dedent(code)
            + "\nmodel.save('m.keras')\nmodel.save_weights('m.weights.h5')\nnp.save('x.npy', x)\n",
            folder)
    done = _specc("export", "m.keras", "--plugin", "demo_layers", "-o", "s.toml", cwd=folder)
    assert done.returncode == 0, done.stderr
    text = (folder / "s.toml").read_text()
    for cls in classes:
        assert f'type = "{cls}"' in text
    done = _specc("validate", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 0 and done.stdout == "s.toml: ok\n", done.stderr
    done = _specc("build", "s.toml", "--plugin", "demo_layers", "--weights", "m.weights.h5",
                  "-o", "r.keras", cwd=folder)
    assert done.returncode == 0, done.stderr
    # A fresh process with the plugin imported: the same predictions, the same classes.
    out = _python("""
        import keras, numpy as np, demo_layers
        a, b = keras.models.load_model('m.keras'), keras.models.load_model('r.keras')
        x = np.load('x.npy')
        for got, expected in zip(keras.tree.flatten(b(x)), keras.tree.flatten(a(x))):
            np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-5)
        assert [type(l) for l in a.layers] == [type(l) for l in b.layers]
        print(b.count_params() == a.count_params())
    """, folder)
    assert out.split()[-1] == "True"
    # Without the plugin: one line per layer of the user's classes, naming it and --plugin.
    for command in (["export", "m.keras"], ["validate", "s.toml"]):
        done = _specc(*command, cwd=folder)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        lines = done.stderr.splitlines()
        assert lines[-1] == f"{len(classes)} problem{'s' if len(classes) > 1 else ''} found"
        for line, cls in zip(lines, classes):
            assert f"'{cls}'" in line and "--plugin MODULE" in line, line


def test_an_unregistered_class_is_named_with_what_to_do(folder):
    """keras-io's VAE defines Sampling in the script, unregistered: its config has no module."""
    module = _python("""
        import json, zipfile, keras
        from keras import layers, ops

        class Sampling(layers.Layer):
            def call(self, inputs):
                z_mean, z_log_var = inputs
                return z_mean + ops.exp(0.5 * z_log_var)

        encoder_inputs = keras.Input(shape=(4,))
        z_mean = layers.Dense(2, name="z_mean")(encoder_inputs)
        z_log_var = layers.Dense(2, name="z_log_var")(encoder_inputs)
        z = Sampling()([z_mean, z_log_var])
        keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder").save('m.keras')
        config = json.loads(zipfile.ZipFile('m.keras').read('config.json'))
        print(config['config']['layers'][3]['module'])
    """, folder)
    assert module.split()[-1] == "None"
    done = _specc("export", "m.keras", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "m.keras: layers[2]: layer 'sampling' is the class 'Sampling', which is not registered: "
        "register it with keras.saving.register_keras_serializable and pass its module with "
        "--plugin MODULE", "1 problem found"]


SPEC = """\
[[inputs]]
shape = [8]

[[layers]]
type = "demo>TokenAndPositionEmbedding"
maxlen = 8
vocab_size = 50
embed_dim = 8

[[layers]]
type = "demo>TransformerBlock"
embed_dim = 8
num_heads = 2
ff_dims = 8
"""


def test_a_misspelt_argument_of_a_plugin_class_gets_a_did_you_mean_at_its_line(folder):
    (folder / "s.toml").write_text(SPEC)
    done = _specc("validate", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "s.toml:14:1: layers[1].ff_dims: unknown argument 'ff_dims' for demo>TransformerBlock. "
        "Did you mean 'ff_dim'?", "1 problem found"], done.stderr
    (folder / "s.toml").write_text(SPEC.replace("ff_dims = 8", 'ff_dim = 8\nrate = "x"'))
    done = _specc("validate", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 1 and "s.toml:15:8: layers[1].rate: expected" in done.stderr


def test_specc_layers_lists_a_plugin_class_s_arguments(folder):
    done = _specc("layers", "demo>TransformerBlock", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "demo>TransformerBlock (demo_layers.TransformerBlock, from --plugin)" in done.stdout
    for arg in ("embed_dim", "num_heads", "ff_dim", "rate", "trainable", "dtype"):
        assert f"│ {arg} " in done.stdout
    done = _specc("layers", "demo>TransformerBlock", cwd=folder)
    assert done.returncode == 1 and "pass it with --plugin MODULE" in done.stderr


def test_an_installed_entry_point_registers_its_classes_without_plugin(folder):
    info = folder / "demo_layers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-layers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[specc.layers]\ndemo = demo_layers\n")
    (folder / "s.toml").write_text(SPEC.replace("ff_dims", "ff_dim"))
    done = _specc("validate", "s.toml", cwd=folder)
    assert done.returncode == 0 and done.stdout == "s.toml: ok\n", done.stderr
    done = _specc("build", "s.toml", "-o", "m.keras", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "TransformerBlock" in done.stdout


TYPED = Path(__file__).parent / "plugins" / "typed_layers.py"


@pytest.fixture
def typed(tmp_path):
    shutil.copy(TYPED, tmp_path / "typed_layers.py")
    return tmp_path


def test_annotations_and_kwargs_give_the_arguments_their_kinds(typed):
    out = _python("""
        import json, specc
        print(json.dumps({name: specc.layers(name, plugins=["typed_layers"])["arguments"]
                          for name in ("typed>Scale", "typed>Fixed")}))
    """, typed)
    import json

    rows = json.loads(out.splitlines()[-1])
    assert [(r["name"], r["type"], r["default"]) for r in rows["typed>Scale"]] == [
        ("factor", "number", 2.0), ("kernel_initializer", "initializer", "ones"),
        ("kernel_regularizer", "regularizer", None), ("trainable", "true or false", True),
        ("dtype", "dtype", None)]
    assert [(r["name"], r["type"], r["default"]) for r in rows["typed>Fixed"]] == [
        ("sizes", "integer >= 1, or a list", [1, 2]), ("label", "string", "x")]
    (typed / "s.toml").write_text(
        '[[inputs]]\nshape = [3]\n\n[[layers]]\ntype = "typed>Fixed"\nsizes = [2]\n'
        'trainable = false\n\n[[layers]]\ntype = "typed>Scale"\nfactor = "big"\n')
    done = _specc("validate", "s.toml", "--plugin", "typed_layers", cwd=typed)
    assert done.stderr.splitlines() == [
        "s.toml:7:1: layers[0].trainable: unknown argument 'trainable' for typed>Fixed",
        "s.toml:11:10: layers[1].factor: expected a number, received 'big'",
        "2 problems found"], done.stderr


def test_keras_objects_in_a_plugin_layer_s_config_export_in_spec_form(typed):
    _python("""
        import keras, numpy as np, typed_layers as t
        i = keras.Input((3,))
        x = t.Scale(0.5, kernel_initializer=keras.initializers.Constant(0.3),
                    kernel_regularizer=keras.regularizers.L2(0.01), name="scale")(i)
        x = t.Residual(keras.layers.Dense(3, activation="tanh"), name="residual")(x)
        model = keras.Model(i, x)
        model.save('m.keras')
        model.save_weights('m.weights.h5')
        np.save('x.npy', np.random.default_rng(0).random((2, 3), dtype='float32'))
    """, typed)
    done = _specc("export", "m.keras", "--plugin", "typed_layers", "-o", "s.toml", cwd=typed)
    assert done.returncode == 0, done.stderr
    text = (typed / "s.toml").read_text()
    assert 'kernel_initializer = { type = "Constant", value = 0.3 }' in text, text
    assert 'kernel_regularizer = "l2"' in text, text  # L2(0.01), Keras's default factor
    assert 'layer = { type = "Dense", units = 3, activation = "tanh" }' in text, text
    done = _specc("build", "s.toml", "--plugin", "typed_layers", "--weights", "m.weights.h5",
                  "-o", "r.keras", cwd=typed)
    assert done.returncode == 0, done.stderr
    _python("""
        import keras, numpy as np, typed_layers
        a, b = keras.models.load_model('m.keras'), keras.models.load_model('r.keras')
        x = np.load('x.npy')
        np.testing.assert_allclose(np.asarray(b(x)), np.asarray(a(x)), atol=1e-6)
        assert sum(b.losses) > 0 and np.isclose(float(sum(b.losses)), float(sum(a.losses)))
    """, typed)


def test_a_keras_object_in_an_argument_of_no_such_kind_is_refused_in_one_line(typed):
    _python("""
        import keras, typed_layers as t
        i = keras.Input((3,))
        keras.Model(i, t.Holder(keras.initializers.Ones(), name="holder")(i)).save('m.keras')
    """, typed)
    done = _specc("export", "m.keras", "--plugin", "typed_layers", cwd=typed)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "m.keras: layers[0].thing: argument 'thing' of typed>Holder holds a Keras object, which "
        "specc writes only for an argument that names what it is (a *_initializer, "
        "*_regularizer, *_constraint or layer argument)", "1 problem found"]


def test_a_value_the_user_s_class_refuses_is_a_problem_on_its_layer(typed):
    (typed / "s.toml").write_text(
        '[[inputs]]\nshape = [3]\n\n[[layers]]\ntype = "typed>Scale"\nfactor = -1.0\n')
    done = _specc("build", "s.toml", "--plugin", "typed_layers", "-o", "m.keras", cwd=typed)
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    assert "s.toml:4:1: layers[0]: Keras rejected layer 'scale' (typed>Scale): factor must " \
        "be >= 0, received -1.0" in done.stderr, done.stderr


def test_the_python_api_takes_plugins(folder):
    (folder / "s.toml").write_text(SPEC.replace("ff_dims", "ff_dim"))
    out = _python("""
        import specc
        try:  # first without: what was looked up then (and cached) is looked up again
            specc.load('s.toml')
        except specc.SpecError as exc:
            print(len(exc.problems))
        spec = specc.load('s.toml', plugins=['demo_layers'])
        model = specc.build(spec)
        print(type(model.layers[1]).__name__, model.layers[1].ff_dim)
        print(specc.export(model).layers[1].type)
    """, folder)
    assert out.splitlines()[-3:] == ["2", "TransformerBlock 8", "demo>TransformerBlock"]


def test_every_api_function_that_reads_a_spec_or_a_model_takes_plugins(folder):
    text = ('[model]\nname = "m"\n\n' + SPEC.replace("ff_dims = 8", "ff_dim = 8\nrepeat = 2")
            + '\n[defaults]\n"demo>TransformerBlock" = { rate = 0.2 }\n')
    (folder / "s.toml").write_text(text)
    out = _python("""
        import specc
        text = open('s.toml').read()
        for call in (lambda: specc.format_text(text), lambda: specc.expand('s.toml')):
            try:  # the type in [defaults] is unknown until a plugin gives it
                call()
            except specc.SpecError as exc:
                print(exc.problems[0].message.split(':')[0])
        done = specc.format_text(text, plugins='demo_layers')  # [defaults] moves up
        print(done.index('[defaults]') < done.index('[[layers]]') and done != text)
        flat = specc.expand('s.toml', plugins=['demo_layers'])
        print([layer.get('rate') for layer in flat['layers']])
        print(specc.format_file('s.toml', write=False, plugins=['demo_layers']).changed)
        specc.save(specc.build('s.toml'), 'm.keras')
        print(specc.diff_models('s.toml', 'm.keras', plugins=['demo_layers']).changes)
    """, folder)
    unknown = "unknown layer type 'demo>TransformerBlock' in [defaults]"
    assert out.splitlines()[-6:] == [unknown, unknown, "True", "[None, 0.2, 0.2]", "True", "[]"]


def test_defaults_and_repeat_treat_plugin_layers_like_any_other(folder):
    text = (SPEC.replace("ff_dims = 8", "ff_dim = 8\nrepeat = 2")
            + '\n[defaults]\n"demo>TransformerBlock" = { rate = 0.2 }\n')
    (folder / "s.toml").write_text(text)
    done = _specc("validate", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 0, done.stderr
    done = _specc("expand", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.returncode == 0 and done.stdout.count("rate = 0.2") == 2, done.stderr
    (folder / "s.toml").write_text(text.replace("rate = 0.2", "rat = 0.2"))
    done = _specc("validate", "s.toml", "--plugin", "demo_layers", cwd=folder)
    assert done.stderr.splitlines() == [
        "s.toml:18:29: defaults.demo>TransformerBlock.rat: unknown argument 'rat' for "
        "demo>TransformerBlock. Did you mean 'rate'?", "1 problem found"], done.stderr
    done = _specc("validate", "s.toml", cwd=folder)
    assert done.stderr.splitlines() == [
        "s.toml:18:1: defaults.demo>TransformerBlock: unknown layer type "
        "'demo>TransformerBlock' in [defaults]: a layer class outside Keras and keras-hub is "
        "known only from the module that registers it: pass it with --plugin MODULE",
        "1 problem found"], done.stderr


def test_summary_shows_a_plugin_layer_as_unknown_with_the_reason(folder):
    import json

    (folder / "s.toml").write_text(SPEC.replace("ff_dims", "ff_dim"))
    done = _specc("summary", "s.toml", "--plugin", "demo_layers", "--format", "json", cwd=folder)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["layers"]}
    assert rows["token_and_position_embedding"]["output_shape"] is None
    assert rows["token_and_position_embedding"]["unknown"] == \
        "specc has no shape rule for demo>TokenAndPositionEmbedding"
    assert rows["transformer_block"]["type"] == "demo>TransformerBlock"


def test_a_class_a_spec_cannot_write_is_refused_with_the_reason(typed):
    (typed / "s.toml").write_text('[[inputs]]\nshape = [3]\n\n[[layers]]\ntype = "typed>Clash"\n')
    done = _specc("validate", "s.toml", "--plugin", "typed_layers", cwd=typed)
    assert done.stderr.splitlines() == [
        "s.toml:5:8: layers[0].type: layer type 'typed>Clash' is not supported: its constructor "
        "takes 'inputs', a key every spec layer uses for itself", "1 problem found"], done.stderr


def test_the_readmes_plugin_workflow_runs_as_written(tmp_path):
    """README's "Your own layer classes": its module and its three commands, in fresh
    processes; the rebuilt model predicts what the original does."""
    import re

    import numpy as np

    readme = (ROOT / "README.md").read_text()
    module = re.search(r"```python\n(# demo_layers\.py\n.*?)```", readme, re.S).group(1)
    (tmp_path / "demo_layers.py").write_text(module)
    commands = re.search(r"```\n(specc export model\.keras.*?)```", readme, re.S).group(1)
    make = ("import keras, numpy as np, demo_layers\n"
            "x = keras.Input((3,))\n"
            "y = demo_layers.Scale(3.0)(keras.layers.Dense(2, name='d')(x))\n"
            "m = keras.Model(x, y)\nm.save('model.keras')\nm.save_weights('model.weights.h5')\n"
            "np.save('expected.npy', np.asarray(m(np.ones((1, 3)))))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    subprocess.run([sys.executable, "-c", make], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    for line in commands.strip().splitlines():
        argv = line.split("#")[0].split()
        done = run_specc(*argv[1:], cwd=tmp_path, PYTHONPATH=str(tmp_path))
        assert done.returncode == 0, (line, done.stderr)
    assert 'type = "demo>Scale"' in (tmp_path / "model.toml").read_text()
    check = ("import keras, numpy as np, demo_layers\nm = keras.models.load_model('again.keras')\n"
             "np.testing.assert_allclose(np.asarray(m(np.ones((1, 3)))), np.load('expected.npy'),"
             " atol=1e-6)\n")
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    without = run_specc("validate", "model.toml", cwd=tmp_path)
    assert without.returncode == 1 and "demo>Scale" in without.stderr and "--plugin" in without.stderr


def test_only_the_plugins_own_classes_join_the_registry(tmp_path):
    """keras_hub imports tensorflow_text, whose tokenizers Keras registers too ("Text>..."):
    a plugin given beside them adds its own classes, never another library's (the full
    suite's in-process --plugin tests once put Text>UnicodeScriptTokenizer in the registry)."""
    (tmp_path / "one_layer.py").write_text(textwrap.dedent("""\
        import keras

        @keras.saving.register_keras_serializable(package="one")
        class Twice(keras.layers.Layer):
            def call(self, x):
                return 2 * x
        """))
    code = textwrap.dedent("""\
        import json, keras, keras_hub
        from specc.vocab import registry
        from specc.vocab.plugins import load_plugins
        assert any(k.startswith("Text>") for k in keras.saving.get_custom_objects())
        print(json.dumps(load_plugins(["one_layer"])))
        print(json.dumps(sorted(k for k, v in registry.LAYERS.items() if "plugin" in v)))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"},
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-3:-1] == ['["one>Twice"]', '["one>Twice"]']
