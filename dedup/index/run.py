"""A run against an index: the new batch is decided together with what it collides with in the index.

After pass 1 of the new batch, only the index entries that collide with it are fetched: documents and
block texts with the same exact hash or a shared LSH band key, and the kept representatives of their
clusters. They are placed *before* the batch, as earlier documents, so that with ``--keep first``
they are what is kept, and the stages decide as one scan of everything would. Boilerplate counts
come from the per-site counts of the index (:meth:`IndexedRun.site_docs`, :meth:`IndexedRun.site_pages`).
Findings on earlier documents are dropped: earlier batches are never revised. Then, if the run
succeeds, the batch joins the index (:meth:`IndexedRun.add`).

An earlier document is named in the report as ``BATCH:DOC_ID``: as it would be named had its batch
been one more input of this run (a batch's default name is its input's name).

Example:
    >>> import tempfile
    >>> from dedup.config import Config
    >>> run = IndexedRun(tempfile.mkdtemp() + "/idx", Config(), "day1.jsonl")
    >>> run.batch, run.read_only
    ('day1.jsonl', False)
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.decide.stage import decide
from dedup.fingerprint.collect import Prints
from dedup.fingerprint.rules import NONE
from dedup.index import counts, first, open_index
from dedup.index.entries import (
    SELF,
    Entries,
    band_key,
    band_key_of,
    distinct,
    expand,
    ref,
    segment_of,
    site_block_key,
    text_keys,
)
from dedup.index.errors import IndexFault
from dedup.index.reach import reached
from dedup.index.settings import pinned
from dedup.match.clusters import Similarity
from dedup.match.verify import aligned_share, exact_jaccard
from dedup.schemas import BLOCK_PRINTS, DOC_PRINTS, DOCUMENT_KINDS
from dedup.store.bands import BandStore
from dedup.store.streams import Streams

# The site of earlier documents inside a run: never a real site, so they count for no site's pages
# or documents (those come from the index's counts).
EARLIER_SITE = "\x00earlier"
# The columns a run reads of the earlier rows it fetches.
_NEEDED = {"docs": ["doc_id", "input", "record", "chars", "hash", "ntok", "sig", "rep"],
           "items": ["doc", "block", "hash", "chars", "ntok", "sig", "rep"]}
_FILLER = np.uint64(0xA5A5_0000_0000_0000)
_LINK = np.uint64(0x5A5A_0000_0000_0000)


def default_batch_name(names: list[str]) -> str:
    """A batch's name from its inputs' names: ``day1.jsonl``, or ``a.jsonl+b.jsonl``."""
    return "+".join(names)


class IndexedRun:
    """One run checked against the index at ``where`` and, unless ``read_only``, added to it as ``batch``."""

    def __init__(self, where: str, config: Config, batch: str, read_only: bool = False) -> None:
        self.index = open_index(where)
        self.config, self.batch, self.read_only = config, batch, read_only
        self.settings = pinned(config)
        self.index.check(self.settings)
        if not read_only and any(b["name"] == batch for b in self.index.batches):
            raise IndexFault(f"{self.index.where}: a batch named {batch!r} is in the index already "
                             "(--batch NAME names this one)")
        self.names = {b["segment"]: b["name"] for b in self.index.batches}
        self.earlier = 0  # documents placed before the batch

    # -- deciding -----------------------------------------------------------------------------------

    def decide(self, prints: Prints) -> tuple[pl.DataFrame, Prints]:
        """The batch's findings (its documents by number, earlier documents after them) and the prints
        the report names documents from."""
        if not self.index.batches or prints.docs.is_empty():
            self.found_docs = self.found_items = np.empty(0, np.uint64)
            self.doc_refs = self.item_refs = self.phantom_docs = np.empty(0, np.uint64)
            self.new_blocks = prints.blocks.select("doc", "block", "hash", "chars", "ntok", "sig")
            self.found_item_refs = {}
            return decide(prints, self.config), prints
        combined = self._combined(prints)
        findings = decide(combined, self.config, earlier=self)
        n, e = len(prints.docs), self.earlier
        findings = findings.filter(pl.col("doc") >= e).with_columns(
            pl.col("doc") - e,
            kept_doc=pl.when(pl.col("kept_doc") >= e).then(pl.col("kept_doc") - e).otherwise(pl.col("kept_doc") + n))
        named = pl.concat([prints.docs, combined.docs.head(e)], how="diagonal_relaxed")
        return findings, replace(prints, docs=named)

    def _combined(self, prints: Prints) -> Prints:
        index = self.index
        docs, blocks = prints.docs, prints.take_blocks()
        self.new_blocks = blocks.select("doc", "block", "hash", "chars", "ntok", "sig")
        # Documents: the earliest with each exact hash, those sharing a band key, their representatives.
        hashed = docs.filter(pl.col("ntok") > 0)["hash"].unique().to_numpy()
        at, found = first(index, "doc_hash", hashed)
        self.found_docs = np.sort(hashed[at])
        doc_refs, doc_records, doc_matches, doc_streams = self._fetch(
            "docs", found, "doc_band", prints.doc_bands, "doc_tokens", prints.doc_tokens,
            lambda tokens: aligned_share(tokens, self.config.doc_threshold, self.config.workers),
            self.config.doc_threshold)
        # Block texts: the same, by their exact hash and their band keys.
        distinct = blocks["hash"].unique().to_numpy()
        at, found = first(index, "block_hash", distinct)
        self.found_items = np.sort(distinct[at])
        self.found_item_refs = dict(zip(distinct[at].tolist(), found.tolist()))
        item_refs, items, item_matches, item_streams = self._fetch(
            "items", found, "block_band", prints.block_bands, "block_shingles", prints.block_shingles,
            lambda sets: exact_jaccard(sets, self.config.workers), self.config.threshold)
        owners = (index.records("docs", items["doc"], ["doc_id", "input", "record"]) if len(item_refs)
                  else {"doc_id": [], "input": [], "record": np.empty(0, np.int64)})

        doc_sig, doc_keys = self._signed(doc_refs, doc_records, doc_matches, prints.doc_bands)
        item_sig, item_keys = self._signed(item_refs, items, item_matches, prints.block_bands)
        self.doc_refs, self.item_refs = doc_refs, item_refs
        self.phantom_docs = np.concatenate([doc_refs, items["doc"] if len(item_refs) else doc_refs[:0]])
        e = self.earlier = len(doc_refs) + len(item_refs)
        # Earlier documents keep their stable key, (input name, record): cluster ids are made from it.
        names = doc_records["input"] + owners["input"]
        inputs = list(prints.inputs) + sorted(set(names) - set(prints.inputs))
        number = {name: k for k, name in enumerate(inputs)}
        earlier_docs = pl.DataFrame({
            "doc_id": self._named(doc_refs, doc_records["doc_id"]) + self._named(items["doc"], owners["doc_id"]),
            "site": EARLIER_SITE,
            "input": [number[name] for name in names],
            "record": np.concatenate([doc_records["record"], owners["record"]]),
            "chars": np.concatenate([doc_records["chars"], np.zeros(len(item_refs), np.int64)]),
            "hash": np.concatenate([doc_records["hash"], np.zeros(len(item_refs), np.uint64)]),
            "ntok": np.concatenate([doc_records["ntok"], np.zeros(len(item_refs), np.int64)]),
            "sig": np.concatenate([doc_sig, np.full(len(item_refs), -1, np.int64)]),
        }).with_row_index("doc").cast(DOC_PRINTS)
        earlier_blocks = pl.DataFrame({
            "doc": np.arange(len(doc_refs), e, dtype=np.int64), "block": items["block"], "start": 0,
            "end": items["chars"].astype(np.int64), "chars": items["chars"], "hash": items["hash"],
            "ntok": items["ntok"], "sig": item_sig, "rule": NONE, "frame": None,
        }).cast(BLOCK_PRINTS) if len(item_refs) else pl.DataFrame(schema=BLOCK_PRINTS)
        _extend(prints.doc_tokens, *doc_streams)
        _extend(prints.block_shingles, *item_streams)
        store = _Joined(_with_link_band(prints.block_bands, item_keys), _with_link_band(prints.doc_bands, doc_keys),
                        prints.doc_tokens, prints.block_shingles)
        return Prints(pl.concat([earlier_blocks, blocks.with_columns(pl.col("doc") + e)]),
                      pl.concat([earlier_docs, docs.with_columns(pl.col("doc") + e)], how="diagonal_relaxed"),
                      store, inputs)

    def _named(self, refs: np.ndarray, ids: list[str]) -> list[str]:
        return [f"{self.names[s]}:{i}" for s, i in zip(segment_of(refs).tolist(), ids)]

    def _fetch(self, table: str, found: np.ndarray, band_table: str, bands: BandStore, name: str,
               own: Streams, verify: Similarity, threshold: float):
        """Refs (oldest first) of the rows of ``table`` that can change the batch's findings, of those
        found by exact hash, by band key and as the representatives of either (:mod:`dedup.index.reach`);
        their records, the band matches among them (each as ref, band, key) and their streams."""
        refs, hits = [found], np.empty(0, np.uint64)
        if self.config.near and len(bands):  # every band at once: one search of each segment
            keys = [bands.band(b) for b in range(bands.bands)]
            band = np.repeat(np.arange(bands.bands), [len(k) for k in keys])
            keys = np.concatenate(keys)
            at, hits = self.index.lookup(band_table, band_key_of(band, keys))
            refs.append(hits)
            band, key, new_rows = band[at], keys[at], at - band[at] * len(bands)
        refs = distinct(np.concatenate(refs).astype(np.uint64))
        light = self.index.records(table, refs, ["sig", "rep", "hash"])
        reps = distinct(light["rep"])
        more = reps[~_held(refs, reps)]
        if len(more):
            refs = distinct(np.concatenate([refs, more]))
            light = self.index.records(table, refs, ["sig", "rep", "hash"])
        signed = (light["sig"] >= 0) if self.config.near else np.zeros(len(refs), bool)
        streams = self._streams(name, refs[signed], light["sig"][signed])
        if len(hits):
            keep = self._reached(refs, light, signed, found, hits, band, key, new_rows, len(bands), own, streams,
                                 verify, threshold)
            streams = _taken(*streams, keep[signed])
            refs, signed = refs[keep], signed[keep]
            kept = _held(refs, hits)
            matches = [(hits[kept], band[kept], key[kept])]
        else:
            matches = []
        return refs, self.index.records(table, refs, _NEEDED[table]), matches, streams

    def _streams(self, name: str, refs: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The streams of the signed rows ``refs`` (their signature rows ``sig``): flat, lengths."""
        if not len(refs):
            return np.empty(0, np.uint32), np.empty(0, np.int64)
        return self.index.streams(name, ref(0, sig) | (refs & ~np.uint64(0xFFFFFFFF)))

    @staticmethod
    def _reached(refs, light, signed, found, hits, band, key, new_rows, new: int, own: Streams, streams,
                 verify, threshold: float) -> np.ndarray:
        """Which candidates ``refs`` the batch reaches (:func:`dedup.index.reach.reached`), comparing the
        batch's streams ``own`` (its ``new`` signature rows) with the candidates' ``streams``."""
        row = np.full(len(refs), -1, np.int64)  # each signed candidate's number among the signed
        row[signed] = np.arange(int(signed.sum()))
        hit = row[np.searchsorted(refs, hits)]  # every band match has a signature
        signed_rows = np.flatnonzero(signed)
        with np.errstate(over="ignore"):
            code = band.astype(np.int64) << 40 | hit  # a row has one key per band: listed once per band
            order = np.argsort(code)
            once = order[np.r_[True, code[order][1:] != code[order][:-1]]] if len(code) else order
            groups = [(band_key_of(band[once], key[once]), hit[once]),
                      (_LINK ^ (light["rep"][signed] * np.uint64(0x9E3779B97F4A7C15)), row[signed]),
                      (light["hash"][signed], row[signed])]
        exact = row[np.searchsorted(refs, found)]
        flat, lengths = streams
        start = int(own.offsets[new])
        joined = _InMemory(np.concatenate([own.view[:start], flat]) if own.view is not None else flat,
                           np.concatenate([own.offsets[:new + 1], start + np.cumsum(lengths)]))
        reach = reached(len(signed_rows), verify(joined), threshold, new_rows, hit, groups, exact[exact >= 0], new)
        keep = np.zeros(len(refs), bool)
        keep[signed_rows[reach]] = True
        keep[np.searchsorted(refs, found)] = True  # exact copies, signed or not
        return keep

    def _signed(self, refs, records, matches, bands: BandStore):
        """Signature rows of the earlier rows (after the batch's own) and their band keys (each band the
        key it was found by, else a key no other row has; one more band shared with its cluster's
        representative)."""
        signed = (records["sig"] >= 0) if self.config.near else np.zeros(len(refs), bool)
        sig = np.full(len(refs), -1, np.int64)
        sig[signed] = len(bands) + np.arange(int(signed.sum()))
        rows = int(signed.sum())
        keys = (_FILLER | np.arange(rows * (bands.bands + 1), dtype=np.uint64).reshape(bands.bands + 1, rows))
        for hit, band, key in matches:
            keys[band, sig[np.searchsorted(refs, hit)] - len(bands)] = key
        with np.errstate(over="ignore"):
            keys[bands.bands] = _LINK ^ (records["rep"][signed] * np.uint64(0x9E3779B97F4A7C15))
        return sig, keys

    def site_pages(self, sites: pl.Series) -> np.ndarray:
        """Earlier documents of each site (by site name): added to the batch's own pages."""
        return counts(self.index, "site_pages", text_keys(sites.fill_null("").to_list()))

    def site_docs(self, blocks: pl.DataFrame, sites: pl.Series) -> pl.Series:
        """Per block row (``blocks``: doc, rep, site as a number into ``sites``, hash), the earlier
        documents of its site holding any text of its cluster."""
        new = blocks.filter(pl.col("doc") >= self.earlier).select("rep", "site").unique()
        pairs = new.join(blocks.select("rep", "hash").unique(), on="rep")
        if pairs.is_empty():
            return pl.Series("earlier_docs", np.zeros(len(blocks), np.int64))
        site_keys = text_keys(sites.fill_null("").to_list())[pairs["site"].to_numpy()]
        found = counts(self.index, "site_block", site_block_key(site_keys, pairs["hash"].to_numpy()))
        per = pairs.with_columns(earlier_docs=pl.Series(found)).group_by("rep", "site").agg(pl.col("earlier_docs").sum())
        return blocks.select("rep", "site").join(per, on=["rep", "site"], how="left", maintain_order="left")[
            "earlier_docs"].fill_null(0)

    # -- adding -------------------------------------------------------------------------------------

    def add(self, prints: Prints, findings: pl.DataFrame) -> dict:
        """Add the batch (``prints`` of the batch itself, ``findings`` from :meth:`decide`)."""
        return self.index.add(self.entries(prints, findings), self.settings)

    def entries(self, prints: Prints, findings: pl.DataFrame) -> Entries:
        docs, blocks, n = prints.docs, self.new_blocks, len(prints.docs)
        own = lambda rows: ref(SELF, rows)
        # Documents: every one, with its stable key and its kept representative.
        dropped = findings.filter(pl.col("kind").is_in(DOCUMENT_KINDS))
        rep = own(np.arange(n))
        copies = dropped.filter(pl.col("kind") == "duplicate_doc")
        kept = copies["kept_doc"].to_numpy()
        rep[copies["doc"].to_numpy()] = np.where(kept < n, own(np.minimum(kept, n - 1)),
                                                 self._phantom(kept - n))
        input_names = pl.Series(prints.inputs, dtype=pl.String).gather(docs["input"]).to_list()
        records = docs["record"].to_numpy()
        signed_docs = docs.filter(pl.col("sig") >= 0).sort("sig")["doc"].to_numpy()
        hashed = docs.filter(pl.col("ntok") > 0).select("doc", "hash").unique("hash", keep="first", maintain_order=True)
        hashed = hashed.filter(~pl.col("hash").is_in(pl.Series(self.found_docs).implode()))
        dsig = len(signed_docs)
        doc_band_keys = [band_key(b, prints.doc_bands.band(b)[:dsig]) for b in range(prints.doc_bands.bands)] \
            if self.config.near and dsig else []
        tokens = prints.doc_tokens
        # Block texts new to the index, from the documents that stay: where each first stands.
        stays = ~docs["doc"].is_in(dropped["doc"].implode())
        staying = blocks.filter(stays.gather(blocks["doc"]))
        items = staying.unique("hash", keep="first", maintain_order=True).filter(
            ~pl.col("hash").is_in(pl.Series(self.found_items, dtype=pl.UInt64).implode()))
        item_sig = items["sig"].to_numpy() if self.config.near else np.full(len(items), -1)
        signed = item_sig >= 0
        new_sig = np.full(len(items), -1, np.int64)
        new_sig[signed] = np.arange(int(signed.sum()))
        shingles = prints.block_shingles
        positions = expand(shingles.offsets[item_sig[signed]], shingles.offsets[item_sig[signed] + 1])
        block_band_keys = [band_key(b, prints.block_bands.band(b)[item_sig[signed]])
                           for b in range(prints.block_bands.bands)] if signed.any() else []
        site_of = docs["site"].fill_null("")
        per_site = staying.select("doc", "hash").unique()
        per_site = per_site.with_columns(site=site_of.gather(per_site["doc"]))
        site_counts = per_site.group_by("site", "hash").len()
        site_names = site_of.filter(stays).value_counts()
        site_name_keys = text_keys(site_counts["site"].to_list())
        item_rows = np.arange(len(items))
        return Entries(
            name=self.batch, documents=n, blocks=len(blocks),
            keyed={
                "doc_hash": (hashed["hash"].to_numpy(), own(hashed["doc"].to_numpy())),
                "doc_band": (np.concatenate(doc_band_keys) if doc_band_keys else np.empty(0, np.uint64),
                             np.tile(own(signed_docs), len(doc_band_keys))),
                "block_hash": (items["hash"].to_numpy(), own(item_rows)),
                "block_band": (np.concatenate(block_band_keys) if block_band_keys else np.empty(0, np.uint64),
                               np.tile(own(item_rows[signed]), len(block_band_keys))),
                "site_block": (site_block_key(site_name_keys, site_counts["hash"].to_numpy()),
                               site_counts["len"].to_numpy().astype(np.uint64)),
                "site_pages": (text_keys(site_names["site"].to_list()), site_names["count"].to_numpy().astype(np.uint64)),
            },
            records={
                "docs": {"input": input_names, "record": records, "doc_id": docs["doc_id"].to_list(),
                         "site": site_of.to_list(), "chars": docs["chars"].to_numpy(), "hash": docs["hash"].to_numpy(),
                         "ntok": docs["ntok"].to_numpy(), "sig": docs["sig"].to_numpy(), "rep": rep},
                "items": {"doc": own(items["doc"].to_numpy()), "block": items["block"].to_numpy(),
                          "hash": items["hash"].to_numpy(), "chars": items["chars"].to_numpy(),
                          "ntok": items["ntok"].to_numpy(), "sig": new_sig,
                          "rep": self._item_reps(items, findings, n)},
            },
            streams={
                "doc_tokens": (tokens.view[:tokens.offsets[dsig]], np.diff(tokens.offsets[:dsig + 1])),
                "block_shingles": (shingles.view[positions], np.diff(shingles.offsets)[item_sig[signed]]),
            },
        )

    def _phantom(self, rows: np.ndarray) -> np.ndarray:
        """The refs of earlier documents, by their row among those placed before the batch."""
        rows = np.asarray(rows, np.int64)
        if not len(self.phantom_docs):
            return np.zeros(len(rows), np.uint64)
        return self.phantom_docs[np.clip(rows, 0, len(self.phantom_docs) - 1)]

    def _item_reps(self, items: pl.DataFrame, findings: pl.DataFrame, n: int) -> np.ndarray:
        """Each new text's kept representative: the copy its ``duplicate_block`` finding keeps, else itself."""
        reps = ref(SELF, np.arange(len(items)))
        dup = findings.filter(pl.col("kind") == "duplicate_block").select("doc", "block", "kept_doc", "kept_block")
        if dup.is_empty() or items.is_empty():
            return reps
        mine = items.with_row_index("item").join(dup, on=["doc", "block"], how="inner")
        if mine.is_empty():
            return reps
        new_kept = mine.filter(pl.col("kept_doc") < n).join(
            self.new_blocks.select(pl.col("doc").alias("kept_doc"), pl.col("block").alias("kept_block"), "hash"),
            on=["kept_doc", "kept_block"], how="left")
        item_of = dict(zip(items["hash"].to_list(), range(len(items))))
        for row, h in zip(new_kept["item"].to_list(), new_kept["hash"].to_list()):
            if h in item_of:
                reps[row] = ref(SELF, item_of[h])
            elif h in self.found_item_refs:
                reps[row] = np.uint64(self.found_item_refs[h])
        first_item = len(self.doc_refs)
        for row, kept in zip(*mine.filter(pl.col("kept_doc") >= n).select("item", "kept_doc")):
            k = kept - n - first_item
            if 0 <= k < len(self.item_refs):
                reps[row] = self.item_refs[k]
        return reps


