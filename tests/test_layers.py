"""Every class keras.layers exports is supported or refused with a reason, and every
supported layer is validated, built, exported and built again to the same config."""

from __future__ import annotations

import json

import keras
import pytest

from specc.vocab import registry
from specc.building.build import build
from specc.building.layers import layer_class
from specc.writing.dump import dumps
from specc.exporting.export import export
from specc.reading.load import parse_text
from specc.checking.validate import validate_document

from conftest import layer_config


# -- keras.layers, class by class ------------------------------------------------------

def _keras_layer_classes() -> dict[str, type]:
    return {name: obj for name in dir(keras.layers)
            if isinstance(obj := getattr(keras.layers, name), type)}


def test_every_keras_layers_class_is_supported_or_refused():
    supported = set(registry.LAYERS) | set(registry.LAYER_ALIASES)
    neither = sorted(set(_keras_layer_classes()) - supported - set(registry.REFUSED))
    assert neither == [], "add each to the registry or to REFUSED in tools/gen_catalog.py"


def test_an_alias_names_the_class_it_stands_for():
    classes = _keras_layer_classes()
    for alias, name in registry.LAYER_ALIASES.items():
        assert classes[alias] is classes[name], alias


def _hub_layer_classes() -> dict[str, type]:
    """keras_hub.layers's Layer classes, by their registered names."""
    keras_hub = pytest.importorskip("keras_hub")
    return {keras.saving.get_registered_name(obj): obj for name in dir(keras_hub.layers)
            if isinstance(obj := getattr(keras_hub.layers, name), type)
            and issubclass(obj, keras.layers.Layer)}


def test_every_keras_hub_layer_is_in_the_hub_catalog_or_refused():
    classes = _hub_layer_classes()
    hub = {name for name in registry.LAYERS if registry.package_of(name) == "keras_hub"}
    assert sorted(set(classes) - hub - set(registry.REFUSED)) == []
    assert sorted(hub - set(classes)) == [], "in the catalog, gone from keras_hub.layers"
    for name in hub:
        assert registry.class_name(name) == classes[name].__name__


def test_the_refused_list_is_short_and_each_entry_has_its_reason():
    classes = {**_keras_layer_classes(), **_hub_layer_classes()}
    assert len([name for name in registry.REFUSED if ">" not in name]) <= 20
    for name, reason in registry.REFUSED.items():
        assert name in classes, f"{name} is refused but keras.layers has no such class"
        assert name not in registry.LAYERS
        assert isinstance(reason, str) and 10 <= len(reason) <= 100, name
        assert "\n" not in reason and reason == reason.strip(), name


def test_equalization_is_refused_only_while_keras_cannot_place_it_in_a_model():
    # When this fails, Keras has fixed Equalization: drop it from REFUSED in tools/gen_catalog.py.
    x = keras.Input((16, 16, 3))
    assert keras.layers.Equalization()(x) is x


# -- every supported layer round-trips --------------------------------------------------

