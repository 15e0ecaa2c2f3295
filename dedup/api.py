"""The product: ``scan`` and ``clean``, the stages wired together. The CLI is a thin face over this.

read -> fingerprint (pass 1) -> match -> decide -> report / clean (pass 2)

Every option of the ``dedup scan`` and ``dedup clean`` commands is a keyword here, under the same
name and taking the same values (``exact_only=True``, ``memory_limit="4G"``, ``keep_file="k.txt"``,
``report="-"`` for stdout). Nothing is written unless asked. Inputs are what the command takes (a
path, or a list of paths; ``"-"`` is stdin), or documents held in memory: a polars DataFrame with
the text field (and the id and site fields, when given), or a list of strings (ids: 0, 1, ...).

Example:
    >>> result = scan("seeds")
    >>> result.findings.select("kind", "block").rows(), result.stats.documents
    ([('repeat', 5)], 1)
    >>> clean(["one line that repeats itself", "other"], min_repeat_chars=5).cleaned is not None
    True
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import polars as pl

from dedup.cleaning import second_pass
from dedup.config import Config, ConfigError
from dedup.decide.stage import decide
from dedup.fingerprint.collect import fingerprint_corpus
from dedup.index.run import IndexedRun, default_batch_name
from dedup.io.formats import check_output_format
from dedup.io.publish import check_output, write_to
from dedup.io.sources import InputError, open_sources
from dedup.progress import Progress, ProgressBar
from dedup.report import charts
from dedup.report.csv import doc_stats_frame, report_frame, write_csv, write_report
from dedup.report.html import write_html
from dedup.report.review import read_report
from dedup.report.summary import print_summary
from dedup.stats import RunStats
from dedup.store.spill import SpillStore

STDOUT = "-"  # as the value of out, report, stats_json or doc_stats
EXIT_FINDINGS = 3  # what Result.exit_code is when fail_on_findings and anything was flagged

Inputs = str | os.PathLike | pl.DataFrame | Sequence[str] | Sequence[os.PathLike]


@dataclass
class Result:
    """What a run found: the report's rows (``findings``, the CSV's columns), the run's statistics,
    and, for ``clean`` of documents held in memory without ``out``, the cleaned documents."""

    findings: pl.DataFrame
    stats: RunStats
    cleaned: pl.DataFrame | None = None
    fail_on_findings: bool = False

    @property
    def exit_code(self) -> int:
        """The command's exit code: EXIT_FINDINGS when ``fail_on_findings`` and anything was flagged."""
        return EXIT_FINDINGS if self.fail_on_findings and len(self.findings) else 0


def scan(inputs: Inputs, *, report: str | os.PathLike | None = None, doc_stats: str | os.PathLike | None = None,
         stats_json: str | os.PathLike | None = None, fail_on_findings: bool = False, quiet: bool = True,
         progress: Progress | None = None, config: Config | None = None, html: str | os.PathLike | None = None,
         index: str | os.PathLike | None = None, batch: str | None = None, index_read_only: bool = False,
         **options) -> Result:
    """Find repeated, boilerplate and duplicate blocks and documents; change nothing.

    ``options`` are the command's other options (Config fields, ``exact_only``, ``keep_file``, ...).
    ``quiet=False`` shows the command's progress bar (on a terminal) and summary on stderr.
    ``html`` names a review page to write (:mod:`dedup.report.html`; ``"-"``: stdout). ``index``
    (a folder or a Redis URL) checks the input against every batch there, then adds it as ``batch``
    unless ``index_read_only`` (README: "An index that outlives a run").
    """
    if options.get("annotate"):
        raise ConfigError("annotate is an option of clean: scan changes nothing")
    return _job(inputs, None, report=report, doc_stats=doc_stats, stats_json=stats_json, force=False,
                fail_on_findings=fail_on_findings, quiet=quiet, progress=progress, config=config, options=options,
                html=html, indexed=_indexed(index, batch, index_read_only))


def clean(inputs: Inputs, out: str | os.PathLike | None = None, *, report: str | os.PathLike | None = None,
          force: bool = False, doc_stats: str | os.PathLike | None = None, stats_json: str | os.PathLike | None = None,
          fail_on_findings: bool = False, quiet: bool = True, progress: Progress | None = None,
          config: Config | None = None, html: str | os.PathLike | None = None,
          index: str | os.PathLike | None = None, batch: str | None = None, index_read_only: bool = False,
          **options) -> Result:
    """Write a copy of the corpus without the removed blocks and documents to ``out`` (``"-"``: JSON
    Lines on stdout). For documents held in memory, ``out=None`` returns them cleaned in
    ``Result.cleaned`` instead. ``html`` names a review page to write."""
    if out is None and not _in_memory(inputs):
        raise ConfigError("clean needs out (a path, or - for stdout) for inputs read from files")
    return _job(inputs, out, report=report, doc_stats=doc_stats, stats_json=stats_json, force=force,
                fail_on_findings=fail_on_findings, quiet=quiet, progress=progress, config=config, options=options,
                html=html, indexed=_indexed(index, batch, index_read_only))


