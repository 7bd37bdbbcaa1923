"""The hostile corpus: specs and .keras files written by an attacker.

Every case is an input a user might be handed (a spec in a pull request, a
downloaded .keras file) that tries to make specc run code, read or write other
files, hang, or use unbounded memory. Each payload, if it ever ran, would
create the case's sentinel file. Every case runs through the real command line
(``specc.cli.main.run`` in a fresh interpreter, batched: see hostile_runner.py) and
must end with the exit code it states (1 for every refused input), one line per
problem and the count, no traceback, no sentinel, within 10 s of CPU and 1 GB
of memory growth. The .keras files are made here, with zipfile and h5py.

The same runs carry an audit hook: test_audit_* check what they imported and
which files they opened.
"""

from __future__ import annotations

import base64
import json
import marshal
import os
import re
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT

# One fixture runs every case through the CLI in four fresh interpreters (about a minute).
pytestmark = pytest.mark.slow

SENTINEL = "PWNED"
CPU_SECONDS = 10
MEMORY_KB = 1_000_000
PROBLEM_LINE = re.compile(r"^(\S+?:(\d+:(\d+:)?)? )?(\S+: )?\S.*$")


@dataclass
class Case:
    id: str
    argv: list[str]
    files: dict[str, bytes | str | None] = field(default_factory=dict)  # None: a FIFO
    expect: list[str] = field(default_factory=list)  # one substring per problem, in order
    code: int = 1
    links: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    exact: bool = False  # each expect is the whole line
    sys_path: bool = False  # the case's folder is on sys.path while it runs


def sentinel_code() -> str:
    """A marshalled function that creates the sentinel: what a Lambda layer carries."""
    def payload(x):
        open("PWNED", "w").close()
        return x
    return base64.b64encode(marshal.dumps(payload.__code__)).decode()


# ---- spec payloads -----------------------------------------------------------------

HEAD = '[[inputs]]\nname = "x"\nshape = [4]\n\n'


def dense(extra: str, units: str = "4") -> str:
    return HEAD + f'[[layers]]\ntype = "Dense"\nunits = {units}\n{extra}\n'


def expr(text: str) -> str:
    return dense(f"kernel_regularizer = {{ expr = {json.dumps(text)} }}")


def nested_models(n: int) -> str:
    spec = {"inputs": [{"shape": [4]}], "layers": [{"type": "Dense", "units": 2}]}
    for _ in range(n):
        spec = {"inputs": [{"shape": [4]}], "layers": [{"type": "Model", "spec": spec}]}
    return json.dumps(spec)


def time_distributed(n: int) -> str:
    layer = {"type": "Dense", "units": 2}
    for _ in range(n):
        layer = {"type": "TimeDistributed", "layer": layer}
    return json.dumps({"inputs": [{"shape": [3, 4]}], "layers": [layer]})


def chain(n: int, reverse: bool = False) -> str:
    layers = [{"type": "Dense", "units": 2, "name": f"d{i}", "inputs": [f"d{i - 1}" if i else "x"]}
              for i in range(n)]
    return json.dumps({"inputs": [{"name": "x", "shape": [4]}], "model": {"outputs": [f"d{n - 1}"]},
                       "layers": layers[::-1] if reverse else layers})


def misspelt_inputs(n: int) -> str:
    layers = [{"type": "Dense", "units": 2, "name": f"d{i}", "inputs": [f"d{i}x"]} for i in range(n)]
    return json.dumps({"inputs": [{"name": "x", "shape": [4]}], "layers": layers})


BLOCKS_INT = 'blocks = 3\n[[inputs]]\nshape = [4]\n[[layers]]\nblock = "b"\n'
BLOCKS_NAN = '{"blocks": NaN, "inputs": [{"shape": [4]}], "layers": [{"block": "b"}]}'


def deep_tables(depth: int):
    """Tables and lists in turn, ``depth`` deep, a small spec at the bottom."""
    value: object = {"type": "Dense", "units": 2}
    for n in range(depth):
        value = [value, 1] if n % 2 else {"k": value, "units": 2}
    return value


def nested_outputs(losses: int) -> str:
    """Two outputs as one nested list (a structure of outputs) and a list of losses."""
    names = ["mse", "mae", "mse"][:losses]
    return (HEAD + '[[layers]]\nname = "a"\ntype = "Dense"\nunits = 2\n\n'
            '[[layers]]\nname = "b"\ntype = "Dense"\nunits = 2\ninputs = ["x"]\n\n'
            f'[compile]\nloss = {json.dumps(names)}\n\n[model]\noutputs = [["a", "b"]]\n')


EXPRS = {
    "backtracking": ("1" * 40 + ";", "invalid expr"),
    "backtracking_long": ("9" * 5000 + ";", "invalid expr: a number has more than 4300 digits"),
    "import": ("__import__('os').system('touch PWNED')", "'attribute access' is not allowed"),
    "import_call": ("__import__('os') and sum(w)", "'and/or' is not allowed"),
    "builtin_call": ("__import__('os') * sum(w)", "unknown function '__import__'"),
    "attribute": ("w.__class__.__bases__", "'attribute access' is not allowed"),
    "eval": ("eval('open(\"PWNED\", \"w\")')", "unknown function 'eval'"),
    "open": ("open('PWNED', 'w') and sum(w)", "'and/or' is not allowed"),
    "lambda": ("(lambda: open('PWNED', 'w'))()", "'lambda' is not allowed"),
    "comprehension": ("sum([open('PWNED') for _ in w])", "'comprehension' is not allowed"),
    # Braces are a template expression of the spec format, worked out first (and refused).
    "fstring": ("f'{open(1)}'", "unknown function 'open' in an expression"),
    "template_dunder": ("{().__class__.__bases__[0].__subclasses__()} * sum(w)",
                        "is not allowed in an expression"),
    "walrus": ("(x := sum(w))", "':=' is not allowed"),
    "subscript": ("w[0]", "'indexing' is not allowed"),
    "string": ("'touch PWNED'", "'string' is not allowed"),
    "keyword": ("sum(w, axis=0)", "'keyword argument' is not allowed"),
    "nul": ("sum(w)\x00", "invalid expr"),
    "deep_parens": ("(" * 500 + "sum(w)" + ")" * 500, "invalid expr"),
    "long_chain": ("+".join(["sum(w)"] * 20000), "invalid expr: too deeply nested"),
    "inf_literal": ("1e999 * sum(w)", "not a finite number"),
    "power_tower": ("9**9**9 * sum(w)", "not a finite number"),
    "divide_zero": ("sum(w) / 0", "divides by zero"),
    "inf_minus_inf": ("(1e999 - 1e999) * sum(w)", "not a finite number"),
    "exp_overflow": ("exp(1000) * sum(w)", "not a finite number"),
    "log_zero": ("log(0) * sum(w)", "not a finite number"),
    "complex_root": ("(-8) ** 0.5 * sum(w)", "not a finite number"),
    "elementwise": ("square(w)", "must reduce to a single number"),
}

BENIGN = (ROOT / "specs" / "tutorial_combined.toml").read_text()

# A module on sys.path whose import leaves the sentinel, and registers a layer class.
SOMEPKG = ("open(__file__.replace('somepkg.py', 'PWNED'), 'w').close()\nimport keras\n"
           "@keras.saving.register_keras_serializable('somepkg')\n"
           "class Thing(keras.layers.Layer):\n    pass\n")
REGISTERED_NAMES = {"os_system": "os>system", "builtins_eval": "builtins>eval",
                    "dotdot": "../x>Y", "slash": "a/b>C", "somepkg": "somepkg>Thing"}
PLUGIN_HINT = ("a layer class outside Keras and keras-hub is known only from the module that "
               "registers it: pass it with --plugin MODULE")

