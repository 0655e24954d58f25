"""Which trigrams of a search needle the trigram indexes are asked for (pure functions): SQLite's
FTS5 index (shares estimated from the index itself) and PostgreSQL's pg_trgm (shares from a
sample of the docs)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "fts_phrase", "trigram_shares", "rare_trigrams", "trigram_doc_counts", "sampled_rare_trigrams",
    "COMMON_SHARE", "TERMS_MAX",
]  # fmt: skip

COMMON_SHARE = 0.05
"""A needle whose rarest trigram is in more than this share of the docs is asked as a phrase."""
USELESS_SHARE = 0.25
"""A trigram in more than this share of the docs narrows too little to be worth its doclist."""
TERMS_MAX = 3
"""At most this many trigrams are ANDed: each costs a doclist read, and instr checks the rest."""
PG_TERMS_MAX = 4
"""At most this many trigrams are asked of pg_trgm (a posting list each)."""
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


_ALNUM = re.compile(r"[a-z0-9]{3}")


def _pg_trigrams(text: str) -> list[str]:
    """The trigrams of `text` that pg_trgm indexes as they are: three ASCII letters or digits
    (it splits words at other characters and pads them, so other trigrams would not match)."""
    return [text[i : i + 3] for i in range(len(text) - 2) if _ALNUM.fullmatch(text, i, i + 3)]


def trigram_doc_counts(texts: Iterable[str]) -> Counter[str]:
    """In how many of `texts` each pg_trgm-indexable trigram occurs (a sample's statistics)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(_pg_trigrams(text)))
    return counts


def sampled_rare_trigrams(
    needle: str, sample: Sequence[str], counts: Counter[str], *, max_share: float = COMMON_SHARE
) -> list[str]:
    """The trigrams of `needle` to ask PostgreSQL's pg_trgm index for (each as `LIKE '%abc%'`),
    rarest first, from a `sample` of the docs (`counts`: its `trigram_doc_counts`), or [] to
    ask the whole needle.

    pg_trgm reads the posting list of every trigram of a pattern, also of those in nearly every
    doc (a thread id's 'ben', 'enc', 'nch'), and those cost the most: left out are the
    trigrams in more than `USELESS_SHARE` of the sample. From the others: the rarest, then
    each time the one that leaves the fewest of the sample's candidates, at least two (when
    there are) and as long as they narrow (every candidate is a heap row read to check it), at
    most `PG_TERMS_MAX`. Only trigrams
    pg_trgm indexes as written are asked. [] when the needle has none, or when it is in more
    than `max_share` of the sample: then the whole needle's `LIKE` is better (the planner walks
    the waiting threads in order for a page and stops at the first 50 matches, where narrowed
    it would read every candidate).
    """
    if not sample or len(needle) < 3:
        return []
    indexable = list(dict.fromkeys(_pg_trigrams(needle)))
    holding = [text for text in sample if needle in text]
    if not indexable or len(holding) > max(max_share, 0.0) * len(sample):
        return []
    useful = [gram for gram in indexable if counts.get(gram, 0) <= USELESS_SHARE * len(sample)]
    if not useful:
        return []
    # Greedy, on the sample: first the rarest trigram, then each time the one that leaves the
    # fewest candidates (the trigrams of one word come together, so their shares alone mislead).
    chosen = [min(useful, key=lambda gram: counts.get(gram, 0))]
    left = [text for text in sample if chosen[0] in text]  # sample docs holding every chosen trigram
    while len(chosen) < min(PG_TERMS_MAX, len(useful)):
        narrowed = {gram: [text for text in left if gram in text] for gram in useful if gram not in chosen}
        gram = min(narrowed, key=lambda g: len(narrowed[g]))
        if len(chosen) >= 2 and len(narrowed[gram]) >= len(left):
            break  # no trigram narrows the sample's candidates further
        chosen.append(gram)
        left = narrowed[gram]
        if len(chosen) >= 2 and len(left) <= len(holding):
            break  # the candidates are the matches
    return chosen
