"""What pass 1 keeps for the later stages, besides its in-memory tables: document token streams and
block shingle sets (to verify candidates), LSH band keys (to find them), and, for a scan, block
texts (to fill the report). :class:`dedup.store.spill.SpillStore` keeps them in a run's spill folder.

A store a later stage can read (an index, a distributed store) has the same members:
``doc_tokens`` and ``block_shingles`` (:class:`dedup.store.streams.Streams`: ``view``, ``offsets``,
``release()``, ``[i]``), ``block_bands`` and ``doc_bands`` (:class:`dedup.store.bands.BandStore`:
``bands``, ``band(b)``, ``spilled``), ``texts`` (:class:`dedup.store.texts.TextStore`, or None),
and ``add(batch)`` / ``close()`` for pass 1 to fill it.
"""
