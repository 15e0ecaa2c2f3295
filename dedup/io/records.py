"""Records, the unit every format reads and writes: one document's id, text, site, and what its
writer needs to reproduce it; and batches of them as frames.

Bad records raise :class:`dedup.io.sources.InputError` naming file and line, unless
``on_error="skip"`` counts and skips them (:func:`reject`).

Example:
    >>> records_frame([Record("a", "text", None, b"text")]).rows()
    [('a', 'text', None)]
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dedup.config import Config
from dedup.io.sites import PY_WHITESPACE, site_of, sites_of
from dedup.io.sources import Counters, InputError
from dedup.schemas import RECORDS


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


BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark: accepted at the start of a file, never part of the text


def decode(data: bytes, where: str, config: Config, counters: Counters) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if config.strict:
            raise InputError(f"{where}: invalid UTF-8 at byte {err.start}") from None
        counters.invalid_utf8_docs += 1
        counters.note(f"{where}: invalid UTF-8 at byte {err.start}, replaced with U+FFFD")
        return data.decode("utf-8", errors="replace")


def reject(message: str, config: Config, counters: Counters) -> None:
    if config.on_error == "fail":
        raise InputError(message + " (use --on-error skip to skip such records)")
    counters.records_skipped += 1
    counters.note(message + ", skipped")


def fields_of(doc_id: object, site: object, number: int) -> tuple[str, str | None]:
    """A record's id (its number when it has none) and site, from its id and site field values."""
    return (str(number) if doc_id is None else str(doc_id)), site_of(site)


# The field (JSON Lines) or column (Parquet) where ``clean --annotate`` puts a record's findings, and
# the Parquet type of that column: a list with a struct per finding.
ANNOTATIONS = "dedup"
ANNOTATION_TYPE = pl.List(pl.Struct({"kind": pl.String, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64,
                                     "cluster": pl.Int64, "similarity": pl.Float64, "action": pl.String,
                                     "rule": pl.String}))


def has_field(record: Record, name: str) -> bool:
    """Whether a JSON Lines record or a Parquet row has a field ``name`` (a .txt document has none)."""
    if not isinstance(record.raw, tuple):
        return False
    fields = record.raw[0] if isinstance(record.raw[0], dict) else record.raw[1]
    return name in fields


class Writer:
    """Writes one source's cleaned records to ``target`` (a temporary path the caller renames)."""

    def write(self, record: Record, text: str | None, annotations: list[dict] | None = None) -> None:
        """``text`` None drops the record; ``text == record.text`` keeps it unchanged. ``annotations``
        (``--annotate``): the record's findings, added as its ANNOTATIONS field."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def records_frame(rows: list[Record]) -> pl.DataFrame:
    return pl.DataFrame({"doc_id": [r.doc_id for r in rows], "text": [r.text for r in rows],
                         "site": [r.site for r in rows]}, schema=RECORDS)


def documents_frame(rows: pl.DataFrame, number: int, config: Config, counters: Counters) -> pl.DataFrame:
    """doc_id, text and site of records whose text, id and site fields are columns of ``rows`` (text
    without nulls; id and site strings, or absent), the first of them record ``number``: what
    :func:`dedup.io.jsonl.jsonl_record` and :func:`dedup.io.parquet.parquet_records` make of each."""
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
    counters.empty_docs += batch.select(pl.col("text").str.contains(SPACES_ONLY).sum()).item()
    return batch


SPACES_ONLY = f"^[{PY_WHITESPACE}]*$"  # empty, or str.isspace()
