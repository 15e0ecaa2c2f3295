"""Pass 2 of one input shard: its cleaned copy written and its findings' texts cut out, by
:func:`dedup.cleaning.second_pass` on that shard alone, so that an engine can clean the shards in
parallel, one output per input shard.

:func:`shard_tasks` cuts the run's findings (sorted by document) into each shard's, numbered from
its first document; :func:`clean_shard` is a pure function of one such task and the settings
(picklable), writing ``task.target`` (inside the run's temporary output); :func:`joined` puts the shards' findings
back in the run's numbering.

Example:
    >>> import polars as pl
    >>> findings = pl.DataFrame({"doc": [0, 2, 3]}).cast({"doc": pl.Int64})
    >>> [t.findings["doc"].to_list() for t in shard_tasks([None, None], findings, [2, 2], [None, None])]
    [[0], [0, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from dedup.cleaning import second_pass
from dedup.config import Config
from dedup.io.sources import Source


@dataclass(frozen=True)
class CleanTask:
    """One shard to clean: its source, its findings (documents numbered from 0), the records pass 1
    read from it, and where its cleaned copy goes."""

    source: Source
    findings: pl.DataFrame
    records: int
    target: Path


def shard_tasks(sources: list[Source], findings: pl.DataFrame, records: list[int],
                targets: list[Path]) -> list[CleanTask]:
    """Each shard's task: the findings of its documents (``records[i]`` of them, in input order)."""
    firsts = np.concatenate(([0], np.cumsum(records)))
    cuts = np.searchsorted(findings["doc"].to_numpy(), firsts)
    return [CleanTask(source, findings.slice(int(a), int(b - a)).with_columns(pl.col("doc") - int(first)), count,
                      target)
            for source, a, b, first, count, target in zip(sources, cuts, cuts[1:], firsts, records, targets)]


def clean_shard(task: CleanTask, config: Config) -> tuple[pl.DataFrame, int, int]:
    """Write the shard's cleaned copy to ``task.target``; its findings with their texts, the
    characters removed and the documents dropped (as :func:`dedup.cleaning.second_pass` returns)."""
    return second_pass([task.source], task.findings, config, task.target, [task.records], several=False)


def joined(tasks: list[CleanTask], parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The shards' findings (with texts) back in the run's document numbering, in order."""
    firsts = np.concatenate(([0], np.cumsum([t.records for t in tasks])))
    return pl.concat([part.with_columns(pl.col("doc") + int(first)) for part, first in zip(parts, firsts)])
