"""Pass 1's input: the documents in batches, as frames of doc (global number), doc_id, text and site.

JSON Lines batches are parsed by polars, outside the GIL and without a Python object per record, so
the fingerprinting threads keep working while the next batch is read (benchmarks/RESULTS.md). Polars'
parser is not the one that defines a record, :func:`dedup.corpus.jsonl_record` (orjson, then Python's
json), so a batch goes to polars only when every line in it is one on which the two must agree
(:func:`_plain_lines`); any other batch goes line by line through ``jsonl_record``, which also names
the line of a bad record. Parquet batches come straight from their columns when these are typed as
records need them, else row by row; .txt files from :func:`dedup.corpus.iter_records`.

Example:
    >>> from collections import deque
    >>> from dedup.config import Config
    >>> from dedup.corpus import Counters, open_sources
    >>> config = Config()
    >>> [b.columns for b in record_batches(open_sources(["seeds"], config), config, Counters(), deque())]
    [['doc', 'doc_id', 'text', 'site']]
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterator

import polars as pl

from dedup.config import Config
from dedup.corpus import (
    PY_WHITESPACE,
    Counters,
    Record,
    Source,
    iter_records,
    jsonl_record,
    open_jsonl,
    parquet_records,
    parquet_schema,
    sites_of,
)

# A batch before its documents are numbered.
_RECORDS = {"doc_id": pl.String, "text": pl.String, "site": pl.String}


def record_batches(sources: list[Source], config: Config, counters: Counters, sizes: deque[int]) -> Iterator[pl.DataFrame]:
    """Documents in batches of at most ``config.batch_docs``, never spanning two sources (ids take a
    ``source:`` prefix when there are several). The input bytes of each batch are appended to
    ``sizes`` as it is made, and each source's record count to ``counters.records_per_input``."""
    number = 0
    for source in sources:
        first = number
        prefix = f"{source.name}:" if len(sources) > 1 else ""
        if source.kind == "jsonl":
            batches = _jsonl_batches(source, config, counters, sizes)
        elif source.kind == "parquet":
            batches = _parquet_batches(source, config, counters, sizes)
        else:
            batches = _record_frames(iter_records(source, config, counters), config.batch_docs, sizes)
        for batch in batches:
            yield batch.select(
                pl.int_range(number, number + len(batch), dtype=pl.Int64).alias("doc"),
                (prefix + pl.col("doc_id")).alias("doc_id"), "text", "site")
            number += len(batch)
        counters.records_per_input.append(number - first)


def _record_frames(records: Iterator[Record], size: int, sizes: deque[int]) -> Iterator[pl.DataFrame]:
    while rows := list(itertools.islice(records, size)):
        sizes.append(sum(r.size for r in rows))
        yield _frame(rows)


def _frame(rows: list[Record]) -> pl.DataFrame:
    return pl.DataFrame({"doc_id": [r.doc_id for r in rows], "text": [r.text for r in rows],
                         "site": [r.site for r in rows]}, schema=_RECORDS)


def _jsonl_batches(source: Source, config: Config, counters: Counters, sizes: deque[int]) -> Iterator[pl.DataFrame]:
    counters.files += 1
    plain = _plain_lines(config)
    number = 0  # records so far: the id of a record without one
    first = 1  # the line number of the batch's first line
    read_to = 0
    with open_jsonl(source) as (stream, raw):
        while lines := list(itertools.islice(stream, config.batch_docs)):
            if stream is raw:
                sizes.append(sum(len(line) for line in lines))
            else:  # how far the compressed file has been read
                sizes.append(raw.tell() - read_to)
                read_to = raw.tell()
            batch = _parsed(lines, plain, number, config, counters) if plain is not None else None
            if batch is None:
                rows = []
                for lineno, line in enumerate(lines, start=first):
                    record = jsonl_record(line, f"{source.path}:{lineno}", number + len(rows), config, counters)
                    if record is not None:
                        rows.append(record)
                batch = _frame(rows)
            number += len(batch)
            first += len(lines)
            yield batch