# A value for each required argument, by kind; LAYER_ARGS overrides it per layer.
SAMPLES = {
    "positive": 4, "ints": 2, "rate": 0.5, "float": 0.5, "nonneg": 0.1,
    "number_or_list": 0.2, "axis": -1, "activation": "relu",
    "layer": {"type": "Dense", "units": 4},
}
LAYER_ARGS = {
    "Bidirectional": {"layer": {"type": "LSTM", "units": 4}},
    "CategoryEncoding": {"num_tokens": 4},
    "CenterCrop": {"height": 8, "width": 8},
    "Discretization": {"bin_boundaries": [0.0, 1.0]},
    "EinsumDense": {"equation": "ab,bc->ac", "output_shape": [4]},
    "GroupNormalization": {"groups": 2},
    "LayerScale": {"projection_dim": 4},
    "Normalization": {"mean": 0.5, "variance": 2.0},
    "Permute": {"dims": [2, 1]},
    "RandomCrop": {"height": 8, "width": 8},
    "RandomPosterization": {"factor": 4},
    "Reshape": {"target_shape": [2, 2]},
    "Resizing": {"height": 8, "width": 8},
    "TimeDistributed": {"layer": {"type": "Dense", "units": 4}},
    # keras-hub
    "keras_hub>AnchorGenerator": {"bounding_box_format": "xyxy", "min_level": 3, "max_level": 4,
                                  "num_scales": 1, "aspect_ratios": [1.0], "anchor_size": 4},
    "keras_hub>BoxMatcher": {"thresholds": [0.5], "match_values": [-1, 1]},
    "keras_hub>Gemma3nAudioConverter": {
        "feature_size": 8, "sampling_rate": 16000, "padding_value": 0.0,
        "return_attention_mask": False, "frame_length_ms": 32.0, "hop_length_ms": 10.0,
        "min_frequency": 0.0, "max_frequency": 8000.0, "preemphasis": 0.97,
        "preemphasis_htk_flavor": True, "fft_overdrive": True, "dither": 0.0,
        "input_scale_factor": 1.0, "mel_floor": 1e-5, "per_bin_mean": "None",
        "per_bin_stddev": "None", "padding_side": "right"},
    "keras_hub>MaskedLMMaskGenerator": {"mask_selection_rate": 0.2, "mask_token_id": 0},
    "keras_hub>MultiSegmentPacker": {"start_value": 1, "end_value": 2},
    "keras_hub>NonMaxSuppression": {"bounding_box_format": "xyxy", "from_logits": False},
    "keras_hub>SAM3DetrDecoder": {"image_shape": [32, 32, 3]},
    "keras_hub>SAM3GeometryEncoder": {"roi_size": 2},
    "keras_hub>SAM3MaskDecoder": {"num_upsampling_stages": 1},
    "keras_hub>SAM3VisionEncoder": {"image_shape": [32, 32, 3], "fpn_scale_factors": [1.0],
                                    "hidden_dim": 16, "num_heads": 2,
                                    "global_attn_indexes": [0]},
    "keras_hub>SAMMaskDecoder": {"hidden_size": 8, "num_layers": 1, "intermediate_dim": 8,
                                 "num_heads": 2, "num_multimask_outputs": 1},
}
# keras-hub layers that are not called on one symbolic tensor (preprocessing of images,
# strings or ragged tokens, and the parts of SAM that take several named inputs):
# their constructor arguments round-trip through a layer's config instead.
NOT_PLACED = {f"keras_hub>{name}" for name in (
    "AnchorGenerator", "BLIP2ImageConverter", "BoxMatcher", "Gemma3nAudioConverter",
    "Gemma4ImageConverter", "Gemma4VideoConverter", "MaskedLMMaskGenerator",
    "MultiSegmentPacker", "NonMaxSuppression", "Qwen3_5VideoConverter", "SAM3DetrDecoder",
    "SAM3DetrEncoder", "SAM3GeometryEncoder", "SAM3MaskDecoder", "SAM3TextEncoder",
    "SAM3VisionEncoder", "SAMMaskDecoder", "VideoConverter")}

VECTOR, SEQUENCE, IMAGE = [4], [6, 4], [8, 8, 3]
SPATIAL = {"1D": SEQUENCE, "2D": IMAGE, "3D": [6, 6, 6, 2]}
# Input shapes (without the batch dimension) by layer; the rest go by family below.
SHAPES = {
    "ConvLSTM1D": [3, 8, 2], "ConvLSTM2D": [3, 8, 8, 2], "ConvLSTM3D": [3, 6, 6, 6, 2],
    "Bidirectional": SEQUENCE, "TimeDistributed": SEQUENCE, "Masking": SEQUENCE,
    "GRU": SEQUENCE, "LSTM": SEQUENCE, "SimpleRNN": SEQUENCE, "Permute": SEQUENCE,
    "MelSpectrogram": [256], "STFTSpectrogram": [256, 1],
    "MaxNumBoundingBoxes": IMAGE,
    # tf.keras's image layers, kept by Keras 3 in keras.src.legacy.layers
    "RandomHeight": [16, 16, 3], "RandomWidth": [16, 16, 3],
}
# Layers whose inputs are integers.
INTEGER_INPUTS = {"CategoryEncoding", "Embedding", "ReversibleEmbedding", "Hashing", "HashedCrossing"}
# Layers called on two inputs: a list, or keyword arguments.
TWO_INPUTS = {"Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply",
              "Subtract", "Attention", "AdditiveAttention", "CustomScaleLayer", "HashedCrossing"}
KEYWORD_INPUTS = {"MultiHeadAttention": ("query", "value"), "GroupQueryAttention": ("query", "value"),
                  "keras_hub>CachedMultiHeadAttention": ("query", "value")}


def _shape(name: str) -> list:
    if name in SHAPES:
        return SHAPES[name]
    module = registry.LAYERS[name]["module"]
    if ".image_preprocessing." in module:
        return [16, 16, 3]
    if name in KEYWORD_INPUTS or name in ("Attention", "AdditiveAttention"):
        return SEQUENCE
    return SPATIAL.get(name.removesuffix("Transpose")[-2:], VECTOR)


