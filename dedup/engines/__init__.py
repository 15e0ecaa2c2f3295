"""Engines: where a run's stages execute. The local engine is :func:`dedup.api.run` itself (threads
through :class:`dedup.executors.local.LocalThreads`); :mod:`dedup.engines.ray` runs pass 1 as Ray
tasks, one per input shard (:mod:`dedup.engines.shards`), keeping finished shards in a work folder
(:mod:`dedup.engines.workdir`) so that a rerun can resume."""
