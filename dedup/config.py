"""Every knob of a dedup run, with its default, in one validated object.

Example:
    >>> from dedup.config import Config
    >>> Config(unit="paragraph", threshold=0.9).bands_rows()
    (12, 10)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dedup.fingerprint.rules import UserRules


class ConfigError(ValueError):
    """A setting that cannot work; the message names the option."""


UNITS = ("line", "paragraph")
SHINGLES = ("word", "char")
KEEPS = ("first", "longest")
ON_ERROR = ("fail", "skip")
FORMATS = ("auto", "txt", "jsonl", "parquet")
ENGINES = ("local", "ray")

# The chance, at a pair of exactly the threshold similarity, that LSH makes it a candidate.
LSH_TARGET_RECALL = 0.99


@dataclass(frozen=True)
class Config:
    """Settings of one run. Field names match the CLI options (``--min-repeat-chars`` -> min_repeat_chars)."""

    # input
    format: str = "auto"
    text_field: str = "text"
    id_field: str = "id"
    site_field: str | None = None
    strict: bool = False
    on_error: str = "fail"
    # blocks
    unit: str = "line"
    # findings
    min_repeat_chars: int = 20
    boilerplate_min_docs: int | None = None  # None: adapts to the site's size, see min_docs_for_site()
    prose_words: int = 20
    drop_duplicate_blocks: bool = False
    keep: str = "first"
    rules: UserRules | None = None
    doc_stats: bool = False
    annotate: bool = False  # clean: keep every text, add the findings to each record (io.records.ANNOTATIONS)
    drop_repetitive: bool = False
    # near-duplicates
    near: bool = True
    shingle: str = "word"
    ngram: int = 5
    num_perm: int = 128
    threshold: float = 0.8
    doc_threshold: float = 0.9
    seed: int = 1
    # execution
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    batch_docs: int = 2000
    spill_dir: Path | None = None
    memory_limit: int | None = None  # bytes; band keys spill to disk past an eighth of it (each kind)
    engine: str = "local"  # where pass 1 runs: local threads, or Ray tasks (dedup.engines.ray)
    ray_address: str | None = None  # None: a local Ray with this machine's cores
    work_dir: Path | None = None  # Ray: each finished shard kept here, with a completion marker
    resume: bool = False  # Ray: take the shards marked done in work_dir from there

    def __post_init__(self) -> None:
        choices = {"unit": UNITS, "shingle": SHINGLES, "keep": KEEPS, "on_error": ON_ERROR, "format": FORMATS,
                   "engine": ENGINES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"--{_opt(name)} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("threshold", "doc_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"--{_opt(name)} must be in (0, 1], got {value}")
        minimums = {"ngram": 1, "num_perm": 2, "workers": 1, "batch_docs": 1, "boilerplate_min_docs": 2,
                    "min_repeat_chars": 0, "prose_words": 1, "memory_limit": 0}
        for name, low in minimums.items():
            if getattr(self, name) is not None and getattr(self, name) < low:
                raise ConfigError(f"--{_opt(name)} must be at least {low}, got {getattr(self, name)}")
        if not 0 <= self.seed < 2**32:  # datasketch's seeds are 32-bit
            raise ConfigError(f"--seed must be in 0..4294967295, got {self.seed}")
        if self.num_perm > 1024:
            raise ConfigError(f"--num-perm must be at most 1024, got {self.num_perm}")
        if self.ngram > 64:  # one multiplier per position in kernels.POSITION
            raise ConfigError(f"--ngram must be at most 64, got {self.ngram}")
        if self.resume and self.work_dir is None:
            raise ConfigError("--resume needs --work-dir")
        for name in ("ray_address", "work_dir"):
            if getattr(self, name) is not None and self.engine != "ray":
                raise ConfigError(f"--{_opt(name)} needs --engine ray")

    def with_(self, **changes) -> Config:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_options(cls, base: Config | None = None, **options) -> Config:
        """A Config from the options as the CLI and the API take them: Config fields, plus
        ``exact_only`` (not ``near``), ``keep_file``/``drop_file`` (rule files) and a
        ``memory_limit`` given as a size (``"4G"``) or bytes. None means the default.

        Example:
            >>> c = Config.from_options(exact_only=True, memory_limit="1K", workers=None)
            >>> c.near, c.memory_limit, c.workers == Config().workers
            (False, 1024, True)
        """
        options = {k: getattr(v, "value", v) for k, v in options.items()}  # Enum members to their values
        exact_only = options.pop("exact_only", None)
        if exact_only is not None:
            options["near"] = not exact_only
        keep_file, drop_file = options.pop("keep_file", None), options.pop("drop_file", None)
        if keep_file is not None or drop_file is not None:
            from dedup.fingerprint.rules import UserRules  # polars: only when there are rules to read

            options["rules"] = UserRules.load(_path(keep_file), _path(drop_file))
        limit = options.get("memory_limit")
        if isinstance(limit, str):
            try:
                options["memory_limit"] = parse_size(limit)
            except ConfigError as problem:
                raise ConfigError(f"--memory-limit: {problem}") from None
        for name in ("spill_dir", "work_dir"):
            if options.get(name) is not None:
                options[name] = Path(options[name])
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(f"unknown option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        options = {k: v for k, v in options.items() if v is not None or k in _NONE_MEANS_SOMETHING}
        return (base or cls()).with_(**options)

    def fingerprint_settings(self) -> dict[str, object]:
        """The settings that change fingerprints and so what matches what (an index must pin them).

        Example:
            >>> sorted(Config().fingerprint_settings())[:3]
            ['bands_rows_blocks', 'bands_rows_docs', 'doc_threshold']
        """
        from dedup.match.lsh import DOC_CANDIDATE_JACCARD

        settings = {name: getattr(self, name) for name in FINGERPRINT_FIELDS}
        settings["bands_rows_blocks"] = list(self.bands_rows())
        settings["bands_rows_docs"] = list(self.bands_rows(DOC_CANDIDATE_JACCARD))
        return settings

    def bands_rows(self, threshold: float | None = None) -> tuple[int, int]:
        """LSH (bands, rows) for a threshold, chosen for recall.

        The longest bands (fewest band keys, fewest chance candidates) whose chance of making a pair
        of exactly ``threshold`` similarity a candidate is still at least 99%. Precision comes from
        verifying every candidate afterwards, so recall is what the banding must protect.
        """
        t = self.threshold if threshold is None else threshold
        for rows in range(self.num_perm, 0, -1):
            bands = self.num_perm // rows
            if 1.0 - (1.0 - t**rows) ** bands >= LSH_TARGET_RECALL:
                return bands, rows
        return self.num_perm, 1


# Fields that change what a block's fingerprints are, or which blocks exist.
FINGERPRINT_FIELDS = ("unit", "near", "shingle", "ngram", "num_perm", "seed", "threshold", "doc_threshold")
# Options whose None is a setting of its own, not "the default".
_NONE_MEANS_SOMETHING = ("boilerplate_min_docs",)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from a size such as ``4G``, ``512M``, ``1.5G`` or ``1000000`` (K/M/G/T are powers of 1024).

    Example: ``parse_size("4G")`` -> 4294967296.
    """
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1] if value and value[-1] in "KMGT" else ""
    try:
        number = float(value.removesuffix(unit) if unit else value)
    except ValueError:
        raise ConfigError(f"not a size: {text!r} (try 4G, 512M or a number of bytes)") from None
    if not math.isfinite(number):
        raise ConfigError(f"not a size: {text!r} (a finite number, such as 4G)")
    if number < 0:
        raise ConfigError(f"a size cannot be negative: {text!r}")
    return int(number * _UNITS[unit])


def _opt(name: str) -> str:
    return name.replace("_", "-")

