import json
import tomllib

import pytest

from specc.errors import SpecError
from specc.reading.load import Document, format_path, load_document, parse_text

TOML = '''\
# a comment with [brackets] and {braces}
name = "a # { not syntax"   # trailing comment
model.outputs = ["x",
    "y",  # comment inside an array
    [1, [2, 3], {a = 1}],
]
notes = """first line
  second # { line """
born = 1979-05-27 07:32:00Z
"quoted.key" = 'lit # {'

[[layers]]
type = "Dense"
kernel_regularizer = { l2 = 0.01, l1 = 1e-5 }

[[layers]]
type = "Dropout"
[[layers.sub]]
x = 1

[[layers]]
\ttype = "Tabbed"
[layers.config]
units = 3

[ training . "opt" ]
lr = 0.1
'''

JSON = '''\
{
  "name": "net",
  "layers": [
    {"type": "Dense", "units": 4},
    {"type": "Drop\\"out{", "rate": 0.5, "shape": [1, [2, 3]]}
  ],
  "empty": {}, "flag": true
}
'''


@pytest.fixture(scope="module")
def toml_doc() -> Document:
    return parse_text(TOML, "toml", "spec.toml")


@pytest.fixture(scope="module")
def json_doc() -> Document:
    return parse_text(JSON, "json", "spec.json")


def test_data_is_exactly_what_the_parsers_give(toml_doc, json_doc):
    assert toml_doc.data == tomllib.loads(TOML)
    assert json_doc.data == json.loads(JSON)
    assert toml_doc.file == "spec.toml"


@pytest.mark.parametrize(
    "path, key, value",
    [
        pytest.param(("name",), (2, 1), (2, 8), id="string-with-hash-and-brace"),
        pytest.param(("model",), (3, 1), (3, 1), id="dotted-key-implicit-table"),
        pytest.param(("model", "outputs"), (3, 7), (3, 17), id="dotted-key"),
        pytest.param(("model", "outputs", 0), None, (3, 18), id="array-element"),
        pytest.param(("model", "outputs", 1), None, (4, 5), id="multi-line-array-element"),
        pytest.param(("model", "outputs", 2, 1), None, (5, 9), id="nested-array"),
        pytest.param(("model", "outputs", 2, 1, 1), None, (5, 13), id="nested-array-element"),
        pytest.param(("model", "outputs", 2, 2, "a"), (5, 18), (5, 22), id="table-in-array"),
        pytest.param(("notes",), (7, 1), (7, 9), id="multi-line-string"),
        pytest.param(("born",), (9, 1), (9, 8), id="value-after-multi-line-string"),
        pytest.param(("quoted.key",), (10, 1), (10, 16), id="quoted-key"),
        pytest.param(("layers",), (12, 1), (12, 1), id="array-of-tables-first-header"),
        pytest.param(("layers", 0), (12, 1), (12, 1), id="first-layer-header"),
        pytest.param(("layers", 0, "type"), (13, 1), (13, 8), id="key-in-first-layer"),
        pytest.param(("layers", 0, "kernel_regularizer"), (14, 1), (14, 22), id="inline-table"),
        pytest.param(("layers", 0, "kernel_regularizer", "l2"), (14, 24), (14, 29), id="inline-l2"),
        pytest.param(("layers", 0, "kernel_regularizer", "l1"), (14, 35), (14, 40), id="inline-l1"),
        pytest.param(("layers", 1), (16, 1), (16, 1), id="second-layer-header"),
        pytest.param(("layers", 1, "type"), (17, 1), (17, 8), id="key-in-second-layer"),
        pytest.param(("layers", 1, "sub", 0), (18, 1), (18, 1), id="nested-array-of-tables"),
        pytest.param(("layers", 1, "sub", 0, "x"), (19, 1), (19, 5), id="key-in-nested-element"),
        pytest.param(("layers", 2), (21, 1), (21, 1), id="third-layer-header"),
        pytest.param(("layers", 2, "type"), (22, 2), (22, 9), id="tab-is-one-column"),
        pytest.param(("layers", 2, "config"), (23, 1), (23, 1), id="sub-table-of-element"),
        pytest.param(("layers", 2, "config", "units"), (24, 1), (24, 9), id="key-in-sub-table"),
        pytest.param(("training", "opt"), (26, 1), (26, 1), id="spaced-quoted-header"),
        pytest.param(("training", "opt", "lr"), (27, 1), (27, 6), id="key-under-header"),
    ],
)
def test_toml_positions(toml_doc, path, key, value):
    assert toml_doc.keys.get(path) == key
    assert toml_doc.values[path] == value


@pytest.mark.parametrize(
    "path, key, value",
    [
        pytest.param(("name",), (2, 3), (2, 11), id="top-level-key"),
        pytest.param(("layers",), (3, 3), (3, 13), id="array"),
        pytest.param(("layers", 0), None, (4, 5), id="array-element"),
        pytest.param(("layers", 0, "units"), (4, 23), (4, 32), id="nested-object-key"),
        pytest.param(("layers", 1, "type"), (5, 6), (5, 14), id="escaped-quote-and-brace"),
        pytest.param(("layers", 1, "rate"), (5, 28), (5, 36), id="key-after-escaped-string"),
        pytest.param(("layers", 1, "shape", 1, 0), None, (5, 55), id="nested-array-element"),
        pytest.param(("empty",), (7, 3), (7, 12), id="empty-object"),
        pytest.param(("flag",), (7, 16), (7, 24), id="second-key-on-line"),
    ],
)
def test_json_positions(json_doc, path, key, value):
    assert json_doc.keys.get(path) == key
    assert json_doc.values[path] == value


