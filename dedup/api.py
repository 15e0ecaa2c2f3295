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
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from dedup.cleaning import one_output_per_source, second_pass
from dedup.config import Config, ConfigError
from dedup.decide.stage import decide
from dedup.engines import engine_session
from dedup.fingerprint.collect import fingerprint_corpus
from dedup.io.formats import check_output_format
from dedup.io.publish import STDOUT, Outputs
from dedup.io.sources import InputError, Source, open_sources
from dedup.io.workfolder import work_folder
from dedup.progress import Progress, ProgressBar
from dedup.report import charts
from dedup.report.csv import doc_stats_frame, report_frame, write_csv, write_report
from dedup.stats import RunStats
from dedup.store.spill import SpillStore

# Imported where they are used, so that a run pays only for what it asks for: the Ray engine
# (dedup.engines.ray), the index (dedup.index.run), the review page (dedup.report.html,
# dedup.report.review) and the summary (dedup.report.summary, with rich).

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
    from dedup.report.html import write_html
    from dedup.report.review import read_report

    config = Config.from_options(config, **options)
    charts.require()
    if os.fspath(html) != STDOUT and Path(os.path.realpath(html)) == Path(os.path.realpath(report)):
        raise InputError(f"{html}: is the report the page is made from; it would be overwritten")
    frame = read_report(Path(report))
    notes: list[str] = []
    with work_folder(config.spill_dir, notes) as work:
        sources = open_sources(_input_list(inputs), config, spool_dir=work)
        with Outputs.plan({"html": html}, sources, work, notes=notes) as outputs:
            _say(notes, quiet)
            stats = write_html(frame, sources, config, outputs.path("html"), origin=str(report), read_back=True)
            outputs.publish()
    if not quiet:
        _say_review_page(html)
    return Result(frame, stats)


def _indexed(index, batch: str | None, read_only: bool) -> dict:
    if index is None and (batch is not None or read_only):
        raise ConfigError("--batch and --index-read-only need --index")
    return {"index": None if index is None else os.fspath(index), "batch": batch, "index_read_only": read_only}


def _job(inputs: Inputs, out, *, report, doc_stats, stats_json, force, fail_on_findings, quiet, progress, config,
         options, html=None, indexed=None) -> Result:
    config = Config.from_options(config, **options)
    bar = None if quiet or progress is not None or not sys.stderr.isatty() else ProgressBar()
    cleaned = None
    with bar or contextlib.nullcontext(), contextlib.ExitStack() as stack:
        if out is None and _in_memory(inputs):  # cleaned documents read back from a scratch folder
            out = stack.enter_context(work_folder(config.spill_dir)) / "cleaned.parquet"
            cleaned = out
        frame, stats = run(_input_list(inputs), config, report=report, out=out, force=force,
                           progress=progress or bar, doc_stats=doc_stats, html=html, stats_json=stats_json,
                           quiet=quiet, **(indexed or {}))
        if cleaned is not None:
            cleaned = pl.read_parquet(cleaned)
    if not quiet:
        from dedup.report.summary import print_summary

        print_summary(frame, stats, _shown(report), _shown(out) if cleaned is None else None)
        if html is not None:
            _say_review_page(html)
    return Result(frame, stats, cleaned, fail_on_findings)


def _shown(value) -> str | None:
    return None if value is None else os.fspath(value)


def _say(notes: list[str], quiet: bool) -> None:
    """Print and forget what the checks before the run had to tell (leftovers of killed runs removed)."""
    if not quiet:
        for note in notes:
            print(f"dedup: {note}", file=sys.stderr, flush=True)
    notes.clear()


def _say_review_page(html: str | os.PathLike) -> None:
    print(f"review page: {'stdout' if os.fspath(html) == STDOUT else html}", file=sys.stderr, flush=True)


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


