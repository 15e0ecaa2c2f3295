"""JSON Lines (.jsonl, .gz, .zst, stdin): records line by line, batches through polars, and the writer.

A batch goes to polars' parser only when every line in it is one on which polars must read what
:func:`jsonl_record` reads (orjson, then Python's json); any other batch goes line by line, which
also names the line of a bad record.

Example:
    >>> json_line({"id": 1, "text": "old"}, "text", "new")
    b'{"id": 1, "text": "new"}'
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import itertools
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import orjson
import polars as pl
import zstandard

from dedup.config import Config
from dedup.io import deepjson
from dedup.io.records import (
    ANNOTATIONS,
    BOM,
    Record,
    Writer,
    decode,
    documents_frame,
    fields_of,
    records_frame,
    reject,
)
from dedup.io.sources import Counters, InputError, Source

# A JSON integer orjson cannot hold exactly (beyond 64 bits, or below -2**63: 19 digits) has at
# least 19 digits.
_LONG_DIGITS = re.compile(rb"\d{19}")


_SURROGATE = re.compile("[\ud800-\udfff]")


class ZstdFrames(io.RawIOBase):
    """The decompressed bytes of a .zst file of one or more frames; a file that ends inside a frame
    raises :class:`zstandard.ZstdError` (zstandard's own stream reader ends there silently, so a
    truncated file read as half a corpus). Input goes in by ``CHUNK`` bytes, which bounds what one
    step can decompress to.

    Example:
        >>> frame = zstandard.ZstdCompressor().compress(b"one\\n")
        >>> io.BufferedReader(ZstdFrames(io.BytesIO(frame + frame))).read()
        b'one\\none\\n'
        >>> try:
        ...     io.BufferedReader(ZstdFrames(io.BytesIO(frame[:-2]))).read()
        ... except zstandard.ZstdError as err:
        ...     print(err)
        truncated: the file ends inside a zstd frame
    """

    CHUNK = 1 << 14

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.frame = zstandard.ZstdDecompressor().decompressobj()
        self.inside = False  # whether part of a frame has been fed and its end not yet seen
        self.pending, self.at = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.at == len(self.pending):
            data = self.raw.read(self.CHUNK)
            if not data:
                if self.inside:
                    raise zstandard.ZstdError("truncated: the file ends inside a zstd frame")
                return 0
            self.pending, self.at = self._decompress(data), 0
        n = min(len(buffer), len(self.pending) - self.at)
        buffer[:n] = self.pending[self.at:self.at + n]
        self.at += n
        return n

    def _decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            out.append(self.frame.decompress(data))
            self.inside = not self.frame.eof
            data = self.frame.unused_data if self.frame.eof else b""
            if self.frame.eof:  # the next frame, if any, starts in what this one left
                self.frame = zstandard.ZstdDecompressor().decompressobj()
        return b"".join(out)


def _open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The decompressed stream, and the file it reads from (whose position tells how far along we are)."""
    name = path.name.lower()
    raw = open(path, "rb")  # noqa: SIM115  (the caller closes both)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    if name.endswith(".zst"):
        return io.BufferedReader(ZstdFrames(raw)), raw
    return raw, raw


def _parse_slowly(line: bytes, where: str, config: Config, counters: Counters) -> object | None:
    """A line orjson (strict RFC 8259, UTF-8 only) refused, read as Python's json reads it, which also
    takes NaN, integers of any size and, after replacement, invalid UTF-8; None when rejected."""
    try:  # without its line break, so that an error's column is on this line
        return json.loads(decode(line.rstrip(b"\r\n"), where, config, counters))
    except json.JSONDecodeError as err:
        reject(f"{where}: malformed JSON ({err.msg} at column {err.colno})", config, counters)
        return None
    except RecursionError:  # orjson stops at 1024 levels, json at Python's recursion limit
        reject(f"{where}: malformed JSON (nested too deeply)", config, counters)
        return None
    except ValueError:  # Python reads integers of at most sys.get_int_max_str_digits() digits
        reject(f"{where}: malformed JSON (an integer of more than {sys.get_int_max_str_digits()} digits)",
                config, counters)
        return None


