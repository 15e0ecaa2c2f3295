"""The stages wired together: read -> fingerprint (pass 1) -> match -> decide -> report/clean (pass 2).

Pass 1 keeps numbers per block and document (spans, hashes, band keys, token hashes); a scan also
sets the block texts aside on disk and fills its report from them, while ``clean`` reads the input a
second time (pass 2) to write the output and the report's texts.

Example:
    >>> findings = scan(["seeds"], report=None)
    >>> findings.select("kind", "block").rows()
    [('repeat', 5)]
"""

from __future__ import annotations

import io
import mmap
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl

from dedup.bands import BandStore
from dedup.batches import record_batches
from dedup.cleaning import second_pass
from dedup.config import Config
from dedup.corpus import (
    Counters,
    InputError,
    Source,
    check_output,
    input_bytes,
    open_sources,
)
from dedup.docstats import DEFAULT_LIMITS, STATS_SCHEMA
from dedup.findings import (
    FINDING_SCHEMA,
    REPORT_SCHEMA,
    block_findings,
    boilerplate_min_docs,
    document_findings,
    repetitive_findings,
    safe_text,
)
from dedup.fingerprint import (
    BLOCK_PRINTS,
    DOC_PRINTS,
    BatchPrints,
    PreparedBatch,
    distinct_texts,
    finish,
    prepare,
)
from dedup.frames import join_by_frame
from dedup.kernels import loading, sequence_hashes, warm_up_in_background
from dedup.lsh import band_keys
from dedup.matching import NearSettings, aligned_share, exact_jaccard, match
from dedup.progress import Progress
from dedup.tables import first_in_group
from dedup.texts import TextStore
from dedup.threads import in_order


@dataclass
class RunStats:
    """Counters and stage times of a run (``--stats-json`` writes them)."""

    documents: int = 0
    blocks: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    chars_removed: int = 0
    docs_dropped: int = 0
    band_keys_spilled: bool = False
    workers: int = 1  # --workers: threads that fingerprint and verify
    seconds: dict[str, float] = field(default_factory=dict)
    reader: Counters = field(default_factory=Counters)


@dataclass
class Prints:
    """Pass-1 results of the whole corpus (no text). Document token streams live in a spill file."""

    blocks: pl.DataFrame
    block_bands: BandStore
    docs: pl.DataFrame
    doc_bands: BandStore
    doc_tokens: Streams
    block_shingles: Streams

    def take_blocks(self) -> pl.DataFrame:
        """The block table, leaving an empty one behind: the largest table, so :func:`decide` lets go
        of it as soon as it has its own (filtered) copy."""
        blocks, self.blocks = self.blocks, self.blocks.clear()
        return blocks


class Streams:
    """Append-only store of uint32 streams on disk; ``streams[i]`` is the i-th stream (a slice of a
    read-only memory map of the file). ``release()`` gives the pages read so far back to the OS
    cache, so verifying millions of pairs does not leave the whole file resident in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self.lengths: list[np.ndarray] = []  # one array per batch, never a Python int per stream
        self.offsets = np.zeros(1, dtype=np.int64)
        self.view: np.ndarray | None = None
        self.map: mmap.mmap | None = None

    def append(self, flat: np.ndarray, lengths: np.ndarray) -> None:
        np.asarray(flat, dtype=np.uint32).tofile(self.file)  # no copy when it already is uint32
        self.lengths.append(np.asarray(lengths, dtype=np.int64))

    def close(self) -> None:
        self.file.close()
        if self.lengths:
            self.offsets = np.concatenate(([0], np.cumsum(np.concatenate(self.lengths))))
        self.lengths = []
        if int(self.offsets[-1]):
            with open(self.path, "rb") as f:
                self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self.view = np.frombuffer(self.map, dtype=np.uint32)
        else:
            self.view = np.empty(0, np.uint32)

    def release(self) -> None:
        """Drop this process's resident pages of the file (they stay in the OS cache); a no-op where
        the platform has no ``madvise`` (Windows)."""
        if self.map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self.map.madvise(mmap.MADV_DONTNEED)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.view[self.offsets[i] : self.offsets[i + 1]]


@dataclass
class _Keyed:
    """A batch's prints and the LSH band keys of its signatures, a row per band (only the keys are kept)."""

    prints: BatchPrints
    block_keys: np.ndarray
    doc_keys: np.ndarray


