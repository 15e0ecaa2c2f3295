"""Parquet inputs: batches straight from typed columns (else row by row), and the writer that keeps the schema.

Example:
    >>> rows = pl.DataFrame({"text": ["a", None], "id": [1, 2]})  # the second row has no text
    >>> straight_from_columns(rows.head(1), rows.schema, Config()), straight_from_columns(rows, rows.schema, Config())
    (True, False)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.io.records import (
    ANNOTATION_TYPE,
    ANNOTATIONS,
    Record,
    Writer,
    documents_frame,
    fields_of,
    records_frame,
    reject,
)
from dedup.io.sources import Counters, InputError, Source


def parquet_schema(source: Source, config: Config) -> dict[str, pl.DataType]:
    """The columns of a Parquet source, which must be readable and have the text column."""
    try:
        schema = pl.read_parquet_schema(source.path)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise InputError(f"{source.where}: not a readable Parquet file ({_first_line(err)})") from None
    if config.text_field not in schema:
        raise InputError(f"{source.where}: no {config.text_field!r} column (columns: {', '.join(schema)})")
    return schema


def parquet_records(rows: pl.DataFrame, number: int, schema: dict, source: Source, config: Config,
                    counters: Counters) -> Iterator[Record]:
    """The records of some rows of a Parquet source, the first of which is row ``number`` (a record's
    id when it has none)."""
    for row in rows.iter_rows(named=True):
        text = row[config.text_field]
        if not isinstance(text, str):
            reject(f"{source.where}: record {number} has no {config.text_field!r} text", config, counters)
            number += 1
            continue
        if not text.strip():
            counters.empty_docs += 1
        doc_id, site = fields_of(row.get(config.id_field), row.get(config.site_field) if config.site_field else None,
                                  number)
        number += 1
        yield Record(doc_id, text, site, (row, schema))


def read_parquet(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    schema = parquet_schema(source, config)
    number = 0
    for rows in row_groups(source, 1000):
        yield from parquet_records(rows, number, schema, source, config, counters)
        number += len(rows)


def row_groups(source: Source, rows: int) -> Iterator[pl.DataFrame]:
    """A Parquet source in frames of at most ``rows`` rows; a damaged file (a page that cannot be
    decoded, bad metadata, text that is not UTF-8) raises :class:`InputError` naming it."""
    frames = pl.scan_parquet(source.path).collect_batches(chunk_size=rows)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as err:
            raise InputError(f"{source.where}: a damaged Parquet file ({_first_line(err)})") from None
        yield frame


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class ParquetWriter(Writer):
    """Parquet: rows of a Parquet input keep its schema; records of JSON Lines get the types polars
    infers from them (fields missing in some records are null there), .txt documents an ``id`` and a
    ``text`` column; ``--annotate`` adds a column of the findings (ANNOTATION_TYPE). Rows are buffered in parts on disk, joined on close. Records that make no one
    table (a field that is a number in one and a list in another) raise :class:`InputError`."""

    def __init__(self, target: Path, text_field: str, source: Source, part_rows: int = 2000) -> None:
        self.target, self.text_field, self.source, self.part_rows = target, text_field, source, part_rows
        self.parts = Path(tempfile.mkdtemp(prefix=".parts-", dir=target.parent))
        self.rows: list[dict] = []
        self.schema = None  # None: inferred from the rows
        self.annotated = False
        self.count = 0

    def write(self, record: Record, text: str | None, annotations: list[dict] | None = None) -> None:
        raw = record.raw
        if isinstance(raw, tuple) and isinstance(raw[0], dict):  # a Parquet row and its file's schema
            row, self.schema = raw
        elif isinstance(raw, tuple):  # a JSON Lines line and its object
            row = raw[1]
        else:  # a .txt document
            row, self.schema = {"id": record.doc_id}, {"id": pl.String, self.text_field: pl.String}
        if annotations is not None:
            self.annotated = True
            row = {**row, ANNOTATIONS: annotations}
        if text is not None:
            self.rows.append({**row, self.text_field: text})
        if len(self.rows) >= self.part_rows:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            try:
                typed = {ANNOTATIONS: ANNOTATION_TYPE} if self.annotated else {}
                part = pl.DataFrame(self.rows, schema=None if self.schema is None else self.schema | typed,
                                    schema_overrides=typed if self.schema is None else None, infer_schema_length=None)
            except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError) as err:
                raise self._mixed(err) from None
            part.write_parquet(self.parts / f"{self.count:08d}.parquet")
            self.count += 1
            self.rows = []

    def close(self) -> None:
        try:
            self._flush()
            if self.count and self.schema is not None:
                pl.scan_parquet(self.parts / "*.parquet").sink_parquet(self.target)
            elif self.count:  # parts typed by their own rows: joined by name, types widened
                parts = [pl.scan_parquet(p) for p in sorted(self.parts.glob("*.parquet"))]
                try:
                    pl.concat(parts, how="diagonal_relaxed").sink_parquet(self.target)
                except pl.exceptions.PolarsError as err:
                    raise self._mixed(err) from None
            else:
                typed = {ANNOTATIONS: ANNOTATION_TYPE} if self.annotated else {}
                pl.DataFrame(schema=(self.schema or {self.text_field: pl.String}) | typed).write_parquet(self.target)
        finally:
            shutil.rmtree(self.parts, ignore_errors=True)

    def _mixed(self, err: Exception) -> InputError:
        return InputError(f"{self.source.where}: its records make no one Parquet table ({_first_line(err)}); "
                          "write JSON Lines instead")


def straight_from_columns(rows: pl.DataFrame, schema: dict[str, pl.DataType], config: Config) -> bool:
    """Whether a batch of rows of a Parquet file of ``schema`` becomes records straight from its
    columns, typed as records need them (text strings without nulls, integer or string ids, string
    sites); if not, it is read row by row, as :func:`parquet_records` reads it."""
    typed = schema[config.text_field] == pl.String and (
        config.id_field not in schema or schema[config.id_field] == pl.String or schema[config.id_field].is_integer()
    ) and (not config.site_field or config.site_field not in schema or schema[config.site_field] == pl.String)
    return typed and not rows[config.text_field].null_count()


def parquet_batches(source: Source, config: Config, counters: Counters) -> Iterator[tuple[pl.DataFrame, int]]:
    """A Parquet source in frames, straight from its columns when they are typed as the records need
    (text strings without nulls, integer or string ids, string sites); row by row otherwise. Each comes
    with 0 input bytes: Parquet's progress is counted in documents only."""
    counters.files += 1
    schema = parquet_schema(source, config)
    number = 0  # rows so far, rejected ones included: the id of a record without one
    for rows in row_groups(source, config.batch_docs):
        if straight_from_columns(rows, schema, config):
            ids = [pl.col(config.id_field).cast(pl.String)] if config.id_field in schema else []
            batch = documents_frame(rows.with_columns(*ids), number, config, counters)
        else:
            batch = records_frame(list(parquet_records(rows, number, schema, source, config, counters)))
        number += len(rows)
        yield batch, 0