SPEC_CASES: list[Case] = [
    Case("baseline_validate", ["validate", "s.toml"], {"s.toml": BENIGN}, code=0),
    *(Case(f"expr_{name}", ["validate", "s.toml"], {"s.toml": expr(text)}, [message])
      for name, (text, message) in EXPRS.items()),
    Case("call_lambda", ["validate", "s.toml"], {"s.toml": dense(
        'call = { training = { class_name = "__lambda__", config = { value = ["' + sentinel_code()
        + '", "None", "None"] } } }')}, ["layers[0].call.training: expected true or false"]),
    Case("call_string_lookup", ["validate", "s.toml"], {"s.toml": dense(
        'call = { mask = { class_name = "StringLookup", module = "keras.layers", '
        'config = { vocabulary = "/etc/passwd" } } }')}, ["layers[0].call.mask: expected"]),
    Case("call_list", ["validate", "s.toml"], {"s.toml": dense('call = { training = [1, 2] }')},
         ["layers[0].call.training: expected"]),
    Case("op_while_loop", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "ops.WhileLoop"'
         '\ncond = "builtins.eval"\nbody = "os.system"\ninputs = ["x"]\n'},
         ["operation 'ops.WhileLoop' is not supported: it runs a Python function"]),
    Case("op_fori_loop", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "ops.ForiLoop"'
         '\nlower = 0\nupper = 1\nbody_fun = "subprocess.run"\ninputs = ["x"]\n'},
         ["operation 'ops.ForiLoop' is not supported"]),
    Case("op_vectorized_map", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"ops.VectorizedMap"\nfunction = "os.system"\ninputs = ["x"]\n'},
         ["operation 'ops.VectorizedMap' is not supported"]),
    Case("op_table_argument", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"ops.Reshape"\nnewshape = { class_name = "__lambda__", config = {} }\ninputs = ["x"]\n'},
         ["layers[0].newshape: expected"]),
    Case("op_dotted", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "ops.os.system"'
         '\ninputs = ["x"]\n'}, ["unknown operation 'ops.os.system'"]),
    Case("type_lambda", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "Lambda"\n'
         'function = "os.system"\n'}, ["layer type 'Lambda' is not supported"]),
    Case("type_tfsm", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "TFSMLayer"\n'
         'filepath = "/tmp"\n'}, ["layer type 'TFSMLayer' is not supported"]),
    Case("type_string_lookup", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"StringLookup"\nvocabulary = "/etc/passwd"\n'}, ["layer type 'StringLookup' is not supported"]),
    Case("type_text_vectorization", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"TextVectorization"\nvocabulary = "/etc/passwd"\n'},
         ["layer type 'TextVectorization' is not supported"]),
    Case("type_dotted", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "os.system"\n'},
         ["unknown layer type 'os.system'"]),
    Case("type_keras_path", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"keras.models.load_model"\nfilepath = "PWNED.keras"\n'}, ["unknown layer type"]),
    Case("type_table", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = { class_name = '
         '"Lambda" }\n'}, ["layers[0].type: expected a string"]),
    Case("module_key", ["validate", "s.toml"], {"s.toml": dense('module = "os"\nclass_name = "system"')},
         ["unknown argument 'module'", "unknown argument 'class_name'"]),
    Case("registered_name_key", ["validate", "s.toml"], {"s.toml": dense(
        'registered_name = "builtins>eval"')}, ["unknown argument 'registered_name'"]),
    Case("initializer_gadget", ["validate", "s.toml"], {"s.toml": dense(
        'kernel_initializer = { type = "os.system", command = "touch PWNED" }')},
         ["unknown initializer 'os.system'"]),
    Case("constraint_gadget", ["validate", "s.toml"], {"s.toml": dense(
        'kernel_constraint = { type = "builtins.eval" }')}, ["unknown constraint 'builtins.eval'"]),
    Case("activation_gadget", ["validate", "s.toml"], {"s.toml": dense('activation = "os.system"')},
         ["unknown activation 'os.system'"]),
    Case("optimizer_gadget", ["validate", "s.toml"], {"s.toml": dense("") + '[compile]\noptimizer = '
         '{ type = "keras.config.enable_unsafe_deserialization" }\nloss = "mse"\n'},
         ["unknown optimizer"]),
    Case("optimizer_table_type", ["validate", "s.toml"], {"s.toml": dense("") + '[compile]\n'
         'optimizer = { type = {} }\nloss = "mse"\n'}, ["compile.optimizer.type: expected a string"]),
    Case("loss_gadget", ["validate", "s.toml"], {"s.toml": dense("") + '[compile]\noptimizer = '
         '"adam"\nloss = { class_name = "__lambda__" }\n'}, ["compile.loss"]),
    Case("regularizer_dotted", ["validate", "s.toml"], {"s.toml": dense(
        'kernel_regularizer = "os.system"')}, ["expected 'l1', 'l2' or a table"]),
    Case("toml_date", ["validate", "s.toml"], {"s.toml": dense("", "1979-05-27")},
         ["layers[0].units: dates and times are not spec values"]),
    Case("toml_datetime", ["validate", "s.toml"], {"s.toml": dense("rate = 1979-05-27T07:32:00Z")},
         ["layers[0].rate: dates and times"]),
    Case("int_4301_toml", ["validate", "s.toml"], {"s.toml": dense("", "9" * 4301)},
         ["invalid TOML: an integer has more than 4300 digits"]),
    Case("int_5000_json", ["validate", "s.json"], {"s.json": '{"inputs": [{"shape": [' + "9" * 5000
                                                   + "]}]}"},
         ["invalid JSON: an integer has more than 4300 digits"]),
    Case("int_65_bits", ["validate", "s.toml"], {"s.toml": dense("", str(2**70))},
         ["layers[0].units: integer out of range"]),
    Case("float_inf", ["validate", "s.toml"], {"s.toml": dense("", "inf")},
         ["layers[0].units: expected an integer"]),
    Case("rate_nan", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "Dropout"\n'
         'rate = nan\n'}, ["layers[0].rate: expected"]),
    Case("arrays_330_toml", ["validate", "s.toml"], {"s.toml": HEAD + "x = " + "[" * 330 + "]" * 330
                                                     + "\n"}, ["nested more than 64 deep"]),
    Case("arrays_330_json", ["validate", "s.json"], {"s.json": '{"inputs": ' + "[" * 330 + "]" * 330
                                                     + "}"}, ["nested more than 64 deep"]),
    Case("arrays_100000_json", ["validate", "s.json"], {"s.json": '{"inputs": ' + "[" * 100000
                                                        + "]" * 100000 + "}"},
         ["invalid JSON: nested too deeply"]),
    Case("tables_5000_toml", ["validate", "s.toml"], {"s.toml": "x = " + "{a = " * 5000 + "1"
                                                      + "}" * 5000 + "\n"},
         ["invalid TOML: nested too deeply"]),
    Case("nested_models_28", ["validate", "s.json"], {"s.json": nested_models(28)},
         ["nested more than 64 deep"]),
    Case("time_distributed_70", ["validate", "s.json"], {"s.json": time_distributed(70)},
         ["nested more than 64 deep"]),
    Case("time_distributed_33", ["validate", "s.json"], {"s.json": time_distributed(33)}, code=0),
    Case("chain_995_reversed", ["validate", "s.json"], {"s.json": chain(995, reverse=True)}, code=0),
    Case("misspelt_inputs_5000", ["validate", "s.json"], {"s.json": misspelt_inputs(5000)},
         ["unknown input 'd0x'"] + ["unknown input"] * 4999),
    Case("misspelt_types_20000", ["validate", "s.json"], {"s.json": json.dumps(
        {"inputs": [{"shape": [4]}], "layers": [{"type": f"Dence{i}"} for i in range(20000)]})},
         ["unknown layer type"] * 20000),
    Case("cycle", ["validate", "s.toml"], {"s.toml": HEAD + '[[layers]]\nname = "a"\ntype = "Add"\n'
         'inputs = ["x", "b"]\n[[layers]]\nname = "b"\ntype = "Dense"\nunits = 4\ninputs = ["a"]\n'},
         ["cycle: a -> b -> a"]),
    Case("apply_empty_name", ["validate", "s.json"], {"s.json": json.dumps(
        {"model": {"outputs": ["again"]}, "inputs": [{"shape": [4]}],
         "layers": [{"name": "", "apply": "encodr", "inputs": ["encoder"]}]})},
         ["layers[0].name: string should have at least 1 character"]),
    Case("not_utf8", ["validate", "s.toml"], {"s.toml": b"[[inputs]]\nname = '\xff\xfe'\n"},
         ["not valid UTF-8"]),
    Case("nul_bytes", ["validate", "s.toml"], {"s.toml": "\x00" * 100}, ["invalid TOML"]),
    Case("json_top_list", ["validate", "s.json"], {"s.json": "[]"}, ["expected a JSON object"]),
    Case("spec_fifo", ["validate", "fifo.toml"], {"fifo.toml": None}, ["not a regular file"]),
    Case("spec_dev_zero_link", ["validate", "zero.toml"], links={"zero.toml": "/dev/zero"},
         expect=["not a regular file"]),
    Case("spec_directory", ["validate", "dir.toml"], {"dir.toml/a": "x"}, ["Is a directory"]),
    Case("spec_over_64_mib", ["validate", "s.toml"], {"s.toml": "#" * (64 * 2**20 + 1)},
         ["larger than the limit of 67,108,864 bytes"]),
    Case("newlines_padding", ["validate", "s.toml"], {"s.toml": "\n" * 10_000_000 + dense(
        'call = { x = { class_name = "__lambda__" } }')}, ["layers[0].call.x: expected"]),
    # Found by tools/fuzz.py (issue 18), minimized: each was a traceback.
    Case("found_blocks_int", ["validate", "s.toml"], {"s.toml": BLOCKS_INT},
         ["s.toml:1:10: blocks: expected a table of blocks",
          "s.toml:5:9: layers[0].block: unknown block 'b'"], exact=True),
    Case("found_blocks_nan", ["validate", "s.json"], {"s.json": BLOCKS_NAN},
         ["s.json:1:12: blocks: expected a table of blocks",
          "s.json:1:66: layers[0].block: unknown block 'b'"], exact=True),
    Case("found_set_index_5000_digits", ["validate", "s.toml", "--set",
                                          "layers[" + "9" * 5000 + "].units=3"],
         {"s.toml": BENIGN}, ["s.toml: --set layers[" + "9" * 5000 + "].units=3: index "
                              "99999999999999999999... is out of range"], exact=True),
    Case("found_dot_axis_past_rank", ["graph", "s.json", "-o", "g.dot"], {"s.json": json.dumps(
        {"inputs": [{"name": "a", "shape": [4]}, {"name": "b", "shape": []}],
         "layers": [{"name": "t", "type": "Dot", "axes": 1, "inputs": ["a", "b"]}]})},
         code=0, outputs=["g.dot"]),
    Case("found_slash_in_names", ["build", "s.toml"], {"s.toml": (
        '[model]\nname = "a/b"\n[[inputs]]\nshape = [4]\n[[layers]]\ntype = "Dense"\n'
        'name = "d/e"\nunits = 2\n')},
         ["s.toml:2:8: model.name: a Keras name cannot contain '/'. Did you mean 'a_b'?",
          "s.toml:7:8: layers[0].name: a Keras name cannot contain '/'. Did you mean 'd_e'?"],
         exact=True),
    Case("found_output_index_4401_digits", ["validate", "s.toml"], {"s.toml": HEAD + (
        '[[layers]]\nname = "lstm"\ntype = "LSTM"\nunits = 2\nreturn_state = true\n'
        '[[layers]]\ntype = "Dense"\nunits = 2\ninputs = ["lstm:' + "9" * 4401 + '"]\n')},
         ["s.toml:13:11: layers[1].inputs[0]: unknown input 'lstm:999"]),
    # 6 MB of tables and lists nested 150 deep under layers: a path per value made the
    # position scanner take 800 MB and 7 s (the fuzzer's "slow" finding).
    Case("found_deep_big_document", ["validate", "s.json"], {"s.json": json.dumps(
        {"layers": [deep_tables(150)] * 400})},
         [".k[0].k: tables and lists nested more than 64 deep"]),
    # An axis the input lacks ([defaults] gave every BatchNormalization 1e308): the shape
    # rule's IndexError ended specc graph with exit 3; now the shape is unknown.
    Case("found_batch_norm_axis_past_rank", ["graph", "s.toml", "-o", "g.mmd"], {"s.toml": (
        HEAD + '[defaults.BatchNormalization]\naxis = 1e308\n[[layers]]\n'
        'type = "BatchNormalization"\n')}, code=0, outputs=["g.mmd"]),
    # An EinsumDense equation of 7 input axes on a 3-D input: an IndexError in the rule.
    Case("found_einsum_equation_past_rank", ["graph", "s.toml", "-o", "g.mmd"], {"s.toml": (
        '[[inputs]]\nshape = [4, 8]\n\n[[layers]]\ntype = "EinsumDense"\n'
        'equation = "aspecbc,cd->abd"\noutput_shape = [4, 16]\nbias_axes = "d"\n')},
         code=0, outputs=["g.mmd"]),
    # A block's reference with a non-ASCII digit for its index: int("²") raised ValueError
    # (exit 3 in expanding/instances.py); now it is a name the block lacks.
    Case("found_block_index_superscript", ["validate", "s.toml"], {"s.toml": (
        '[[inputs]]\nshape = [16]\n\n[blocks.two]\nlayers = [\n'
        '    { type = "Dense", name = "d", units = 2 },\n'
        '    { type = "Dense", name = "e", units = 2, inputs = ["d:\u00b2"] },\n]\n\n'
        '[[layers]]\nblock = "two"\nname = "t"\n')},
         ["s.toml:7:56: blocks.two.layers[1].inputs[0]: unknown input 'd:\u00b2' in block 'two'"]),
    # A ZeroPadding2D "pair" of 18 integers (tools/fuzz.py, seed 5001 on fda10c5): the
    # shape rule's unpacking raised ValueError (exit 3 in specc graph); now it is unknown.
    Case("found_padding_pair_of_18", ["graph", "s.json", "-o", "g.mmd"], {"s.json": json.dumps(
        {"inputs": [{"shape": [16, 16, 3]}], "layers": [
            {"type": "ZeroPadding2D", "padding": [[1] * 18, [2, 2]]},
            {"type": "Cropping2D", "cropping": [[2, 2], [1, 1]]}]})}, code=0, outputs=["g.mmd"]),
    # UpSampling3D size = "None" (tools/fuzz.py, seed 9002 on 157076a): tuple(None) in the
    # shape rule was a TypeError (exit 3 in specc summary); now the shape is unknown.
    Case("found_upsampling_size_none", ["summary", "s.json"], {"s.json": json.dumps(
        {"inputs": [{"shape": [8, 8, 8, 1]}], "layers": [
            {"type": "UpSampling3D", "size": "None"}]})},
         code=0),
    # A Dense fed an LSTM's whole output with return_state (tools/fuzz.py, seed 9101 on
    # e99f478): its kernel shape held shapes, a TypeError counting parameters (exit 3).
    Case("found_dense_after_lstm_states", ["summary", "s.json"], {"s.json": json.dumps(
        {"inputs": [{"shape": [5, 4]}], "layers": [
            {"type": "LSTM", "units": 3, "return_state": True},
            {"type": "Dense", "units": 2}]})}, code=0),
    Case("found_nested_outputs_losses", ["validate", "s.toml"], {"s.toml": nested_outputs(2)},
         code=0),
    Case("found_nested_outputs_too_many_losses", ["validate", "s.toml"],
         {"s.toml": nested_outputs(3)},
         ["s.toml:17:8: compile.loss: expected at most 2 entries, one per output, received 3"],
         exact=True),
    # Registered names ("package>Class") that no plugin gave: refused by name, and the
    # module a name gives is never imported (somepkg is on sys.path, and its import would
    # leave the sentinel). Only --plugin, an entry point or plugins=[...] imports a module.
    *[Case(f"plugin_name_{key}_{command}", [command, "s.toml", *extra],
           {"s.toml": HEAD + f'[[layers]]\ntype = "{name}"\n', "somepkg.py": SOMEPKG},
           [f"s.toml:6:8: layers[0].type: unknown layer type '{name}': {PLUGIN_HINT}"],
           exact=True, sys_path=True)
      for key, name in REGISTERED_NAMES.items()
      for command, extra in (("validate", []), ("summary", []))],
    Case("plugin_name_in_defaults", ["validate", "s.toml"], {"s.toml": HEAD + (
        '[defaults]\n"somepkg>Thing" = { units = 2 }\n\n[[layers]]\ntype = "Dense"\nunits = 2\n'),
        "somepkg.py": SOMEPKG},
         [f"s.toml:6:1: defaults.somepkg>Thing: unknown layer type 'somepkg>Thing' in "
          f"[defaults]: {PLUGIN_HINT}"], exact=True, sys_path=True),
]


