"""The ``dedup`` command: a thin Typer face over :mod:`dedup.api`.

Exit codes: 0 success; 1 bad input or usage (one line on stderr naming the file and line); 3 findings
present and ``--fail-on-findings`` given.

Example:
    $ dedup scan seeds/ --report report.csv
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from contextlib import nullcontext
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, final

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dedup.api import run
from dedup.config import Config, ConfigError, parse_size
from dedup.fingerprint.rules import UserRules
from dedup.io.publish import write_to
from dedup.io.sources import InputError
from dedup.report.csv import write_report
from dedup.schemas import KINDS
from dedup.stats import RunStats

EXIT_BAD_INPUT = 1
EXIT_FINDINGS = 3
EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader (| head) stopped

app = typer.Typer(
    help="Find and remove duplicate and boilerplate text in scraped corpora.\n\n"
    "Examples:\n\n"
    "  dedup scan seeds/                      # report to dedup-report.csv\n\n"
    "  dedup clean crawl.jsonl.zst --out clean.jsonl.zst --site-field url\n\n"
    "  cat pages.jsonl | dedup clean - --out - > clean.jsonl",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)
STDOUT = "-"  # as the value of --out, --report, --stats-json or --doc-stats


class Unit(str, Enum):
    line = "line"
    paragraph = "paragraph"


class Format(str, Enum):
    auto = "auto"
    txt = "txt"
    jsonl = "jsonl"
    parquet = "parquet"


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


class Shingle(str, Enum):
    word = "word"
    char = "char"


class Keep(str, Enum):
    first = "first"
    longest = "longest"


Inputs = Annotated[list[str], typer.Argument(help="Folders of .txt, .txt, .jsonl(.gz|.zst), .parquet files, or - for JSON Lines on stdin.", show_default=False)]
# Strings, not Paths: pathlib would read ./- as -, so a file named - could not be asked for.
ReportOpt = Annotated[str, typer.Option("--report", metavar="<path>",
                                        help="Where the CSV report goes (replaced if it exists); - for stdout.")]
UnitOpt = Annotated[Unit, typer.Option(help="Block = every non-empty line, or blank-line separated paragraph.")]
FormatOpt = Annotated[Format, typer.Option(help="Input format; auto = from the file name.")]
TextField = Annotated[str, typer.Option(help="JSON/Parquet field holding the text.")]
IdField = Annotated[str, typer.Option(help="Field holding the document id (else the record number).")]
SiteField = Annotated[str | None, typer.Option(help="Field naming the site (a URL means its host); boilerplate is counted per site.")]
MinRepeat = Annotated[int, typer.Option(help="A repeat inside one document is flagged only from this many characters.")]
MinDocs = Annotated[int | None, typer.Option(help="A block in at least this many documents of its site is boilerplate [default: adapts to the site: max(2, ceil(sqrt(pages)/2))].")]
ProseWords = Annotated[int, typer.Option(help="Blocks of at least this many words are boilerplate only on half of their site's pages or more.")]
DropDup = Annotated[bool, typer.Option("--drop-duplicate-blocks", help="Also remove blocks that stand in another document.")]
Strict = Annotated[bool, typer.Option("--strict", help="Fail on invalid UTF-8 instead of replacing it.")]
OnErrorOpt = Annotated[OnError, typer.Option(help="On a malformed record: fail, or skip it and count it.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")]
FailOn = Annotated[bool, typer.Option("--fail-on-findings", help=f"Exit with code {EXIT_FINDINGS} when anything is flagged.")]
Exact = Annotated[bool, typer.Option("--exact-only", help="Exact matches of normalised text only (no MinHash).")]
ShingleOpt = Annotated[Shingle, typer.Option(help="Shingles of words, or of characters (for text without spaces).")]
Ngram = Annotated[int, typer.Option(help="Shingle size in words (or characters).")]
NumPerm = Annotated[int, typer.Option(help="MinHash permutations.")]
Threshold = Annotated[float, typer.Option(help="Jaccard similarity from which two blocks are near-duplicates.")]
DocThreshold = Annotated[float, typer.Option(help="Share of the longer document that must line up with the other.")]
KeepOpt = Annotated[Keep, typer.Option(help="Which copy of a cluster is kept: the first in input order, or the longest.")]
Seed = Annotated[int, typer.Option(help="MinHash seed (datasketch-compatible).")]
Workers = Annotated[int | None, typer.Option(help="Threads for fingerprinting, LSH and verifying candidates [default: all cores].")]
MemoryLimit = Annotated[str | None, typer.Option(help="Memory budget, e.g. 4G, for what can spill: LSH band keys go to disk past an eighth of it each (blocks, documents). Not a hard cap on the whole run [default: keep them in memory].")]
KeepFile = Annotated[Path | None, typer.Option(help="Blocks matching a line of this file are never removed (lines, or re:REGEX).")]
DropFile = Annotated[Path | None, typer.Option(help="Blocks matching a line of this file are always removed (lines, or re:REGEX).")]
DocStats = Annotated[str | None, typer.Option(metavar="<path>", help="Write per-document repetition statistics (CSV) here; - for stdout.")]
DropRepetitive = Annotated[bool, typer.Option("--drop-repetitive", help="Drop documents that repeat their own lines or paragraphs beyond the Gopher limits (30% of lines/paragraphs, 20% of characters).")]
StatsJson = Annotated[str | None, typer.Option(metavar="<path>", help="Write the run's counters and stage times as JSON here; - for stdout.")]


def _config(**values) -> Config:
    values = {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}
    values["near"] = not values.pop("exact_only")
    keep_file, drop_file = values.pop("keep_file"), values.pop("drop_file")
    if keep_file or drop_file:
        values["rules"] = UserRules.load(keep_file, drop_file)
    if values.get("workers") is None:
        values.pop("workers")
    limit = values.pop("memory_limit")
    try:
        values["memory_limit"] = None if limit is None else parse_size(limit)
    except ConfigError as problem:
        raise ConfigError(f"--memory-limit: {problem}") from None
    return Config(**values)


@final
class _Bar:
    """The progress bar on stderr. Fingerprinting shows documents, documents/s and, when the input's
    size is known (text and JSON Lines files, compressed or not), the share of input read and the time
    left; later stages show their name and time, and writing a cleaned corpus its documents too."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=None, pulse_style="cyan"),
                            TextColumn("{task.fields[docs]}"), TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), TextColumn("{task.fields[left]}"), console=err, transient=True)
        self.task = self.bar.add_task("fingerprinting", total=None, docs="0 docs", rate="", left="")
        self.docs = 0
        self.by_docs = False  # whether the bar's total counts documents (later stages) or input bytes

    def __enter__(self) -> _Bar:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def start(self, total_bytes: int | None) -> None:
        self.bar.update(self.task, total=total_bytes or None)

    def stage(self, name: str, documents: int | None = None) -> None:
        self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(name, total=documents, docs="", rate="", left="")
        self.docs, self.by_docs = 0, documents is not None

    def advance(self, docs: int, nbytes: int) -> None:
        self.docs += docs
        self.bar.advance(self.task, docs if self.by_docs else nbytes)
        task = self.bar.tasks[self.task]
        elapsed = task.elapsed or 0
        left = task.time_remaining
        self.bar.update(self.task, docs=f"{self.docs:,} docs", rate=f"{self.docs / elapsed:,.0f} docs/s" if elapsed else "",
                        left="" if left is None else f"about {_duration(left)} left")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _progress(quiet: bool) -> _Bar | None:
    return None if quiet or not sys.stderr.isatty() else _Bar()


