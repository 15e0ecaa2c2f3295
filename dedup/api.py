"""The product: ``scan`` and ``clean``, the stages wired together (the CLI calls only this).

read -> fingerprint (pass 1) -> match -> decide -> report / clean (pass 2).

Example:
    >>> findings = scan(["seeds"], report=None)
    >>> findings.select("kind", "block").rows()
    [('repeat', 5)]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import IO

import polars as pl

from dedup.clean import second_pass
from dedup.config import Config
from dedup.decide.stage import decide
from dedup.fingerprint.collect import fingerprint_corpus
from dedup.io.publish import check_output
from dedup.io.sources import InputError, open_sources
from dedup.progress import Progress
from dedup.report.csv import doc_stats_frame, report_frame, write_csv, write_report
from dedup.stats import RunStats
from dedup.store.texts import TextStore


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
        frame = report_frame(findings, prints)
        stats.findings = dict(frame.group_by("kind").len().sort("kind").iter_rows())
        if report is not None:
            write_report(frame, report, config.workers)
        if doc_stats is not None:
            write_csv(doc_stats_frame(prints.docs), doc_stats)
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