# ---- .keras payloads ---------------------------------------------------------------

def keras_zip(config, method=zipfile.ZIP_DEFLATED, extra: dict | None = None,
              raw_config: bytes | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.4.1"}')
        archive.writestr("config.json", raw_config if raw_config is not None else json.dumps(config))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb(method) -> bytes:
    """A config.json of 70 MiB of blanks, just over the default limit: 82 bytes to
    70 kB once compressed. Nothing but the size in the zip directory refuses it."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        with archive.open("config.json", "w", force_zip64=True) as member:
            chunk = b" " * 2**20
            for _ in range(70):
                member.write(chunk)
    return buffer.getvalue()


def with_header_field(data: bytes, field_offset: int, value: bytes,
                      name: bytes = b"config.json") -> bytes:
    """Change a field of a member's local and central headers (offsets from the local
    header's start; the central header has the same fields two bytes later)."""
    out = bytearray(data)
    for signature, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        at = 0
        while (at := out.find(signature, at)) >= 0:
            if out[at + name_at: at + name_at + len(name)] == name:
                offset = field_offset if signature == b"PK\x03\x04" else field_offset + 2
                out[at + offset: at + offset + len(value)] = value
            at += 4
    return bytes(out)


def layer(cls, config, module="keras.layers", **extra):
    return {"module": module, "class_name": cls, "config": config, **extra}


def sequential(*layers) -> dict:
    inp = layer("InputLayer", {"batch_shape": [None, 4], "dtype": "float32", "name": "x"})
    return layer("Sequential", {"name": "s", "layers": [inp, *layers]}, module="keras")


def dense_config(**extra):
    return layer("Dense", {"name": "d", "units": 2, **extra})


def functional(layers, inputs, outputs) -> dict:
    return layer("Functional", {"name": "f", "layers": layers, "input_layers": inputs,
                                "output_layers": outputs}, module="keras.src.models.functional")


LAMBDA = layer("Lambda", {"name": "l", "function": {"class_name": "__lambda__", "config": {
    "value": [sentinel_code(), None, None]}}})
GADGETS = {
    "gadget_os_system": layer("system", {"command": f"touch {SENTINEL}"}, module="os"),
    "gadget_subprocess_run": layer("run", {"args": ["touch", SENTINEL]}, module="subprocess"),
    "gadget_builtins_eval": layer("eval", {"source": f"open('{SENTINEL}', 'w')"}, module="builtins"),
    "gadget_registered_name": layer("Dense", {"name": "d", "units": 2},
                                    registered_name="builtins>exec"),
    "gadget_enable_unsafe": layer("enable_unsafe_deserialization", {}, module="keras.config"),
    "gadget_load_model": layer("load_model", {"filepath": f"{SENTINEL}.keras"},
                               module="keras.models"),
    "gadget_lambda_bytecode": LAMBDA,
    "gadget_tfsm_layer": layer("TFSMLayer", {"name": "t", "filepath": "/tmp",
                                             "call_endpoint": "serve"}),
    "gadget_string_lookup": layer("StringLookup", {"name": "s", "vocabulary": "/etc/passwd"}),
    "gadget_initializer": dense_config(kernel_initializer={"module": "os", "class_name": "system",
                                                           "config": {"command": "touch PWNED"}}),
    "gadget_regularizer_lambda": dense_config(kernel_regularizer={"module": "builtins",
                                                                  "class_name": "__lambda__",
                                                                  "config": {}}),
    "gadget_activation_lambda": dense_config(activation={"class_name": "__lambda__", "config": {
        "value": [sentinel_code(), None, None]}}),
}
GADGET_MESSAGES = {
    "gadget_os_system": "is the class",
    "gadget_subprocess_run": "is the class",
    "gadget_builtins_eval": "is the class",
    "gadget_registered_name": "is the class 'builtins>exec'",
    "gadget_enable_unsafe": "is the class",
    "gadget_load_model": "is the class",
    "gadget_lambda_bytecode": "is a Lambda: runs an arbitrary Python function",
    "gadget_tfsm_layer": "is a TFSMLayer",
    "gadget_string_lookup": "is a StringLookup",
    "gadget_initializer": "initializer 'system' is not supported",
    "gadget_regularizer_lambda": "kernel_regularizer",
    "gadget_activation_lambda": "is not a Keras activation name",
}


def op_in_sequential() -> dict:
    return sequential(layer("Add", {"name": "add"}, module="keras.src.ops.numpy"))


def missing_output() -> dict:
    inp = layer("InputLayer", {"batch_shape": [None, 4], "name": "x"}, name="x", inbound_nodes=[])
    return functional([inp], [["x", 0, 0]], [["gone", 0, 0]])


def big_weights() -> bytes:
    """A small Dense model whose weights file declares a 30000 x 30000 kernel (stored
    compressed and never written: a few kB)."""
    import io

    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as weights:
        group = weights.create_group("layers/dense/vars")
        group.create_dataset("0", shape=(30000, 30000), dtype="float32", chunks=(1000, 1000),
                             compression="gzip")
        group.create_dataset("1", shape=(2,), dtype="float32")
    config = sequential(layer("Dense", {"name": "dense", "units": 2}))
    return keras_zip(config, extra={"model.weights.h5": buffer.getvalue()})


def good_weights() -> bytes:
    """A Dense(2) on 4 inputs with its two weights, as Keras lays them out."""
    import io

    import h5py
    import numpy

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as weights:
        group = weights.create_group("layers/dense/vars")
        group["0"] = numpy.ones((4, 2), "float32")
        group["1"] = numpy.zeros((2,), "float32")
    config = sequential(layer("Dense", {"name": "dense", "units": 2}))
    return keras_zip(config, extra={"model.weights.h5": buffer.getvalue()})


def external_weights() -> bytes:
    import io

    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as weights:
        weights.create_group("layers/dense/vars")
        weights["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/")
    config = sequential(layer("Dense", {"name": "dense", "units": 2}))
    return keras_zip(config, extra={"model.weights.h5": buffer.getvalue()})


def keras2_h5(model_config: dict, training_config: str | None = None, *,
              pad_to: int | None = None, fixed: bool = False,
              weight_names: list[bytes] | None = None) -> bytes:
    """A Keras 2 .h5 model file as model.save wrote it: its config in attributes, each
    a variable-length string as h5py 3 writes str and bytes (every tf-keras file made
    with it). ``pad_to``: the config padded with blanks to that many bytes, still valid
    JSON; ``fixed``: the config as a fixed-length string instead (over 64 kB, in dense
    attribute storage, HDF5's only kind for it); ``weight_names``: the Dense layer d's
    list of weights."""
    import io

    import h5py
    import numpy as np

    text = json.dumps(model_config)
    text += " " * ((pad_to or 0) - len(text))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver="latest" if fixed else "earliest") as h5:
        h5.attrs["model_config"] = np.bytes_(text.encode()) if fixed else text
        if training_config is not None:
            h5.attrs["training_config"] = training_config
        if weight_names is not None:
            h5.create_group("model_weights/d").attrs["weight_names"] = weight_names
    return buffer.getvalue()


