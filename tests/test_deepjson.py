"""JSON nested beyond Python's recursion limit, read and written as Python's json reads and writes it."""

from __future__ import annotations

import json
import math
import random
import sys

import pytest

from dedup.io import deepjson

DEPTH = 3 * sys.getrecursionlimit()  # too deep for json itself: deepjson walks it with its own stack

VALUES = [
    {"id": 12, "text": "caf\u00e9 \U0001f600", "meta": {"tags": [1, 2.5, None, True, False], "": {}}, "e": []},
    [1e300, -0.0, 10 ** 40, -(10 ** 25), 1.5e-7, "\u2028\x00\"\\/", {"a": {"b": [[], [{}]]}}],
    [math.inf, -math.inf],
    "a lone \ud800 surrogate",
    None,
]


def _wrapped(text: str, depth: int = DEPTH) -> str:
    return "[" * depth + text + "]" * depth


def _unwrapped(value: object, depth: int = DEPTH) -> object:
    for _ in range(depth):
        (value,) = value
    return value


def test_json_itself_cannot_go_this_deep():
    with pytest.raises(RecursionError):
        json.loads(_wrapped("1"))


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_a_deep_value_is_written_and_read_as_json_writes_and_reads_a_shallow_one(value, ensure_ascii):
    shallow = json.dumps(value, ensure_ascii=ensure_ascii)
    deep = deepjson.dumps(_nest(value), ensure_ascii)
    assert deep == _wrapped(shallow)
    read = _unwrapped(deepjson.loads(deep))
    assert json.dumps(read, ensure_ascii=ensure_ascii) == shallow  # NaN-free values: same text, same value


def _nest(value: object, depth: int = DEPTH) -> object:
    for _ in range(depth):
        value = [value]
    return value


def test_deep_objects_with_spaces_and_every_separator():
    text = '{"k": 0, "n" : false, "k" : [ 1 ,{ "a":{}} , "x" ] ,"n":null}'  # a repeated key: the last value
    deep = '{"d": ' * DEPTH + text + "}" * DEPTH
    value = deepjson.loads(deep)
    for _ in range(DEPTH):
        value = value["d"]
    assert value == json.loads(text)
    assert deepjson.dumps(deepjson.loads(deep), ensure_ascii=False) == '{"d": ' * DEPTH + json.dumps(value) + "}" * DEPTH


def test_random_values_agree_with_json():
    draw = random.Random(7)

    def value(depth: int) -> object:
        kind = draw.randrange(7 if depth < 6 else 4)
        if kind == 0:
            return draw.choice([None, True, False])
        if kind == 1:
            return draw.choice([0, -1, 2 ** 70, draw.randrange(-10 ** 6, 10 ** 6)])
        if kind == 2:
            return draw.choice([0.5, -2.25e-9, 1e21, draw.random()])
        if kind == 3:
            return "".join(draw.choice("ab \"\\\n\t\u00e9\U0001f600\x01") for _ in range(draw.randrange(5)))
        if kind in (4, 5):
            return [value(depth + 1) for _ in range(draw.randrange(4))]
        return {str(value(6)): value(depth + 1) for _ in range(draw.randrange(4))}

    for _ in range(300):
        item = value(0)
        shallow = json.dumps(item, ensure_ascii=False)
        assert deepjson.dumps(_nest(item, 1200), ensure_ascii=False) == _wrapped(shallow, 1200)
        assert _unwrapped(deepjson.loads(_wrapped(shallow, 1200)), 1200) == json.loads(shallow)


def test_keys_that_are_not_strings_are_written_as_json_writes_them():
    keys = {3: "a", 2.5: "b", True: "c", None: "d"}
    assert deepjson.dumps(_nest(keys), ensure_ascii=False) == _wrapped(json.dumps(keys))
    with pytest.raises(TypeError, match="keys must be str"):
        deepjson.dumps(_nest({(1, 2): "tuple key"}), ensure_ascii=False)


@pytest.mark.parametrize("bad", ['{"a" 1}', '{"a": 1,}', "[1,]", "[1 2]", '{1: 2}', "[nul]", '["a]'])
def test_malformed_deep_text_is_refused_as_json_refuses_it(bad):
    with pytest.raises(json.JSONDecodeError) as shallow:
        json.loads(bad)
    with pytest.raises(json.JSONDecodeError) as deep:
        deepjson.loads(_wrapped(bad))
    assert deep.value.msg == shallow.value.msg


def test_text_after_a_deep_value_is_extra_data():
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        deepjson.loads(_wrapped("1") + " x")


def test_nothing_process_wide_is_changed(monkeypatch):
    def refuse(limit):
        raise AssertionError("the recursion limit is the whole process's")

    monkeypatch.setattr(sys, "setrecursionlimit", refuse)
    assert deepjson.dumps(deepjson.loads(_wrapped("[]")), ensure_ascii=True) == _wrapped("[]")