def review(inputs: Inputs, *, report: str | os.PathLike, html: str | os.PathLike, quiet: bool = True,
           config: Config | None = None, **options) -> Result:
    """Write the review page of an earlier ``report`` CSV to ``html``, reading the run's ``inputs``
    again (given as to the run, with the same input options: ``site_field``, ``unit``, ...).
    ``Result.findings`` is the report; its stats count what the page counted.

    Example: ``review("crawl.jsonl", report="dedup-report.csv", html="review.html", site_field="url")``.
    """
    config = Config.from_options(config, **options)
    charts.require()
    frame = read_report(Path(report))
    with tempfile.TemporaryDirectory(prefix="dedup-", dir=config.spill_dir) as tmp:
        sources = open_sources(_input_list(inputs), config, spool_dir=Path(tmp))
        target = _target(str(html))
        if isinstance(target, Path) and any(target.resolve() == s.path.resolve() for s in sources):
            raise InputError(f"{html}: the review page would overwrite an input")
        stats = write_html(frame, sources, config, target, origin=str(report), read_back=True)
    if not quiet:
        print(f"review page: {'stdout' if str(html) == STDOUT else html}", file=sys.stderr, flush=True)
    return Result(frame, stats)


def _indexed(index, batch: str | None, read_only: bool) -> dict:
    if index is None and (batch is not None or read_only):
        raise ConfigError("--batch and --index-read-only need --index")
    return {"index": None if index is None else os.fspath(index), "batch": batch, "index_read_only": read_only}


def _job(inputs: Inputs, out, *, report, doc_stats, stats_json, force, fail_on_findings, quiet, progress, config,
         options, html=None, indexed=None) -> Result:
    outputs = {"out": out, "report": report, "stats_json": stats_json, "doc_stats": doc_stats, "html": html}
    outputs = {name: None if value is None else str(value) for name, value in outputs.items()}
    to_stdout = [f"--{name.replace('_', '-')}" for name, value in outputs.items() if value == STDOUT]
    if len(to_stdout) > 1:
        raise ConfigError(f"only one of {', '.join(to_stdout)} can be - (stdout); send the others to files")
    config = Config.from_options(config, **options)
    bar = None if quiet or progress is not None or not sys.stderr.isatty() else ProgressBar()
    cleaned = None
    with bar or contextlib.nullcontext(), tempfile.TemporaryDirectory(prefix="dedup-", dir=config.spill_dir) as tmp:
        back = Path(tmp) / "cleaned.parquet" if out is None and _in_memory(inputs) else None  # read back
        frame, stats = run(_input_list(inputs), config, report=_path(outputs["report"]),
                           out=back or _path(outputs["out"]), stdout=outputs["out"] == STDOUT, force=force,
                           progress=progress or bar, doc_stats=_target(outputs["doc_stats"]),
                           html=_target(outputs["html"]), **(indexed or {}))
        if back is not None:
            cleaned = pl.read_parquet(back)
    if outputs["report"] == STDOUT:  # written once the run is over: a failed run writes none
        write_report(frame, sys.stdout.buffer, config.workers)
    if outputs["stats_json"] is not None:
        counters = (json.dumps(asdict(stats), indent=2) + "\n").encode()
        write_to(_target(outputs["stats_json"]), lambda target: target.write(counters))
    if not quiet:
        print_summary(frame, stats, outputs["report"], outputs["out"])
        if html is not None:
            print(f"review page: {'stdout' if outputs['html'] == STDOUT else html}", file=sys.stderr, flush=True)
    return Result(frame, stats, cleaned, fail_on_findings)


def _path(value: str | None) -> Path | None:
    return None if value is None or value == STDOUT else Path(value)


def _target(value: str | None) -> Path | IO[bytes] | None:
    return None if value is None else sys.stdout.buffer if value == STDOUT else Path(value)


def _in_memory(inputs: Inputs) -> bool:
    return isinstance(inputs, pl.DataFrame) or (
        isinstance(inputs, Sequence) and not isinstance(inputs, str) and len(inputs) > 0
        and all(isinstance(i, str) for i in inputs))


