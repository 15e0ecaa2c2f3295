"""Stage functions over items on local threads: polars and the compiled kernels run without the GIL.

Threads, not processes: a thread needs no start-up and no copy of its batch, and pass 1's work
(polars and dedup._native) releases the GIL (benchmarks/RESULTS.md has the figures). The input is
read on the calling thread while ``workers`` threads work, at most one item per thread waiting
ahead, so memory stays bounded.

Example:
    >>> list(LocalThreads(2).map(lambda x: x * x, range(5)))
    [0, 1, 4, 9, 16]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class LocalThreads:
    """The local executor: ``workers`` threads (one: the calling thread itself)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn(item)`` for every item, in item order; an item's error is raised in its turn, and
        closing the iterator (an error downstream, Ctrl-C) drops the items not begun."""
        if self.workers == 1:
            yield from map(fn, items)
            return
        with ThreadPoolExecutor(self.workers, thread_name_prefix="dedup-worker") as pool:
            pending: deque[Future[R]] = deque()
            try:
                for item in items:
                    pending.append(pool.submit(fn, item))
                    while len(pending) > self.workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for work in pending:
                    work.cancel()
