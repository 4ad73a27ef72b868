"""Metrics on tiny hand-checked frames (STYLE 8), and NDCG against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from insertion_match.matcher.columns import FrameError
from insertion_match.matcher.evaluation import metrics as M


def frame(rows) -> pd.DataFrame:
    """rows: (person, item, score, label)."""
    return pd.DataFrame(rows, columns=["person_id", "item_id", "score", "success"])


PERFECT = frame([("p", "a", 3, 1), ("p", "b", 2, 1), ("p", "c", 1, 0)])
NO_HIT = frame([("p", "a", 3, 0), ("p", "b", 2, 0), ("p", "c", 1, 1)])


def test_rank_orders_by_score_and_breaks_ties_by_row_order():
    ranked = M.rank(frame([("q", "x", 1, 0), ("p", "a", 1, 0), ("p", "b", 2, 0),
                           ("p", "c", 1, 0)]))
    assert ranked[["person_id", "item_id", "rank"]].values.tolist() == [
        ["p", "b", 1], ["p", "a", 2], ["p", "c", 3], ["q", "x", 1]]


def test_ndcg_perfect_ranking_is_one_and_a_miss_in_the_top_k_is_zero():
    assert M.ndcg_at_k(PERFECT, 2)["p"] == 1.0
    assert M.ndcg_at_k(NO_HIT, 2)["p"] == 0.0
    assert math.isnan(M.ndcg_at_k(frame([("p", "a", 1, 0)]), 5)["p"])  # nothing to find


def test_ndcg_textbook_example():
    # relevant at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3)
    f = frame([("p", "a", 3, 1), ("p", "b", 2, 0), ("p", "c", 1, 1)])
    assert M.ndcg_at_k(f, 3)["p"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_ndcg_matches_scikit_learn(k):
    rng = np.random.default_rng(k)
    n_people, n_items = 30, 12
    scores = rng.random((n_people, n_items))  # continuous: no ties
    labels = (rng.random((n_people, n_items)) < 0.25).astype(float)
    labels[:, 0] = np.maximum(labels[:, 0], rng.random(n_people) < 0.5)
    labels[labels.sum(axis=1) == 0, 1] = 1.0  # scikit-learn scores all-zero rows 0; we skip them
    rows = [(f"p{i:02d}", f"i{j}", scores[i, j], labels[i, j])
            for i in range(n_people) for j in range(n_items)]
    ours = M.ndcg_at_k(frame(rows), k).sort_index().to_numpy()
    theirs = [ndcg_score(labels[i:i + 1], scores[i:i + 1], k=k) for i in range(n_people)]
    assert np.allclose(ours, theirs)
    assert ours.mean() == pytest.approx(ndcg_score(labels, scores, k=k))


def test_graded_gains_match_scikit_learn():
    labels = np.array([[2.0, 0.0, 1.0, 0.0, 1.0]])
    scores = np.array([[0.1, 0.9, 0.8, 0.3, 0.5]])
    rows = [("p", f"i{j}", scores[0, j], labels[0, j]) for j in range(5)]
    assert M.ndcg_at_k(frame(rows), 3)["p"] == pytest.approx(ndcg_score(labels, scores, k=3))


def test_recall_precision_and_average_precision_by_hand():
    f = frame([("p", "a", 4, 1), ("p", "b", 3, 0), ("p", "c", 2, 1), ("p", "d", 1, 1)])
    assert M.recall_at_k(f, 2)["p"] == pytest.approx(1 / 3)
    assert M.precision_at_k(f, 2)["p"] == pytest.approx(1 / 2)
    assert M.precision_at_k(f, 10)["p"] == pytest.approx(3 / 4)  # only 4 candidates shown
    # relevant at 1, 3, 4: AP = (1/1 + 2/3 + 3/4) / 3
    assert M.average_precision(f)["p"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    assert M.average_precision(PERFECT)["p"] == 1.0
    assert math.isnan(M.recall_at_k(frame([("p", "a", 1, 0)]), 3)["p"])


def test_coverage_capacity_and_travel():
    top = pd.DataFrame({"person_id": ["p", "p", "q", "r"], "item_id": ["a", "b", "a", "a"],
                        "travel_minutes": [10.0, np.inf, 30.0, 50.0],
                        "itinerant": [False, True, False, False]})
    assert M.catalogue_coverage(top, 4) == 0.5
    # item a: demand 3 for 2 places -> 1 over; b unknown capacity; c unused
    assert M.capacity_overflow(top, pd.Series({"a": 2.0, "c": 5.0})) == pytest.approx(1 / 3)
    assert M.capacity_overflow(top, pd.Series({"a": 2.0}), slot_weight=0.5) == 0.0
    assert M.median_travel_minutes(top) == pytest.approx(20.0)  # 10, 0 (itinerant), 30, 50
    assert M.unreachable_share(top.assign(itinerant=False)) == 0.25


def test_frein_coverage_counts_needs_addressed_by_the_shown_items():
    top = pd.DataFrame({"person_id": ["p", "p", "q"]}, index=[10, 11, 12])
    needs = pd.DataFrame({"mobilite": [True, True, False], "logement": [True, False, False]},
                         index=["p", "q", "r"])
    addressed = pd.DataFrame({"mobilite": [True, False, False],
                              "logement": [False, False, False]}, index=top.index)
    cov = M.frein_coverage(top, needs, addressed)
    assert cov.to_dict() == {"p": 0.5, "q": 0.0}  # r has no need: left out


def test_brier_and_reliability_by_hand():
    p = np.array([0.1, 0.1, 0.9, 0.9])
    y = np.array([0, 0, 1, 0])
    assert M.brier_score(p, y) == pytest.approx((0.01 + 0.01 + 0.01 + 0.81) / 4)
    curve = M.reliability_curve(p, y, bins=10)
    assert curve[["mean_predicted", "observed", "n"]].values.tolist() == [[0.1, 0.0, 2],
                                                                          [0.9, 0.5, 2]]


def test_frames_are_checked_at_the_door():
    with pytest.raises(FrameError, match="success"):
        M.ndcg_at_k(PERFECT.drop(columns="success"), 3)
