"""Ranking and calibration metrics, as pure functions on frames (STYLE 8).

A *ranked* frame has one row per (person, candidate) with ``PERSON_ID``, ``SCORE`` and ``LABEL``
(relevance: 1 = proposing it would end in a positive exit; graded gains work for NDCG too).
:func:`rank` adds ``RANK`` (1 = best) per person: by descending score, ties broken by the frame's
row order (so results are deterministic).

Per-person metrics return a ``pandas.Series`` indexed by person; a person with no relevant
candidate gets NaN for NDCG, recall and AP (nothing to find: neither good nor bad), and the means
reported skip them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insertion_match.matcher.columns import (
    ITEM_ID,
    ITINERANT,
    LABEL,
    PERSON_ID,
    RANK,
    SCORE,
    TRAVEL_MINUTES,
    require_columns,
)


def rank(frame: pd.DataFrame, score: str = SCORE) -> pd.DataFrame:
    """``frame`` sorted by person then rank, with ``RANK`` (1-based) per person."""
    require_columns(frame, (PERSON_ID, score), "ranked frame")
    persons = pd.factorize(frame[PERSON_ID], sort=True)[0]
    scores = frame[score].to_numpy(dtype=float)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    order = np.lexsort((np.arange(len(frame)), -scores, persons))
    out = frame.iloc[order].copy()
    sorted_persons = persons[order]
    starts = np.flatnonzero(np.r_[True, sorted_persons[1:] != sorted_persons[:-1]]) \
        if len(out) else np.empty(0, dtype=int)
    sizes = np.diff(np.r_[starts, len(out)])
    out[RANK] = np.arange(len(out)) - np.repeat(starts, sizes) + 1
    return out


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    require_columns(frame, (PERSON_ID, LABEL), "ranked frame")
    return frame if RANK in frame.columns else rank(frame)


def _discount(ranks: np.ndarray) -> np.ndarray:
    return 1.0 / np.log2(ranks + 1.0)


def dcg_at_k(frame: pd.DataFrame, k: int) -> pd.Series:
    """Σ over the top ``k`` of ``gain / log2(rank + 1)`` (gain = label), per person."""
    r = _ranked(frame)
    gain = np.where(r[RANK] <= k, r[LABEL].to_numpy(dtype=float) * _discount(r[RANK].to_numpy()), 0.0)
    return pd.Series(gain, index=r.index).groupby(r[PERSON_ID].to_numpy()).sum()


def ndcg_at_k(frame: pd.DataFrame, k: int) -> pd.Series:
    """DCG@k over the ideal DCG@k (labels sorted descending); NaN when no relevant candidate."""
    r = _ranked(frame)
    dcg = dcg_at_k(r, k)
    ideal = rank(r.assign(**{SCORE: r[LABEL].to_numpy(dtype=float)}).drop(columns=RANK))
    idcg = dcg_at_k(ideal, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dcg / idcg).where(idcg > 0)


def recall_at_k(frame: pd.DataFrame, k: int) -> pd.Series:
    """Relevant candidates in the top ``k`` over all relevant ones; NaN when none is relevant."""
    r = _ranked(frame)
    rel = r[LABEL].to_numpy(dtype=float) > 0
    persons = r[PERSON_ID].to_numpy()
    hits = pd.Series(rel & (r[RANK].to_numpy() <= k)).groupby(persons).sum()
    total = pd.Series(rel).groupby(persons).sum()
    return (hits / total).where(total > 0)


def precision_at_k(frame: pd.DataFrame, k: int) -> pd.Series:
    """Relevant candidates in the top ``k`` over ``min(k, candidates)`` (a success rate)."""
    r = _ranked(frame)
    persons = r[PERSON_ID].to_numpy()
    top = r[RANK].to_numpy() <= k
    hits = pd.Series((r[LABEL].to_numpy(dtype=float) > 0) & top).groupby(persons).sum()
    shown = pd.Series(top).groupby(persons).sum()
    return hits / shown


def average_precision(frame: pd.DataFrame) -> pd.Series:
    """Mean of precision@rank over the ranks of relevant candidates; NaN when none is relevant.
    Its mean over people is MAP."""
    r = _ranked(frame)
    persons = r[PERSON_ID].to_numpy()
    rel = (r[LABEL].to_numpy(dtype=float) > 0).astype(float)
    cum_hits = pd.Series(rel).groupby(persons).cumsum().to_numpy()
    prec = np.where(rel > 0, cum_hits / r[RANK].to_numpy(), 0.0)
    total = pd.Series(rel).groupby(persons).sum()
    return (pd.Series(prec).groupby(persons).sum() / total).where(total > 0)


def top_k(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The rows ranked in the first ``k`` of each person."""
    r = _ranked(frame) if RANK in frame.columns else rank(frame)
    return r[r[RANK] <= k]