def jsonl_record(line: bytes, where: str, number: int, config: Config, counters: Counters) -> Record | None:
    """One JSON Lines line as a record (``number`` is its id when it has none; ``raw`` the line and
    its object), or None when it is blank or, with ``on_error="skip"``, rejected."""
    try:
        obj = orjson.loads(line)
        exact = False
    except orjson.JSONDecodeError:  # or a blank line, invalid UTF-8, NaN, a huge integer...
        if not line.strip():
            return None
        obj = _parse_slowly(line, where, config, counters)
        if obj is None:
            return None
        exact = True
    if not isinstance(obj, dict):
        reject(f"{where}: a JSON object was expected", config, counters)
        return None
    id_field, site_field = config.id_field, config.site_field
    doc_id = obj.get(id_field)
    site = obj.get(site_field) if site_field else None
    if not exact and (isinstance(doc_id, float) or isinstance(site, float)):
        obj = _parse_slowly(line, where, config, counters)  # maybe an integer beyond 64 bits, read as a float
        if obj is None:
            return None
        doc_id, site = obj.get(id_field), obj.get(site_field) if site_field else None
    text = obj.get(config.text_field)
    if not isinstance(text, str):
        what = "has no" if text is None else "has a non-string"
        reject(f"{where}: record {what} {config.text_field!r} field", config, counters)
        return None
    doc_id, site = fields_of(doc_id, site, number)
    if exact and _SURROGATE.search(text + doc_id + (site or "")):  # orjson refuses them; json does not
        if config.strict:
            raise InputError(f"{where}: a \\u escape of a lone surrogate, which is not a character")
        counters.invalid_utf8_docs += 1
        counters.note(f"{where}: \\u escape of a lone surrogate replaced with U+FFFD")
        text, doc_id = _SURROGATE.sub("\ufffd", text), _SURROGATE.sub("\ufffd", doc_id)
        site = _SURROGATE.sub("\ufffd", site) if site else site
    if not text or text.isspace():
        counters.empty_docs += 1
    return Record(doc_id, text, site, (line, obj))


_STREAM_ERRORS = (OSError, EOFError, zlib.error, zstandard.ZstdError)


