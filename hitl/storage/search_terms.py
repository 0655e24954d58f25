"""Which trigrams of a search needle SQLite's FTS5 trigram index is asked for (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["fts_phrase", "trigram_shares", "rare_trigrams", "COMMON_SHARE", "TERMS_MAX"]

COMMON_SHARE = 0.05
"""A needle whose rarest trigram is in more than this share of the docs is asked as a phrase."""
USELESS_SHARE = 0.25
"""A trigram in more than this share of the docs narrows too little to be worth its doclist."""
TERMS_MAX = 3
"""At most this many trigrams are ANDed: each costs a doclist read, and instr checks the rest."""
NARROW_ENOUGH = 1e-4
"""No more trigrams are added once the product of the shares (as if independent) is below this."""


def fts_phrase(text: str) -> str:
    """`text` as an FTS5 string (double quotes doubled): matched as a phrase, never as syntax."""
    return '"' + text.replace('"', '""') + '"'


def trigram_shares(rows: Sequence[tuple], distinct: Sequence[str], probe: int) -> dict[str, float]:
    """Each trigram's estimated share of the docs, from the probe's rows.

    `rows` holds `(-1, lowest doc id, highest doc id)` and, for the k-th trigram of `distinct`,
    `(k, docs read, highest id read)` of its first `probe` docs in id order. A trigram with
    fewer docs was counted exactly; for the others the share is `probe` over the ids spanned
    to reach them (a trigram in every doc spans `probe` ids, one in a fortieth `40 * probe`).
    """
    lowest, highest = next((row[1], row[2]) for row in rows if row[0] == -1)
    if lowest is None:
        return {gram: 0.0 for gram in distinct}
    span = highest - lowest + 1
    shares = {}
    for k, read, last in (row for row in rows if row[0] != -1):
        if read < probe:
            shares[distinct[k]] = read / span
        else:
            shares[distinct[k]] = min(1.0, probe / (last - lowest + 1))
    return shares


def rare_trigrams(grams: Sequence[str], shares: dict[str, float]) -> list[str]:
    """The trigrams to AND, rarest first, or [] when the needle is better asked as a phrase.

    `grams` are the needle's trigrams by position. Neighbouring trigrams share two characters,
    so they say nearly the same thing: the trigrams are taken from one of the three tilings of
    the needle into non-overlapping trigrams (positions 0, 3, 6... or 1, 4, 7... or 2, 5, 8...),
    the one whose shares multiply to the least.
    """
    absent = [gram for gram in grams if shares[gram] == 0.0]
    if absent:
        return absent[:1]  # in no doc: nothing matches, and this is the cheapest way to say so
    tilings = [list(dict.fromkeys(grams[offset::3])) for offset in range(min(3, len(grams)))]
    best = min(tilings, key=lambda tiling: math.prod(shares[gram] for gram in tiling))
    ordered = sorted(best, key=lambda gram: shares[gram])
    if shares[ordered[0]] > COMMON_SHARE:
        return []
    chosen: list[str] = []
    narrowed = 1.0
    for gram in ordered:
        if len(chosen) == TERMS_MAX or narrowed < NARROW_ENOUGH or (chosen and shares[gram] > USELESS_SHARE):
            break
        chosen.append(gram)
        narrowed *= shares[gram]
    return chosen
