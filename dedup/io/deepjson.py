"""JSON of any depth, read and written exactly as Python's json reads and writes it.

json's C code counts each level of nesting against Python's recursion limit (about 1,000 levels),
where orjson reads records nested up to 1,024 levels deep; ``clean`` must rewrite such a record all
the same. :func:`loads` and :func:`dumps` call json, and for a value nested too deeply for it walk the
value with a stack of their own instead of recursing: no process-wide setting is changed.

Example:
    >>> deep = "[" * 5000 + '{"a": [1, 2.5, null, "x"]}' + "]" * 5000
    >>> dumps(loads(deep), ensure_ascii=True) == deep
    True
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import math
import re
from collections.abc import Iterator

# What json.loads reads: its whitespace, its numbers, its words and its strings (C code, no recursion).
_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = json.scanner.NUMBER_RE
_WORDS = {"null": None, "true": True, "false": False, "NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_scanstring = json.decoder.scanstring


def loads(text: str) -> object:
    """``json.loads(text)``, also for text nested beyond Python's recursion limit."""
    try:
        return json.loads(text)
    except RecursionError:
        return _read(text)


def dumps(value: object, ensure_ascii: bool) -> str:
    """``json.dumps(value, ensure_ascii=ensure_ascii, default=str)``, also for a value nested beyond
    Python's recursion limit (dicts, lists and tuples, as values read from JSON or Parquet are)."""
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii, default=str)
    except RecursionError:
        return _write(value, ensure_ascii)


def _read(text: str) -> object:
    """What json.loads reads from ``text``, with the open containers on a list, not the call stack."""
    open_: list[list | dict] = []  # the containers begun and not yet ended, outermost first
    keys: list[str] = []  # per open object, the key of the value being read
    at = _SPACE.match(text, 0).end()
    while True:
        char = text[at:at + 1]
        if char in ("{", "["):
            at = _SPACE.match(text, at + 1).end()
            if text[at:at + 1] == ("}" if char == "{" else "]"):
                value, at = ({} if char == "{" else []), at + 1
            else:
                open_.append({} if char == "{" else [])
                if char == "{":
                    at = _key(text, at, keys)
                continue
        else:
            value, at = _scalar(text, at)
        while True:  # a value is whole: into its container, which may end with it
            if not open_:
                end = _SPACE.match(text, at).end()
                if end != len(text):
                    raise json.JSONDecodeError("Extra data", text, end)
                return value
            container = open_[-1]
            if isinstance(container, dict):
                container[keys.pop()] = value
            else:
                container.append(value)
            at = _SPACE.match(text, at).end()
            char = text[at:at + 1]
            if char == ",":
                at = _SPACE.match(text, at + 1).end()
                if isinstance(container, dict):
                    at = _key(text, at, keys)
                break
            if char != ("}" if isinstance(container, dict) else "]"):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, at)
            value, at = open_.pop(), at + 1


def _key(text: str, at: int, keys: list[str]) -> int:
    """Read an object's key and its colon at ``at`` onto ``keys``; where its value begins."""
    if text[at:at + 1] != '"':
        raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
    key, at = _scanstring(text, at + 1, True)
    at = _SPACE.match(text, at).end()
    if text[at:at + 1] != ":":
        raise json.JSONDecodeError("Expecting ':' delimiter", text, at)
    keys.append(key)
    return _SPACE.match(text, at + 1).end()


def _scalar(text: str, at: int) -> tuple[object, int]:
    """The string, number or word at ``at``, and where it ends."""
    if text[at:at + 1] == '"':
        return _scanstring(text, at + 1, True)
    number = _NUMBER.match(text, at)
    if number:
        integer, fraction, exponent = number.groups()
        value = float(integer + (fraction or "") + (exponent or "")) if fraction or exponent else int(integer)
        return value, number.end()
    for word, value in _WORDS.items():
        if text.startswith(word, at):
            return value, at + len(word)
    raise json.JSONDecodeError("Expecting value", text, at)


def _write(value: object, ensure_ascii: bool) -> str:
    """What json.dumps writes for ``value``, with the open containers on a list, not the call stack."""
    pieces: list[str] = []
    open_: list[tuple[Iterator, bool]] = []  # per open container: its items left, whether an object
    fresh = True  # whether the innermost open container has had no item yet

    def begin(item: object) -> None:
        nonlocal fresh
        if isinstance(item, dict):
            pieces.append("{")
            open_.append((iter(item.items()), True))
            fresh = True
        elif isinstance(item, (list, tuple)):
            pieces.append("[")
            open_.append((iter(item), False))
            fresh = True
        else:
            pieces.append(json.dumps(item, ensure_ascii=ensure_ascii, default=str))

    begin(value)
    while open_:
        items, is_object = open_[-1]
        item = next(items, _END)
        if item is _END:
            open_.pop()
            pieces.append("}" if is_object else "]")
            fresh = False
            continue
        if not fresh:
            pieces.append(", ")
        fresh = False
        if is_object:
            key, item = item
            pieces.append(json.dumps(_key_text(key), ensure_ascii=ensure_ascii) + ": ")
        begin(item)
    return "".join(pieces)


_END = object()


def _key_text(key: object) -> str:
    """An object key as json writes it: a string as itself; a number, bool or None as its JSON."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