def _prepared_batch(docs: pl.DataFrame, config: Config, texts: TextStore | None) -> PreparedBatch:
    prepared = prepare(docs, config, texts=texts is not None, compiled=not loading())
    if texts is not None:
        texts.write(prepared.texts)
        prepared.texts = None  # on disk now: not held while the batch waits for its kernels
    return prepared


def _keyed(prepared: PreparedBatch, config: Config) -> _Keyed:
    prints = finish(prepared, config)
    block_shape, doc_shape = _band_shapes(config)
    return _Keyed(prints, band_keys(prints.block_sigs, *block_shape), band_keys(prints.doc_sigs, *doc_shape))


def _fingerprint_batch(docs: pl.DataFrame, config: Config, texts: TextStore | None) -> _Keyed | PreparedBatch:
    """The batch's prints; or, while numba is still starting, only its polars part."""
    prepared = _prepared_batch(docs, config, texts)
    return prepared if loading() else _keyed(prepared, config)


# Batches prepared ahead of the kernels while numba starts (each a few MB at the default --batch-docs).
PREPARED_AHEAD = 8


def _fingerprinted(batches: Iterator[pl.DataFrame], config: Config, texts: TextStore | None) -> Iterator[_Keyed]:
    """The batches fingerprinted in order, by ``config.workers`` threads while this one reads on.

    Threads, not processes: the work is polars and compiled kernels, which run without the GIL (pass 1
    ran 1.4-2.0x as fast on two threads as on one, benchmarks/RESULTS.md), and a thread needs
    no start-up (a process pool cost over a second: imports, kernels) and no copy of its batch.
    At most one batch per thread waits ahead, so memory stays bounded; while numba starts (half a
    second, on one core), up to PREPARED_AHEAD more batches get their polars part done meanwhile.
    """
    if config.workers == 1:
        for batch in batches:
            yield _keyed(_prepared_batch(batch, config, texts), config)
        return
    with ThreadPoolExecutor(config.workers, thread_name_prefix="dedup-fingerprint") as pool:
        pending: deque[Future[_Keyed | PreparedBatch]] = deque()

        def finish_prepared() -> None:  # a failed batch stays, for oldest() to raise in its turn
            for i, work in enumerate(pending):
                if work.done() and work.exception() is None and isinstance(work.result(), PreparedBatch):
                    pending[i] = pool.submit(_keyed, work.result(), config)

        def oldest() -> _Keyed:
            done = pending.popleft().result()
            finish_prepared()
            # A prepared oldest batch is finished here: in the pool it would queue behind new batches.
            return done if isinstance(done, _Keyed) else _keyed(done, config)

        try:
            for batch in batches:
                pending.append(pool.submit(_fingerprint_batch, batch, config, texts))
                if not loading():
                    finish_prepared()
                while len(pending) > config.workers + (PREPARED_AHEAD if loading() else 0):
                    yield oldest()
            while pending:
                yield oldest()
        finally:  # on an error or an early stop, batches not begun are dropped, not waited for
            for work in pending:
                work.cancel()


# Documents are candidates when their MinHash Jaccard (word n-grams) is at least this; the aligned
# share then decides. Scattered small edits lower n-gram Jaccard much more than the aligned share.
DOC_CANDIDATE_JACCARD = 0.5


