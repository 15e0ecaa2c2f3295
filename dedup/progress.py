"""What the stages tell a progress display, and the terminal's progress bar.

Example:
    >>> class Printer:
    ...     def start(self, total_bytes): print("input bytes:", total_bytes)
    ...     def advance(self, docs, nbytes): print("+", docs)
    ...     def stage(self, name, documents=None): print(name, documents)
    >>> from dedup.api import scan
    >>> _ = scan("seeds", progress=Printer())
    input bytes: 2579
    + 1
    deciding None
    writing the report None
"""

from __future__ import annotations

from typing import Protocol, final


class Progress(Protocol):
    """Told the input's size once (None: unknown), then the documents and input bytes of each batch;
    then each later stage by name, with the documents it goes through when it counts them (its
    ``advance`` calls then carry documents only)."""

    def start(self, total_bytes: int | None) -> None: ...

    def advance(self, docs: int, nbytes: int) -> None: ...

    def stage(self, name: str, documents: int | None = None) -> None: ...


@final
class ProgressBar:
    """The progress bar on stderr. Fingerprinting shows documents, documents/s and, when the input's
    size is known (text and JSON Lines files, compressed or not), the share of input read and the time
    left; later stages show their name and time, and writing a cleaned corpus its documents too."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(bar_width=None, pulse_style="cyan"),
                                TextColumn("{task.fields[docs]}"), TextColumn("{task.fields[rate]}"),
                                TimeElapsedColumn(), TextColumn("{task.fields[left]}"),
                                console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("fingerprinting", total=None, docs="0 docs", rate="", left="")
        self.docs = 0
        self.by_docs = False  # whether the bar's total counts documents (later stages) or input bytes

    def __enter__(self) -> ProgressBar:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def start(self, total_bytes: int | None) -> None:
        self.bar.update(self.task, total=total_bytes or None)

    def stage(self, name: str, documents: int | None = None) -> None:
        self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(name, total=documents, docs="", rate="", left="")
        self.docs, self.by_docs = 0, documents is not None

    def advance(self, docs: int, nbytes: int) -> None:
        self.docs += docs
        self.bar.advance(self.task, docs if self.by_docs else nbytes)
        task = self.bar.tasks[self.task]
        elapsed = task.elapsed or 0
        left = task.time_remaining
        self.bar.update(self.task, docs=f"{self.docs:,} docs",
                        rate=f"{self.docs / elapsed:,.0f} docs/s" if elapsed else "",
                        left="" if left is None else f"about {duration(left)} left")


def duration(seconds: float) -> str:
    """``75.2`` -> ``'1 min 15 s'``; ``9`` -> ``'9 s'``."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
