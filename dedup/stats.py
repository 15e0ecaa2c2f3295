"""What a run counted and how long each stage took (``--stats-json`` writes it).

Example:
    >>> RunStats(documents=3).findings
    {}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dedup.io.sources import Counters


@dataclass
class RunStats:
    """Counters and stage times of a run (``--stats-json`` writes them)."""

    documents: int = 0
    blocks: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    chars_removed: int = 0
    docs_dropped: int = 0
    band_keys_spilled: bool = False
    workers: int = 1  # --workers: threads that fingerprint and verify (--engine ray: the cluster's CPUs)
    bytes_gathered: int = 0  # --engine ray: bytes of prints the shards' tasks sent to the driver
    shards_resumed: int = 0  # --resume: shards taken from --work-dir instead of fingerprinted again
    seconds: dict[str, float] = field(default_factory=dict)
    reader: Counters = field(default_factory=Counters)
