"""Stage functions over items as Ray tasks: the same :class:`dedup.executors.Executor` as local
threads, but the items run in worker processes anywhere in a Ray cluster.

The stage function is put in Ray's object store once and each item becomes one task; results come
back in item order, with at most ``2 * workers`` tasks in flight so that finished results do not
pile up in the object store. A worker process that dies (killed, out of memory, its node lost) is
retried by Ray, up to ``retries`` times, on any node; an error raised by the stage function itself
is not retried (the same input would fail again) and is raised here as the function raised it, not
wrapped, so that an ``InputError`` still reads as one line naming the file.

Example (needs a running Ray: ``ray.init()``):
    >>> import ray
    >>> _ = ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR")  # doctest: +SKIP
    >>> list(RayTasks(1).map(abs, [-1, 2, -3]))  # doctest: +SKIP
    [1, 2, 3]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# How often Ray starts a task again when its worker process dies (not when the function raises).
RETRIES = 3


def _call(fn: Callable[[T], R], item: T) -> R:
    return fn(item)


@cache
def _remote_call():
    """``_call`` as a Ray remote function (Ray is imported only when an engine uses it)."""
    import ray

    return ray.remote(_call)


class RayTasks:
    """The Ray executor: one task per item, ``workers`` being the CPUs of the cluster (or fewer)."""

    def __init__(self, workers: int | None = None, retries: int = RETRIES) -> None:
        import ray

        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.retries = retries

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn(item)`` for every item, each as a Ray task, results in item order; an item's error is
        raised in its turn; closing the iterator cancels the tasks not finished."""
        import ray

        task = _remote_call().options(max_retries=self.retries, retry_exceptions=False, name=_name(fn))
        shared_fn = ray.put(fn)
        pending: deque = deque()
        try:
            for item in items:
                pending.append(task.remote(shared_fn, item))
                while len(pending) > 2 * self.workers:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for ref in pending:
                ray.cancel(ref)


def _name(fn: Callable) -> str:
    """The stage function's name (through a ``functools.partial``), as Ray shows the task."""
    return getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "dedup-task")


def _result(ref):
    """The task's value; the stage function's own exception as it raised it (Ray wraps it)."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as failure:
        cause = failure.cause
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from failure
        raise