@contextlib.contextmanager
def open_jsonl(source: Source) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The open (decompressed stream, underlying file) of a JSON Lines source, past a leading BOM,
    closed afterwards. A compressed stream that cannot be read (truncated, corrupt) raises
    :class:`InputError`, whatever ``--on-error`` says; so does a bad record of a compressed source
    whose stream turns out to be damaged further on (a corrupt gzip is found by its checksum at the
    end, after the garbage it decompressed to)."""
    stream, raw = _open_binary(source.path)
    with raw, stream:
        try:
            if stream.peek(len(BOM))[:len(BOM)] == BOM:
                stream.read(len(BOM))
            yield stream, raw
        except _STREAM_ERRORS as err:
            raise _damaged(source, err) from None
        except InputError:
            if stream is not raw:
                try:
                    while stream.read(1 << 20):
                        pass
                except _STREAM_ERRORS as err:
                    raise _damaged(source, err) from None
            raise


def _damaged(source: Source, err: Exception) -> InputError:
    return InputError(f"{source.where}: cannot read the compressed stream ({err})")


def read_jsonl(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    number = 0
    read_to = consumed = 0
    with open_jsonl(source) as (stream, raw):
        compressed = stream is not raw
        for lineno, line in enumerate(stream, start=1):
            consumed += len(line)
            record = jsonl_record(line, f"{source.where}:{lineno}", number, config, counters)
            if record is None:
                continue
            number += 1
            size, consumed = consumed, 0  # this line and any skipped since the last record
            if compressed:  # input bytes: how far the compressed file has been read
                size, read_to = raw.tell() - read_to, raw.tell()
            record.size = size
            yield record


# Bytes a cleaned JSON Lines file gathers before each write: with the default 8 KiB, writing 350 MB
# took a system call every few records.
WRITE_BUFFER = 1 << 20


class JsonlWriter(Writer):
    """JSON Lines, compressed as the target's name says; unchanged records keep their original bytes."""

    def __init__(self, target: Path | None, text_field: str) -> None:
        self.text_field = text_field
        if target is None:
            self.stream: IO[bytes] = sys.stdout.buffer
            self.owned = False
            return
        name = target.name.lower()
        self.owned = True
        if name.endswith(".gz"):
            self.stream = gzip.open(target, "wb")  # noqa: SIM115 (closed by close())
        elif name.endswith(".zst"):
            self.stream = zstandard.ZstdCompressor().stream_writer(open(target, "wb"), closefd=True)  # noqa: SIM115
        else:
            self.stream = open(target, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115 (closed by close())

    def write(self, record: Record, text: str | None, annotations: list[dict] | None = None) -> None:
        if text is None:
            return
        if isinstance(record.raw, tuple) and isinstance(record.raw[0], bytes):
            line, obj = record.raw
            if text == record.text and annotations is None:
                self.stream.write(line if line.endswith(b"\n") else line + b"\n")
                return
            # orjson reads an integer beyond 64 bits as a float: a record with a float (or a nested value)
            # and a long run of digits is read again exactly. Searching every line took 20 us a record.
            if any(isinstance(v, (float, dict, list)) for v in obj.values()) and _LONG_DIGITS.search(line):
                obj = deepjson.loads(line.decode("utf-8", errors="replace"))
        elif isinstance(record.raw, tuple):  # a Parquet row
            obj = record.raw[0]
        else:  # a txt document
            obj = {"id": record.doc_id}
        if annotations is not None:
            obj = {**obj, ANNOTATIONS: annotations}
        self.stream.write(json_line(obj, self.text_field, text) + b"\n")

    def close(self) -> None:
        if self.owned:
            self.stream.close()
        else:
            self.stream.flush()


def json_line(obj: dict, field: str, text: str) -> bytes:
    """``obj`` with ``field`` set to ``text``, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it
    in UTF-8 (a lone surrogate kept in another field is written as an escape again). The long text is
    encoded by orjson, which writes a string as json does (checked for every character), in place of
    a placeholder: 2x faster a cleaned record than json.dumps alone.

    Example: ``json_line({"id": 1, "text": "old"}, "text", "new")`` -> ``b'{"id": 1, "text": "new"}'``.
    """
    try:  # deepjson: json's own writing, also of records nested deeper than Python's recursion limit
        head = deepjson.dumps({**obj, field: _PLACEHOLDER}, ensure_ascii=False).encode("utf-8")
        if head.count(_PLACEHOLDER_JSON) == 1:  # else some other value spells it too
            return head.replace(_PLACEHOLDER_JSON, orjson.dumps(text))
        return deepjson.dumps({**obj, field: text}, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, orjson.JSONEncodeError):  # a lone surrogate from a \u escape
        return deepjson.dumps({**obj, field: text}, ensure_ascii=True).encode("ascii")


_PLACEHOLDER = "\x00dedup\x00"


_PLACEHOLDER_JSON = json.dumps(_PLACEHOLDER).encode("ascii")


def jsonl_batches(source: Source, config: Config, counters: Counters) -> Iterator[tuple[pl.DataFrame, int]]:
    """A JSON Lines source in frames of at most ``config.batch_docs`` lines, each with the input bytes
    it took (compressed bytes for .gz and .zst): through polars when every line is plain, else line by line."""
    counters.files += 1
    number = 0  # records so far: the id of a record without one
    first = 1  # the line number of the batch's first line
    read_to = 0
    with open_jsonl(source) as (stream, raw):
        while lines := list(itertools.islice(stream, config.batch_docs)):
            if stream is raw:
                nbytes = sum(len(line) for line in lines)
            else:  # how far the compressed file has been read
                nbytes, read_to = raw.tell() - read_to, raw.tell()
            batch = polars_frame(lines, number, config, counters)
            if batch is None:
                rows = []
                for lineno, line in enumerate(lines, start=first):
                    record = jsonl_record(line, f"{source.where}:{lineno}", number + len(rows), config, counters)
                    if record is not None:
                        rows.append(record)
                batch = records_frame(rows)
            number += len(batch)
            first += len(lines)
            yield batch, nbytes


def polars_frame(lines: list[bytes], number: int, config: Config, counters: Counters) -> pl.DataFrame | None:
    """The records of ``lines`` (the first of them record ``number``) as polars reads them, the same
    as :func:`jsonl_record` reads each; None unless every line is one on which the two agree (a plain
    line, :func:`_plain_lines`), when the lines must be read one by one.

    Example:
        >>> polars_frame([b'{"id": 7, "text": "a"}\\n', b'{"text": "b"}\\n'], 0, Config(), Counters()).rows()
        [('7', 'a', None), ('1', 'b', None)]
        >>> polars_frame([b'{"text": "t", "text": "twice"}\\n'], 0, Config(), Counters()) is None
        True
    """
    plain = _plain_lines(config.text_field, config.id_field, config.site_field)
    if plain is None:
        return None
    try:  # a strict cast: invalid UTF-8 raises
        frame = pl.Series("line", lines, dtype=pl.Binary).cast(pl.String).to_frame()
    except pl.exceptions.PolarsError:
        return None
    frame = frame.filter(~pl.col("line").str.contains(r"^[ \t\n\r\x0b\x0c]*$"))  # bytes.strip()'s blanks
    if not plain(frame) or not _escapes_agree(frame):
        return None
    fields = {config.text_field, config.id_field} | ({config.site_field} if config.site_field else set())
    try:
        decoded = frame.select(pl.col("line").str.json_decode(pl.Struct(dict.fromkeys(sorted(fields), pl.String))))
    except pl.exceptions.PolarsError:
        return None
    decoded = decoded.unnest("line")
    if decoded[config.text_field].null_count():  # the one text field was nested, or the line not an object
        return None
    return documents_frame(decoded, number, config, counters)


@functools.lru_cache(maxsize=16)  # a pure function of the names, built once rather than once a batch
def _plain_lines(text_field: str, id_field: str, site_field: str | None) -> Callable[[pl.DataFrame], bool] | None:
    """A check that every line (column ``line``) is one on which polars and ``jsonl_record`` read the
    same record: the text field occurs once, as a string; the id once at most, as a string, an
    integer or null; the site field likewise (string or null); at most 1,000 brackets (orjson stops
    at 1,024 levels). Escapes: :func:`_escapes_agree`. None when a field's name is not plain enough
    to be found by its spelling. Each count is taken once (in one expression, a count used twice
    was taken twice: the check ran 1.7-2x slower)."""
    names = [text_field, id_field] + ([site_field] if site_field else [])
    if not all(_PLAIN_NAME.fullmatch(name) for name in names):
        return None
    line = pl.col("line")

    def key(name: str, value: str = "") -> pl.Expr:
        return line.str.count_matches(f'"{re.escape(name)}"{_WS}:{_WS}{value}')

    counts = {"text": key(text_field), "text_string": key(text_field, '"'),
              "id": key(id_field), "id_valued": key(id_field, _ID_VALUE),
              "brackets": line.str.count_matches(r"[\[{]")}
    n = pl.col
    plain = ((n("text") == 1) & (n("text_string") == 1) & (n("id") <= 1) & (n("id") == n("id_valued"))
             & (n("brackets") <= 1000))
    if site_field:
        counts |= {"site": key(site_field), "site_valued": key(site_field, _SITE_VALUE)}
        plain &= (n("site") <= 1) & (n("site") == n("site_valued"))

    def all_plain(frame: pl.DataFrame) -> bool:
        return frame.select(**counts).select(plain.all()).item()

    return all_plain


def _escapes_agree(frame: pl.DataFrame) -> bool:
    """No ``\\u`` escape of printable ASCII (a key could hide so), none after an escaped backslash,
    and every surrogate escape in a pair: polars reads a lone high surrogate as U+0000, where Python
    keeps it."""
    line = pl.col("line")
    escaped = frame.filter(line.str.contains(r"\\u"))
    if escaped.is_empty():
        return True
    counts = escaped.select(ascii=line.str.contains(r"\\u00[2-7]|\\\\u"), high=line.str.count_matches(_HIGH),
                            low=line.str.count_matches(_LOW), pairs=line.str.count_matches(_PAIR))
    return counts.select(~pl.col("ascii") & (pl.col("high") == pl.col("pairs")) & (pl.col("low") == pl.col("pairs"))
                         ).to_series().all()


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")


_WS = "[ \\t\\n\\r]*"  # JSON's whitespace


_ID_VALUE = f'(?:"|-?[0-9]+{_WS}[,}}]|null{_WS}[,}}])'


_SITE_VALUE = f'(?:"|null{_WS}[,}}])'


_HIGH = r"\\u[dD][89abAB]"


_LOW = r"\\u[dD][c-fC-F]"


_PAIR = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F]"