def _summary(frame, stats: RunStats, report: str | None, out: str | None) -> None:
    table = Table(title="dedup summary", show_header=False, title_justify="left")
    table.add_row("documents", f"{stats.documents:,}")
    table.add_row("blocks", f"{stats.blocks:,}")
    for kind in KINDS:
        table.add_row(f"  {kind}", f"{stats.findings.get(kind, 0):,}")
    table.add_row("characters removed" if out else "characters that clean would remove", f"{stats.chars_removed:,}")
    reader = stats.reader
    for label, count in (("records skipped", reader.records_skipped), ("binary files skipped", reader.binary_files_skipped),
                         ("documents with invalid UTF-8 (replaced)", reader.invalid_utf8_docs),
                         ("empty documents", reader.empty_docs)):
        if count:
            table.add_row(label, f"{count:,}")
    err.print(table)
    top = (frame.filter(pl.col("kind") == "boilerplate").group_by("cluster").agg(
        n=pl.len(), text=pl.col("text").first()).sort(["n", "cluster"], descending=[True, False]).head(5))
    if len(top):
        boiler = Table(title="most frequent boilerplate", title_justify="left")
        # The counts keep their width and the text gets the rest of the line (at 80 columns a fixed
        # 80-character text column took it all and hid the counts); borders and padding take 7.
        counts = [f"{n:,}" for n in top["n"]]
        width = max(len("copies"), *map(len, counts))
        boiler.add_column("copies", justify="right", no_wrap=True, min_width=width)
        boiler.add_column("text", overflow="ellipsis", no_wrap=True, max_width=max(20, min(80, err.width - width - 8)))
        for count, text in zip(counts, top["text"]):
            boiler.add_row(count, text)
        err.print(boiler)
    for problem in reader.problems[:5]:
        err.print(f"[yellow]warning:[/] {problem}", highlight=False)
    if stats.documents == 0:
        err.print("[yellow]warning:[/] the corpus has no documents", highlight=False)
    if report:
        err.print(f"report: {'stdout' if report == STDOUT else report}", highlight=False)
    if out:
        err.print(f"cleaned corpus: {'stdout' if out == STDOUT else out}", highlight=False)


