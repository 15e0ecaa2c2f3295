"""Reading a corpus as records, and writing a cleaned copy in the same format.

Formats: a folder of .txt files (recursive; id = relative path; site = first-level sub-folder), one
.txt file, JSON Lines (.jsonl, .jsonl.gz, .jsonl.zst, or ``-`` for stdin), and Parquet. Readers
stream: nothing holds the whole corpus. Bad input raises :class:`InputError` naming the file and
line (or record), unless ``on_error="skip"`` counts and skips it.

Example:
    >>> from dedup.config import Config
    >>> sources = open_sources(["seeds"], Config())
    >>> [r.doc_id for r in iter_records(sources[0], Config(), Counters())]
    ['000_4a60dc78fcca73dd.txt']
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

import orjson
import polars as pl
import zstandard

from dedup.config import Config

STDIN = "-"
T = TypeVar("T")


class InputError(Exception):
    """Input that cannot be read as asked; the message names the file and line or record."""


@dataclass
class Counters:
    """What the readers read, skipped or repaired, for the summary and ``--stats-json``."""

    files: int = 0
    records_per_input: list[int] = field(default_factory=list)  # in the order the inputs were given
    records_skipped: int = 0
    binary_files_skipped: int = 0
    invalid_utf8_docs: int = 0
    empty_docs: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(message)


@dataclass(frozen=True)
class Source:
    """One input: ``kind`` is txt-dir, txt, jsonl or parquet; ``name`` labels it in ids and outputs.
    ``stamp`` is a file's size and modification time when it was opened (None for a folder)."""

    path: Path
    kind: str
    name: str
    stamp: tuple[int, int] | None = None

    def changed(self) -> bool:
        """Whether the file's size or modification time differs from when it was opened."""
        return self.stamp is not None and _stamp(self.path) != self.stamp


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


@dataclass
class Record:
    """One document. ``raw`` is what the writer needs to reproduce the record (line bytes, row, file bytes);
    ``size`` the input bytes it took (compressed bytes read since the previous record for .gz/.zst; 0
    for Parquet), for the progress bar's estimate."""

    doc_id: str
    text: str
    site: str | None
    raw: object
    size: int = 0


def detect_kind(path: Path) -> str:
    """txt-dir, txt, jsonl or parquet, from what ``path`` is and how its name ends."""
    if path.is_dir():
        return "txt-dir"
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".json.gz", ".json")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".txt"):
        return "txt"
    raise InputError(f"{path}: cannot tell the format from the name; use --format txt|jsonl|parquet")


def open_sources(inputs: list[str], config: Config, spool_dir: Path | None = None) -> list[Source]:
    """Check every input exists and name its format. ``-`` (stdin) is copied to ``spool_dir`` first,
    because ``clean`` reads the input twice (fingerprints, then the output)."""
    if not inputs:
        raise InputError("no input given")
    sources = []
    for given in inputs:
        if given == STDIN:
            if spool_dir is None:
                raise InputError("-: reading stdin needs a spool folder")
            spooled = spool_dir / "stdin.jsonl"
            with open(spooled, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out)
            sources.append(Source(spooled, "jsonl", "stdin", _stamp(spooled)))
            continue
        path = Path(given)
        if not path.exists():
            raise InputError(f"{given}: no such file or folder")
        kind = detect_kind(path) if config.format == "auto" or path.is_dir() else config.format
        if path.is_dir() and config.format not in ("auto", "txt"):
            raise InputError(f"{given}: a folder is read as .txt files; --format {config.format} needs a file")
        sources.append(Source(path, kind, path.name or str(path), None if path.is_dir() else _stamp(path)))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError(f"two inputs share a name ({', '.join(sorted({n for n in names if names.count(n) > 1}))})")
    return sources


def input_bytes(sources: list[Source]) -> int | None:
    """The bytes the readers will go through (what ``Record.size`` adds up to: compressed bytes for
    .gz and .zst), or None when that is not known in advance (Parquet)."""
    total = 0
    for source in sources:
        if source.kind == "parquet":
            return None
        if source.kind == "txt-dir":
            total += sum(p.stat().st_size for p in source.path.rglob("*.txt") if p.is_file())
        else:
            total += source.path.stat().st_size
    return total


