"""One serialized layer -> a spec layer table: its class looked up in the registry,
its config less Keras's defaults, initializers and constraints in spec shorthand."""

from __future__ import annotations

from typing import Any

from specc.errors import Problem, SpecError
from specc.exporting import versions
from specc.exporting.config_shape import MODEL_CLASSES, json_kind
from specc.vocab import registry
from specc.vocab.catalogs import elsewhere
from specc.vocab.introspect import BASE_ARGS
from specc.vocab.names import default_name
from specc.vocab.values import NONE_WORD, none_to_word


def layer_entry(layer: dict, problems: list[Problem], path: str) -> dict:
    cls = layer.get("class_name")
    module = layer.get("module") or ""
    config = layer.get("config", {})
    if cls in MODEL_CLASSES and module.split(".")[0] == "keras":
        from specc.exporting.models import model_data  # a model used as a layer: recursion

        inner = model_data(layer, problems, f"{path}.spec.")
        name = config.get("name")
        inner.get("model", {}).pop("name", None)
        if not inner.get("model", True):
            inner.pop("model")
        return {"type": "Model", "name": name, "spec": inner}
    if module.startswith("keras.src.ops"):
        return _op(layer, problems, path)
    registered = layer.get("registered_name")
    # keras-hub's and plugins' layers: the registry keys them by their registered names
    # (a plugin's, once its module was given; never imported because a file names it).
    if isinstance(registered, str) and (registered in registry.REFUSED or (
            registry.canonical_layer(registered) == registered
            and registry.LAYERS[registered].get("class") == cls)):
        cls = registered
    info = registry.LAYERS.get(cls, {})
    # tf.keras's AlphaDropout, RandomHeight, ... are saved as keras._legacy.layers.
    known_module = module in ("keras.layers", info.get("module"), info.get("tf_keras_module"))
    # A custom get_config() may leave the name out; a functional model records it beside.
    name = (config.get("name") if isinstance(config, dict) else None) or layer.get("name") or "?"
    if cls not in registry.REFUSED and (not known_module or registered not in (None, cls)):
        problems.append(Problem(unregistered(name, cls, registered), path=path))
        return {"type": cls}
    if cls in registry.REFUSED or cls not in registry.LAYERS:
        reason = registry.REFUSED.get(cls) or (KERAS2_UNKNOWN if layer.get("keras2") else (
            isinstance(cls, str) and elsewhere(cls)) or "not in specc's registry")
        problems.append(Problem(f"layer '{name}' is a {cls}: {reason}", path=path))
        return {"type": cls}
    out = layer_arguments(cls, config, problems, path)
    query = ((layer.get("build_config") or {}).get("shapes_dict") or {}).get("query_shape")
    if cls == "MultiHeadAttention" and isinstance(query, list) \
            and list(out.get("attention_axes", ())) == registry.attention_axes(len(query)):
        del out["attention_axes"]  # what Keras makes of none, for the query it was built on
    return {"type": cls, "name": config.get("name"), **out}


# A class a Keras 2 file names that neither Keras 3 nor a plugin has: Keras 2 writes the
# user's unregistered classes by their bare names too.
KERAS2_UNKNOWN = ("not a Keras 3 class; if it is a class of your own, register it with "
                  "keras.saving.register_keras_serializable and pass its module with "
                  "--plugin MODULE")


def unregistered(name: str, cls: Any, registered: Any) -> str:
    """What to say of a layer whose class specc does not know: the layer, its class, and
    how the user's class becomes known (nothing a file names is ever imported)."""
    if isinstance(registered, str) and ">" in registered:
        return (f"layer '{name}' is the class '{registered}', which no plugin registered: pass "
                "the module that registers it with --plugin MODULE")
    return (f"layer '{name}' is the class '{registered or cls}', which is not registered: "
            "register it with keras.saving.register_keras_serializable and pass its module "
            "with --plugin MODULE")


def layer_arguments(cls: str, config: dict, problems: list[Problem], path: str) -> dict:
    """The spec arguments of one layer: its config minus defaults, in spec shorthand."""
    args = registry.layer_args(cls)
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("name",) or (key == "quantization_config" and value is None):
            continue
        info = args.get(key)
        if info is None:
            if key in registry.LAYERS[cls].get("config_only", []):
                continue
            if registry.plugin_of(cls) and key in BASE_ARGS \
                    and _is_default(cls, key, value, BASE_ARGS[key], config):
                continue  # Layer's own, in every config, though the class takes no **kwargs
            other = versions.writer_argument(cls, key)  # the file's writer's Keras has it
            if other is not None and _is_default(cls, key, value, other[1], config):
                continue  # the writer's default: the same model without it here
            problems.append(Problem(
                versions.lacked(cls, config.get("name", "?"), key, value, other[0]) if other
                else f"argument '{key}' of {cls} is not supported by specc", path=path))
            continue
        if _is_default(cls, key, value, info, config) or _is_derived(cls, key, value, config):
            continue
        converted = _argument(cls, key, value, info, problems, f"{path}.{key}")
        if key == "backward_layer" and _is_mirror(config.get("layer"), value):
            continue
        out[key] = converted
    return out