# A benign Keras 2 model: an input of 4 values and a Dense layer d.
KERAS2_DENSE = {"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"name": "i", "batch_input_shape": [None, 4]}},
    {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}


def padded_json(length: int) -> str:
    text = json.dumps(KERAS2_DENSE)
    return text + " " * (length - len(text))


def over_limit(what: str, size: str, limit: str = "1,000,000") -> str:
    return f"cannot read {what}: {size}, over the limit of {limit}; raise it with --max-config-bytes"


def long_sequential(n: int) -> dict:
    return sequential(*(layer("Dense", {"name": f"d{i}", "units": 2}) for i in range(n)))


KERAS_CASES: list[Case] = [
    Case("baseline_export", ["export", "m.keras", "-o", "out.toml"], {"m.keras": keras_zip(
        sequential(dense_config()))}, code=0, outputs=["out.toml"]),
    *(Case(name, ["export", "m.keras"], {"m.keras": keras_zip(sequential(payload))},
           [GADGET_MESSAGES[name]]) for name, payload in GADGETS.items()),
    Case("gadget_compile_optimizer", ["export", "m.keras"], {"m.keras": keras_zip({
        **sequential(dense_config()), "compile_config": {"optimizer": {
            "module": "os", "class_name": "system", "config": {"command": "touch PWNED"}},
            "loss": "mse"}})}, ["optimizer 'system' is a custom class"]),
    Case("gadget_compile_loss", ["export", "m.keras"], {"m.keras": keras_zip({
        **sequential(dense_config()), "compile_config": {"optimizer": "adam", "loss": {
            "class_name": "__lambda__", "config": {"value": [sentinel_code(), None, None]}}}})},
         ["loss is a Python lambda"]),
    Case("model_subclassed", ["export", "m.keras"], {"m.keras": keras_zip(layer(
        "Evil", {"layers": []}, module="evil"))}, ["subclassed models are Python code"]),
    Case("config_list", ["export", "m.keras"], {"m.keras": keras_zip([])},
         ["config.json: expected a JSON object with class_name and config, received a list"]),
    Case("config_null", ["export", "m.keras"], {"m.keras": keras_zip(None)},
         ["received null"]),
    Case("config_no_config", ["export", "m.keras"], {"m.keras": keras_zip({"class_name": "Sequential"})},
         ["expected a JSON object with class_name and config"]),
    Case("config_layers_null", ["export", "m.keras"], {"m.keras": keras_zip(
        layer("Sequential", {"name": "s", "layers": None}, module="keras"))},
         ["config.json is not a model config specc can read"]),
    Case("config_layer_not_object", ["export", "m.keras"], {"m.keras": keras_zip(
        layer("Sequential", {"name": "s", "layers": [1, "x"]}, module="keras"))},
         ["config.layers[0]: config.json: expected a layer", "config.layers[1]: config.json: expected a layer"]),
    Case("config_module_null", ["export", "m.keras"], {"m.keras": keras_zip(sequential(dense_config(
        kernel_initializer={"module": None, "class_name": "GlorotUniform", "config": {}})))},
         ["module must be a string, received null"]),
    Case("config_constraint_list", ["export", "m.keras"], {"m.keras": keras_zip(sequential(
        dense_config(kernel_constraint=["NonNeg"])))}, ["config.json is not a model config"]),
    Case("config_missing_output", ["export", "m.keras"], {"m.keras": keras_zip(missing_output())},
         ["names the layer 'gone', which the model does not have"]),
    Case("config_op_in_sequential", ["export", "m.keras"], {"m.keras": keras_zip(op_in_sequential())},
         ["the exported spec is not wired right: a sequential model needs"]),
    Case("config_int_5000_digits", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=json.dumps(sequential(dense_config())).replace('"units": 2',
                                                                           '"units": ' + "9" * 5000).encode())},
         ["config.json an integer has more than 4300 digits"]),
    Case("config_int_65_bits", ["export", "m.keras"], {"m.keras": keras_zip(sequential(
        dense_config(units=2**70)))}, ["integer out of range"]),
    Case("config_deep_5000", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=b"[" * 5000 + b"]" * 5000)}, ["nested too deeply"]),
    Case("config_deep_300", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=b'{"class_name": "Sequential", "config": ' + b"[" * 300 + b"]" * 300 + b"}")},
         ["nested more than 200 deep"]),
    Case("config_not_json", ["export", "m.keras"], {"m.keras": keras_zip(None, raw_config=b"{")},
         ["config.json is not JSON"]),
    Case("config_not_utf8", ["export", "m.keras"], {"m.keras": keras_zip(None, raw_config=b"\xff\xfe")},
         ["config.json"]),
    Case("config_newlines_padding", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=b"\n" * 100_000_000 + b"[]")}, ["over the limit of 67,108,864"]),
    Case("list_20_mb", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=b"[" + b"0," * 10_000_000 + b"0]")}, ["received a list"]),
    Case("bomb_deflate", ["export", "m.keras"], {"m.keras": bomb(zipfile.ZIP_DEFLATED)},
         ["config.json is 73,400,320 bytes uncompressed, over the limit of 67,108,864; "
          "raise it with --max-config-bytes"]),
    Case("bomb_bzip2", ["export", "m.keras"], {"m.keras": bomb(zipfile.ZIP_BZIP2)},
         ["73,400,320 bytes uncompressed"]),
    Case("bomb_lzma", ["export", "m.keras"], {"m.keras": bomb(zipfile.ZIP_LZMA)},
         ["73,400,320 bytes uncompressed"]),
    Case("bomb_lying_directory", ["export", "m.keras"], {"m.keras": with_header_field(
        bomb(zipfile.ZIP_DEFLATED), 22, (1000).to_bytes(4, "little"))}, ["config.json"]),
    Case("limit_raised_still_bounded", ["export", "m.keras", "--max-config-bytes", "100"],
         {"m.keras": keras_zip(sequential(dense_config()))}, ["over the limit of 100"]),
    Case("corrupt_deflate", ["export", "m.keras"], {"m.keras": keras_zip(
        sequential(dense_config())).replace(b"units", b"unitz", 0)[:-200] + b"\x00" * 200},
         ["cannot read Keras model"]),
    Case("corrupt_data", ["export", "m.keras"], {"m.keras": (lambda raw: raw[:raw.index(b"config.json")
                                                            + 11] + b"\xff" * 40 + raw[raw.index(
                                                                b"config.json") + 51:])(keras_zip(
        sequential(dense_config())))}, ["config.json is corrupt"]),
    Case("encrypted_member", ["export", "m.keras"], {"m.keras": with_header_field(
        keras_zip(sequential(dense_config())), 6, b"\x01\x00")}, ["config.json is encrypted"]),
    Case("unknown_method", ["export", "m.keras"], {"m.keras": with_header_field(
        keras_zip(sequential(dense_config())), 8, b"\x63\x00")},
         ["config.json uses the unknown compression method 99"]),
    Case("dotdot_member", ["export", "m.keras"], {"m.keras": keras_zip(sequential(LAMBDA), extra={
        f"../{SENTINEL}": "x", f"/tmp/{SENTINEL}": "x"})}, ["is a Lambda"]),
    Case("no_config_member", ["export", "m.keras"], {"m.keras": keras_zip(
        None, raw_config=b"").replace(b"config.json", b"cunfig.json")}, ["it has no config.json"]),
    Case("not_a_zip", ["export", "m.keras"], {"m.keras": b"PK\x03\x04 not really"}, ["not a zip file"]),
    Case("empty_file", ["export", "m.keras"], {"m.keras": b""}, ["not a zip file"]),
    Case("keras_fifo", ["export", "fifo.keras"], {"fifo.keras": None}, ["not a regular file"]),
    Case("keras_dev_zero", ["export", "/dev/zero"], expect=["not a regular file"]),
    Case("keras_dev_zero_link", ["export", "zero.keras"], links={"zero.keras": "/dev/zero"},
         expect=["not a regular file"]),
    Case("keras_link_to_fifo", ["export", "link.keras"], {"fifo": None}, links={"link.keras": "fifo"},
         expect=["not a regular file"]),
    Case("keras_missing", ["export", "nope.keras"], expect=["No such file or directory"]),
    Case("keras2_json_fifo", ["export", "m.json"], {"m.json": None}, ["not a regular file"]),
    Case("keras2_json_dev_zero_link", ["export", "m.json"], links={"m.json": "/dev/zero"},
         expect=["not a regular file"]),
    Case("keras2_h5_fifo", ["export", "m.h5"], {"m.h5": None}, ["not a regular file"]),
    Case("keras2_json_deep", ["export", "m.json"], {"m.json": "[" * 100_000 + "]" * 100_000},
         ["nested too deeply"]),
    Case("keras2_json_lambda", ["export", "m.json"], {"m.json": json.dumps(sequential(LAMBDA))},
         ["Lambda"]),
    Case("output_is_directory", ["export", "m.keras", "-o", "out.toml"], {
        "m.keras": keras_zip(sequential(dense_config())), "out.toml/a": "x"},
         ["out.toml: cannot write the output: it is a directory"]),
    Case("output_under_a_file", ["export", "m.keras", "-o", "m.keras/out.toml"], {
        "m.keras": keras_zip(sequential(dense_config()))}, ["m.keras is not a directory"]),
    Case("export_10000_layers", ["export", "m.keras", "-o", "out.json"],
         {"m.keras": keras_zip(long_sequential(10_000))}, code=0, outputs=["out.json"]),
    # Found by tools/fuzz.py (issue 18), minimized: each was a traceback.
    Case("found_sequential_no_layers", ["export", "m.keras"], {"m.keras": keras_zip(layer(
        "Sequential", {"name": "s", "layers": [], "build_input_shape": [None, 4]}, module="keras"))},
         ["m.keras: model: the Sequential model has no layers"], exact=True),
    Case("found_keras2_layers_number", ["export", "m.json"], {"m.json": json.dumps(
        {"class_name": "Sequential", "config": {"layers": 7}})},
         ["m.json: config.layers: expected a list of layers, received a number"], exact=True),
    Case("found_keras2_layers_string_h5", ["export", "m.h5"], {"m.h5": keras2_h5(
        {"class_name": "Functional", "config": {"layers": "e"}})},
         ["m.h5: config.layers: expected a list of layers, received a string"], exact=True),
    Case("found_keras2_short_call", ["export", "m.json"], {"m.json": json.dumps(
        {"class_name": "Functional", "config": {"layers": [
            {"class_name": "Dense", "config": {"units": 2}, "name": "d",
             "inbound_nodes": [[["x", 0]]]}]}})},
         ["m.json: config.layers[0]: inbound_nodes must be a list of calls, each a list of "
          "[layer name, node, tensor, kwargs]"], exact=True),
    Case("found_keras2_shape_number", ["export", "m.json"], {"m.json": json.dumps(
        {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Dense", "config": {"units": 2, "batch_input_shape": 4}}]}})},
         ["m.json: config.layers[0].config: batch_input_shape must be a list, received a number"],
         exact=True),
    Case("found_keras2_wrapped_layer_list", ["export", "m.json"], {"m.json": json.dumps(
        {"class_name": "Sequential", "config": {"layers": [{"class_name": "TimeDistributed",
                                                            "config": {"layer": {
                                                                "class_name": "Dense",
                                                                "config": []}}}]}})},
         ["m.json: config.layers[0].config.layer: expected a layer: a JSON object with "
          "class_name and config, received an object"], exact=True),
    Case("found_keras2_output_layers_number", ["export", "m.h5"], {"m.h5": keras2_h5(
        {"class_name": "Functional", "config": {"layers": [], "output_layers": 7}},
        '{"loss": "mse", "metrics": [["accuracy"], ["accuracy"]]}')},
         ["m.h5: config.output_layers: expected a list of [layer name, node, tensor], "
          "received a number"], exact=True),
    Case("found_keras2_sequential_output_layers_null", ["export", "m.h5", "-o", "s.toml"],
         {"m.h5": keras2_h5({"class_name": "Sequential", "config": {"name": "s", "layers": [
             {"class_name": "InputLayer", "config": {"name": "i", "batch_input_shape": [None, 4]}},
             {"class_name": "Dense", "config": {"name": "d", "units": 2}}],
             "output_layers": None}}, '{"loss": "mse", "metrics": [["accuracy"], ["mae"]]}')},
         code=0, outputs=["s.toml"]),
    # A layer named dense_ and 4,401 digits (tools/fuzz.py, seed 4002 on b27e1b9): int()
    # refused it while export asked whether it was Keras's default name (exit 3).
    Case("found_keras2_name_4401_digits", ["export", "m.json", "-o", "s.toml"], {"m.json": json.dumps(
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"name": "i", "batch_input_shape": [None, 4]}},
            {"class_name": "Dense", "config": {"name": "dense_" + "9" * 4401, "units": 2}}]}})},
         code=0, outputs=["s.toml"]),
    # float32 cannot hold 1e80: numpy warned "overflow encountered in cast" on stderr.
    Case("found_keras2_l2_beyond_float32", ["export", "m.json", "-o", "s.toml"], {"m.json": json.dumps(
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"name": "i", "batch_input_shape": [None, 4]}},
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_regularizer": {
                "class_name": "L2", "config": {"l2": 1e80}}}}]}})},
         code=0, outputs=["s.toml"]),
    Case("found_keras2_optimizer_config_infinity", ["export", "m.h5"], {"m.h5": keras2_h5(
        {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4]}},
            {"class_name": "Dense", "config": {"units": 2}}]}},
        '{"optimizer_config": {"class_name": "Adam", "config": Infinity}, "loss": "mse"}')},
         ["m.h5: training_config.optimizer_config: the optimizer's config must be a JSON object"],
         exact=True),
    # --max-config-bytes holds for Keras 2 files too: every .h5 attribute specc reads is
    # refused before its value is read (a variable-length one bounded by the file's heap:
    # specc/reading/hdf5.py), and a .json file by its size before a byte is read.
    Case("keras2_h5_config_over_limit", ["export", "m.h5", "--max-config-bytes", "1000000"],
         {"m.h5": keras2_h5(KERAS2_DENSE, pad_to=2_000_000)},
         ["m.h5: " + over_limit("Keras 2 model", "the model_config attribute is a variable-length "
                                "value of up to 2,000,000 bytes")], exact=True),
    Case("keras2_h5_training_config_over_limit", ["export", "m.h5", "--max-config-bytes", "1000000"],
         {"m.h5": keras2_h5(KERAS2_DENSE, '{"loss": "mse"}' + " " * 1_999_985, fixed=True)},
         ["m.h5: " + over_limit("Keras 2 model", "the training_config attribute is a "
                                "variable-length value of up to 2,000,000 bytes")], exact=True),
    Case("keras2_h5_fixed_config_over_limit", ["export", "m.h5", "--max-config-bytes", "1000000"],
         {"m.h5": keras2_h5(KERAS2_DENSE, pad_to=2_000_000, fixed=True)},
         ["m.h5: cannot read Keras 2 model: the attributes of / take 2,0"]),
    Case("keras2_h5_config_just_under_limit", ["export", "m.h5", "--max-config-bytes", "1000000",
                                               "-o", "s.toml"],
         {"m.h5": keras2_h5(KERAS2_DENSE, pad_to=999_992)}, code=0, outputs=["s.toml"]),
    Case("keras2_json_over_limit", ["export", "m.json", "--max-config-bytes", "1000000"],
         {"m.json": padded_json(2_000_000)},
         ["m.json: " + over_limit("Keras 2 model", "the file is 2,000,000 bytes")], exact=True),
    Case("keras2_json_at_limit", ["export", "m.json", "--max-config-bytes", "1000000", "-o",
                                  "s.toml"], {"m.json": padded_json(1_000_000)},
         code=0, outputs=["s.toml"]),
    # A layer whose registered name or module names code: refused by name, nothing imported.
    *[Case(f"plugin_name_{key}_export", ["export", "m.keras"], {"m.keras": keras_zip(sequential(
        layer(name.partition(">")[2], {"name": "t"}, module=name.partition(">")[0],
              registered_name=name))), "somepkg.py": SOMEPKG},
           [f"m.keras: layers[0]: layer 't' is the class '{name}', which no plugin registered: "
            "pass the module that registers it with --plugin MODULE"], exact=True, sys_path=True)
      for key, name in REGISTERED_NAMES.items()],
    Case("plugin_unregistered_module_null", ["export", "m.keras"], {"m.keras": keras_zip(
        sequential(layer("Sampling", {"name": "sampling"}, module=None,
                         registered_name="Sampling")))},
         ["m.keras: layers[0]: layer 'sampling' is the class 'Sampling', which is not registered: "
          "register it with keras.saving.register_keras_serializable and pass its module with "
          "--plugin MODULE"], exact=True),
]

