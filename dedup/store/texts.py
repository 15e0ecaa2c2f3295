"""Block texts set aside during pass 1, so that a scan fills its report without reading the input again.

Pass 1 already holds every block's text (``raw``); a scan's second read of the input would only be
there to cut those texts out again, and parsing the input is the slowest part of that read. So each
batch's texts go to an Arrow IPC file in the spill folder: one row per block (doc, block, text,
``gap``: the characters of the line break after it, which cleaning cuts with it) and one per
document (block -1, its first 200 characters). Cleaning still reads the input a second time, to
write it out.

Example:
    >>> import polars as pl
    >>> docs = pl.DataFrame({"doc": [0], "text": ["Hi\\r\\nthere\\n"]})
    >>> blocks = pl.DataFrame({"doc": [0, 0], "block": [0, 1], "start": [0, 4], "end": [2, 9], "raw": ["Hi", "there"]})
    >>> batch_texts(docs, blocks).rows()
    [(0, 0, 'Hi', 2), (0, 1, 'there', 1), (0, -1, 'Hi\\r\\nthere\\n', 0)]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from dedup.executors.threads import in_order

# A whole-document finding's report cell holds the document's first characters only.
HEAD_CHARS = 200


TEXT_SCHEMA = {"doc": pl.Int64, "block": pl.Int32, "text": pl.String, "gap": pl.Int8}


def batch_texts(docs: pl.DataFrame, blocks: pl.DataFrame) -> pl.DataFrame:
    """The texts of a batch: ``blocks`` (doc, block, start, end, raw) of ``docs`` (doc, text; ``doc``
    ascending and every block's document among them)."""
    local = np.searchsorted(docs["doc"].to_numpy(), blocks["doc"].to_numpy())
    after = docs["text"].gather(local).str.slice(blocks["end"], 2)
    gap = pl.when(after.str.starts_with("\r\n")).then(2).when(after.str.starts_with("\n")).then(1).otherwise(0)
    return pl.concat([
        blocks.select("doc", "block", text="raw", gap=pl.select(gap).to_series()),
        docs.select("doc", block=pl.lit(-1), text=pl.col("text").str.slice(0, HEAD_CHARS), gap=pl.lit(0)),
    ], how="vertical_relaxed").cast(TEXT_SCHEMA)


class TextStore:
    """The IPC files of :func:`batch_texts`, one per batch, named by the batch's first document."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(exist_ok=True)

    def write(self, texts: pl.DataFrame) -> None:
        """Keep one batch's texts (safe to call from several threads: each batch has its own file)."""
        if len(texts):
            texts.write_ipc(self.folder / f"{int(texts['doc'].min()):012d}.arrow")

    def fill(self, findings: pl.DataFrame, threads: int = 1) -> tuple[pl.DataFrame, int, int]:
        """``findings`` (sorted by doc) with their ``text``; and the characters cleaning would remove
        and the documents it would drop, counted as :func:`dedup.cleaning.second_pass` counts them.
        The batches' files are read, joined and deleted on ``threads`` threads (polars runs without the
        GIL; freeing a file's cached pages is work too)."""
        keyed = findings.with_columns(key=pl.col("block").fill_null(-1))
        doc = keyed["doc"].to_numpy()
        files = sorted(self.folder.glob("*.arrow"))
        firsts = [int(path.stem) for path in files] + [np.iinfo(np.int64).max]
        ranges = [(path, *np.searchsorted(doc, [lo, hi])) for path, lo, hi in zip(files, firsts, firsts[1:])]

        def filled_part(task: tuple[Path, int, int]) -> pl.DataFrame:
            path, a, b = task
            joined = keyed.slice(a, b - a).join(pl.read_ipc(path), left_on=["doc", "key"], right_on=["doc", "block"],
                                                how="left", maintain_order="left")
            # Joined strings are views into the whole batch's buffer, which would keep every batch's
            # texts in memory (1.9 GB at 1M documents); appending "" copies out only the ones needed.
            filled = joined.with_columns(pl.col("text") + "")
            path.unlink()  # here, on a worker thread, rather than with the spill folder at the end
            return filled

        parts = list(in_order(filled_part, [task for task in ranges if task[1] < task[2]], threads))
        for path in files:  # the batches without findings
            path.unlink(missing_ok=True)
        if not parts:
            return findings.with_columns(text=pl.lit(None, pl.String)), 0, 0
        filled = pl.concat(parts)  # the files' document ranges cover every finding, in order
        removed = filled.filter(pl.col("action") == "remove")
        whole = pl.col("block").is_null()
        dropped = removed.filter(whole)
        cut = removed.filter(~whole & ~pl.col("doc").is_in(dropped["doc"].implode()))
        cut_chars = cut.select(pl.col("end") - pl.col("start") + pl.col("gap")).sum().item()
        chars = int(dropped["end"].sum() or 0) + int(cut_chars or 0)
        return filled.select(*findings.columns, "text"), chars, dropped["doc"].n_unique()
