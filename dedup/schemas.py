"""The tables that pass between stages, by name: each stage's input and output columns.

Example:
    >>> list(FINDING_SCHEMA)[:4]
    ['doc', 'block', 'start', 'end']
"""

from __future__ import annotations

import polars as pl

# A batch before its documents are numbered.
RECORDS = {"doc_id": pl.String, "text": pl.String, "site": pl.String}


BLOCK_PRINTS = {"doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "chars": pl.Int32,
                "hash": pl.UInt64, "ntok": pl.Int32, "sig": pl.Int64, "rule": pl.Int8, "frame": pl.UInt64}


DOC_PRINTS = {"doc": pl.Int64, "doc_id": pl.String, "site": pl.String, "chars": pl.Int64, "hash": pl.UInt64,
              "ntok": pl.Int64, "sig": pl.Int64}


KINDS = ("repeat", "boilerplate", "duplicate_block", "duplicate_doc", "repetitive_doc")


# Kinds whose finding is a whole document (its span: the whole text; its block: null).
DOCUMENT_KINDS = ("duplicate_doc", "repetitive_doc")


# Findings before pass 2 fills in ids and text: documents by number.
FINDING_SCHEMA = {
    "doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.Int64,
    "kept_block": pl.Int32, "action": pl.String,
}


REPORT_SCHEMA = {
    "doc_id": pl.String, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.String,
    "kept_block": pl.Int32, "action": pl.String, "text": pl.String,
}
