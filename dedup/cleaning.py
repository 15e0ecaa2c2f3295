"""``clean``'s second read of the input: the cleaned corpus written out, and each finding's text.

The records are walked in step with the findings (sorted by document), with no Python object per
finding but its text. A document with a removed whole-document finding is left out; from any other,
the removed blocks are cut, each with the line break after it, and every other byte stays. With
``--annotate`` every document stays whole and carries its findings instead. The
output appears only when complete. An input file whose size or modification time changed since pass
1, or an input that gives another number of records, is refused (a .txt file edited in a folder
without changing the number of files is not noticed).

Example:
    >>> removed_spans("one\\ntwo\\r\\nthree", [(4, 7)])
    ('one\\nthree', 5)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.io.formats import iter_records, writer_for
from dedup.io.records import ANNOTATION_TYPE, ANNOTATIONS, Record, Writer, has_field
from dedup.io.sources import Counters, InputError, Source
from dedup.progress import Progress
from dedup.schemas import DOCUMENT_KINDS
from dedup.store.texts import HEAD_CHARS

# Documents written between two updates of the progress bar.
PROGRESS_EVERY = 1000


def removed_spans(text: str, spans: list[tuple[int, int]]) -> tuple[str, int]:
    """``text`` without the spans, each with the line break that follows it; and the characters cut.
    A span that begins inside one already cut is skipped."""
    pieces, cut, at = [], 0, 0
    for start, end in sorted(spans):
        if start < at:
            continue
        if text.startswith("\r\n", end):
            end += 2
        elif text.startswith("\n", end):
            end += 1
        pieces.append(text[at:start])
        cut += end - start
        at = end
    pieces.append(text[at:])
    return "".join(pieces), cut


@dataclass
class Plan:
    """The findings as pass 2 applies them: per row the span, whether it is a whole document and
    whether it is removed; ``rows[d]:rows[d + 1]`` are document d's rows."""

    starts: np.ndarray
    ends: np.ndarray
    whole: np.ndarray
    removes: np.ndarray
    rows: np.ndarray
    details: pl.DataFrame | None = None  # with annotate: what each record is told of its findings

    @classmethod
    def of(cls, findings: pl.DataFrame, annotate: bool = False) -> Plan:
        doc = findings["doc"].to_numpy()
        rows = np.searchsorted(doc, np.arange(int(doc.max()) + 2)) if len(doc) else np.zeros(1, np.int64)
        details = findings.select(list(ANNOTATION_TYPE.inner.to_schema())) if annotate else None
        return cls(findings["start"].to_numpy(), findings["end"].to_numpy(),
                   findings["kind"].is_in(DOCUMENT_KINDS).to_numpy(), (findings["action"] == "remove").to_numpy(),
                   rows, details)

    def annotations(self, number: int) -> list[dict]:
        """Document ``number``'s findings as ``--annotate`` adds them: kind, block, span, cluster,
        similarity, action and rule of each."""
        if self.details is None or number + 1 >= len(self.rows) or self.rows[number] == self.rows[number + 1]:
            return []
        lo, hi = int(self.rows[number]), int(self.rows[number + 1])
        return self.details.slice(lo, hi - lo).to_dicts()

    def of_document(self, number: int) -> tuple[list[int], list[int], list[bool], list[bool]]:
        """Starts, ends, whether whole and whether removed, of document ``number``'s findings."""
        if number + 1 >= len(self.rows):
            return [], [], [], []
        lo, hi = int(self.rows[number]), int(self.rows[number + 1])
        return (self.starts[lo:hi].tolist(), self.ends[lo:hi].tolist(), self.whole[lo:hi].tolist(),
                self.removes[lo:hi].tolist())


@dataclass
class Tally:
    """What pass 2 has done so far: records read, the findings' texts, characters cut, documents dropped."""

    records: int = 0
    texts: list[pl.Series] = field(default_factory=list)
    chars_removed: int = 0
    docs_dropped: int = 0


def one_output_per_source(sources: list[Source]) -> bool:
    """Whether ``--out`` is a folder holding one output per source, under its name: several inputs,
    or the shards of a folder."""
    return len(sources) > 1 or sources[0].folder is not None


