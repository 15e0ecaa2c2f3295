"""Findings on whole documents: copies (``duplicate_doc``) and, on request, ``repetitive_doc``.

Example:
    >>> docs = pl.DataFrame({"doc": [0, 1], "chars": [10, 20], "dup_line_frac": [0.1, 0.5]})
    >>> repetitive_findings(docs, {"dup_line_frac": 0.3}).select("doc", "end", "rule").rows()
    [(1, 20, 'dup_line_frac 0.5 > 0.3')]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dedup.decide.cluster_ids import numbered_clusters, packed
from dedup.fingerprint.kernels import sequence_hashes
from dedup.hashtables import first_in_group
from dedup.match.stage import match
from dedup.schemas import FINDING_SCHEMA


def repetitive_findings(docs: pl.DataFrame, limits: dict[str, float]) -> pl.DataFrame:
    """``repetitive_doc`` rows for documents above any repetition limit (``docs``: doc, chars, stats)."""
    above = pl.any_horizontal([pl.col(name) > limit for name, limit in limits.items()])
    # the first limit passed, with the document's value: "dup_line_frac 0.41 > 0.3"
    rule = pl.coalesce([pl.when(pl.col(name) > limit).then(pl.format(f"{name} {{}} > {limit}", pl.col(name).round(2)))
                        for name, limit in limits.items()])
    return (
        docs.filter(above)
        .select(
            "doc", block=pl.lit(None, pl.Int32), start=pl.lit(0, pl.Int64), end="chars",
            kind=pl.lit("repetitive_doc"), cluster=pl.lit(None, pl.Int64), cluster_size=pl.lit(None, pl.Int64),
            similarity=pl.lit(None, pl.Float64), kept_doc=pl.lit(None, pl.Int64), kept_block=pl.lit(None, pl.Int32),
            action=pl.lit("remove"), rule=rule,
        )
        .cast(FINDING_SCHEMA)
    )


def document_findings(docs: pl.DataFrame, once_cleaned: bool = False) -> pl.DataFrame:
    """``duplicate_doc`` rows for every member of a document cluster but its representative; their
    rule is ``doc exact`` or ``doc aligned 0.93`` (the similarity), with ``once cleaned`` for copies
    that only cleaning makes.

    ``docs``: occurrence, doc, chars, rep (occurrence of the representative), sim.
    """
    rule = pl.when(pl.col("sim") >= 1.0).then(pl.lit("doc exact")).otherwise(
        pl.format("doc aligned {}", pl.col("sim").round(2))) + pl.lit(" once cleaned" if once_cleaned else "")
    clusters = numbered_clusters(docs)
    rep_doc = clusters.select(pl.col("occurrence").alias("rep"), pl.col("doc").alias("kept_doc"))
    return (
        clusters.filter(pl.col("occurrence") != pl.col("rep"))
        .join(rep_doc, on="rep", how="left")
        .select(
            "doc", block=pl.lit(None, pl.Int32), start=pl.lit(0, pl.Int64), end="chars",
            kind=pl.lit("duplicate_doc"), cluster=packed(pl.col("kept_doc"), None), cluster_size="cluster_size",
            similarity="sim", kept_doc="kept_doc", kept_block=pl.lit(None, pl.Int32), action=pl.lit("remove"),
            rule=rule,
        )
        .cast(FINDING_SCHEMA)
    )


def copies_once_cleaned(blocks: pl.DataFrame, block_rows: pl.DataFrame, docs: pl.DataFrame,
                         keep: str) -> pl.DataFrame:
    """``duplicate_doc`` rows for documents that become exact copies of another once their removed
    blocks are gone, so that cleaning a cleaned corpus finds nothing more (DESIGN: idempotence)."""
    # A block by one number (blocks are in document order, and stay so when filtered): 4x an anti-join.
    place = pl.col("doc") * (1 << 32) + pl.col("block").cast(pl.Int64)
    removed = block_rows.filter(pl.col("action") == "remove").select(place)
    # As documents are fingerprinted: without their own exact repeats (a short line twice stays twice).
    left = blocks.select("doc", "block", "hash").filter(~place.is_in(removed.to_series().implode()))
    left = left.filter(first_in_group(left["doc"].to_numpy(), left["hash"].to_numpy()))
    if left.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    per_doc = left.group_by("doc", maintain_order=True).len()
    content = per_doc.select("doc", hash=pl.Series(
        sequence_hashes(left["hash"].to_numpy(), per_doc["len"].to_numpy().astype(np.int64)), dtype=pl.UInt64))
    content = content.join(docs.select("doc", "chars"), on="doc", how="left").with_row_index("occurrence")
    m = match(content["hash"].to_numpy(), np.full(len(content), -1), content["chars"].to_numpy(), keep, None)
    content = content.with_columns(rep=pl.Series(m.rep, dtype=pl.UInt32), sim=pl.Series(m.sim))
    return document_findings(content, once_cleaned=True)
