"""Inter-rater agreement: Krippendorff's alpha and pairwise Cohen's kappa per rubric. Pure.

The figures come from the libraries, not from code written here: `krippendorff.alpha` (the
`krippendorff` package) over the reviewers x items reliability matrix, with the rubric's level
of measurement (nominal for booleans and unordered labels, ordinal for ordered labels, interval
for numbers), and `sklearn.metrics.cohen_kappa_score` for every pair of reviewers on the items
both scored (unweighted for nominal rubrics, linear weights for ordinal, quadratic for numeric).
Each figure carries the number of items behind it; a figure that is undefined (too few items,
or no variation at all) is None with the reason, never a made-up number.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import krippendorff
import numpy as np

from hitl.qa.rubrics import Rubric

__all__ = ["Rating", "PairKappa", "RubricAgreement", "rubric_agreement", "item_disagreement", "KAPPA_WEIGHTS"]

KAPPA_WEIGHTS = {"nominal": None, "ordinal": "linear", "interval": "quadratic"}
"""Cohen's kappa weighting per level of measurement."""


@dataclass(frozen=True, kw_only=True)
class Rating:
    """One reviewer's score of one item on one rubric."""

    item: str
    reviewer: str
    value: Any


@dataclass(frozen=True, kw_only=True)
class PairKappa:
    """Cohen's kappa between two reviewers over the items both scored."""

    reviewer_a: str
    reviewer_b: str
    kappa: float | None
    n_items: int
    observed_agreement: float | None = None
    """Share of those items on which both gave the same value."""
    reason: str | None = None
    """Why `kappa` is None."""


@dataclass(frozen=True, kw_only=True)
class RubricAgreement:
    """Agreement on one rubric of one queue."""

    rubric: str
    level: str | None
    alpha: float | None
    n_items: int
    """Items with at least two ratings (the ones alpha is computed over)."""
    n_ratings: int
    """Ratings on those items."""
    n_reviewers: int
    pairs: list[PairKappa] = field(default_factory=list)
    reason: str | None = None
    """Why `alpha` is None."""


def _codes(rubric: Rubric, ratings: Iterable[Rating]) -> dict[tuple[str, str], float]:
    codes: dict[tuple[str, str], float] = {}
    for rating in ratings:
        code = rubric.code(rating.value)
        if code is not None and math.isfinite(code):
            codes[(rating.reviewer, rating.item)] = code
    return codes


def rubric_agreement(rubric: Rubric, ratings: Sequence[Rating]) -> RubricAgreement:
    """Krippendorff's alpha and pairwise Cohen's kappa for one rubric's ratings."""
    if rubric.level is None:
        return RubricAgreement(rubric=rubric.name, level=None, alpha=None, n_items=0, n_ratings=0, n_reviewers=0,
                               reason="free-text scores are not compared")  # fmt: skip
    codes = _codes(rubric, ratings)
    reviewers = sorted({reviewer for reviewer, _ in codes})
    items = sorted({item for _, item in codes})
    per_item = {item: sum(1 for (_, i) in codes if i == item) for item in items}
    pairable = [item for item in items if per_item[item] >= 2]
    n_ratings = sum(per_item[item] for item in pairable)
    alpha, reason = _alpha(rubric, codes, reviewers, pairable)
    return RubricAgreement(
        rubric=rubric.name, level=rubric.level, alpha=alpha, n_items=len(pairable), n_ratings=n_ratings,
        n_reviewers=len(reviewers), pairs=_pairs(rubric, codes, reviewers), reason=reason,
    )  # fmt: skip


def reliability_matrix(codes: dict[tuple[str, str], float], reviewers: Sequence[str], items: Sequence[str]) -> np.ndarray:
    """Reviewers x items, NaN where a reviewer did not score an item."""
    matrix = np.full((len(reviewers), len(items)), np.nan)
    for row, reviewer in enumerate(reviewers):
        for column, item in enumerate(items):
            matrix[row, column] = codes.get((reviewer, item), np.nan)
    return matrix


def _alpha(rubric: Rubric, codes: dict[tuple[str, str], float], reviewers: list[str], items: list[str]) -> tuple[float | None, str | None]:
    if not items:
        return None, "no item has two ratings yet"
    matrix = reliability_matrix(codes, reviewers, items)
    observed = np.unique(matrix[~np.isnan(matrix)])
    if len(observed) < 2:
        return None, "every rating has the same value, so expected disagreement is zero and alpha is undefined"
    domain = rubric.value_domain()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = krippendorff.alpha(
                reliability_data=matrix, level_of_measurement=rubric.level, value_domain=domain
            )  # fmt: skip
    except ValueError as exc:
        return None, str(exc)
    if value is None or not math.isfinite(float(value)):
        return None, "alpha is undefined for these ratings"
    return float(value), None


def _pairs(rubric: Rubric, codes: dict[tuple[str, str], float], reviewers: list[str]) -> list[PairKappa]:
    pairs = []
    labels = rubric.value_domain() or ([float(c) for c in rubric.choices] if rubric.choices else None)
    weights = KAPPA_WEIGHTS[rubric.level or "nominal"]
    for a, b in itertools.combinations(reviewers, 2):
        common = sorted({i for (r, i) in codes if r == a} & {i for (r, i) in codes if r == b})
        if not common:
            continue
        left = [codes[(a, item)] for item in common]
        right = [codes[(b, item)] for item in common]
        agreed = sum(1 for x, y in zip(left, right, strict=True) if x == y) / len(common)
        kappa, reason = _kappa(left, right, labels, weights)
        pairs.append(PairKappa(reviewer_a=a, reviewer_b=b, kappa=kappa, n_items=len(common), observed_agreement=agreed, reason=reason))
    return pairs


def _kappa(left: list[float], right: list[float], labels: list[float] | None, weights: str | None) -> tuple[float | None, str | None]:
    if len(left) < 2:
        return None, "one common item: kappa needs at least two"
    if len(set(left) | set(right)) < 2:
        return None, "both reviewers gave one and the same value throughout: kappa is undefined"
    # Imported here, not at the top: scikit-learn's metrics take longer to import than the rest of
    # the desk together, and only agreement figures need them (the API, CLI and pages import this).
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(left, right, labels=labels, weights=weights)
    if not math.isfinite(float(value)):
        return None, "kappa is undefined for these ratings (no variation to correct for chance)"
    return float(value), None


def item_disagreement(rubric: Rubric, values: Sequence[Any]) -> float:
    """How much the ratings of one item disagree, 0 (all equal) to 1 (as far apart as possible).

    Nominal: share of rating pairs that differ. Ordinal: mean distance between pairs over the
    scale's length. Interval: mean absolute difference over the rubric's range.
    """
    codes = [c for c in (rubric.code(v) for v in values) if c is not None]
    if len(codes) < 2 or rubric.level is None:
        return 0.0
    pairs = list(itertools.combinations(codes, 2))
    if rubric.level == "nominal":
        return sum(1 for a, b in pairs if a != b) / len(pairs)
    if rubric.level == "ordinal":
        span = max(len(rubric.labels) - 1, 1)
    else:
        low = rubric.minimum if rubric.minimum is not None else min(codes)
        high = rubric.maximum if rubric.maximum is not None else max(codes)
        span = (high - low) or 1.0
    return min(1.0, sum(abs(a - b) for a, b in pairs) / len(pairs) / span)