def minimal_spec(name: str) -> dict:
    """One input (two for merges and attention), then the layer with its required arguments."""
    layer: dict = {"type": name, "name": "subject"}
    for arg, info in registry.layer_args(name).items():
        if "required" in info:
            layer[arg] = SAMPLES.get(registry.arg_kind(name, arg, info))
    layer.update(LAYER_ARGS.get(name, {}))
    missing = [arg for arg, value in layer.items() if value is None]
    assert not missing, f"LAYER_ARGS needs a value for {name}.{missing}"
    shape, dtype = _shape(name), "int32" if name in INTEGER_INPUTS else "float32"
    if name in TWO_INPUTS or name in KEYWORD_INPUTS:
        inputs = [{"name": n, "shape": shape, "dtype": dtype} for n in ("a", "b")]
        layer["inputs"] = dict(zip(KEYWORD_INPUTS[name], "ab")) if name in KEYWORD_INPUTS else ["a", "b"]
    else:
        inputs = [{"name": "x", "shape": shape, "dtype": dtype}]
    return {"inputs": inputs, "layers": [layer]}




def _validated(data: dict, fmt: str = "json"):
    text = json.dumps(data) if fmt == "json" else data
    return validate_document(parse_text(text, fmt))


@pytest.mark.parametrize("name", [name for name in registry.LAYERS if name not in NOT_PLACED])
def test_layer_builds_exports_and_round_trips(name):
    keras.backend.clear_session(free_memory=False)
    model = build(_validated(minimal_spec(name)))
    subject = model.get_layer("subject")
    assert type(subject) is layer_class(name)
    text = dumps(export(model), "toml")
    rebuilt = build(_validated(text, "toml")).get_layer("subject")
    assert type(rebuilt) is type(subject)
    assert layer_config(rebuilt) == layer_config(subject)


@pytest.mark.parametrize("name", sorted(NOT_PLACED))
def test_a_hub_layer_not_placed_in_a_model_round_trips_through_its_config(name):
    from specc.building.layers import make_layer
    from specc.exporting.layers import layer_entry

    keras.backend.clear_session(free_memory=False)
    spec = _validated(minimal_spec(name))
    made = make_layer(spec.layers[0], "subject")
    assert type(made) is layer_class(name)
    problems = []
    entry = layer_entry(json.loads(json.dumps(keras.saving.serialize_keras_object(made))),
                        problems, "layers[0]")
    assert problems == [] and entry["type"] == name
    again = make_layer(_validated({**minimal_spec(name), "layers": [entry]}).layers[0], "subject")
    assert layer_config(again) == layer_config(made)


@pytest.mark.parametrize("alias", sorted(registry.LAYER_ALIASES))
def test_alias_builds_its_class_and_exports_under_the_class_name(alias):
    name = registry.LAYER_ALIASES[alias]
    data = minimal_spec(name)
    data["layers"][0]["type"] = alias
    model = build(_validated(data))
    assert type(model.get_layer("subject")) is layer_class(name)
    assert f'type = "{name}"' in dumps(export(model), "toml")


def test_build_reads_the_typed_layers_and_validates_nothing_again(monkeypatch):
    """Issue 9: a wrapped layer (and its initializer) is built from the typed spec, not
    dumped to a dict and validated a second time."""
    from pydantic import BaseModel

    spec = _validated({"inputs": [{"shape": [5, 3]}], "layers": [
        {"type": "Bidirectional", "backward_layer": {"type": "GRU", "units": 2, "go_backwards": True,
                            "return_sequences": True},
         "layer": {"type": "LSTM", "units": 4, "return_sequences": True, "kernel_initializer": {"type": "Orthogonal", "gain": 2.0}}},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3, "name": "inner"}},
    ]})

    def refused(*args, **kwargs):
        raise AssertionError("build validated or dumped a typed layer again")

    monkeypatch.setattr(BaseModel, "model_validate", classmethod(refused))
    monkeypatch.setattr(BaseModel, "model_dump", refused)
    model = build(spec)
    bidirectional, distributed = model.layers[-2:]
    assert type(bidirectional.forward_layer).__name__ == "LSTM"
    assert bidirectional.forward_layer.units == 4
    assert bidirectional.forward_layer.cell.kernel_initializer.get_config()["gain"] == 2.0
    assert type(bidirectional.backward_layer).__name__ == "GRU"
    assert distributed.layer.name == "inner" and distributed.layer.units == 3
