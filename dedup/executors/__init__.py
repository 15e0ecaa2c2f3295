"""How stage functions run over batches. An executor maps a stage function over items (batches of
documents in pass 1) and gives the results back in item order; the stage functions are plain,
picklable functions of one item, so any executor gives the same results.

Today's executor: :class:`dedup.executors.local.LocalThreads`. A new one (Ray, processes) implements
:class:`Executor`: ``workers`` and ``map``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over items, results in item order, with a bounded number of items in flight; an
    item's error is raised in its turn, and closing the iterator drops the items not begun."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...