def second_pass(sources: list[Source], findings: pl.DataFrame, config: Config, out: Path | None,
                records: list[int], progress: Progress | None = None, *,
                several: bool | None = None) -> tuple[pl.DataFrame, int, int]:
    """Write the cleaned corpus to ``out`` (a temporary of :class:`dedup.io.publish.Outputs`; a folder
    with an entry per source when ``several``, by default :func:`one_output_per_source`; None: JSON
    Lines on stdout); return ``findings`` with their ``text``, the characters removed and the
    documents dropped. ``records`` holds how many records pass 1 read from each source: a source
    that gives another number, or a file whose size or modification time changed, is refused (what
    went to stdout stays). ``progress`` is told the documents written, every PROGRESS_EVERY."""
    plan = Plan.of(findings, config.annotate)
    tally = Tally()
    several = out is not None and (one_output_per_source(sources) if several is None else several)
    if several:
        out.mkdir()
    for source, expected in zip(sources, records, strict=True):
        _check_unchanged(source)
        target = out / source.name if several else out
        if several:
            target.parent.mkdir(parents=True, exist_ok=True)  # a shard's folders inside the dataset's
        writer = writer_for(source, target, config)
        closed = False
        try:
            first = tally.records
            _clean_records(iter_records(source, config, Counters()), plan, writer, tally, first + expected, source,
                           progress, config.annotate)
            closed = True
            writer.close()
            if tally.records - first != expected:
                raise _changed(source, f"{tally.records - first:,} records now, {expected:,} then")
            _check_unchanged(source)
        except BaseException as problem:
            if not closed:
                with contextlib.suppress(Exception):
                    writer.close()
            if isinstance(problem, OSError) and problem.filename is None and target is not None:
                problem.filename = os.fspath(target)  # a full disk: name the output
            raise
    texts = pl.concat(tally.texts) if tally.texts else pl.Series([], dtype=pl.String)
    return findings.with_columns(text=texts), tally.chars_removed, tally.docs_dropped


def _check_unchanged(source: Source) -> None:
    if source.changed():
        raise _changed(source, "its size or modification time")


def _changed(source: Source, how: str) -> InputError:
    return InputError(f"{source.where}: changed since it was first read ({how}); nothing was written")


def _clean_records(records: Iterator[Record], plan: Plan, writer: Writer, tally: Tally, last: int,
                   source: Source, progress: Progress | None, annotate: bool = False) -> None:
    """The records of one source, cleaned and written, in step with their findings' rows; more than
    ``last`` records in all is an error. With ``annotate`` every record keeps its text and gets its
    findings (:data:`dedup.io.records.ANNOTATIONS`) instead; one that has that field already is an
    error."""
    first = tally.records
    texts: list[str] = []
    unreported = 0
    for record in records:
        if tally.records == last:
            raise _changed(source, "more records now")
        text: str | None = record.text
        spans = []
        for start, end, is_whole, remove in zip(*plan.of_document(tally.records)):
            texts.append(record.text[start:end][:HEAD_CHARS] if is_whole else record.text[start:end])
            if remove:
                if is_whole:
                    text = None
                else:
                    spans.append((start, end))
        if annotate:
            if has_field(record, ANNOTATIONS):
                raise InputError(f"{source.where}: record {tally.records - first} already has a {ANNOTATIONS!r} "
                                 "field, where --annotate would put its findings; nothing was written")
            writer.write(record, record.text, plan.annotations(tally.records))
        elif text is None:
            tally.docs_dropped += 1
            tally.chars_removed += len(record.text)
            writer.write(record, text)
        else:
            if spans:
                text, cut = removed_spans(record.text, spans)
                tally.chars_removed += cut
            writer.write(record, text)
        tally.records += 1
        unreported += 1
        if progress and unreported == PROGRESS_EVERY:
            progress.advance(unreported, 0)
            unreported = 0
    if progress and unreported:
        progress.advance(unreported, 0)
    tally.texts.append(pl.Series(texts, dtype=pl.String))
