"""What a review page needs from the inputs: one more read that keeps the texts of a sample of documents.

A report names documents by id; the page also wants each one's site, the characters cleaning takes
from it, and, for a sample, the whole text (to strike out what is removed and to set copies side by
side). :func:`sample_documents` picks that sample from the report alone, cluster by cluster, so
that every kind is represented and each chosen copy comes with the copy that is kept;
:func:`gather` reads the inputs once, a batch at a time, keeping only those texts.

Example:
    >>> report = pl.DataFrame({"doc_id": ["b", "c"], "kind": ["duplicate_doc", "repeat"],
    ...                        "cluster": [0, 1], "kept_doc": ["a", "c"]})
    >>> sample_documents(report, max_docs=10)
    ['b', 'a', 'c']
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.fingerprint.segment import segment
from dedup.io.batches import record_batches
from dedup.io.sources import Counters, InputError, Source
from dedup.report.csv import unsafe_cell
from dedup.schemas import KINDS, REPORT_SCHEMA

# Documents whose whole text the page carries, and the most characters one of them may have.
MAX_DOCS = 400
MAX_DOC_CHARS = 100_000
# Copies of one cluster shown in full on the page.
COPIES_PER_CLUSTER = 3


@dataclass
class Gathered:
    """The inputs as the page sees them. ``sites`` maps every document of the report to its site
    (None: no site); ``site_documents`` counts every document of the corpus per site; ``texts`` are
    the sample's whole texts and ``kept_blocks`` the span and text of every block that the report
    names as the kept copy of another, by (document, block)."""

    documents: int = 0
    blocks: int = 0
    site_documents: dict[str | None, int] = field(default_factory=dict)
    sites: dict[str, str | None] = field(default_factory=dict)
    chars_removed: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    kept_blocks: dict[tuple[str, int], tuple[int, int, str]] = field(default_factory=dict)


def read_report(path: Path) -> pl.DataFrame:
    """A report CSV written by dedup, typed as the run wrote it (and its ``rule`` column when it has
    one), ids without the quote that kept them from starting a formula; a missing column or a value that is not of its type is an :class:`InputError` naming the
    line."""
    try:
        raw = pl.read_csv(path, infer_schema=False, quote_char='"')
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as problem:
        raise InputError(f"{path}: not a CSV report ({str(problem).splitlines()[0]})") from None
    missing = [c for c in REPORT_SCHEMA if c not in raw.columns]
    if missing:
        raise InputError(f"{path}, line 1: not a dedup report, no column {', '.join(missing)}")
    schema = REPORT_SCHEMA | ({"rule": pl.String} if "rule" in raw.columns else {})
    typed = raw.select(list(schema)).with_columns(pl.col(c).cast(t, strict=False) for c, t in schema.items())
    wrong = raw.select(list(schema)).with_row_index("line", offset=2).with_columns(
        bad=pl.concat_list(pl.when(pl.col(c).is_not_null() & typed[c].is_null().alias(c)).then(pl.lit(c))
                           for c in schema).list.drop_nulls(),
        odd=pl.when(~pl.col("kind").is_in(KINDS)).then(pl.lit("kind"))
        .when(~pl.col("action").is_in(["keep", "remove"])).then(pl.lit("action")))
    wrong = wrong.filter((pl.col("bad").list.len() > 0) | pl.col("odd").is_not_null())
    if len(wrong):
        row = wrong.row(0, named=True)
        column = row["odd"] or row["bad"][0]
        raise InputError(f"{path}, line {row['line']}: {column} {row[column]!r} is not what dedup writes there")
    # ids as the run knew them; texts stay as the CSV has them, as a run's page shows them too
    return typed.with_columns(unsafe_cell(pl.col(c)).alias(c) for c in ("doc_id", "kept_doc"))


def sample_documents(report: pl.DataFrame, max_docs: int | None = None) -> list[str]:
    """Ids of the documents to show whole: clusters taken largest first, one kind after another in
    turn, each with its first COPIES_PER_CLUSTER copies and the kept copy, until ``max_docs``
    (default MAX_DOCS)."""
    max_docs = MAX_DOCS if max_docs is None else max_docs
    if report.is_empty():
        return []
    rows = report.select("doc_id", "kind", "cluster", "kept_doc").with_row_index("row")
    clusters = (rows.group_by("cluster", maintain_order=True)
                .agg(pl.col("kind").first(), n=pl.len(), docs=pl.col("doc_id").head(COPIES_PER_CLUSTER),
                     kept=pl.col("kept_doc").drop_nulls().head(COPIES_PER_CLUSTER)))
    by_kind = [deque(part.sort(["n", "cluster"], descending=[True, False]).iter_rows(named=True))
               for part in clusters.partition_by("kind", maintain_order=True)]
    chosen: dict[str, None] = {}
    while by_kind and len(chosen) < max_docs:
        for queue in list(by_kind):
            cluster = queue.popleft()
            for doc_id in [*cluster["docs"], *cluster["kept"]]:
                if len(chosen) < max_docs:
                    chosen.setdefault(doc_id)
            if not queue:
                by_kind.remove(queue)
    return list(chosen)


def gather(report: pl.DataFrame, sources: list[Source], config: Config, wanted: list[str], *,
           count_blocks: bool = True, origin: str = "the report") -> Gathered:
    """Read ``sources`` once: sites and removed characters of the report's documents, the texts of
    ``wanted`` (those of at most MAX_DOC_CHARS) and of the kept blocks. A document of the report that the inputs do not
    hold, or a span beyond its text, is an :class:`InputError` naming ``origin`` and the line.
    ``count_blocks`` segments every document to count blocks as the run did."""
    found = Gathered()
    numbered = report.with_row_index("line", offset=2)  # the CSV's header is line 1
    ids = numbered["doc_id"].unique().implode()
    wanted_ids = pl.Series(wanted, dtype=pl.String).implode()
    removed = numbered.filter(pl.col("action") == "remove").select(
        "doc_id", "start", "end", whole=pl.col("block").is_null())
    spans = numbered.group_by("doc_id").agg(pl.col("end").max(), line=pl.col("line").sort_by("end").last())
    kept = numbered.filter(pl.col("kept_block").is_not_null()).select(
        "kept_doc", "kept_block").unique().rename({"kept_doc": "doc_id", "kept_block": "block"})
    kept_ids = kept["doc_id"].unique().implode()
    for read in record_batches(sources, config, Counters()):
        batch = read.docs
        found.documents += len(batch)
        for site, count in batch.group_by("site", maintain_order=True).len().iter_rows():
            found.site_documents[site] = found.site_documents.get(site, 0) + count
        if count_blocks:
            found.blocks += len(segment(batch.select("doc", "text"), config.unit))
        found.kept_blocks.update(_kept_blocks(batch.filter(pl.col("doc_id").is_in(kept_ids)), kept, config.unit))
        ours = batch.filter(pl.col("doc_id").is_in(ids)).with_columns(chars=pl.col("text").str.len_chars())
        if ours.is_empty():
            continue
        found.sites.update(ours.select("doc_id", "site").iter_rows())
        _check_spans(ours, spans, origin)
        found.chars_removed.update(_removed_chars(ours, removed).iter_rows())
        texts = ours.filter(pl.col("doc_id").is_in(wanted_ids) & (pl.col("chars") <= MAX_DOC_CHARS))
        found.texts.update(texts.select("doc_id", "text").iter_rows())
    missing = numbered.filter(~pl.col("doc_id").is_in(pl.Series(list(found.sites), dtype=pl.String).implode()))
    if len(missing):
        line, doc_id = missing.row(0, named=True)["line"], missing["doc_id"][0]
        raise InputError(f"{origin}, line {line}: document {doc_id!r} is not in the inputs "
                         "(give the inputs of the run, in the same order, with the same --id-field)")
    return found


def _kept_blocks(docs: pl.DataFrame, kept: pl.DataFrame, unit: str) -> dict[tuple[str, int], tuple[int, int, str]]:
    """Span and text of the ``kept`` blocks (doc_id, block) of ``docs``, segmented as the run did."""
    if docs.is_empty():
        return {}
    blocks = segment(docs.select("doc", "text"), unit).join(docs.select("doc", "doc_id"), on="doc")
    found = blocks.join(kept, on=["doc_id", "block"], how="semi")
    return {(d, b): (s, e, t) for d, b, s, e, t in found.select("doc_id", "block", "start", "end", "raw").iter_rows()}


def _check_spans(docs: pl.DataFrame, spans: pl.DataFrame, origin: str) -> None:
    beyond = docs.join(spans, on="doc_id").filter(pl.col("end") > pl.col("chars"))
    if len(beyond):
        row = beyond.sort("line").row(0, named=True)
        raise InputError(f"{origin}, line {row['line']}: span ends at {row['end']} but document "
                         f"{row['doc_id']!r} has {row['chars']} characters (not the inputs of this report?)")


def _removed_chars(docs: pl.DataFrame, removed: pl.DataFrame) -> pl.DataFrame:
    """Per document, the characters cleaning cuts: the whole text of a dropped one, else each removed
    block with the line break after it (as :mod:`dedup.store.texts` counts them)."""
    cut = removed.join(docs.select("doc_id", "text", "chars"), on="doc_id")
    after = pl.col("text").str.slice(pl.col("end"), 2)
    gap = pl.when(after.str.starts_with("\r\n")).then(2).when(after.str.starts_with("\n")).then(1).otherwise(0)
    return (cut.with_columns(cut=pl.when("whole").then(pl.col("chars")).otherwise(pl.col("end") - pl.col("start") + gap))
            .group_by("doc_id", maintain_order=True)
            .agg(chars=pl.when(pl.col("whole").any()).then(pl.col("chars").first()).otherwise(pl.col("cut").sum()))
            .select("doc_id", pl.col("chars").cast(pl.Int64)))