def _is_default(cls: str, key: str, value: Any, info: dict, config: dict) -> bool:
    if "required" in info:
        return False
    if key == "dtype":  # policies serialize in several shapes
        return _dtype(value) in (None, registry.own_dtype(cls, config) or "float32")
    if info.get("default") is None and key not in registry.STABLE_DEFAULTS:
        return value is None  # a derived default (strides = pool_size) must be written out
    return value == info.get("config_default", info.get("default"))


def _is_derived(cls: str, key: str, value: Any, config: dict) -> bool:
    """Whether Keras would make this value itself from another argument (strides from
    pool_size). The config is plain data (export.plain), so ``==`` compares them."""
    source = registry.derived_defaults(cls).get(key)
    return source is not None and source in config and value == config[source]


def _is_mirror(forward: dict | None, backward: dict | None) -> bool:
    """Bidirectional builds this backward layer itself when none is given: the forward
    layer's config with go_backwards flipped, named backward_NAME where the forward
    layer is forward_NAME (keras/src/layers/rnn/bidirectional.py)."""
    if not forward or not backward:
        return False
    f, b = dict(forward["config"]), dict(backward["config"])
    if b.pop("name", None) != "backward_" + str(f.pop("name", "")).removeprefix("forward_"):
        return False
    f["go_backwards"] = not f.get("go_backwards", False)
    return forward["class_name"] == backward["class_name"] and f == b


def spec_value(cls: str, key: str, value: Any) -> Any:
    """One argument of a layer's Keras config written as a spec writes it.

    >>> spec_value("Dense", "kernel_initializer", {"class_name": "GlorotUniform",
    ...            "module": "keras.initializers", "config": {"seed": None}})
    'glorot_uniform'
    """
    return _argument(cls, key, value, registry.layer_args(cls)[key], [], key)


def _argument(cls: str, key: str, value: Any, info: dict, problems: list[Problem], path: str):
    kind = registry.arg_kind(cls, key, info)
    if value is None:
        return NONE_WORD
    if kind == "regularizer":
        from specc.vocab.penalties import from_keras_config

        try:
            return from_keras_config(value)
        except SpecError as exc:
            problems.extend(Problem(p.message, path) for p in exc.problems)
            return None
    if kind in ("initializer", "constraint"):
        return _keras_object(kind, value, problems, path)
    if kind == "layer":
        inner = layer_entry(value, problems, path)
        if cls == "Bidirectional" and isinstance(inner.get("name"), str):
            # Bidirectional prefixes the wrapped layer's name itself.
            inner["name"] = inner["name"].removeprefix("forward_")
        if inner.get("name") == default_name(inner["type"]):
            del inner["name"]  # the name build gives a wrapped layer anyway
        return inner
    if kind == "dtype":
        name = _dtype(value)
        if name is not None and not isinstance(name, str):
            problems.append(Problem(f"dtype must name a dtype policy, received {json_kind(name)}",
                                    path=path))
            return None
        return name
    if registry.plugin_of(cls) and kind not in ("regularizer", "initializer", "constraint",
                                                "layer") and _holds_keras_object(value):
        problems.append(Problem(
            f"argument '{key}' of {cls} holds a Keras object, which specc writes only for an "
            "argument that names what it is (a *_initializer, *_regularizer, *_constraint or "
            "layer argument)", path=path))
        return None
    if kind == "activation" and not isinstance(value, str):
        problems.append(Problem(f"activation {value.get('class_name', value)!r} is not a Keras activation name", path=path))
        return None
    return none_to_word(value)


def _holds_keras_object(value: Any) -> bool:
    """Whether a config value is (or holds) a serialized Keras object."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item and "config" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _dtype(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("config", {}).get("name")
    return value


def _keras_object(kind: str, value: Any, problems: list[Problem], path: str):
    """An initializer or constraint as a name ("he_normal") or {type = ..., args}."""
    table = registry.INITIALIZERS if kind == "initializer" else registry.CONSTRAINTS
    if isinstance(value, str):
        return value
    cls = value.get("class_name")
    module = value.get("module", "")
    # tf.random_uniform_initializer and the like: TensorFlow's classes, Keras's arguments.
    tf_module = table.get(cls, {}).get("tf_module")
    if cls not in table or not (module.startswith(f"keras.{kind}s") or module == tf_module):
        problems.append(Problem(f"{kind} '{cls}' is not supported by specc", path=path))
        return None
    defaults = table[cls]["args"]
    args = {k: none_to_word(v) for k, v in value.get("config", {}).items() if v != defaults.get(k)}
    names = [n for n in table[cls]["names"] if n.islower()]
    if not args and names:
        return names[0]
    return {"type": cls, **args}


def _op(layer: dict, problems: list[Problem], path: str) -> dict:
    cls = layer.get("class_name")
    module = layer.get("module")
    key = next((k for k, v in registry.OPS.items() if v["class"] == cls and v["module"] == module), None)
    if key is None:
        problems.append(Problem(f"operation '{module}.{cls}' is not supported by specc", path=path))
        return {"type": f"ops.{cls}"}
    config = dict(layer.get("config", {}))
    name = config.pop("name", None)
    defaults = registry.OPS[key]["args"]
    args = {k: none_to_word(v) for k, v in config.items() if k in defaults and v != defaults[k]}
    return {"type": f"ops.{key}", "name": name, **args}

