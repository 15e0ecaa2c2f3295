"""What the pipeline tells a progress display (the CLI's bar; tests record it).

Example:
    >>> class Printer:
    ...     def start(self, total_bytes): print("input bytes:", total_bytes)
    ...     def advance(self, docs, nbytes): print("+", docs)
    ...     def stage(self, name, documents=None): print(name, documents)
    >>> from dedup.config import Config
    >>> from dedup.api import run
    >>> _ = run(["seeds"], Config(), report=None, progress=Printer())
    input bytes: 2579
    + 1
    deciding None
    writing the report None
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told the input's size once (None: unknown), then the documents and input bytes of each batch;
    then each later stage by name, with the documents it goes through when it counts them (its
    ``advance`` calls then carry documents only). ``stage`` is optional: a display without it is
    told of pass 1 only, as before it existed."""

    def start(self, total_bytes: int | None) -> None: ...

    def advance(self, docs: int, nbytes: int) -> None: ...

    def stage(self, name: str, documents: int | None = None) -> None: ...
