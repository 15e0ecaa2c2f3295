"""How blocks are compared: NFKC, lower case, digits to 0, punctuation to spaces, white space collapsed.

Example:
    >>> import polars as pl
    >>> pl.select(normalised(pl.lit("Posted Jan 17, 2019 — by AP"))).item()
    'posted jan 00 0000 by ap'
"""

from __future__ import annotations

import polars as pl

# A run of punctuation, symbols and white space, except a lone space (which already reads as one
# space): every word gap would otherwise be a match to replace, three times slower on news text.
_SEPARATOR_RUN = r"[\p{P}\p{S}\s]*[\p{P}\p{S}[^\S ]][\p{P}\p{S}\s]*|\s\s+"


def normalised(raw: pl.Expr) -> pl.Expr:
    """The text a block is compared by: NFKC, lower case, digits to 0, punctuation and symbols to
    spaces, white space collapsed. A block that normalises to nothing (``* * *``) keeps its stripped
    raw text, so it still equals only itself.

    Example: ``"Posted Jan 17, 2019 — by AP"`` -> ``"posted jan 00 0000 by ap"``.
    """
    ascii_only = raw.str.len_bytes() == raw.str.len_chars()
    folded = pl.when(ascii_only).then(raw).otherwise(raw.str.normalize("NFKC")).str.to_lowercase()  # NFKC leaves ASCII as it is
    # Any decimal digit becomes 0; on ASCII lines only 0-9 can be one, and that class is faster.
    zeroed = pl.when(ascii_only).then(folded.str.replace_all("[0-9]", "0")).otherwise(folded.str.replace_all(r"\d", "0"))
    return (
        zeroed
        .str.replace_all(_SEPARATOR_RUN, " ")
        .str.strip_chars()
        .replace("", None)  # written once: a when/then on it would compute it twice
        .fill_null(raw.str.strip_chars())
    )