def fingerprint_corpus(sources: list[Source], config: Config, stats: RunStats, spill: Path,
                       progress: Progress | None = None, texts: TextStore | None = None) -> Prints:
    """Pass 1 over every source; with ``texts``, the block texts are set aside there too."""
    blocks, docs = [], []
    tokens = Streams(spill / "doc-tokens.u32")
    shingles = Streams(spill / "block-shingles.u32")
    block_bands, doc_bands = _band_stores(config, spill)
    block_rows = doc_rows = 0
    sizes: deque[int] = deque()  # batches come back in the order they were made
    if progress:
        progress.start(input_bytes(sources))
    warm_up_in_background()  # numba's start-up overlaps with reading and preparing the first batches
    stats.workers = config.workers
    for keyed in _fingerprinted(record_batches(sources, config, stats.reader, sizes), config, texts):
        prints = keyed.prints
        blocks.append(prints.blocks.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + block_rows).otherwise(-1).alias("sig")))
        docs.append(prints.docs.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + doc_rows).otherwise(-1).alias("sig")))
        block_bands.append(keyed.block_keys)
        doc_bands.append(keyed.doc_keys)
        tokens.append(prints.doc_tokens, prints.docs.filter(pl.col("sig") >= 0)["ntok"].to_numpy())
        shingles.append(prints.block_shingles, prints.block_shingle_counts)
        block_rows += keyed.block_keys.shape[1]
        doc_rows += keyed.doc_keys.shape[1]
        nbytes = sizes.popleft()
        if progress:
            progress.advance(len(prints.docs), nbytes)
    tokens.close()
    shingles.close()
    stats.band_keys_spilled = block_bands.spilled or doc_bands.spilled
    return Prints(
        pl.concat(blocks) if blocks else pl.DataFrame(schema=BLOCK_PRINTS),
        block_bands,
        pl.concat(docs) if docs else pl.DataFrame(schema=DOC_PRINTS),
        doc_bands,
        tokens,
        shingles,
    )


def _band_shapes(config: Config) -> tuple[tuple[int, int], tuple[int, int]]:
    """LSH (bands, rows) of blocks (at ``--threshold``) and of documents (at DOC_CANDIDATE_JACCARD)."""
    return config.bands_rows(), config.bands_rows(DOC_CANDIDATE_JACCARD)


def _band_stores(config: Config, spill: Path) -> tuple[BandStore, BandStore]:
    """Band keys of blocks and of documents. With ``--memory-limit``, each may hold an eighth of it in
    memory before it spills to Parquet, a column per band."""
    budget = None if config.memory_limit is None else config.memory_limit // 8
    stores = []
    for name, (bands, _) in zip(("block-bands", "doc-bands"), _band_shapes(config)):
        folder = spill / name
        folder.mkdir()
        stores.append(BandStore(bands, budget, folder))
    return stores[0], stores[1]


def decide(prints: Prints, config: Config) -> pl.DataFrame:
    """All findings (documents by number, no text), sorted by document and block."""
    if prints.docs.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    dropped_rows = (repetitive_findings(prints.docs, DEFAULT_LIMITS) if config.drop_repetitive
                    else pl.DataFrame(schema=FINDING_SCHEMA))
    docs = prints.docs.filter((pl.col("ntok") > 0) & ~pl.col("doc").is_in(dropped_rows["doc"].implode()))
    docs = docs.with_row_index("occurrence")
    near_docs = None
    if config.near:
        near_docs = NearSettings(prints.doc_bands, config.doc_threshold,
                                 aligned_share(prints.doc_tokens, config.doc_threshold, config.workers),
                                 config.workers)
    m = match(docs["hash"].to_numpy(), docs["sig"].to_numpy(), docs["chars"].to_numpy(), config.keep, near_docs)
    docs = docs.with_columns(rep=pl.Series(m.rep, dtype=pl.UInt32), sim=pl.Series(m.sim))
    copies = document_findings(docs.with_columns(pl.col("occurrence").cast(pl.UInt32)))
    doc_rows = pl.concat([dropped_rows, copies])

    # Blocks of the documents that stay, with their site as a number and the site's staying pages.
    # Documents are numbered 0, 1, ... in the order of ``prints.docs``, so per-document values are
    # gathered by number instead of joined (a join would copy every column once more).
    stays = ~prints.docs["doc"].is_in(doc_rows["doc"].implode())
    _, site = distinct_texts(prints.docs["site"])  # a number per site: 1M documents in 0.05 s, not 0.33 s
    per_doc = pl.DataFrame({"site": pl.Series(site, dtype=pl.UInt32), "stays": stays}).with_columns(
        site_pages=pl.col("stays").sum().over("site").cast(pl.Int32))
    blocks = prints.take_blocks()
    doc_index = blocks["doc"]
    if not stays.all():
        blocks = blocks.filter(stays.gather(doc_index))
        doc_index = blocks["doc"]
    blocks = blocks.with_columns(site=per_doc["site"].gather(doc_index),
                                 site_pages=per_doc["site_pages"].gather(doc_index)).with_row_index("occurrence")
    near_blocks = None
    if config.near:
        near_blocks = NearSettings(prints.block_bands, config.threshold,
                                   exact_jaccard(prints.block_shingles, config.workers), config.workers)
    m = match(blocks["hash"].to_numpy(), blocks["sig"].to_numpy(), blocks["chars"].to_numpy(), config.keep,
              near_blocks)
    min_docs = boilerplate_min_docs(config.boilerplate_min_docs, config.prose_words)
    blocks = join_by_frame(blocks.with_columns(
        item=pl.Series(m.item, dtype=pl.UInt32), rep=pl.Series(m.rep, dtype=pl.UInt32), sim=pl.Series(m.sim)), min_docs
    ).drop("sig", "frame")
    block_rows = block_findings(blocks, m.item_similarity, config.min_repeat_chars, min_docs,
                                config.drop_duplicate_blocks, config.keep, config.prose_words)
    block_rows = block_rows.with_columns(pl.col("cluster") + _next_cluster(doc_rows))
    emptied = _copies_once_cleaned(blocks, block_rows, prints.docs, config.keep).with_columns(
        pl.col("cluster") + _next_cluster(doc_rows, block_rows))
    block_rows = block_rows.filter(~pl.col("doc").is_in(emptied["doc"].implode()))
    return pl.concat([doc_rows, emptied, block_rows]).sort("doc", "block", nulls_last=False)