WEIGHT_CASES: list[Case] = [
    Case("baseline_export_weights", ["export", "m.keras", "-o", "out.toml", "--weights",
                                     "w.weights.h5"], {"m.keras": good_weights()}, code=0,
         outputs=["out.toml", "w.weights.h5"]),
    Case("weights_30000_squared", ["export", "m.keras", "--weights", "w.weights.h5"],
         {"m.keras": big_weights()}, ["has shape (30000, 30000), larger than any weight"]),
    Case("weights_member_bomb", ["export", "m.keras", "--weights", "w.weights.h5"],
         {"m.keras": with_header_field(good_weights(), 22, (2**32 - 2).to_bytes(4, "little"),
                                       name=b"model.weights.h5")},
         ["model.weights.h5 is 4,294,967,294 bytes uncompressed, more than the model's weights"]),
    Case("weights_external_link", ["export", "m.keras", "--weights", "w.weights.h5"],
         {"m.keras": external_weights()}, ["links to another file"]),
    # 1,000 weight names of 100 bytes: HDF5 packs them into collections of at most 64 kB,
    # so model_config (in the first) is read and the names are refused.
    # An empty weight_names attribute: HDF5 stores no data, and h5py's
    # get_storage_size raised RuntimeError for its size of 0 (exit 3 in reading/hdf5.py).
    Case("found_keras2_empty_weight_names", ["export", "m.h5", "--weights", "w.weights.h5"],
         {"m.h5": keras2_h5(KERAS2_DENSE, weight_names=[])},
         ["m.h5: layer 'd' has 2 weights, the file 0"], exact=True),
    Case("keras2_weight_names_over_limit", ["export", "m.h5", "--weights", "w.weights.h5",
                                            "--max-config-bytes", "100000"],
         {"m.h5": keras2_h5(KERAS2_DENSE, weight_names=[f"d/{i:096d}".encode()
                                                        for i in range(1000)])},
         ["m.h5: " + over_limit("weights", "the weight_names attribute of /model_weights/d is a "
                                "variable-length value of up to 135,072 bytes", "100,000")],
         exact=True),
]