def run(inputs: list[str | pl.DataFrame], config: Config, *, report: str | os.PathLike | None = None,
        out: str | os.PathLike | None = None, force: bool = False, progress: Progress | None = None,
        doc_stats: str | os.PathLike | None = None, html: str | os.PathLike | None = None,
        stats_json: str | os.PathLike | None = None, index: str | None = None, batch: str | None = None,
        index_read_only: bool = False, quiet: bool = True) -> tuple[pl.DataFrame, RunStats]:
    """One whole job. ``out`` selects cleaning; ``report``, ``doc_stats`` (per-document repetition
    statistics), ``html`` (the review page) and ``stats_json`` are the other outputs; any one of
    them may be ``-`` (stdout). Every output is checked before pass 1 and published only once the
    whole run has succeeded (:mod:`dedup.io.publish`). ``index`` checks the input against an index
    and, unless ``index_read_only``, adds it there as ``batch`` (:mod:`dedup.index.run`).
    Unless ``quiet``, what the checks had to say (leftovers of killed runs removed) goes to stderr.
    Returns the report frame and the run's stats."""
    if html is not None:
        charts.require()  # before the run, not after it
    if doc_stats is not None and not config.doc_stats:
        config = config.with_(doc_stats=True)
    stats = RunStats()
    said: list[str] = []
    wanted = {"out": out, "report": report, "stats_json": stats_json, "doc_stats": doc_stats, "html": html}
    with work_folder(config.spill_dir, said) as workdir, engine_session(config):
        sources = open_sources(inputs, config, spool_dir=workdir)
        if out is not None:
            check_output_format(sources, None if os.fspath(out) == STDOUT else Path(out), config.annotate)
        folders = {"out"} if one_output_per_source(sources) or sources[0].kind == "txt-dir" else set()
        kept = {name: os.fspath(path) for name, path in (("index", index), ("work_dir", config.work_dir))
                if path is not None and not (name == "index" and _is_url(path))}
        with Outputs.plan(wanted, sources, workdir, force=force, folders=folders, kept=kept, streamed={"out"},
                          notes=said) as outputs:
            _say(said, quiet)
            try:
                frame = _stages(sources, config, stats, outputs, workdir, progress, index, batch, index_read_only)
                if outputs.wants("stats_json"):
                    Path(outputs.path("stats_json")).write_text(json.dumps(asdict(stats), indent=2) + "\n")
                outputs.publish()
            except OSError as problem:
                explained = outputs.explain(problem)
                if explained is None:
                    raise
                raise explained from None
    return frame, stats


def _is_url(index: str) -> bool:
    return str(index).startswith(("redis://", "rediss://", "unix://"))


def _stages(sources: list[Source], config: Config, stats: RunStats, outputs: Outputs, workdir: Path,
            progress: Progress | None, index: str | None, batch: str | None, index_read_only: bool) -> pl.DataFrame:
    """read -> fingerprint -> match -> decide -> report / clean, into the outputs' temporaries;
    then the index add. Returns the report frame."""
    cleaning = outputs.wants("out")
    indexed = None if index is None else _indexed_run(sources, config, index, batch, index_read_only)
    # A scan fills its report from texts set aside in pass 1; cleaning reads the input again anyway.
    store = SpillStore(workdir, config, keep_texts=not cleaning)
    texts = store.texts
    clock = time.perf_counter()
    on_ray = config.engine == "ray"
    if on_ray:
        from dedup.engines.ray import clean_on_ray, fingerprint_on_ray
    prints = (fingerprint_on_ray if on_ray else fingerprint_corpus)(sources, config, stats, store, progress)
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
        out = outputs.path("out")
        cleaner = clean_on_ray if on_ray and out is not None and one_output_per_source(sources) else second_pass
        findings, stats.chars_removed, stats.docs_dropped = cleaner(
            sources, findings, config, out, stats.reader.records_per_input, progress)
        if progress:
            progress.stage("writing the report")
    frame = report_frame(findings, named)
    if config.rules is not None and config.rules.drop.lines + config.rules.drop.patterns:
        frame = frame.with_columns(rule=pl.when(pl.col("rule") == "drop-file").then(
            pl.format("drop-file line {}", config.rules.drop.first_line(pl.col("text")))).otherwise("rule"))
    # copies a protection kept are reported (rule "kept: ..."), not counted as findings
    found = frame.filter(~pl.col("rule").str.starts_with("kept: "))
    stats.findings = dict(found.group_by("kind").len().sort("kind").iter_rows())
    if outputs.wants("report"):
        write_report(frame, outputs.path("report"), config.workers)
    if outputs.wants("doc_stats"):
        write_csv(doc_stats_frame(prints.docs), outputs.path("doc_stats"))
    if outputs.wants("html"):  # here, while inputs spooled to the work folder are still there to read again
        if progress:
            progress.stage("writing the review page")
        from dedup.report.html import write_html

        write_html(frame, sources, config, outputs.path("html"), stats=stats)
    stats.seconds["report_and_clean"] = time.perf_counter() - clock
    if indexed is not None and not index_read_only:
        clock = time.perf_counter()
        indexed.add(prints, findings)
        stats.seconds["index_add"] = time.perf_counter() - clock
    del prints  # release the memory maps before the spill folder goes
    return frame


def _indexed_run(sources: list[Source], config: Config, index: str, batch: str | None, read_only: bool):
    """The run's :class:`dedup.index.run.IndexedRun`: the batch named ``batch``, or after the inputs."""
    from dedup.index.run import IndexedRun, default_batch_name

    names = list(dict.fromkeys(s.folder.name or str(s.folder) if s.folder else s.name for s in sources))
    return IndexedRun(index, config, batch or default_batch_name(names), read_only)
