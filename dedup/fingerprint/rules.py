"""User overrides: blocks that are always kept (``--keep-file``) or always removed (``--drop-file``).

A rule file has one rule per line; empty lines and lines starting with ``#`` are ignored. A line
starting with ``re:`` is a regular expression (Rust regex syntax, as polars uses) searched in the
block's text; any other line matches a block whose normalised text equals its own (so case,
punctuation and digits do not matter). Keep wins over drop.

Example:
    >>> import polars as pl
    >>> rules = UserRules.parse(keep=["re:^Photo:"], drop=["Share this story!"])
    >>> blocks = pl.DataFrame({"raw": ["Photo: AP", "share this story", "Body text"]})
    >>> blocks.select(rules.verdict(pl.col("raw"))).to_series().to_list()
    [1, 2, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dedup.config import ConfigError
from dedup.fingerprint.normalise import normalised

NONE, KEEP, DROP = 0, 1, 2


@dataclass(frozen=True)
class RuleSet:
    """Normalised exact lines and regular expressions of one file."""

    lines: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    line_numbers: tuple[int, ...] = ()  # where each of ``lines`` stands in its file
    pattern_numbers: tuple[int, ...] = ()

    def matches(self, raw: pl.Expr) -> pl.Expr:
        hit = pl.lit(False)
        if self.lines:
            hit = hit | normalised(raw).is_in(pl.Series(self.lines, dtype=pl.String).implode())
        for pattern in self.patterns:
            hit = hit | raw.str.contains(pattern)
        return hit

    def first_line(self, raw: pl.Expr) -> pl.Expr:
        """The file's line number of the first rule that matches (null for none), for the report."""
        numbers = [pl.when(raw.str.contains(p)).then(pl.lit(n)) for p, n in zip(self.patterns, self.pattern_numbers)]
        if self.lines:
            exact = normalised(raw).replace_strict(list(self.lines), list(self.line_numbers), default=None,
                                                   return_dtype=pl.Int64)
            numbers.append(exact)
        return pl.min_horizontal(numbers) if numbers else pl.lit(None, pl.Int64)


@dataclass(frozen=True)
class UserRules:
    keep: RuleSet = RuleSet()
    drop: RuleSet = RuleSet()

    @classmethod
    def parse(cls, keep: list[str], drop: list[str], where: str = "rule") -> UserRules:
        return cls(_rule_set(keep, f"{where} (keep)"), _rule_set(drop, f"{where} (drop)"))

    @classmethod
    def load(cls, keep_file: Path | None, drop_file: Path | None) -> UserRules:
        """Read the two files; a bad file or regular expression raises ConfigError naming file and line."""
        sets = []
        for path in (keep_file, drop_file):
            if path is None:
                sets.append(RuleSet())
                continue
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as err:
                raise ConfigError(f"{path}: cannot read the rule file ({err})") from None
            sets.append(_rule_set(lines, str(path)))
        return cls(*sets)

    def verdict(self, raw: pl.Expr) -> pl.Expr:
        """0 for no rule, 1 for keep, 2 for drop."""
        return (
            pl.when(self.keep.matches(raw)).then(pl.lit(KEEP, pl.Int8))
            .when(self.drop.matches(raw)).then(pl.lit(DROP, pl.Int8))
            .otherwise(pl.lit(NONE, pl.Int8))
        )


def _rule_set(lines: list[str], where: str) -> RuleSet:
    exact, patterns, pattern_at = {}, [], []
    for number, line in enumerate(lines, start=1):
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        if rule.startswith("re:"):
            pattern = rule[3:]
            try:
                pl.select(pl.lit("").str.contains(pattern))
            except pl.exceptions.ComputeError as err:
                reason = next((t.strip() for t in str(err).splitlines() if t.strip().startswith("error:")), "")
                raise ConfigError(f"{where}:{number}: not a valid regular expression {pattern!r} ({reason})") from None
            patterns.append(pattern)
            pattern_at.append(number)
        else:
            exact.setdefault(pl.select(normalised(pl.lit(rule))).item(), number)
    return RuleSet(tuple(exact), tuple(patterns), tuple(exact.values()), tuple(pattern_at))