BUILD_CASES: list[Case] = [
    Case("baseline_build", ["build", "s.toml", "-o", "out.keras"], {"s.toml": BENIGN}, code=0,
         outputs=["out.keras"]),
    Case("full_20000_squared", ["build", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = '
         '"ops.Full"\nname = "f"\nshape = [20000, 20000]\ninputs = [1.0]\n[[layers]]\ntype = "Add"\n'
         'inputs = ["x", "f"]\n'}, ["operation 'f' on constants makes 400,000,000 values"]),
    Case("arange_3e8", ["build", "s.toml"], {"s.toml": HEAD + '[[layers]]\ntype = "ops.Arange"\n'
         'name = "f"\ninputs = [3e8]\n[[layers]]\ntype = "Add"\ninputs = ["x", "f"]\n'},
         ["makes 300,000,000 values"]),
    Case("budget", ["build", "s.toml"], {"s.toml": dense("", "100_000") + '[[layers]]\ntype = '
         '"Dense"\nunits = 100_000\n'}, ["over the budget of 1,000,000,000"]),
    Case("legacy_keras", ["build", "s.toml"], {"s.toml": dense("")},
         ["TF_USE_LEGACY_KERAS is set"], env={"TF_USE_LEGACY_KERAS": "1"}),
    Case("build_output_directory", ["build", "s.toml", "-o", "out.keras"],
         {"s.toml": dense(""), "out.keras/a": "x"}, ["cannot write the output: it is a directory"]),
    Case("build_call_lambda", ["build", "s.toml"], {"s.toml": dense(
        'call = { training = { class_name = "__lambda__", config = { value = ["' + sentinel_code()
        + '", "None", "None"] } } }')}, ["layers[0].call.training: expected"]),
    Case("build_sequential_800", ["build", "s.json", "-o", "out.keras"], {"s.json": json.dumps(
        {"inputs": [{"shape": [4]}], "layers": [{"type": "Dense", "units": 2}] * 800})},
         code=0, outputs=["out.keras"]),
]


