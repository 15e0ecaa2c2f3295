"""Work spread over threads, results in order: the compiled kernels and polars run without the GIL.

Example:
    >>> list(in_order(lambda x: x * x, range(4), threads=2))
    [0, 1, 4, 9]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_order(work: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``work(item)`` for every item, on ``threads`` threads (one: in this thread), in item order."""
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            yield from pool.map(work, items)
    else:
        yield from map(work, items)