def _execute(*args, **options) -> None:
    """The command; when the reader of stdout stops early (``| head``), it ends quietly with
    EXIT_STDOUT_CLOSED instead of a traceback."""
    try:
        _run_and_write(*args, **options)
    except OSError as problem:
        if not _stdout_closed(problem):
            raise
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):  # Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_STDOUT_CLOSED) from None


def _path_or_stdout(value: str | None) -> Path | IO[bytes] | None:
    return None if value is None else sys.stdout.buffer if value == STDOUT else Path(value)


def _stdout_closed(problem: OSError) -> bool:
    """A write to a pipe whose reader has gone; polars reports it as an OSError without an errno."""
    return isinstance(problem, BrokenPipeError) or "Broken pipe" in str(problem)


def _run_and_write(inputs, report, out, force, quiet, fail_on_findings, stats_json, doc_stats, **options) -> None:
    report_to_stdout = report == STDOUT
    try:
        to_stdout = [name for name, value in (("--out", out), ("--report", report), ("--stats-json", stats_json),
                                              ("--doc-stats", doc_stats)) if value == STDOUT]
        if len(to_stdout) > 1:
            raise ConfigError(f"only one of {', '.join(to_stdout)} can be - (stdout); send the others to files")
        config = _config(**options)
        bar = _progress(quiet)
        with bar or nullcontext():
            frame, stats = run(inputs, config, report=None if report_to_stdout else Path(report),
                               out=None if out in (None, STDOUT) else Path(out), stdout=out == STDOUT, force=force,
                               progress=bar, doc_stats=_path_or_stdout(doc_stats))
    except (InputError, ConfigError) as problem:
        err.print(f"dedup: error: {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if report_to_stdout:  # written once the run is over: a failed run writes none
        write_report(frame, sys.stdout.buffer, config.workers)
    if stats_json:
        counters = (json.dumps(asdict(stats), indent=2) + "\n").encode()
        write_to(_path_or_stdout(stats_json), lambda target: target.write(counters))
    if not quiet:
        _summary(frame, stats, report, out)
    if fail_on_findings and len(frame):
        raise typer.Exit(EXIT_FINDINGS)


@app.command(epilog="Examples:\n\n  dedup scan seeds/\n\n  dedup scan crawl.jsonl --site-field url --report findings.csv\n\n"
             "  dedup scan pages/ --unit paragraph --fail-on-findings")
def scan(
    inputs: Inputs,
    report: ReportOpt = "dedup-report.csv",
    unit: UnitOpt = Unit.line,
    format: FormatOpt = Format.auto,
    text_field: TextField = "text",
    id_field: IdField = "id",
    site_field: SiteField = None,
    min_repeat_chars: MinRepeat = Config.min_repeat_chars,
    boilerplate_min_docs: MinDocs = None,
    prose_words: ProseWords = Config.prose_words,
    drop_duplicate_blocks: DropDup = False,
    exact_only: Exact = False,
    shingle: ShingleOpt = Shingle.word,
    ngram: Ngram = Config.ngram,
    num_perm: NumPerm = Config.num_perm,
    threshold: Threshold = Config.threshold,
    doc_threshold: DocThreshold = Config.doc_threshold,
    keep: KeepOpt = Keep.first,
    seed: Seed = Config.seed,
    workers: Workers = None,
    memory_limit: MemoryLimit = None,
    strict: Strict = False,
    on_error: OnErrorOpt = OnError.fail,
    keep_file: KeepFile = None,
    drop_file: DropFile = None,
    drop_repetitive: DropRepetitive = False,
    doc_stats: DocStats = None,
    fail_on_findings: FailOn = False,
    stats_json: StatsJson = None,
    quiet: Quiet = False,
) -> None:
    """Report repeated, boilerplate and duplicate blocks and documents as a CSV (nothing is changed)."""
    options = {k: v for k, v in locals().items() if k not in ("inputs", "report", "quiet", "fail_on_findings", "stats_json")}
    _execute(inputs, report, None, False, quiet, fail_on_findings, stats_json, **options)


@app.command(epilog="Examples:\n\n  dedup clean seeds/ --out seeds-clean/\n\n"
             "  dedup clean crawl.jsonl.gz --out clean.jsonl.gz --site-field url\n\n"
             "  cat pages.jsonl | dedup clean - --out - --quiet > clean.jsonl")
def clean(
    inputs: Inputs,
    out: Annotated[str, typer.Option("--out", "-o", help="Cleaned corpus, same format as the input; - for JSON Lines on stdout.")],
    report: ReportOpt = "dedup-report.csv",
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    unit: UnitOpt = Unit.line,
    format: FormatOpt = Format.auto,
    text_field: TextField = "text",
    id_field: IdField = "id",
    site_field: SiteField = None,
    min_repeat_chars: MinRepeat = Config.min_repeat_chars,
    boilerplate_min_docs: MinDocs = None,
    prose_words: ProseWords = Config.prose_words,
    drop_duplicate_blocks: DropDup = False,
    exact_only: Exact = False,
    shingle: ShingleOpt = Shingle.word,
    ngram: Ngram = Config.ngram,
    num_perm: NumPerm = Config.num_perm,
    threshold: Threshold = Config.threshold,
    doc_threshold: DocThreshold = Config.doc_threshold,
    keep: KeepOpt = Keep.first,
    seed: Seed = Config.seed,
    workers: Workers = None,
    memory_limit: MemoryLimit = None,
    strict: Strict = False,
    on_error: OnErrorOpt = OnError.fail,
    keep_file: KeepFile = None,
    drop_file: DropFile = None,
    drop_repetitive: DropRepetitive = False,
    doc_stats: DocStats = None,
    fail_on_findings: FailOn = False,
    stats_json: StatsJson = None,
    quiet: Quiet = False,
) -> None:
    """Write a copy of the corpus without the flagged blocks and duplicate documents, and the report."""
    options = {k: v for k, v in locals().items()
               if k not in ("inputs", "out", "report", "force", "quiet", "fail_on_findings", "stats_json")}
    _execute(inputs, report, out, force, quiet, fail_on_findings, stats_json, **options)


def main() -> None:
    """Console entry point. Click reports usage errors with exit code 2; dedup uses 1 for every
    bad-input-or-usage case, so that one code means "fix the command or the input"."""
    try:
        app()
    except SystemExit as done:
        if done.code == 2:
            sys.exit(EXIT_BAD_INPUT)
        raise