def catalogue_coverage(top: pd.DataFrame, catalogue_size: int) -> float:
    """Distinct items shown in any top-k list over the number of items that could be shown."""
    require_columns(top, (ITEM_ID,), "top-k frame")
    return float(top[ITEM_ID].nunique() / catalogue_size) if catalogue_size else float("nan")


def capacity_overflow(top: pd.DataFrame, capacity: pd.Series, slot_weight: float = 1.0) -> float:
    """Share of the demand on capacity-limited items that exceeds the item's capacity.

    Demand of an item = (top-k lists it is in) × ``slot_weight`` (e.g. the prescriptions a person
    gets per list shown, over k). ``capacity`` maps item id → places available to the evaluated
    population; items missing from it (unknown capacity) are left out of both numerator and
    denominator.
    """
    require_columns(top, (ITEM_ID,), "top-k frame")
    demand = top[ITEM_ID].value_counts() * slot_weight
    limited = demand[demand.index.isin(capacity.index)]
    if limited.sum() == 0:
        return 0.0
    over = (limited - capacity.reindex(limited.index)).clip(lower=0)
    return float(over.sum() / limited.sum())


def median_travel_minutes(top: pd.DataFrame) -> float:
    """Median one-way travel time of the shown items (itinerant = 0 min; items no own mode
    reaches are left out: see :func:`unreachable_share`)."""
    require_columns(top, (TRAVEL_MINUTES, ITINERANT), "top-k frame")
    minutes = np.where(top[ITINERANT].to_numpy(dtype=bool), 0.0,
                       top[TRAVEL_MINUTES].to_numpy(dtype=float))
    minutes = minutes[np.isfinite(minutes)]
    return float(np.median(minutes)) if minutes.size else float("nan")


def unreachable_share(top: pd.DataFrame) -> float:
    """Share of shown items that none of the person's own modes reaches."""
    require_columns(top, (TRAVEL_MINUTES, ITINERANT), "top-k frame")
    if top.empty:
        return float("nan")
    minutes = top[TRAVEL_MINUTES].to_numpy(dtype=float)
    return float((~np.isfinite(minutes) & ~top[ITINERANT].to_numpy(dtype=bool)).mean())


def frein_coverage(top: pd.DataFrame, needs: pd.DataFrame, addressed: pd.DataFrame) -> pd.Series:
    """Per person with at least one need: share of their needs addressed by a shown item.

    ``needs``: index person, one boolean column per frein (the person's real or blocking freins).
    ``addressed``: aligned with ``top`` rows, the same columns, True when the item addresses it.
    """
    require_columns(top, (PERSON_ID,), "top-k frame")
    covered = addressed.groupby(top[PERSON_ID].to_numpy()).any()
    needs = needs[needs.any(axis=1)]
    covered = covered.reindex(needs.index, fill_value=False)[needs.columns]
    return (covered & needs).sum(axis=1) / needs.sum(axis=1)


def brier_score(probability: np.ndarray, label: np.ndarray) -> float:
    """Mean squared difference between predicted probability and the 0/1 outcome."""
    probability, label = np.asarray(probability, float), np.asarray(label, float)
    return float(np.mean((probability - label) ** 2)) if label.size else float("nan")


def reliability_curve(probability: np.ndarray, label: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per equal-width probability bin: mean prediction, observed frequency, count (non-empty
    bins only)."""
    probability, label = np.asarray(probability, float), np.asarray(label, float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": which, "p": probability, "y": label})
    out = frame.groupby("bin").agg(mean_predicted=("p", "mean"), observed=("y", "mean"),
                                   n=("y", "size")).reset_index()
    out["lower"], out["upper"] = out["bin"] / bins, (out["bin"] + 1) / bins
    return out[["lower", "upper", "mean_predicted", "observed", "n"]]