# ---- running ------------------------------------------------------------------------

BATCHES = {"spec": SPEC_CASES, "keras": KERAS_CASES, "weights": WEIGHT_CASES, "build": BUILD_CASES}


def _materialize(case: Case, root: Path) -> dict:
    where = root / case.id
    where.mkdir()
    for name, data in case.files.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            os.mkfifo(path)
        elif isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    for name, target in case.links.items():
        os.symlink(target, where / name)
    return {"id": case.id, "argv": case.argv, "cwd": str(where), "env": case.env,
            "sys_path": case.sys_path}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("hostile")
    found: dict[str, dict] = {}
    for batch, cases in BATCHES.items():
        manifest = [_materialize(case, root) for case in cases]
        (root / f"{batch}.json").write_text(json.dumps(manifest))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, str(Path(__file__).parent / "hostile_runner.py"),
                        str(root / f"{batch}.json"), str(root / f"{batch}.out.json")],
                       check=True, env=env, timeout=900)
        for result in json.loads((root / f"{batch}.out.json").read_text()):
            found[result["id"]] = {**result, "batch": batch, "root": str(root)}
    return found


ALL = [case for cases in BATCHES.values() for case in cases]


def test_the_corpus_has_at_least_80_cases_of_each_format():
    assert len(ALL) >= 80
    assert len({case.id for case in ALL}) == len(ALL)


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.id)
def test_case(results, case):
    result = results[case.id]
    assert result["crash"] is None, result["crash"]
    assert "Traceback" not in result["stderr"] + result["stdout"]
    # A Python warning is a line the user was never meant to see (numpy's overflow).
    assert not re.search(r"^\S+:\d+: \w*Warning: ", result["stderr"], re.M), result["stderr"]
    assert result["code"] == case.code, result["stderr"][-2000:]
    assert result["cpu"] < CPU_SECONDS, f"{result['cpu']:.1f} s of CPU"
    assert result["rss_growth_kb"] < MEMORY_KB, f"memory grew by {result['rss_growth_kb']:,} kB"
    where = Path(result["cwd"])
    assert not list(where.rglob(f"*{SENTINEL}*")) and not (where.parent / SENTINEL).exists()
    for name in case.outputs:
        assert (where / name).is_file()
    if case.code == 0:
        return
    lines = result["stderr"].rstrip("\n").split("\n")
    count = len(case.expect)
    assert lines[-1] == f"{count} problem{'s' if count != 1 else ''} found", lines[-3:]
    problems = lines[:-1]
    assert len(problems) == count
    for line, expected in zip(problems, case.expect):
        assert line == expected if case.exact else expected in line, line
        assert PROBLEM_LINE.match(line), line


