"""The ``dedup`` command: a thin Typer face over :mod:`dedup.api` (every option is an API keyword).

Exit codes: 0 success; 1 bad input or usage (one line on stderr naming the file and line); 3 findings
present and ``--fail-on-findings`` given; 141 the reader of stdout stopped early.

Nothing heavy is imported until a command runs, so ``dedup --help`` starts at once.

Example:
    $ dedup scan seeds/ --report report.csv
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import signal
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dedup.config import ENGINES, FORMATS, KEEPS, ON_ERROR, SHINGLES, UNITS, Config, ConfigError

EXIT_BAD_INPUT = 1
EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader (| head) stopped


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread so that every temporary goes on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, _frame) -> None:
    raise Stopped(signum)

app = typer.Typer(
    help="Find and remove duplicate and boilerplate text in scraped corpora.\n\n"
    "Examples:\n\n"
    "  dedup scan seeds/                      # report to dedup-report.csv\n\n"
    "  dedup clean crawl.jsonl.zst --out clean.jsonl.zst --site-field url\n\n"
    "  cat pages.jsonl | dedup clean - --out - > clean.jsonl",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version  # 30 ms: only for --version

        try:
            typer.echo(f"dedup {version('dedup')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            from dedup import __version__

            typer.echo(f"dedup {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version_: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                 help="Print the version and exit.")] = False) -> None:
    """Find and remove duplicate and boilerplate text in scraped corpora."""


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """An Enum of a Config choice, for Typer to list and check (the values live in dedup.config)."""
    return Enum(name, {value: value for value in values}, type=str)


Unit = _choices("Unit", UNITS)
Format = _choices("Format", FORMATS)
OnError = _choices("OnError", ON_ERROR)
Shingle = _choices("Shingle", SHINGLES)
Keep = _choices("Keep", KEEPS)
Engine = _choices("Engine", ENGINES)


def _option(default, *names: str, **settings) -> tuple:
    return default, typer.Option(*names, **settings)


# The options scan and clean share, declared once: name -> (type, default, typer.Option). Paths are
# taken as strings: pathlib would read ./- as -, so a file named - could not be asked for.
SHARED: dict[str, tuple] = {
    "report": (str, *_option("dedup-report.csv", "--report", metavar="<path>",
                               help="Where the CSV report goes (replaced if it exists); - for stdout.")),
    "unit": (Unit, *_option(Unit.line, help="Block = every non-empty line, or blank-line separated paragraph.")),
    "format": (Format, *_option(Format.auto, help="Input format; auto = from the file name.")),
    "text_field": (str, *_option(Config.text_field, help="JSON/Parquet field holding the text.")),
    "id_field": (str, *_option(Config.id_field, help="Field holding the document id (else the record number).")),
    "site_field": (str | None, *_option(None, help="Field naming the site (a URL means its host); boilerplate is counted per site.")),
    "min_repeat_chars": (int, *_option(Config.min_repeat_chars, help="A repeat inside one document is flagged only from this many characters.")),
    "boilerplate_min_docs": (int | None, *_option(None, help="A block in at least this many documents of its site is boilerplate [default: adapts to the site: max(2, ceil(sqrt(pages)/2))].")),
    "prose_words": (int, *_option(Config.prose_words, help="Blocks of at least this many words are boilerplate only on half of their site's pages or more.")),
    "drop_duplicate_blocks": (bool, *_option(False, "--drop-duplicate-blocks", help="Also remove blocks that stand in another document.")),
    "exact_only": (bool, *_option(False, "--exact-only", help="Exact matches of normalised text only (no MinHash).")),
    "shingle": (Shingle, *_option(Shingle.word, help="Shingles of words, or of characters (for text without spaces).")),
    "ngram": (int, *_option(Config.ngram, help="Shingle size in words (or characters).")),
    "num_perm": (int, *_option(Config.num_perm, help="MinHash permutations.")),
    "threshold": (float, *_option(Config.threshold, help="Jaccard similarity from which two blocks are near-duplicates.")),
    "doc_threshold": (float, *_option(Config.doc_threshold, help="Share of the longer document that must line up with the other.")),
    "keep": (Keep, *_option(Keep.first, help="Which copy of a cluster is kept: the first in input order, or the longest.")),
    "seed": (int, *_option(Config.seed, help="MinHash seed (datasketch-compatible).")),
    "workers": (int | None, *_option(None, help="Threads for fingerprinting, LSH and verifying candidates [default: all cores].")),
    "memory_limit": (str | None, *_option(None, help="Memory budget, e.g. 4G, for what can spill: LSH band keys go to disk past an eighth of it each (blocks, documents). Not a hard cap on the whole run [default: keep them in memory].")),
    "strict": (bool, *_option(False, "--strict", help="Fail on invalid UTF-8 instead of replacing it.")),
    "on_error": (OnError, *_option(OnError.fail, help="On a malformed record: fail, or skip it and count it.")),
    "keep_file": (Path | None, *_option(None, help="Blocks matching a line of this file are never removed (lines, or re:REGEX).")),
    "drop_file": (Path | None, *_option(None, help="Blocks matching a line of this file are always removed (lines, or re:REGEX).")),
    "drop_repetitive": (bool, *_option(False, "--drop-repetitive", help="Drop documents that repeat their own lines or paragraphs beyond the Gopher limits (30% of lines/paragraphs, 20% of characters).")),
    "doc_stats": (str | None, *_option(None, metavar="<path>", help="Write per-document repetition statistics (CSV) here; - for stdout.")),
    "fail_on_findings": (bool, *_option(False, "--fail-on-findings", help="Exit with code 3 when anything is flagged.")),
    "stats_json": (str | None, *_option(None, metavar="<path>", help="Write the run's counters and stage times as JSON here; - for stdout.")),
    "html": (str | None, *_option(None, "--html", metavar="<path>", help="Also write a review page here: one self-contained HTML file (needs dedup[html]); - for stdout.")),
    "index": (str | None, *_option(None, metavar="<folder|redis://...>", help="Check the input against every batch of this index (a folder, created when missing, or redis://[:password@]host:port/db[?prefix=NAME]) and add it there as one batch when the run succeeds.")),
    "batch": (str | None, *_option(None, help="The name the input gets as a batch of --index [default: the input names].")),
    "index_read_only": (bool, *_option(False, "--index-read-only", help="Check against --index without adding the input to it.")),
    "engine": (Engine, *_option(Engine.local, help="Where fingerprinting runs: local threads, or Ray tasks, one per input shard (needs dedup[ray]).")),
    "ray_address": (str | None, *_option(None, metavar="<auto|ray://host:10001>", help="The Ray cluster for --engine ray [default: a local Ray with this machine's cores].")),
    "work_dir": (str | None, *_option(None, metavar="<folder>", help="With --engine ray: keep each finished shard here, with a completion marker.")),
    "resume": (bool, *_option(False, "--resume", help="With --work-dir: take the shards already finished there instead of fingerprinting them again.")),
    "quiet": (bool, *_option(False, "--quiet", "-q", help="No progress bar and no summary.")),
}
# What dedup review takes of them: how the inputs were read.
REVIEW_OPTIONS = ("unit", "format", "text_field", "id_field", "site_field", "strict", "on_error", "quiet")


def _with_shared_options(command: Callable, names: tuple[str, ...] | None = None,
                         without: tuple[str, ...] = ()) -> Callable:
    """Give ``command`` the SHARED options (those of ``names``, but ``without``) after its own
    parameters (Typer reads ``__signature__``)."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                annotation=Annotated[kind, option])
              for name, (kind, default, option) in SHARED.items()
              if (names is None or name in names) and name not in without]
    command.__signature__ = inspect.Signature([p for p in own if p.kind != p.VAR_KEYWORD] + shared)
    return command


