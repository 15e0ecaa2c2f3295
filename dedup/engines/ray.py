"""The Ray engine (``--engine ray``): pass 1 as Ray tasks, one per input shard; matching and deciding on
the driver; ``clean``'s pass 2 as Ray tasks again, one output per input shard.

Each task reads one shard with dedup's own readers and fingerprints it batch by batch
(:func:`dedup.engines.shards.shard_prints`, through :class:`dedup.executors.ray.RayTasks`); the
driver gathers the shards' prints in input order (:func:`dedup.fingerprint.collect.gather`, where
the local engine ends too), so matching, deciding, the report and cleaning see the very numbers the
local engine sees, and give the same bytes. Ray tasks rather than Ray Data's ``map_batches``: Ray
Data reads records with its own parsers (and would have to agree with dedup's on every odd
record), cuts its own blocks and, unless told, gives them back in any order; a task per shard keeps
dedup's reader and its batches, and the shard is also the unit a rerun can skip.

With ``--work-dir DIR`` each finished shard is kept there with a completion marker
(:mod:`dedup.engines.workdir`), and ``--resume`` takes the marked shards from there instead of
fingerprinting them again. Shards must be paths every node of the cluster can read (a shared
filesystem); the driver keeps the work folder. ``clean`` of several inputs writes each shard's
cleaned copy in a task of its own (:mod:`dedup.engines.shard_clean`) into the run's temporary
folder (``TMPDIR`` or ``spill_dir``, which on several machines must be shared too), and the driver moves the
whole folder into place once every shard is written.

Example (starts a local Ray, which takes seconds):
    >>> from dedup.api import scan
    >>> scan("seeds", engine="ray").findings.select("kind", "block").rows()  # doctest: +SKIP
    [('repeat', 5)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import polars as pl

from dedup.config import Config, ConfigError
from dedup.engines.shard_clean import clean_shard, joined, shard_tasks
from dedup.engines.shards import (
    Shard,
    ShardPrints,
    add_counters,
    keyed_bytes,
    shard_prints,
    shards_of,
    shifted,
)
from dedup.engines.workdir import WorkDir
from dedup.executors import Executor
from dedup.fingerprint.collect import Prints, gather
from dedup.fingerprint.stage import KeyedBatch
from dedup.io.sources import Source, input_bytes
from dedup.progress import Progress
from dedup.stats import RunStats
from dedup.store.spill import SpillStore


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Ray, connected for the length of a run: a Ray already started in this process is used as it
    is; else ``address`` (``auto``: the cluster this machine belongs to; ``ray://HOST:10001``: Ray
    Client), or with no address a local Ray with this machine's cores, stopped at the end."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'dedup[ray]'") from None
    if ray.is_initialized():
        yield
        return
    ray.init(address=address, include_dashboard=False, logging_level="WARNING")
    try:
        yield
    finally:
        ray.shutdown()


def fingerprint_on_ray(sources: list[Source], config: Config, stats: RunStats, store: SpillStore,
                       progress: Progress | None = None, executor: Executor | None = None) -> Prints:
    """Pass 1 with a Ray task per shard (``executor``: default :class:`dedup.executors.ray.RayTasks`
    over the cluster's CPUs); what :func:`dedup.fingerprint.collect.fingerprint_corpus` gives."""
    if executor is None:
        from dedup.executors.ray import RayTasks

        executor = RayTasks()
    keep_texts = store.texts is not None
    shards = shards_of(sources)
    work = None if config.work_dir is None else WorkDir(config.work_dir, shards, config, keep_texts, config.resume)
    stage = partial(shard_prints, config=config, keep_texts=keep_texts)
    if progress:
        progress.start(input_bytes(sources))
    stats.workers = executor.workers
    done = _resumed(shards, work, stats, lambda todo: executor.map(stage, todo))
    return gather(_numbered(done, stats), sources, stats, store, progress)


def _resumed(shards: list[Shard], work: WorkDir | None, stats: RunStats, run) -> Iterator[ShardPrints]:
    """Every shard's prints in input order: from the work folder when marked done there, else by
    ``run`` (over the shards still to do, in order), each then kept in the work folder."""
    earlier = {shard.index: work.load(shard) for shard in shards} if work is not None else {}
    earlier = {index: done for index, done in earlier.items() if done is not None}
    stats.shards_resumed = len(earlier)
    fresh = run([shard for shard in shards if shard.index not in earlier])
    for shard in shards:
        if shard.index in earlier:
            yield earlier.pop(shard.index)
            continue
        done = next(fresh)
        if work is not None:
            work.save(shard, done)
        yield done


def _numbered(done: Iterator[ShardPrints], stats: RunStats) -> Iterator[KeyedBatch]:
    """The shards' keyed prints with documents numbered on across shards; their counters added up."""
    first = 0
    for shard in done:
        add_counters(stats.reader, shard.counters)
        if shard.keyed is not None:
            stats.bytes_gathered += keyed_bytes(shard.keyed)
            yield shifted(shard.keyed, first)
        first += shard.records


def clean_on_ray(sources: list[Source], findings: pl.DataFrame, config: Config, out: Path,
                 records: list[int], progress: Progress | None = None,
                 executor: Executor | None = None) -> tuple[pl.DataFrame, int, int]:
    """:func:`dedup.cleaning.second_pass` for several inputs, a Ray task per input shard: ``out``
    (a temporary of :class:`dedup.io.publish.Outputs`) becomes a folder with one cleaned copy per input."""
    if executor is None:
        from dedup.executors.ray import RayTasks

        executor = RayTasks()
    out.mkdir()
    targets = [out / source.name for source in sources]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)  # a shard's folders inside the dataset's
    tasks = shard_tasks(sources, findings, records, targets)
    parts, chars, dropped = [], 0, 0
    for task, (filled, cut, gone) in zip(tasks, executor.map(partial(clean_shard, config=config), tasks)):
        parts.append(filled)
        chars, dropped = chars + cut, dropped + gone
        if progress:
            progress.advance(task.records, 0)
    return joined(tasks, parts), chars, dropped
