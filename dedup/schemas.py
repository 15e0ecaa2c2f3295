"""The tables that pass between stages, by name: each stage's input and output columns.

Within a run, documents are numbered (``doc``) and blocks by their place in their document; what
means the same in any run, engine or worker count is a document's key, (``input``, ``record``): its
source's place among the inputs and its record's number in that source, and a block's content
hash. Cluster numbers in the report are made from their representative's key
(:mod:`dedup.decide.cluster_ids`).

Example:
    >>> list(FINDING_SCHEMA)[:4]
    ['doc', 'block', 'start', 'end']
"""

from __future__ import annotations

import polars as pl

# read: a batch of records before its documents are numbered
RECORDS = {"doc_id": pl.String, "text": pl.String, "site": pl.String}
# read -> fingerprint: a batch of documents
DOCUMENTS = {"doc": pl.Int64, "doc_id": pl.String, "text": pl.String, "site": pl.String, "input": pl.Int32,
             "record": pl.Int64}
# fingerprint -> match: a row per block (``sig``: its signature row, -1 for none; ``rule``: keep/drop
# rule verdict; ``frame``: template frame hash) and a row per document
BLOCK_PRINTS = {"doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "chars": pl.Int32,
                "hash": pl.UInt64, "ntok": pl.Int32, "sig": pl.Int64, "rule": pl.Int8, "frame": pl.UInt64}
DOC_PRINTS = {"doc": pl.Int64, "doc_id": pl.String, "site": pl.String, "input": pl.Int32, "record": pl.Int64,
              "chars": pl.Int64, "hash": pl.UInt64, "ntok": pl.Int64, "sig": pl.Int64}

KINDS = ("repeat", "boilerplate", "duplicate_block", "duplicate_doc", "repetitive_doc")
# Kinds whose finding is a whole document (its span: the whole text; its block: null).
DOCUMENT_KINDS = ("duplicate_doc", "repetitive_doc")

# decide -> report/clean: findings, documents by number, before their ids and text are filled in
FINDING_SCHEMA = {
    "doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.Int64,
    "kept_block": pl.Int32, "action": pl.String, "rule": pl.String,
}
# report (contract): the CSV's columns
REPORT_SCHEMA = {
    "doc_id": pl.String, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.String,
    "kept_block": pl.Int32, "action": pl.String, "text": pl.String, "rule": pl.String,
}
