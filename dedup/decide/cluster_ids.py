"""Cluster ids made from the cluster's representative, the same in every run over the same input.

Inside deciding, a cluster is labelled by its representative's place (``rep``: an occurrence, then
:func:`packed` as document and block). The report's ``cluster`` is a 63-bit hash of the
representative's key: its input's name, its record number there, its block (-1 for a whole
document) and the kind of cluster, so it does not depend on what else the run read, on the order of
the work or on the engine. Two clusters of a run share an id with a chance of about n^2 / 2^64.

Example:
    >>> import polars as pl
    >>> docs = pl.DataFrame({"input": [0, 0], "record": [0, 1]}, schema={"input": pl.Int32, "record": pl.Int64})
    >>> ids = stable_ids(pl.Series([packed(1, 3), packed(1, 3), packed(0, None)]), docs, ["a.jsonl"], "block")
    >>> ids[0] == ids[1] != ids[2], ids[0] > 0
    (True, True)
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

_BLOCK_BITS = 32


def numbered_clusters(frame: pl.DataFrame, also: pl.Expr | None = None) -> pl.DataFrame:
    """Clusters of more than one member (and single members where ``also``), labelled ``cluster`` by
    their representative occurrence ``rep``; ``cluster_size`` is counted unless ``frame`` has it."""
    if "cluster_size" not in frame.columns:
        frame = frame.with_columns(cluster_size=pl.len().over("rep"))
    return (
        frame.filter((pl.col("cluster_size") > 1) | (pl.lit(False) if also is None else also))
        .with_columns(cluster=pl.col("rep").cast(pl.Int64))
    )


def packed(doc, block) -> pl.Expr | int:
    """A representative's document and block in one Int64 (block None/null: the whole document)."""
    if isinstance(doc, pl.Expr) or isinstance(block, pl.Expr):
        block = pl.lit(None, pl.Int64) if block is None else pl.lit(block) if not isinstance(block, pl.Expr) else block
        doc = doc if isinstance(doc, pl.Expr) else pl.lit(doc)
        return doc.cast(pl.Int64) * (1 << _BLOCK_BITS) + (block.cast(pl.Int64) + 1).fill_null(0)
    return doc * (1 << _BLOCK_BITS) + (0 if block is None else block + 1)


def stable_ids(clusters: pl.Series, docs: pl.DataFrame, inputs: list[str], kind: str) -> pl.Series:
    """The report's id of each :func:`packed` representative: a hash of its input's name, record,
    block and ``kind`` (``docs``: ``input`` and ``record`` of every document, by document number)."""
    doc = clusters // (1 << _BLOCK_BITS)
    block = clusters % (1 << _BLOCK_BITS) - 1
    names = pl.Series(inputs, dtype=pl.String)
    frame = pl.DataFrame({"doc": doc, "block": block}).with_columns(
        name=names.gather(docs["input"].gather(doc)), record=docs["record"].gather(doc))
    key = pl.concat_str([pl.col("name"), pl.col("record").cast(pl.String), pl.col("block").cast(pl.String),
                         pl.lit(kind)], separator="\x1f")
    hashed = frame.select(key.alias("key")).select((plh.col("key").nchash.xxh3_64() // 2).cast(pl.Int64))
    return hashed.to_series().alias(clusters.name).set(clusters.is_null(), None)
