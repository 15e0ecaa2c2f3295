"""Fingerprints of blocks and documents: exact hashes of the normalised text and MinHash signatures.

Tokens (words, or characters with ``shingle="char"``) are hashed with xxh3_64 inside polars; compiled
kernels (:mod:`dedup.fingerprint.kernels`) then combine them into n-gram shingle hashes and exact hashes, and
apply datasketch 2.0's ``affine32`` permutations. A signature made here therefore equals
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash)`` fed with the same shingles.

Example:
    >>> import numpy as np
    >>> p = Permutations(num_perm=4, seed=1)
    >>> th = token_hashes(pl.Series(["a", "b", "c"]))
    >>> _, sigs, shingles = block_prints(th, np.array([3]), 2, p.a, p.b)
    >>> shingles.tolist() == [shingle_hash(["a", "b"]), shingle_hash(["b", "c"])], sigs.shape
    (True, (1, 4))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import polars_hash as plh
import xxhash

from dedup.config import Config
from dedup.fingerprint.docstats import repetition_stats
from dedup.fingerprint.kernels import POSITION, block_prints, document_prints
from dedup.fingerprint.normalise import normalised
from dedup.fingerprint.rules import NONE
from dedup.fingerprint.segment import segment
from dedup.fingerprint.templates import frame_hashes
from dedup.hashtables import first_ids, first_in_group
from dedup.match.lsh import band_keys, band_shapes
from dedup.schemas import BLOCK_PRINTS
from dedup.store.texts import batch_texts

if TYPE_CHECKING:
    from dedup.io.batches import Batch

_U64 = np.uint64


@dataclass(frozen=True)
class Permutations:
    """datasketch 2.0's ``affine32`` permutations for ``num_perm`` and ``seed``: odd multipliers ``a`` and
    offsets ``b``, drawn as datasketch draws them (tests compare the signatures with datasketch's).

    Drawn here rather than read from ``datasketch.MinHash``: importing datasketch pulls in scipy,
    which every run would pay for.
    """

    a: np.ndarray
    b: np.ndarray

    def __init__(self, num_perm: int, seed: int) -> None:
        draw = np.random.RandomState(seed)
        a = draw.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = draw.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        object.__setattr__(self, "a", np.ascontiguousarray(a, dtype=np.uint32))
        object.__setattr__(self, "b", np.ascontiguousarray(b, dtype=np.uint32))


def shingle_hash(tokens: list[str]) -> int:
    """The 32-bit hash of one shingle, as the vectorised path computes it (for datasketch's hashfunc)."""
    acc = 0
    for k, token in enumerate(tokens):
        acc = (acc + xxhash.xxh3_64_intdigest(token.encode("utf-8")) * int(POSITION[k])) & 0xFFFFFFFFFFFFFFFF
    return (acc ^ (acc >> 32)) & 0xFFFFFFFF


def token_hashes(tokens: pl.Series) -> np.ndarray:
    """xxh3_64 of every token (utf-8), computed inside polars by the polars-hash plugin: the same
    values as ``xxhash.xxh3_64_intdigest``, with no Python call per token.

    Example:
        >>> int(token_hashes(pl.Series(["abc"]))[0]) == xxhash.xxh3_64_intdigest(b"abc")
        True
    """
    return tokens.to_frame("t").select(plh.col("t").nchash.xxh3_64()).to_series().to_numpy()


def _tokens(norm: pl.Series, shingle: str) -> pl.Series:
    if shingle == "char":
        return norm.str.replace_all(" ", "", literal=True).str.split("")
    return norm.str.split(" ")


@dataclass
class BatchPrints:
    """Pass-1 numbers of one batch: no text. ``blocks.sig``/``docs.sig`` index rows of the sig arrays (-1: none).

    ``doc_tokens`` holds the token-hash streams (32 bits) of the signed documents, one after another;
    ``block_shingles`` the shingle hashes of each signed block in text order, ``block_shingle_counts`` long.
    """

    blocks: pl.DataFrame
    block_sigs: np.ndarray
    docs: pl.DataFrame
    doc_sigs: np.ndarray
    doc_tokens: np.ndarray
    block_shingles: np.ndarray
    block_shingle_counts: np.ndarray


@dataclass
class PreparedBatch:
    """The part of a batch's pass 1 that polars does (:func:`prepare`), waiting for the compiled kernels
    (:func:`finish`). Each distinct block text is tokenised once: ``u`` gives each block's distinct
    text, ``lengths`` each distinct text's token count and ``th`` their token hashes, one after another.
    """

    docs: pl.DataFrame
    blocks: pl.DataFrame
    u: np.ndarray
    lengths: np.ndarray
    th: np.ndarray
    doc_stats: pl.DataFrame | None
    texts: pl.DataFrame | None


@dataclass
class KeyedBatch:
    """What pass 1 keeps of one batch: its prints, the LSH band keys of its signatures (a row per
    band; the signatures themselves are not kept), its block texts when a scan sets them aside
    (:func:`dedup.store.texts.batch_texts`), and the input bytes it took, for the progress bar."""

    prints: BatchPrints
    block_keys: np.ndarray
    doc_keys: np.ndarray
    texts: pl.DataFrame | None
    nbytes: int


def fingerprint_batch(batch: Batch, config: Config, keep_texts: bool = False) -> KeyedBatch:
    """Pass 1's stage function: a pure function of one batch (no disk, no global state) and
    picklable with its arguments, so any executor can map it over the batches.

    Example:
        >>> from dedup.io.batches import Batch
        >>> from dedup.schemas import DOCUMENTS
        >>> docs = pl.DataFrame({"doc": [0], "doc_id": ["a"], "text": ["one two three four five six"],
        ...     "site": [None], "input": [0], "record": [0]}, schema=DOCUMENTS)
        >>> keyed = fingerprint_batch(Batch(docs, nbytes=27), Config())
        >>> keyed.block_keys.shape, keyed.nbytes
        ((21, 1), 27)
    """
    prepared = prepare(batch.docs, config, texts=keep_texts)
    prints = finish(prepared, config)
    block_shape, doc_shape = band_shapes(config)
    return KeyedBatch(prints, band_keys(prints.block_sigs, *block_shape), band_keys(prints.doc_sigs, *doc_shape),
                      prepared.texts, batch.nbytes)


def fingerprint(docs: pl.DataFrame, config: Config) -> BatchPrints:
    """Blocks, exact hashes and (with ``config.near``) MinHash signatures of one batch of documents.

    ``docs`` has columns doc (global number), doc_id, text and site. Identical blocks are normalised,
    tokenised, framed and signed once per batch (boilerplate makes many of them).
    """
    return finish(prepare(docs, config), config)


def prepare(docs: pl.DataFrame, config: Config, texts: bool = False) -> PreparedBatch:
    """The polars part of :func:`fingerprint`: blocks, their distinct texts' tokens and token hashes,
    frames and rules; with ``texts``, the batch's block texts (:func:`dedup.store.texts.batch_texts`) too."""
    blocks = segment(docs.select("doc", "text"), config.unit)
    distinct, u = distinct_texts(blocks["raw"])
    tokens = _tokens(distinct.select(normalised(pl.col("raw"))).to_series(), config.shingle)
    lengths = tokens.list.len().to_numpy().astype(np.int64)
    th = token_hashes(tokens.explode()) if len(tokens) else np.empty(0, _U64)
    frames = frame_hashes(distinct.select("raw", ntok=pl.Series(lengths)))
    table = blocks.select(
        "doc", "block", "start", "end",
        chars=(pl.col("end") - pl.col("start")).cast(pl.Int32),
        rule=config.rules.verdict(pl.col("raw")) if config.rules else pl.lit(NONE, pl.Int8),
        frame=frames.gather(u),
    )
    doc_stats = (repetition_stats(docs.select("doc", "text")) if config.doc_stats or config.drop_repetitive
                 else None)
    return PreparedBatch(docs, table, u, lengths, th, doc_stats, batch_texts(docs, blocks) if texts else None)


def finish(prepared: PreparedBatch, config: Config) -> BatchPrints:
    """The compiled part of :func:`fingerprint`: exact hashes and signatures of blocks and documents."""
    n, u, lengths = config.ngram, prepared.u, prepared.lengths
    perms = Permutations(config.num_perm if config.near else 0, config.seed)
    block_hash, block_sigs, shingle_sets = block_prints(prepared.th, lengths, n, perms.a, perms.b)
    signed = lengths >= n
    sig_row = np.full(len(lengths), -1, dtype=np.int64)
    if config.near:
        sig_row[signed] = np.arange(int(np.count_nonzero(signed)))
    else:
        block_sigs, shingle_sets = np.empty((0, config.num_perm), np.uint32), np.empty(0, np.uint32)
    set_sizes = (lengths - n + 1)[signed] if config.near else np.empty(0, np.int64)

    block_table = prepared.blocks.with_columns(
        hash=pl.Series(block_hash[u], dtype=pl.UInt64),
        ntok=pl.Series(lengths[u], dtype=pl.Int32),
        sig=pl.Series(sig_row[u], dtype=pl.Int64),
    ).select(list(BLOCK_PRINTS))
    # Documents are compared without their own exact repeats, as clean would leave them.
    own = first_in_group(block_table["doc"].to_numpy(), block_table["hash"].to_numpy())
    doc_table, doc_sigs, doc_tokens = _document_prints(prepared.docs, block_table["doc"].to_numpy()[own], u[own],
                                                       prepared.th, lengths, sig_row, block_sigs, perms, config)
    if prepared.doc_stats is not None:
        doc_table = doc_table.join(prepared.doc_stats, on="doc", how="left")
    return BatchPrints(block_table, block_sigs, doc_table, doc_sigs, doc_tokens, shingle_sets, set_sizes)


def distinct_texts(raw: pl.Series) -> tuple[pl.DataFrame, np.ndarray]:
    """Each distinct text once (column ``raw``, in order of first appearance) and each row's index
    into them. Texts are grouped by a 64-bit hash in a compiled hash table (three times as fast as
    polars' exact unique and join), then checked against the texts themselves; should two texts ever
    share a hash, the unique and join are used instead. A null counts as one more text.

    Example:
        >>> d, u = distinct_texts(pl.Series(["a", "b", "a"]))
        >>> d["raw"].to_list(), u.tolist()
        (['a', 'b'], [0, 1, 0])
    """
    item, first = first_ids(raw.hash().to_numpy())
    texts = raw.gather(first)
    if texts.gather(item).eq_missing(raw).all():  # a null is not equal to a text
        return texts.alias("raw").to_frame(), item
    distinct = raw.unique(maintain_order=True).alias("raw").to_frame().with_row_index("u")
    u = raw.alias("raw").to_frame().join(distinct, on="raw", how="left", maintain_order="left",
                                         nulls_equal=True)["u"]
    return distinct.drop("u"), u.to_numpy().astype(np.int64)


def _document_prints(docs, occ_doc, occ_u, th, lengths, sig_row, block_sigs, perms, config):
    """Exact hash and signature of each document's whole token stream (its blocks in order)."""
    n = config.ngram
    local = np.searchsorted(docs["doc"].to_numpy(), occ_doc)
    doc_len, doc_hash, full, stream = document_prints(th, lengths, occ_u, local, len(docs), sig_row, block_sigs, n,
                                                      perms.a, perms.b)
    sig = np.full(len(docs), -1, dtype=np.int64)
    doc_sigs = np.empty((0, config.num_perm), dtype=np.uint32)
    doc_tokens = np.empty(0, dtype=np.uint32)
    if config.near:
        has = np.flatnonzero(doc_len >= n)
        doc_sigs = full[has]
        sig[has] = np.arange(len(has))
        doc_tokens = stream[np.repeat(doc_len >= n, doc_len)].astype(np.uint32)

    table = docs.select(
        "doc", "doc_id", "site", "input", "record",
        chars=pl.col("text").str.len_chars().cast(pl.Int64),
        hash=pl.Series(doc_hash, dtype=pl.UInt64),
        ntok=pl.Series(doc_len, dtype=pl.Int64),
        sig=pl.Series(sig, dtype=pl.Int64),
    )
    return table, doc_sigs, doc_tokens