Inputs = Annotated[list[str], typer.Argument(help="Files (.txt, .jsonl/.ndjson(.gz|.zst), .parquet), folders of .txt files or of shards, or - for JSON Lines on stdin.", show_default=False)]


@app.command(epilog="Examples:\n\n  dedup scan seeds/\n\n  dedup scan crawl.jsonl --site-field url --report findings.csv\n\n"
             "  dedup scan pages/ --unit paragraph --fail-on-findings")
@_with_shared_options
def scan(inputs: Inputs, **options) -> None:
    """Report repeated, boilerplate and duplicate blocks and documents as a CSV (nothing is changed)."""
    _execute("scan", inputs, options)


@app.command(epilog="Examples:\n\n  dedup clean seeds/ --out seeds-clean/\n\n"
             "  dedup clean crawl.jsonl.gz --out clean.jsonl.gz --site-field url\n\n"
             "  cat pages.jsonl | dedup clean - --out - --quiet > clean.jsonl\n\n"
             "  dedup clean crawl.jsonl --out annotated.parquet --annotate")
@_with_shared_options
def clean(
    inputs: Inputs,
    out: Annotated[str, typer.Option("--out", "-o", help="Cleaned corpus, same format as the input; - for JSON Lines on stdout.")],
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    annotate: Annotated[bool, typer.Option("--annotate", help="Remove nothing: keep every record whole and add its findings as a 'dedup' field (JSON Lines) or column (Parquet).")] = False,
    **options,
) -> None:
    """Write a copy of the corpus without the flagged blocks and duplicate documents, and the report."""
    _execute("clean", inputs, {"out": out, "force": force, "annotate": annotate, **options})