def test_no_sentinel_anywhere(results):
    root = Path(next(iter(results.values()))["root"])
    assert not list(root.rglob(f"*{SENTINEL}*"))
    assert not (ROOT / SENTINEL).exists() and not Path("/tmp", SENTINEL).exists()


def test_replaced_output_keeps_its_mode(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(dense(""))
    out = tmp_path / "s.json"
    out.write_text("{}")
    out.chmod(0o600)
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(keras_zip(sequential(dense_config())))
    done = subprocess.run([sys.executable, "-m", "specc", "export", str(keras_file), "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["layers"][0]["type"] == "Dense"


def test_a_write_failing_midway_is_one_line_and_keeps_the_old_output(tmp_path):
    """RLIMIT_FSIZE makes the write fail with EFBIG after a few kB, as a full disk would."""
    spec = tmp_path / "s.toml"
    spec.write_text(dense(""))
    out = tmp_path / "s.keras"
    out.write_text("old")
    script = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
              "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)); "
              f"sys.argv = ['specc', 'build', {str(spec)!r}]; "
              "from specc.cli.main import run; run()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{out}: cannot write the output: File too large" in done.stderr
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".s.keras.*"))


def test_an_oversized_keras2_config_is_refused_without_reading_it(tmp_path):
    """At the default limit, in a fresh interpreter: a .h5 whose model_config is 96 MiB
    of padding (read whole, it took 270 MB) and a sparse .json file of 3 GiB are
    refused with memory growing by much less than either (h5py's import included)."""
    import h5py

    size = 96 * 2**20
    cases = [("h5", "m.h5", "the model_config attribute is a variable-length value of up to "
                            f"{size:,} bytes"),
             ("json", "m.json", f"the file is {3 * 2**30:,} bytes")]
    manifest = []
    for case_id, name, _ in cases:
        where = tmp_path / case_id
        where.mkdir()
        if name.endswith(".h5"):
            with h5py.File(where / name, "w") as h5:
                h5.attrs["model_config"] = padded_json(size)
        else:
            with open(where / name, "w") as handle:
                handle.truncate(3 * 2**30)
        manifest.append({"id": case_id, "argv": ["export", name], "cwd": str(where), "env": {}})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    subprocess.run([sys.executable, str(Path(__file__).parent / "hostile_runner.py"),
                    str(tmp_path / "manifest.json"), str(tmp_path / "out.json")], check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    results = json.loads((tmp_path / "out.json").read_text())
    for result, (_, name, what) in zip(results, cases, strict=True):
        assert result["crash"] is None and result["code"] == 1, result
        limit = f"{64 * 2**20:,}"
        assert result["stderr"] == f"{name}: {over_limit('Keras 2 model', what, limit)}\n1 problem found\n"
        assert result["cpu"] < CPU_SECONDS
        assert result["rss_growth_kb"] < size // 4 // 1024, f"memory grew by {result['rss_growth_kb']:,} kB"


# ---- the audit hook: imports and files --------------------------------------------

# What validate and export may import besides the standard library: specc, its
# command line (typer and its annotated_doc, click, rich) and its checking libraries
# (jsonpatch: the older Keras's catalogs, read to say which Keras has an unknown name).
PURE = {"specc", "typer", "annotated_doc", "click", "rich", "markdown_it", "mdurl", "pygments",
        "shellingham", "pydantic", "pydantic_core", "typing_extensions", "annotated_types",
        "typing_inspection", "jsonschema", "jsonschema_specifications", "referencing", "rpds", "attr", "attrs",
        "fqdn", "idna", "isoduration", "jsonpointer", "rfc3339_validator", "rfc3986_validator",
        "rfc3987", "rfc3987_syntax", "uri_template", "webcolors", "arrow", "dateutil", "six",
        "tomlkit", "h5py", "numpy", "jsonpatch"}
# Names the payloads give as modules; none may ever be imported.
PAYLOAD_MODULES = {"evil", "PWNED", "somepkg"}


# Imports the standard library itself attempts: copy.py probes Jython's "org"
# (and fails), sysconfig loads its platform's data module by a generated name.
STDLIB_PROBES = {"org"}


def _tops(names) -> set[str]:
    return {top for top in (name.split(".")[0] for name in names)
            if top not in STDLIB_PROBES and not top.startswith("_sysconfigdata_")}


def _batch(results, batch: str) -> list[dict]:
    return [r for r in results.values() if r["batch"] == batch]


def test_audit_validate_imports_no_tensorflow_and_only_the_allow_list(results):
    imported = set().union(*(_tops(r["imports"]) for r in _batch(results, "spec")))
    assert not imported & {"tensorflow", "keras", "tf_keras", *PAYLOAD_MODULES}
    assert imported - set(sys.stdlib_module_names) <= PURE


def test_audit_build_and_weights_import_only_what_a_benign_build_imports(results):
    """A hostile case imports nothing a benign one does not: the first case of each batch
    builds (or exports with weights) a benign model and sets the allow-list."""
    for batch in ("build", "weights", "keras"):
        cases = _batch(results, batch)
        baseline = _tops(results["baseline_build"]["imports"]) | set(sys.stdlib_module_names) | PURE
        for result in cases:
            extra = _tops(result["imports"]) - baseline
            assert not extra, (result["id"], extra)
            assert not _tops(result["imports"]) & PAYLOAD_MODULES


def test_audit_export_imports_tensorflow_only_for_keras_objects(results):
    """Export reads data: only a Keras object specc must look up (a regularizer class)
    brings Keras in, never a payload's module."""
    for result in _batch(results, "keras"):
        if result["id"] != "gadget_regularizer_lambda":
            assert not _tops(result["imports"]) & {"tensorflow", "keras"}, result["id"]


def _allowed_file(path: str, result: dict) -> bool:
    import tempfile

    home_keras = os.path.realpath(os.path.expanduser("~/.keras/keras.json"))
    temp = os.path.realpath(tempfile.gettempdir())
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(ROOT / "specc"),
                str(ROOT / "schemas")}
    inputs = {os.path.realpath(os.path.join(result["cwd"], arg)) for arg in result["argv"]}
    return (path.startswith(result["cwd"] + os.sep) or path == result["cwd"] or path in inputs
            or any(path.startswith(p + os.sep) for p in prefixes)
            or path in ("/dev/null", home_keras)  # Keras reads its settings when imported
            # Package metadata: specc looks up plugins' entry points.
            or re.search(r"\.(egg|dist)-info(/|$)", path) is not None
            # Python's tempfile probes its directory (and opens it for an unnamed
            # TemporaryFile); Keras's save() keeps assets in a temporary directory.
            or temp in (path, os.path.dirname(path.removesuffix("/assets"))))


def test_audit_opens_only_inputs_outputs_and_libraries(results):
    for result in results.values():
        for path in result["opened"]:
            assert _allowed_file(path, result), (result["id"], path)
        for path in result["listed"]:
            # Only the import system lists folders outside the inputs: those on sys.path.
            assert _allowed_file(path, result) or path in result["sys_path"], (result["id"], path)
