"""Shape rules of keras-hub's layers (registry names "keras_hub>..."): the transformer
blocks keep their input's shape, the embeddings add a feature axis, the position
encodings give their input's shape. Each follows the keras-hub layer's ``build`` and
``compute_output_shape`` (keras_hub/src/layers/modeling/)."""

from __future__ import annotations

from specc.reporting.rules_base import Unknown, known
from specc.reporting.rules_core import _reversible_embedding, _same
from specc.reporting.rules_merging import _multi_head_attention


def _norm(dim: int) -> list:
    return [((dim,), True), ((dim,), True)]  # LayerNormalization's gamma and beta


def _feedforward(dim: int, intermediate: int) -> list:
    return [((dim, intermediate), True), ((intermediate,), True),
            ((intermediate, dim), True), ((dim,), True)]


def _head_dim(args, dim: int) -> int:
    head_dim = dim // args["num_heads"]
    if head_dim == 0:
        raise Unknown(f"its input's {dim} features are fewer than its {args['num_heads']} "
                      "heads (keras-hub refuses it)")
    return head_dim


def _attention(query: int, value: int, heads: int, head_dim: int) -> list:
    """CachedMultiHeadAttention(heads, head_dim), with biases, projecting back to the
    query's features: query, key and value kernels and biases, then the output's."""
    projections = [(query, heads, head_dim), (value, heads, head_dim), (value, heads, head_dim)]
    weights = [w for kernel in projections for w in ((kernel, True), ((heads, head_dim), True))]
    return weights + [((heads, head_dim, query), True), ((query,), True)]


def _encoder(args, s):
    known(s[-1])
    dim = s[-1]
    heads = args["num_heads"]
    return s, (_attention(dim, dim, heads, _head_dim(args, dim)) + _norm(dim)
               + _feedforward(dim, args["intermediate_dim"]) + _norm(dim))


def _decoder(args, shapes):
    """Self-attention over decoder_sequence; cross-attention too when encoder_sequence
    is given (by name: call(decoder_sequence, encoder_sequence))."""
    if isinstance(shapes, dict):
        if set(shapes) - {"decoder_sequence", "encoder_sequence"}:
            raise Unknown("called with masks or a cache")
        s, encoder = shapes.get("decoder_sequence"), shapes.get("encoder_sequence")
    elif len(shapes) == 1 and not isinstance(shapes[0], list):
        s, encoder = shapes[0], None
    else:
        raise Unknown("takes decoder_sequence, and encoder_sequence by name")
    if s is None:
        raise Unknown("needs decoder_sequence")
    shape, weights = _encoder(args, s)
    if encoder is not None:
        known(encoder[-1])
        heads, head_dim = args["num_heads"], _head_dim(args, s[-1])
        weights = weights + _attention(s[-1], encoder[-1], heads, head_dim) + _norm(s[-1])
    return shape, weights


def _fnet_encoder(args, s):
    known(s[-1])
    dim = s[-1]
    return s, _norm(dim) + _norm(dim) + _feedforward(dim, args["intermediate_dim"])


def _token_and_position(args, s):
    vocabulary, dim = args["vocabulary_size"], args["embedding_dim"]
    weights = [((vocabulary, dim), True)]
    if not args["tie_weights"]:
        weights.append(((dim, vocabulary), True))
    return s + (dim,), weights + [((args["sequence_length"], dim), True)]


def _position_embedding(args, s):
    known(s[-1])
    return s, [((args["sequence_length"], s[-1]), True)]


def _rms_norm(args, s):
    return s, [((args["input_dim"],), True)]


def _cached_attention(args, shapes):
    if isinstance(shapes, dict) and set(shapes) - {"query", "value", "key"}:
        raise Unknown("called with a cache or masks")
    return _multi_head_attention(args, shapes)


HUB = "keras_hub>"
MULTI_INPUT = {HUB + "TransformerDecoder", HUB + "CachedMultiHeadAttention"}
RULES = {
    HUB + "TransformerEncoder": _encoder, HUB + "TransformerDecoder": _decoder,
    HUB + "FNetEncoder": _fnet_encoder,
    HUB + "TokenAndPositionEmbedding": _token_and_position,
    HUB + "PositionEmbedding": _position_embedding,
    HUB + "SinePositionEncoding": _same, HUB + "RotaryEmbedding": _same, HUB + "AlibiBias": _same,
    HUB + "ReversibleEmbedding": _reversible_embedding, HUB + "RMSNormalization": _rms_norm,
    HUB + "CachedMultiHeadAttention": _cached_attention,
}