def iter_records(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    """The records of one source, in a fixed order."""
    readers = {"txt-dir": _read_txt_dir, "txt": _read_txt_file, "jsonl": _read_jsonl, "parquet": _read_parquet}
    yield from readers[source.kind](source, config, counters)


def site_of(value: object) -> str | None:
    """The site a ``--site-field`` value names: a URL's host without ``www.``, else the value itself.

    Example: ``site_of("https://www.Example.org:8080/a?b")`` -> ``"example.org"``.
    """
    if value is None:
        return None
    text = str(value).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text or None
    if scheme.lower() in ("http", "https") and not _ODD_URL.search(text):
        # What urlsplit(text).hostname gives for such a URL, without its cost (5 us a record).
        host = _NETLOC_END.split(rest, maxsplit=1)[0].rpartition("@")[2].partition(":")[0].lower()
    else:
        try:
            host = (urlsplit(text).hostname or "").lower()
        except ValueError:  # a malformed IPv6 address: no host can be read
            return None
    return host.removeprefix("www.") or None


def sites_of(values: pl.Series) -> pl.Series:
    """:func:`site_of` over a column of strings, in polars; values that site_of reads with urlsplit,
    and hosts beyond ASCII, go through site_of itself.

    Example: ``sites_of(pl.Series(["https://www.a.org/x", "blog", None])).to_list()`` ->
    ``["a.org", "blog", None]``.
    """
    text, host = pl.col("text"), pl.col("host")
    frame = values.cast(pl.String).alias("v").to_frame().with_columns(text=pl.col("v").str.strip_chars(PY_WHITESPACE))
    # site_of's shortcut: the host of an http(s) URL, between "//" or the last "@" and any ":port"
    frame = frame.with_columns(
        host=text.str.extract(r"^[hH][tT][tT][pP][sS]?://(?:[^/?#]*@)?[^/?#:@]*", 0).str.replace(r"^.*[@/]", ""),
        bare=~text.str.contains("://", literal=True))
    frame = frame.with_columns(
        plain=host.is_not_null() & ~text.str.contains(_ODD_URL.pattern) & host.str.contains(r"^[\x00-\x7f]*$"))
    frame = frame.with_columns(site=pl.when("bare").then(text).when("plain").then(
        host.str.to_lowercase().str.strip_prefix("www.")))
    frame = frame.select("v", site=pl.when(pl.col("site") != "").then("site"),
                         odd=text.is_not_null() & ~pl.col("bare") & ~pl.col("plain"))
    odd = frame["odd"]
    if odd.any():
        rows = odd.arg_true()
        frame = frame.with_columns(frame["site"].scatter(rows, [site_of(v) for v in frame["v"].gather(rows)]))
    return frame["site"].alias(values.name)


# What str.strip() and str.isspace() take for whitespace (tests check it against Python's own).
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                  "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_NETLOC_END = re.compile(r"[/?#]")
# What urlsplit strips from a URL or reads as an IPv6 host: such URLs go through urlsplit itself.
_ODD_URL = re.compile(r"[\t\r\n\[\]]")
# A JSON integer orjson cannot hold exactly (beyond 64 bits, or below -2**63: 19 digits) has at
# least 19 digits.
_LONG_DIGITS = re.compile(rb"\d{19}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode(data: bytes, where: str, config: Config, counters: Counters) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if config.strict:
            raise InputError(f"{where}: invalid UTF-8 at byte {err.start}") from None
        counters.invalid_utf8_docs += 1
        counters.note(f"{where}: invalid UTF-8 at byte {err.start}, replaced with U+FFFD")
        return data.decode("utf-8", errors="replace")


def _txt_record(path: Path, doc_id: str, site: str | None, config: Config, counters: Counters) -> Record | None:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        counters.binary_files_skipped += 1
        counters.note(f"{path}: binary file skipped")
        return None
    text = _decode(data, str(path), config, counters)
    if not text.strip():
        counters.empty_docs += 1
    return Record(doc_id, text, site, data, len(data))


def _read_txt_dir(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    files = sorted((p for p in source.path.rglob("*.txt") if p.is_file()), key=lambda p: p.relative_to(source.path).as_posix())
    for path in files:
        relative = path.relative_to(source.path)
        counters.files += 1
        record = _txt_record(path, relative.as_posix(), relative.parts[0] if len(relative.parts) > 1 else None,
                             config, counters)
        if record is not None:
            yield record


def _read_txt_file(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    record = _txt_record(source.path, source.path.name, None, config, counters)
    if record is not None:
        yield record


def _open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The decompressed stream, and the file it reads from (whose position tells how far along we are)."""
    name = path.name.lower()
    raw = open(path, "rb")  # noqa: SIM115  (the caller closes both)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    if name.endswith(".zst"):
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)), raw
    return raw, raw


def _reject(message: str, config: Config, counters: Counters) -> None:
    if config.on_error == "fail":
        raise InputError(message + " (use --on-error skip to skip such records)")
    counters.records_skipped += 1
    counters.note(message + ", skipped")


def _fields_of(doc_id: object, site: object, number: int) -> tuple[str, str | None]:
    """A record's id (its number when it has none) and site, from its id and site field values."""
    return (str(number) if doc_id is None else str(doc_id)), site_of(site)


def _parse_slowly(line: bytes, where: str, config: Config, counters: Counters) -> object | None:
    """A line orjson (strict RFC 8259, UTF-8 only) refused, read as Python's json reads it, which also
    takes NaN, integers of any size and, after replacement, invalid UTF-8; None when rejected."""
    try:  # without its line break, so that an error's column is on this line
        return json.loads(_decode(line.rstrip(b"\r\n"), where, config, counters))
    except json.JSONDecodeError as err:
        _reject(f"{where}: malformed JSON ({err.msg} at column {err.colno})", config, counters)
        return None
    except RecursionError:  # orjson stops at 1024 levels, json at Python's recursion limit
        _reject(f"{where}: malformed JSON (nested too deeply)", config, counters)
        return None
    except ValueError:  # Python reads integers of at most sys.get_int_max_str_digits() digits
        _reject(f"{where}: malformed JSON (an integer of more than {sys.get_int_max_str_digits()} digits)",
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
        _reject(f"{where}: a JSON object was expected", config, counters)
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
        _reject(f"{where}: record {what} {config.text_field!r} field", config, counters)
        return None
    doc_id, site = _fields_of(doc_id, site, number)
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


@contextlib.contextmanager
def open_jsonl(source: Source) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The open (decompressed stream, underlying file) of a JSON Lines source, closed afterwards; a
    compressed stream that cannot be read raises :class:`InputError`."""
    stream, raw = _open_binary(source.path)
    with raw, stream:
        try:
            yield stream, raw
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as err:
            raise InputError(f"{source.path}: cannot read the compressed stream ({err})") from None


def _read_jsonl(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    number = 0
    read_to = consumed = 0
    with open_jsonl(source) as (stream, raw):
        compressed = stream is not raw
        for lineno, line in enumerate(stream, start=1):
            consumed += len(line)
            record = jsonl_record(line, f"{source.path}:{lineno}", number, config, counters)
            if record is None:
                continue
            number += 1
            size, consumed = consumed, 0  # this line and any skipped since the last record
            if compressed:  # input bytes: how far the compressed file has been read
                size, read_to = raw.tell() - read_to, raw.tell()
            record.size = size
            yield record


def parquet_schema(source: Source, config: Config) -> dict[str, pl.DataType]:
    """The columns of a Parquet source, which must be readable and have the text column."""
    try:
        schema = pl.read_parquet_schema(source.path)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise InputError(f"{source.path}: not a readable Parquet file ({err})") from None
    if config.text_field not in schema:
        raise InputError(f"{source.path}: no {config.text_field!r} column (columns: {', '.join(schema)})")
    return schema


def parquet_records(rows: pl.DataFrame, number: int, schema: dict, source: Source, config: Config,
                    counters: Counters) -> Iterator[Record]:
    """The records of some rows of a Parquet source, the first of which is row ``number`` (a record's
    id when it has none)."""
    for row in rows.iter_rows(named=True):
        text = row[config.text_field]
        if not isinstance(text, str):
            _reject(f"{source.path}: record {number} has no {config.text_field!r} text", config, counters)
            number += 1
            continue
        if not text.strip():
            counters.empty_docs += 1
        doc_id, site = _fields_of(row.get(config.id_field), row.get(config.site_field) if config.site_field else None,
                                  number)
        number += 1
        yield Record(doc_id, text, site, (row, schema))


def _read_parquet(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    schema = parquet_schema(source, config)
    number = 0
    for rows in pl.scan_parquet(source.path).collect_batches(chunk_size=1000):
        yield from parquet_records(rows, number, schema, source, config, counters)
        number += len(rows)


# --- writers -------------------------------------------------------------------------------------


class Writer:
    """Writes one source's cleaned records to ``target`` (a temporary path the caller renames)."""

    def write(self, record: Record, text: str | None) -> None:
        """``text`` None drops the record; ``text == record.text`` keeps it unchanged."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


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

    def write(self, record: Record, text: str | None) -> None:
        if text is None:
            return
        if isinstance(record.raw, tuple) and isinstance(record.raw[0], bytes):
            line, obj = record.raw
            if text == record.text:
                self.stream.write(line if line.endswith(b"\n") else line + b"\n")
                return
            # orjson reads an integer beyond 64 bits as a float: a record with a float (or a nested value)
            # and a long run of digits is read again exactly. Searching every line took 20 us a record.
            if any(isinstance(v, (float, dict, list)) for v in obj.values()) and _LONG_DIGITS.search(line):
                obj = _deep_enough(lambda: json.loads(line.decode("utf-8", errors="replace")))
        elif isinstance(record.raw, tuple):  # a Parquet row
            obj = record.raw[0]
        else:  # a txt document
            obj = {"id": record.doc_id}
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
    return _deep_enough(lambda: _json_line(obj, field, text))


def _json_line(obj: dict, field: str, text: str) -> bytes:
    try:
        head = json.dumps({**obj, field: _PLACEHOLDER}, ensure_ascii=False, default=str).encode("utf-8")
        if head.count(_PLACEHOLDER_JSON) == 1:  # else some other value spells it too
            return head.replace(_PLACEHOLDER_JSON, orjson.dumps(text))
        return json.dumps({**obj, field: text}, ensure_ascii=False, default=str).encode("utf-8")
    except (UnicodeEncodeError, orjson.JSONEncodeError):  # a lone surrogate from a \u escape
        return json.dumps({**obj, field: text}, default=str).encode("ascii")


def _deep_enough(call: Callable[[], T]) -> T:
    """``call()``; if Python's recursion limit stops it, once more with room for 1,100 more levels.
    orjson reads records nested up to 1,024 levels deep, and json's C code counts each level against
    the limit (about 1,000): without this, rewriting such a record crashed ``clean``. (The limit is
    the process's: the second read runs on one thread, with no other at work.)"""
    try:
        return call()
    except RecursionError:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + 1100)
        try:
            return call()
        finally:
            sys.setrecursionlimit(limit)


_PLACEHOLDER = "\x00dedup\x00"
_PLACEHOLDER_JSON = json.dumps(_PLACEHOLDER).encode("ascii")


class TxtWriter(Writer):
    """A .txt file, or a folder of them at the records' relative paths; unchanged files keep their bytes."""

    def __init__(self, target: Path, folder: bool) -> None:
        self.target, self.folder = target, folder
        if folder:
            target.mkdir(parents=True)

    def write(self, record: Record, text: str | None) -> None:
        if text is None:
            return
        path = self.target / record.doc_id if self.folder else self.target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(record.raw if text == record.text else text.encode("utf-8"))

    def close(self) -> None:
        pass


class ParquetWriter(Writer):
    """Parquet with the input's schema; rows are buffered in parts on disk, joined on close."""

    def __init__(self, target: Path, text_field: str, part_rows: int = 2000) -> None:
        self.target, self.text_field, self.part_rows = target, text_field, part_rows
        self.parts = Path(tempfile.mkdtemp(prefix=".parts-", dir=target.parent))
        self.rows: list[dict] = []
        self.schema = None
        self.count = 0

    def write(self, record: Record, text: str | None) -> None:
        row, self.schema = record.raw
        if text is not None:
            self.rows.append({**row, self.text_field: text})
        if len(self.rows) >= self.part_rows:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            pl.DataFrame(self.rows, schema=self.schema).write_parquet(self.parts / f"{self.count:08d}.parquet")
            self.count += 1
            self.rows = []

    def close(self) -> None:
        try:
            self._flush()
            if self.count:
                pl.scan_parquet(self.parts / "*.parquet").sink_parquet(self.target)
            else:
                pl.DataFrame(schema=self.schema or {self.text_field: pl.String}).write_parquet(self.target)
        finally:
            shutil.rmtree(self.parts, ignore_errors=True)


def writer_for(source: Source, target: Path | None, config: Config) -> Writer:
    """The writer that mirrors ``source``'s format at ``target`` (None: JSON Lines on stdout)."""
    if target is None:
        return JsonlWriter(None, config.text_field if source.kind in ("jsonl", "parquet") else "text")
    if source.kind in ("txt-dir", "txt"):
        return TxtWriter(target, folder=source.kind == "txt-dir")
    if source.kind == "parquet":
        return ParquetWriter(target, config.text_field)
    return JsonlWriter(target, config.text_field)


def check_output(out: Path, sources: list[Source], force: bool) -> None:
    """Refuse an output that exists (unless ``force``) or that lies inside, or is, an input."""
    resolved = out.resolve()
    for source in sources:
        src = source.path.resolve()
        if resolved == src or (source.kind == "txt-dir" and resolved.is_relative_to(src)):
            raise InputError(f"{out}: the output would be inside the input {source.path}; choose another --out")
    if out.exists() and not force:
        raise InputError(f"{out}: already exists; use --force to replace it")


def publish(temporary: Path, final: Path) -> None:
    """Move a finished output into place, replacing what stood there (files and folders alike)."""
    if final.is_dir() and not final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
        temporary.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temporary, final)