def paths(value, prefix=()):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, child in items:
        yield prefix + (name,)
        yield from paths(child, prefix + (name,))


def test_every_value_is_indexed_and_nothing_else(toml_doc, json_doc):
    for doc in (toml_doc, json_doc):
        assert set(doc.values) == set(paths(doc.data))
        assert set(doc.keys) <= set(doc.values)


def test_json_bom_is_tolerated(tmp_path):
    spec = tmp_path / "bom.json"
    spec.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    doc = load_document(spec)
    assert doc.data == {"a": 1}
    assert doc.keys[("a",)] == (1, 2)


def test_load_document_reads_toml_and_keeps_the_given_name(tmp_path):
    spec = tmp_path / "net.toml"
    spec.write_text('[[layers]]\ntype = "Dense"\n', encoding="utf-8")
    doc = load_document(str(spec))
    assert doc.file == str(spec)
    assert doc.locate(("layers", 0, "type"), key=True) == (2, 1)


@pytest.mark.parametrize(
    "path, key, expected",
    [
        pytest.param(("layers", 0, "type"), False, (13, 8), id="exact-value"),
        pytest.param(("layers", 0, "type"), True, (13, 1), id="exact-key"),
        pytest.param(("model", "outputs", 1), True, (4, 5), id="element-key-is-its-value"),
        pytest.param(("layers", 0, "kernel_regularizer", "l3"), True, (14, 22), id="missing-key-to-parent"),
        pytest.param(("layers", 1, "units"), False, (16, 1), id="missing-to-layer-header"),
        pytest.param(("nope", "deeper"), False, (None, None), id="nothing-indexed"),
        pytest.param((), False, (None, None), id="root"),
    ],
)
def test_locate(toml_doc, path, key, expected):
    assert toml_doc.locate(path, key=key) == expected


@pytest.mark.parametrize(
    "path, text",
    [
        pytest.param(("layers", 2, "units"), "layers[2].units", id="mixed"),
        pytest.param(("layers", 0, "kernel_regularizer", "l2"), "layers[0].kernel_regularizer.l2", id="deep"),
        pytest.param(("model",), "model", id="single"),
        pytest.param((), "", id="empty"),
    ],
)
def test_format_path(path, text):
    assert format_path(path) == text


@pytest.mark.parametrize(
    "text, fmt, message, line, column",
    [
        pytest.param("a = 1\nb = ?\n", "toml", "invalid TOML: Invalid value", 2, 5, id="toml-bad-value"),
        pytest.param("[x]\n[x]\n", "toml", "invalid TOML: Cannot declare ('x',) twice", 2, 3, id="toml-twice"),
        pytest.param("a = 1\nb = [1,\n", "toml", "invalid TOML: Invalid value", 2, 8, id="toml-end-of-document"),
        pytest.param('{"a": 1,\n  }', "json", "invalid JSON: Expecting property name enclosed in double quotes",
                     2, 3, id="json-trailing-comma"),
        pytest.param('{\n  "a": tru\n}', "json", "invalid JSON: Expecting value", 2, 8, id="json-bad-literal"),
        pytest.param("\n  [1, 2]", "json", "expected a JSON object at the top level", 2, 3, id="json-not-object"),
    ],
)
def test_syntax_errors(text, fmt, message, line, column):
    with pytest.raises(SpecError) as caught:
        parse_text(text, fmt, "bad.spec")
    [problem] = caught.value.problems
    assert (problem.message, problem.file, problem.line, problem.column) == (message, "bad.spec", line, column)


@pytest.mark.parametrize(
    "name, setup, message",
    [
        pytest.param("missing.toml", None, "cannot read spec: No such file or directory", id="missing"),
        pytest.param("folder.json", "dir", "cannot read spec: Is a directory", id="directory"),
        pytest.param("latin1.toml", b'a = "\xe9"', "cannot read spec: not valid UTF-8 (byte 0xe9 at offset 5)",
                     id="not-utf8"),
        pytest.param("spec.yaml", b"a: 1", "unsupported spec format '.yaml': expected .toml or .json", id="yaml"),
        pytest.param("spec", b"", "unsupported spec format (no suffix): expected .toml or .json", id="no-suffix"),
    ],
)
def test_file_errors(tmp_path, name, setup, message):
    target = tmp_path / name
    if setup == "dir":
        target.mkdir()
    elif setup is not None:
        target.write_bytes(setup)
    with pytest.raises(SpecError) as caught:
        load_document(target)
    [problem] = caught.value.problems
    assert (problem.message, problem.file, problem.line) == (message, str(target), None)


def test_positions_stop_below_the_depth_limit():
    """The fuzzer's slow finding: a path per value of a document nested 150 deep made
    800 MB of tuples for 6 MB of text. Nothing below reading/positions.DEEPEST is
    placed (no problem is, under the 64-deep limit), so none is recorded."""
    from specc.reading.positions import DEEPEST, Positions

    value: object = 1
    for n in range(150):
        value = [value, 2] if n % 2 else {"k": value}
    found = Positions(json.dumps({"layers": [value] * 3}), "json")
    assert max(map(len, found.values)) == max(map(len, found.keys)) == DEEPEST
    assert ("layers", 0, 0, "k") in found.values and ("layers", 2, 0, "k") in found.keys
    toml = Positions("a = " + "[" * 100 + "]" * 100 + "\nb = 1\n", "toml")
    assert max(map(len, toml.values)) == DEEPEST and toml.values[("b",)] == (2, 5)