@dataclass
class _Joined:
    """What :class:`Prints` reads from its store, for the batch and the earlier rows together."""

    block_bands: BandStore
    doc_bands: BandStore
    doc_tokens: Streams
    block_shingles: Streams
    texts: None = None


def _with_link_band(bands: BandStore, earlier: np.ndarray) -> BandStore:
    """The batch's band keys (a key no other row has in the extra band) and then the earlier rows'."""
    rows = len(bands)
    store = BandStore(bands.bands + 1, None, None)
    own = [bands.band(b) for b in range(bands.bands)]
    own.append(_LINK ^ _FILLER ^ np.arange(rows, dtype=np.uint64))
    store.append(np.concatenate([np.stack(own) if rows else np.empty((bands.bands + 1, 0), np.uint64), earlier],
                                axis=1))
    return store


def _extend(streams: Streams, flat: np.ndarray, lengths: np.ndarray) -> None:
    """Append streams to a closed :class:`Streams` after the rows it has, and map it again."""
    if not len(lengths):
        return
    end = int(streams.offsets[-1])
    with open(streams.path, "ab") as f:
        np.asarray(flat, np.uint32).tofile(f)
    streams.offsets = np.concatenate([streams.offsets, end + np.cumsum(lengths)])
    streams.view = None
    if int(streams.offsets[-1]):
        with open(streams.path, "rb") as f:
            streams.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        streams.view = np.frombuffer(streams.map, dtype=np.uint32)


@dataclass
class _InMemory:
    """Streams held in memory, read as the verifiers read a :class:`Streams`."""

    view: np.ndarray
    offsets: np.ndarray

    def __getitem__(self, i: int) -> np.ndarray:
        return self.view[self.offsets[i]:self.offsets[i + 1]]

    def release(self) -> None:
        """Nothing to give back: the streams are not mapped from a file."""


def _taken(flat: np.ndarray, lengths: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The streams ``keep`` (a mask) of streams ``flat``, ``lengths``."""
    ends = np.cumsum(lengths)
    return flat[expand((ends - lengths)[keep], ends[keep])], lengths[keep]


def _held(sorted_refs: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Which of ``refs`` are in ``sorted_refs`` (sorted, distinct)."""
    at = np.minimum(np.searchsorted(sorted_refs, refs), max(len(sorted_refs) - 1, 0))
    return sorted_refs[at] == refs if len(sorted_refs) else np.zeros(len(refs), bool)