def _input_list(inputs: Inputs) -> list[str | pl.DataFrame]:
    """Paths as strings, or one DataFrame of documents (a list of strings becomes one)."""
    if isinstance(inputs, pl.DataFrame):
        return [inputs]
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    items = list(inputs)
    if items and all(isinstance(i, str) for i in items):
        return [pl.DataFrame({"text": items}, schema={"text": pl.String})]
    if all(isinstance(i, os.PathLike) for i in items):
        return [os.fspath(i) for i in items]
    raise ConfigError("inputs: a path, a list of paths (pathlib.Path), a list of texts (str) or a DataFrame")


def run(inputs: list[str | pl.DataFrame], config: Config, *, report: Path | None, out: Path | None = None,
        stdout: bool = False, force: bool = False, progress: Progress | None = None,
        doc_stats: Path | IO[bytes] | None = None, html: Path | IO[bytes] | None = None,
        index: str | None = None, batch: str | None = None, index_read_only: bool = False,
        ) -> tuple[pl.DataFrame, RunStats]:
    """One whole job; ``out``/``stdout`` select cleaning; ``doc_stats`` writes per-document repetition
    statistics; ``html`` the review page; ``index`` checks the input against an index and, unless
    ``index_read_only``, adds it there as ``batch`` once the run has succeeded (:mod:`dedup.index.run`).
    Returns the report frame and the run's stats."""
    if html is not None:
        charts.require()  # before the run, not after it
    if doc_stats is not None and not config.doc_stats:
        config = config.with_(doc_stats=True)
    stats = RunStats()
    with tempfile.TemporaryDirectory(prefix="dedup-", dir=config.spill_dir) as tmp:
        workdir = Path(tmp)
        sources = open_sources(inputs, config, spool_dir=workdir)
        if out is not None:
            check_output(out, sources, force)
            check_output_format(sources, out, config.annotate)
        for written, what in ((report, "report"), (html, "review page")):
            if isinstance(written, Path) and any(written.resolve() == s.path.resolve() for s in sources):
                raise InputError(f"{written}: the {what} would overwrite an input")
        indexed = None if index is None else IndexedRun(
            index, config, batch or default_batch_name(list(dict.fromkeys(
            s.folder.name or str(s.folder) if s.folder else s.name for s in sources))), index_read_only)
        # A scan fills its report from texts set aside in pass 1; cleaning reads the input again anyway.
        store = SpillStore(workdir, config, keep_texts=out is None and not stdout)
        texts = store.texts
        clock = time.perf_counter()
        prints = fingerprint_corpus(sources, config, stats, store, progress)
        stats.seconds["fingerprint"] = time.perf_counter() - clock
        stats.documents = len(prints.docs)
        stats.blocks = len(prints.blocks)  # before decide() takes the block table

        clock = time.perf_counter()
        if progress:
            progress.stage("deciding")
        if indexed is None:
            findings, named = decide(prints, config), prints
        else:
            findings, named = indexed.decide(prints)
        stats.seconds["match_and_decide"] = time.perf_counter() - clock

        clock = time.perf_counter()
        if texts is not None:
            if progress:
                progress.stage("writing the report")
            findings, stats.chars_removed, stats.docs_dropped = texts.fill(findings, config.workers)
        else:
            if progress:
                progress.stage("writing the output", stats.documents)
            findings, stats.chars_removed, stats.docs_dropped = second_pass(
                sources, findings, config, out, workdir, stats.reader.records_per_input, progress)
            if progress:
                progress.stage("writing the report")
        frame = report_frame(findings, named)
        if config.rules is not None and config.rules.drop.lines + config.rules.drop.patterns:
            frame = frame.with_columns(rule=pl.when(pl.col("rule") == "drop-file").then(
                pl.format("drop-file line {}", config.rules.drop.first_line(pl.col("text")))).otherwise("rule"))
        # copies a protection kept are reported (rule "kept: ..."), not counted as findings
        found = frame.filter(~pl.col("rule").str.starts_with("kept: "))
        stats.findings = dict(found.group_by("kind").len().sort("kind").iter_rows())
        if report is not None:
            write_report(frame, report, config.workers)
        if doc_stats is not None:
            write_csv(doc_stats_frame(prints.docs), doc_stats)
        if html is not None:  # here, while inputs spooled to the work folder are still there to read again
            if progress:
                progress.stage("writing the review page")
            write_html(frame, sources, config, html, stats=stats)
        stats.seconds["report_and_clean"] = time.perf_counter() - clock
        if indexed is not None and not index_read_only:
            clock = time.perf_counter()
            indexed.add(prints, findings)
            stats.seconds["index_add"] = time.perf_counter() - clock
        del prints  # release the memory maps before the spill folder goes
    return frame, stats