def _next_cluster(*frames: pl.DataFrame) -> int:
    """The first cluster number not used in ``frames`` (each finding kind numbers clusters from 0)."""
    used = [f["cluster"].max() for f in frames if f["cluster"].null_count() < len(f)]
    return max(used) + 1 if used else 0


def _copies_once_cleaned(blocks: pl.DataFrame, block_rows: pl.DataFrame, docs: pl.DataFrame,
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
    return document_findings(content)


def _report_frame(findings: pl.DataFrame, prints: Prints) -> pl.DataFrame:
    # Documents are numbered by their row in prints.docs: ids are gathered, not joined (5x faster).
    ids = prints.docs["doc_id"]
    return (
        findings.with_columns(doc_id=ids.gather(findings["doc"]), kept_doc=ids.gather(findings["kept_doc"]))
        .select(list(REPORT_SCHEMA))
        .cast(REPORT_SCHEMA)
    )


def whole_or_nothing(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` into a temporary file beside ``path``, renamed to it when complete: never a partial file."""
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(temporary, "wb") as out:
            write(out)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_to(target: Path | IO[bytes], write: Callable[[IO[bytes]], None]) -> None:
    """``write`` to a file, whole or not at all (:func:`whole_or_nothing`), or straight to a stream,
    flushed (so that a closed pipe is found here, not when Python exits)."""
    if isinstance(target, Path):
        whole_or_nothing(target, write)
    else:
        write(target)
        target.flush()


def write_csv(frame: pl.DataFrame, target: Path | IO[bytes]) -> None:
    """A CSV, to a file (whole or not at all) or a stream."""
    write_to(target, lambda out: frame.write_csv(out, quote_style="necessary"))


# Rows of the report formatted at a time by one thread.
REPORT_SLICE = 200_000


def write_report(report: pl.DataFrame, target: Path | IO[bytes], threads: int = 1) -> None:
    """The report CSV, to a file (whole or not at all) or a stream: text cells made safe, similarities
    to 4 places. Slices of at most REPORT_SLICE rows, at least one per thread, are formatted on
    ``threads`` threads (polars runs without the GIL) and written in order, a few at a time so that
    only their text is held."""
    rows = max(1, min(REPORT_SLICE, -(-len(report) // threads)))

    def formatted(start: int) -> bytes:
        out = io.BytesIO()
        report.slice(start, rows).with_columns(
            text=safe_text(pl.col("text")), similarity=pl.col("similarity").round(4),
        ).write_csv(out, quote_style="necessary", include_header=start == 0)
        return out.getvalue()

    def write(out: IO[bytes]) -> None:
        starts = range(0, max(len(report), 1), rows)  # an empty report still gets its header
        for group in range(0, len(starts), 2 * threads):
            out.writelines(in_order(formatted, starts[group:group + 2 * threads], threads))

    write_to(target, write)


def _doc_stats_frame(docs: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in STATS_SCHEMA if c != "doc"]
    if docs.is_empty():
        return pl.DataFrame(schema={"doc_id": pl.String} | {c: STATS_SCHEMA[c] for c in columns})
    return docs.select("doc_id", *columns)


def run(inputs: list[str], config: Config, *, report: Path | None, out: Path | None = None, stdout: bool = False,
        force: bool = False, progress: Progress | None = None, doc_stats: Path | IO[bytes] | None = None,
        ) -> tuple[pl.DataFrame, RunStats]:
    """One whole job; ``out``/``stdout`` select cleaning; ``doc_stats`` writes per-document repetition
    statistics. Returns the report frame and the run's stats."""
    if doc_stats is not None and not config.doc_stats:
        config = config.with_(doc_stats=True)
    stats = RunStats()
    with tempfile.TemporaryDirectory(prefix="dedup-", dir=config.spill_dir) as tmp:
        workdir = Path(tmp)
        sources = open_sources(inputs, config, spool_dir=workdir)
        if out is not None:
            check_output(out, sources, force)
        if report is not None and any(report.resolve() == s.path.resolve() for s in sources):
            raise InputError(f"{report}: the report would overwrite an input")
        # A scan fills its report from texts set aside in pass 1; cleaning reads the input again anyway.
        texts = TextStore(workdir / "texts") if out is None and not stdout else None
        clock = time.perf_counter()
        prints = fingerprint_corpus(sources, config, stats, workdir, progress, texts)
        stats.seconds["fingerprint"] = time.perf_counter() - clock
        stats.documents = len(prints.docs)
        stats.blocks = len(prints.blocks)  # before decide() takes the block table

        clock = time.perf_counter()
        later = progress if hasattr(progress, "stage") else None  # a display without stage() sees pass 1 only
        if later:
            later.stage("deciding")
        findings = decide(prints, config)
        stats.seconds["match_and_decide"] = time.perf_counter() - clock

        clock = time.perf_counter()
        if texts is not None:
            if later:
                later.stage("writing the report")
            findings, stats.chars_removed, stats.docs_dropped = texts.fill(findings, config.workers)
        else:
            if later:
                later.stage("writing the output", stats.documents)
            findings, stats.chars_removed, stats.docs_dropped = second_pass(
                sources, findings, config, out, workdir, stats.reader.records_per_input, later)
            if later:
                later.stage("writing the report")
        frame = _report_frame(findings, prints)
        stats.findings = dict(frame.group_by("kind").len().sort("kind").iter_rows())
        if report is not None:
            write_report(frame, report, config.workers)
        if doc_stats is not None:
            write_csv(_doc_stats_frame(prints.docs), doc_stats)
        stats.seconds["report_and_clean"] = time.perf_counter() - clock
        del prints  # release the memory maps before the spill folder goes
    return frame, stats


def _prepared(inputs: list[str] | str, config: Config | None, options: dict) -> tuple[list[str], Config]:
    """The API's inputs as a list of strings, and the Config with ``options`` applied."""
    config = config or Config()
    if options:
        config = config.with_(**options)
    listed = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    return [str(i) for i in listed], config


def scan(inputs: list[str] | str, config: Config | None = None, report: Path | str | None = "dedup-report.csv",
         **options) -> pl.DataFrame:
    """Find repeated, boilerplate and duplicate blocks and documents; return the report as a DataFrame.

    ``options`` are Config fields (``scan("corpus.jsonl", unit="paragraph")``); ``report=None`` writes no CSV.
    """
    inputs, config = _prepared(inputs, config, options)
    frame, _ = run(inputs, config, report=Path(report) if report else None)
    return frame


def clean(inputs: list[str] | str, out: Path | str, config: Config | None = None,
          report: Path | str | None = "dedup-report.csv", force: bool = False, **options) -> pl.DataFrame:
    """Write the cleaned corpus to ``out`` (``"-"``: JSON Lines on stdout) and return the report."""
    inputs, config = _prepared(inputs, config, options)
    stdout = str(out) == "-"
    frame, _ = run(inputs, config, report=Path(report) if report else None,
                   out=None if stdout else Path(out), stdout=stdout, force=force)
    return frame
