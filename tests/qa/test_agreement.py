"""Agreement figures: the libraries' own numbers on a fixed table, a hand-checked case, and the
same through the QA desk's storage on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from hitl.qa.agreement import Rating, item_disagreement, rubric_agreement
from hitl.qa.rubrics import rubric_from_dict

NAN = float("nan")
TABLE = [  # Krippendorff's example as printed in the `krippendorff` package's README: 3 coders x 15 units
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]
CODERS = ["ann", "ben", "cat"]
LABELS = rubric_from_dict({"name": "label", "type": "categorical", "labels": ["1", "2", "3", "4"]})
SCALE = rubric_from_dict({"name": "scale", "type": "categorical", "labels": ["1", "2", "3", "4"], "ordered": True})
NUMBER = rubric_from_dict({"name": "number", "type": "numeric", "min": 1, "max": 5})


def _ratings(as_label: bool) -> list[Rating]:
    return [
        Rating(item=f"u{unit:02d}", reviewer=CODERS[row], value=str(int(value)) if as_label else int(value))
        for row, values in enumerate(TABLE)
        for unit, value in enumerate(values)
        if not math.isnan(value)
    ]


def test_alpha_matches_the_package_and_its_published_values() -> None:
    nominal = rubric_agreement(LABELS, _ratings(True))
    interval = rubric_agreement(NUMBER, _ratings(False))
    ordinal = rubric_agreement(SCALE, _ratings(True))
    matrix = np.array(TABLE)
    codes = matrix - 1  # labels "1".."4" are coded by position 0..3
    assert nominal.alpha == pytest.approx(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    assert nominal.alpha == pytest.approx(0.691, abs=5e-4)
    assert interval.alpha == pytest.approx(krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval"))
    assert interval.alpha == pytest.approx(0.811, abs=5e-4)
    assert ordinal.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=codes, level_of_measurement="ordinal", value_domain=[0, 1, 2, 3])
    )
    # Units with a single rating (u01, u13 have none or one) are not pairable: 12 items behind alpha.
    assert (nominal.n_items, nominal.n_reviewers, nominal.level, ordinal.level, interval.level) == (
        12, 3, "nominal", "ordinal", "interval")  # fmt: skip


def test_pairwise_kappa_matches_scikit_learn() -> None:
    result = rubric_agreement(SCALE, _ratings(True))
    by_pair = {(p.reviewer_a, p.reviewer_b): p for p in result.pairs}
    matrix = np.array(TABLE)
    for a, b in [("ann", "ben"), ("ann", "cat"), ("ben", "cat")]:
        ra, rb = matrix[CODERS.index(a)], matrix[CODERS.index(b)]
        both = ~np.isnan(ra) & ~np.isnan(rb)
        pair = by_pair[(a, b)]
        assert pair.n_items == int(both.sum())
        if pair.kappa is not None:
            expected = cohen_kappa_score(ra[both] - 1, rb[both] - 1, labels=[0, 1, 2, 3], weights="linear")
            assert pair.kappa == pytest.approx(expected)
    assert (by_pair[("ann", "cat")].n_items, by_pair[("ann", "cat")].kappa is not None) == (8, True)


def test_a_hand_checked_case() -> None:
    # Two reviewers, four items: yes/yes, yes/no, no/no, no/no.
    # Cohen: p_o = 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2, kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2.
    # Krippendorff (nominal): coincidences o_11 = 2, o_10 = o_01 = 1, o_00 = 4; n = 8, n_1 = 3, n_0 = 5;
    # D_o = 2/8, D_e = 2*3*5/(8*7) = 30/56, alpha = 1 - (1/4)/(30/56) = 8/15.
    correct = rubric_from_dict({"name": "correct", "type": "boolean"})
    ratings = [Rating(item=f"i{n}", reviewer=r, value=v) for n, (a, b) in enumerate([(True, True), (True, False), (False, False), (False, False)])
               for r, v in (("alice", a), ("bob", b))]  # fmt: skip
    result = rubric_agreement(correct, ratings)
    assert result.alpha == pytest.approx(8 / 15)
    (pair,) = result.pairs
    assert (pair.kappa, pair.n_items, pair.observed_agreement) == (pytest.approx(0.5), 4, 0.75)


def test_undefined_figures_say_why() -> None:
    correct = rubric_from_dict({"name": "correct", "type": "boolean"})
    same = [Rating(item=f"i{n}", reviewer=r, value=True) for n in range(3) for r in ("alice", "bob")]
    result = rubric_agreement(correct, same)
    assert result.alpha is None and "same value" in result.reason
    assert result.pairs[0].kappa is None and result.pairs[0].n_items == 3
    lone = rubric_agreement(correct, [Rating(item="i", reviewer="alice", value=True)])
    assert (lone.alpha, lone.n_items, lone.reason) == (None, 0, "no item has two ratings yet")


def test_item_disagreement_is_zero_to_one_per_level() -> None:
    assert item_disagreement(LABELS, ["1", "1"]) == 0.0
    assert item_disagreement(LABELS, ["1", "2"]) == 1.0
    assert item_disagreement(SCALE, ["1", "4"]) == 1.0
    assert item_disagreement(SCALE, ["1", "2"]) == pytest.approx(1 / 3)
    assert item_disagreement(NUMBER, [1, 5]) == 1.0


def test_the_desk_computes_the_same_figures_from_stored_scores(inbox, make_qa) -> None:
    """SQLite and PostgreSQL: ratings stored as submissions come back as the libraries' figures."""
    from hitl.qa import service
    from hitl.qa.values import load_qa_config

    policy_rubrics = [LABELS.to_dict(), NUMBER.to_dict()]
    qa = service.QA(inbox, clock=lambda: 1_800_000_000.0,
                    config=load_qa_config({"qa": {"rubrics": policy_rubrics, "queues": [
                        {"name": "table", "rubrics": ["label", "number"], "reviewers_per_item": 3}]}}))  # fmt: skip
    units = [f"u{unit:02d}" for unit in range(15)]
    qa.storage.add_items(
        {"queue": "table", "thread_id": unit, "graph_id": None, "checkpoint_id": "", "status": "completed",
         "finished_at": float(n), "is_fork": False, "added_by": "test", "added_at": 0.0}  # fmt: skip
        for n, unit in enumerate(units)
    )
    for row, coder in enumerate(CODERS):
        for unit, value in enumerate(TABLE[row]):
            if not math.isnan(value):
                qa.submit("table", units[unit], reviewer=coder, scores={"label": str(int(value)), "number": int(value)})
    label, number = qa.agreement("table")
    assert label.alpha == pytest.approx(0.691358024691358)
    assert number.alpha == pytest.approx(0.8108448928121059)
    assert label.n_items == number.n_items == 12
