"""Engines: where a run's stages execute. The local engine is :func:`dedup.api.run` itself (threads
through :class:`dedup.executors.local.LocalThreads`); :mod:`dedup.engines.ray` runs pass 1 as Ray
tasks, one per input shard (:mod:`dedup.engines.shards`), keeping finished shards in a work folder
(:mod:`dedup.engines.workdir`) so that a rerun can resume, and cleans several inputs a task per
shard (:mod:`dedup.engines.shard_clean`).
"""

from __future__ import annotations

import contextlib

from dedup.config import Config


def engine_session(config: Config) -> contextlib.AbstractContextManager:
    """What a run holds while it works: a Ray session for ``--engine ray``, nothing for the local engine."""
    if config.engine == "ray":
        from dedup.engines.ray import ray_session

        return ray_session(config.ray_address)
    return contextlib.nullcontext()