def _parsed(lines: list[bytes], plain: Callable[[pl.DataFrame], bool], number: int, config: Config, counters: Counters) -> pl.DataFrame | None:
    """The records of ``lines`` as polars reads them, or None unless every line is plain."""
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
    return _documents(decoded, number, config, counters)


def _documents(rows: pl.DataFrame, number: int, config: Config, counters: Counters) -> pl.DataFrame:
    """doc_id, text and site of records whose text, id and site fields are columns of ``rows`` (text
    without nulls; id and site strings, or absent), the first of them record ``number``: what
    :func:`dedup.corpus.jsonl_record` and :func:`dedup.corpus.parquet_records` make of each."""
    missing = pl.lit(None, pl.String)
    doc_id = pl.col(config.id_field) if config.id_field in rows.columns else missing
    site = (sites_of(rows[config.site_field]) if config.site_field and config.site_field in rows.columns
            else missing)
    batch = rows.select(
        pl.when(doc_id.is_null()).then(pl.int_range(number, number + len(rows)).cast(pl.String))
        .otherwise(doc_id).alias("doc_id"),
        pl.col(config.text_field).alias("text"),
        site.alias("site"),
    ).rechunk()  # one piece, as later steps expect: a text column in pieces fingerprints 2x slower
    counters.empty_docs += batch.select(pl.col("text").str.contains(_SPACES_ONLY).sum()).item()
    return batch


def _parquet_batches(source: Source, config: Config, counters: Counters, sizes: deque[int]) -> Iterator[pl.DataFrame]:
    """A Parquet source in frames, straight from its columns when they are typed as the records need
    (text strings without nulls, integer or string ids, string sites); row by row otherwise."""
    counters.files += 1
    schema = parquet_schema(source, config)
    typed = schema[config.text_field] == pl.String and (
        config.id_field not in schema or schema[config.id_field] == pl.String or schema[config.id_field].is_integer()
    ) and (not config.site_field or config.site_field not in schema or schema[config.site_field] == pl.String)
    number = 0  # rows so far, rejected ones included: the id of a record without one
    for rows in pl.scan_parquet(source.path).collect_batches(chunk_size=config.batch_docs):
        sizes.append(0)  # Parquet's progress is counted in documents only
        if typed and not rows[config.text_field].null_count():
            ids = [pl.col(config.id_field).cast(pl.String)] if config.id_field in schema else []
            batch = _documents(rows.with_columns(*ids), number, config, counters)
        else:
            batch = _frame(list(parquet_records(rows, number, schema, source, config, counters)))
        number += len(rows)
        yield batch


def _plain_lines(config: Config) -> Callable[[pl.DataFrame], bool] | None:
    """A check that every line (column ``line``) is one on which polars and ``jsonl_record`` read the
    same record: the text field occurs once, as a string; the id once at most, as a string, an
    integer or null; the site field likewise (string or null); at most 1,000 brackets (orjson stops
    at 1,024 levels). Escapes: :func:`_escapes_agree`. None when a field's name is not plain enough
    to be found by its spelling. Each count is taken once (in one expression, a count used twice
    was taken twice: the check ran 1.7-2x slower)."""
    names = [config.text_field, config.id_field] + ([config.site_field] if config.site_field else [])
    if not all(_PLAIN_NAME.fullmatch(name) for name in names):
        return None
    line = pl.col("line")

    def key(name: str, value: str = "") -> pl.Expr:
        return line.str.count_matches(f'"{re.escape(name)}"{_WS}:{_WS}{value}')

    counts = {"text": key(config.text_field), "text_string": key(config.text_field, '"'),
              "id": key(config.id_field), "id_valued": key(config.id_field, _ID_VALUE),
              "brackets": line.str.count_matches(r"[\[{]")}
    n = pl.col
    plain = ((n("text") == 1) & (n("text_string") == 1) & (n("id") <= 1) & (n("id") == n("id_valued"))
             & (n("brackets") <= 1000))
    if config.site_field:
        counts |= {"site": key(config.site_field), "site_valued": key(config.site_field, _SITE_VALUE)}
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
_SPACES_ONLY = f"^[{PY_WHITESPACE}]*$"  # empty, or str.isspace()