@app.command(epilog="Examples:\n\n  dedup review dedup-report.csv seeds/ --html review.html\n\n"
             "  dedup review findings.csv crawl.jsonl --site-field url --html review.html")
@functools.partial(_with_shared_options, names=REVIEW_OPTIONS)
def review(
    report: Annotated[str, typer.Argument(metavar="REPORT", help="A report CSV written by dedup scan or clean.", show_default=False)],
    inputs: Inputs,
    html: Annotated[str, typer.Option("--html", metavar="<path>", help="Where the review page goes (replaced if it exists); - for stdout.")],
    **options,
) -> None:
    """Write the review page of an earlier report from the run's inputs, given as to the run."""
    _execute("review", inputs, {"report": report, "html": html, **options})


index_app = typer.Typer(help="An index that outlives a run: see what it holds, or seed it.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(index_app, name="index")
IndexPath = Annotated[str, typer.Argument(metavar="PATH", help="A folder, or redis://[:password@]host:port/db[?prefix=NAME].", show_default=False)]


@index_app.command("info", epilog="Examples:\n\n  dedup index info crawl-index/\n\n  dedup index info redis://127.0.0.1:6379/0 --json")
def index_info(path: IndexPath, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The settings, the batches (name, documents, blocks, when added) and the size of an index."""
    import json

    from dedup.index.info import describe, lines, open_index
    from dedup.io.sources import InputError

    try:
        index = open_index(path)
        if not index.batches:
            raise InputError(f"{path}: no dedup index there (or an empty one)")
        info = describe(index)
    except InputError as problem:
        typer.echo(f"dedup: error: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(json.dumps(info, indent=2) if as_json else "\n".join(lines(info)))


def _index_add(path: IndexPath, inputs: Inputs, **options) -> None:
    """Add inputs to an index as one batch, without a report (to seed an index from an archive)."""
    _execute("scan", inputs, {"index": path, "report": None, **options})


index_app.command("add", epilog="Examples:\n\n  dedup index add crawl-index/ 2024-01.jsonl.zst --site-field url\n\n"
                  "  dedup index add redis://127.0.0.1:6379/0?prefix=crawl day1.jsonl --batch day1")(
    _with_shared_options(_index_add, without=("report", "doc_stats", "fail_on_findings", "index", "index_read_only", "html")))


def _execute(command: str, inputs: list[str], options: dict) -> None:
    """Run the API's command; a bad input or usage is one line and EXIT_BAD_INPUT; when the reader of
    stdout stops early (``| head``), the run ends quietly with EXIT_STDOUT_CLOSED."""
    from dedup import api
    from dedup.io.sources import InputError

    paths = [Path(i) for i in inputs]  # paths, never texts: the API reads a list of str as documents
    try:
        result = getattr(api, command)(paths, **options)
    except (InputError, ConfigError) as problem:
        typer.echo(f"dedup: error: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (KeyboardInterrupt, Stopped) as stop:
        signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
        typer.echo(f"dedup: stopped by {signal.Signals(signum).name}; no output was published, temporary files removed",
                   err=True)
        raise typer.Exit(128 + signum) from None
    except OSError as problem:
        if not _stdout_closed(problem):
            raise
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):  # Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_STDOUT_CLOSED) from None
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _stdout_closed(problem: OSError) -> bool:
    """A write to a pipe whose reader has gone; polars reports it as an OSError without an errno."""
    return isinstance(problem, BrokenPipeError) or "Broken pipe" in str(problem)


def main() -> None:
    """Console entry point. Click reports usage errors with exit code 2; dedup uses 1 for every
    bad-input-or-usage case, so that one code means "fix the command or the input". SIGTERM and
    SIGHUP stop a run as Ctrl-C does: its temporaries are removed, nothing is published, exit 128+N."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stopped)
    try:
        app()
    except SystemExit as done:
        if done.code == 2:
            sys.exit(EXIT_BAD_INPUT)
        raise
