"""Evaluate several rankings of the same candidates against the same relevance labels.

:func:`evaluate_rankings` is generic: it does not know where the candidates, the labels or the
scores come from (the synthetic world, or real prescriptions and outcomes). Each :class:`Method`
gives one score per candidate row (higher = shown first); methods served through the diversity
re-rank of ``matcher.ranking`` (``rerank=True``) are evaluated in their served order. The result is
a plain JSON-able dict (see ``docs/architecture.md``, "Offline evaluation"). Its ``fairness``
entry is the table of ratios per group (:func:`fairness_ratios`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm

from insertion_match.matcher import columns as C
from insertion_match.matcher.evaluation import bootstrap, metrics
from insertion_match.matcher.ranking import diversify

EMPLOYMENT_CATEGORIES = ("iae", "emploi_formation", "accompagnement_renforce")


@dataclass(frozen=True)
class Method:
    name: str
    scores: np.ndarray  # one per candidate row
    probability: np.ndarray | None = None  # P(positive exit), when the method has one
    rerank: bool = False  # served through matcher.ranking.diversify
    description: str = ""


@dataclass(frozen=True)
class EvaluationSpec:
    k_values: tuple[int, ...] = (5, 10)
    n_bootstrap: int = 1000
    n_bootstrap_groups: int = 400
    alpha: float = 0.05
    random_state: int = 0
    rerank_k: int = 10
    reference: tuple[str, str] = ("learned", "distance")
    comparisons: tuple[tuple[str, str], ...] = (
        ("learned", "distance"), ("learned", "transparent"), ("transparent", "distance"),
        ("learned", "popularity"))
    oracle: str = "oracle"
    fairness_band: tuple[float, float] = (0.8, 1.25)  # ratio to everyone; outside is flagged
    headline_k: int = 10
    reliability_bins: int = 10
    employment_categories: tuple[str, ...] = EMPLOYMENT_CATEGORIES
    extra: dict = field(default_factory=dict)  # recorded as is (split, candidates, ...)


def served_scores(candidates: pd.DataFrame, scores: np.ndarray, k: int) -> np.ndarray:
    """Scores whose descending order is the served order: the first ``k`` of each person as
    ``diversify`` puts them, then the rest by score. Rows of a person must be contiguous."""
    persons = candidates[C.PERSON_ID].to_numpy()
    frein_codes = pd.factorize(candidates[C.MAIN_FREIN])[0]
    cat_codes = pd.factorize(candidates[C.CATEGORY])[0]
    starts = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1]])
    ends = np.r_[starts[1:], len(persons)]
    out = np.empty(len(persons))
    for start, end in zip(starts, ends, strict=True):
        s = scores[start:end]
        chosen = diversify(s, frein_codes[start:end], cat_codes[start:end], k)
        rest = np.setdiff1d(np.argsort(-s, kind="stable"), chosen, assume_unique=True)
        rest = rest[np.argsort(-s[rest], kind="stable")]
        order = np.r_[chosen, rest]
        out[start + order] = -np.arange(order.size, dtype=float)
    return out


def _interval(values, spec: EvaluationSpec, n: int | None = None, salt: int = 0) -> dict:
    return bootstrap.mean_interval(values, n or spec.n_bootstrap, spec.alpha,
                                   spec.random_state + salt).as_dict()


def evaluate_rankings(
    candidates: pd.DataFrame,
    labels: np.ndarray,
    methods: Sequence[Method],
    *,
    groups: pd.DataFrame,
    needs: pd.DataFrame,
    capacity: pd.Series,
    catalogue_size: int,
    proposals_per_person: float | None = None,
    spec: EvaluationSpec | None = None,
    progress: bool = False,
) -> dict:
    """Metrics of every method, paired comparisons, and per-group exposure and success.

    ``candidates``: one row per (person, candidate), persons contiguous, with ``PERSON_ID``,
    ``ITEM_ID``, ``CATEGORY``, ``MAIN_FREIN``, ``TRAVEL_MINUTES``, ``ITINERANT`` and the
    ``frein.<key>`` design columns. ``labels``: relevance per row. ``groups``: index person, one
    column per group dimension. ``needs``: index person, one boolean column per frein key.
    ``capacity``: item → places for the evaluated population; ``proposals_per_person``: how
    many of the k items shown a person is prescribed on average (capacity demand per slot =
    that / k; None: every slot counts as a prescription).
    """
    spec = spec or EvaluationSpec()
    C.require_columns(candidates, (C.PERSON_ID, C.ITEM_ID, C.CATEGORY, C.MAIN_FREIN,
                                   C.TRAVEL_MINUTES, C.ITINERANT), "candidates")
    labels = np.asarray(labels, dtype=float)
    base = candidates.loc[:, [C.PERSON_ID, C.ITEM_ID, C.CATEGORY, C.TRAVEL_MINUTES,
                              C.ITINERANT]].assign(**{C.LABEL: labels})
    addressed_all = pd.DataFrame(
        {k: candidates[f"frein.{k}"].to_numpy() > 0 for k in needs.columns}, index=base.index)
    employment = candidates[C.CATEGORY].isin(spec.employment_categories).to_numpy()
    per_person: dict[str, pd.DataFrame] = {}
    results: dict[str, dict] = {}
    for salt, method in enumerate(tqdm(methods, desc="evaluate: methods", disable=not progress)):
        scores = np.asarray(method.scores, dtype=float)
        if method.rerank:
            scores = served_scores(candidates, scores, spec.rerank_k)
        ranked = metrics.rank(base.assign(**{C.SCORE: scores, "employment": employment}))
        pp = {}
        for k in spec.k_values:
            pp[f"ndcg@{k}"] = metrics.ndcg_at_k(ranked, k)
            pp[f"recall@{k}"] = metrics.recall_at_k(ranked, k)
            pp[f"success@{k}"] = metrics.precision_at_k(ranked, k)
        pp["ap"] = metrics.average_precision(ranked)
        k0 = min(spec.k_values)
        top0 = metrics.top_k(ranked, k0)
        pp[f"exposure@{k0}"] = top0.groupby(C.PERSON_ID)["employment"].mean()
        pp[f"frein_coverage@{k0}"] = metrics.frein_coverage(
            top0, needs, addressed_all.loc[top0.index])
        frame = pd.DataFrame(pp)
        per_person[method.name] = frame
        summary: dict[str, object] = {"description": method.description,
                                      "rerank": method.rerank}
        for column in frame.columns:
            name = "map" if column == "ap" else column
            summary[name] = _interval(frame[column].to_numpy(), spec, salt=salt)
        for k in spec.k_values:
            top = metrics.top_k(ranked, k)
            summary[f"coverage@{k}"] = metrics.catalogue_coverage(top, catalogue_size)
            weight = 1.0 if proposals_per_person is None else proposals_per_person / k
            summary[f"capacity_overflow@{k}"] = metrics.capacity_overflow(top, capacity, weight)
        summary[f"median_travel_top{k0}"] = metrics.median_travel_minutes(top0)
        summary[f"unreachable_top{k0}"] = metrics.unreachable_share(top0)
        if method.probability is not None:
            prob = np.asarray(method.probability, dtype=float)
            summary["brier"] = metrics.brier_score(prob, labels)
            summary["reliability"] = metrics.reliability_curve(
                prob, labels, spec.reliability_bins).to_dict(orient="records")
        results[method.name] = summary

    names = [m.name for m in methods]
    hk = f"ndcg@{spec.headline_k}"
    comparisons: dict[str, dict] = {}
    for a, b in spec.comparisons:
        if a in per_person and b in per_person:
            x, y = per_person[a][hk].align(per_person[b][hk])
            comparisons[f"{a}-{b}.{hk}"] = bootstrap.paired_difference(
                x.to_numpy(), y.to_numpy(), spec.n_bootstrap, spec.alpha,
                spec.random_state).as_dict()
    if spec.oracle in per_person:
        for name in names:
            if name != spec.oracle:
                x, y = per_person[name][hk].align(per_person[spec.oracle][hk])
                comparisons[f"{name}/{spec.oracle}.{hk}"] = bootstrap.ratio_of_means(
                    x.to_numpy(), y.to_numpy(), spec.n_bootstrap, spec.alpha,
                    spec.random_state).as_dict()

    k0 = min(spec.k_values)
    group_metrics = (f"success@{k0}", f"exposure@{k0}", hk)
    by_group: dict[str, dict] = {}
    dims = list(groups.columns)
    for d, dim in enumerate(tqdm(dims, desc="evaluate: groups", disable=not progress)):
        by_group[dim] = {}
        for value, members in groups.groupby(dim).groups.items():
            cell: dict[str, dict] = {}
            for name in names:
                frame = per_person[name].reindex(members)
                cell[name] = {m: _interval(frame[m].to_numpy(), spec, spec.n_bootstrap_groups,
                                           salt=100 + d) for m in group_metrics}
            by_group[dim][str(value)] = cell

    fairness = fairness_ratios(per_person, groups, (f"exposure@{k0}", f"success@{k0}"), spec)

    ref_a, ref_b = spec.reference
    headline = {
        "metric": hk,
        "difference": comparisons.get(f"{ref_a}-{ref_b}.{hk}"),
        "ratio_to_oracle": comparisons.get(f"{ref_a}/{spec.oracle}.{hk}"),
        "reference": [ref_a, ref_b],
    }
    spec_dict = asdict(spec)
    return {"spec": spec_dict, "headline": headline, "methods": results,
            "comparisons": comparisons, "groups": by_group, "fairness": fairness,
            "population": {"people": int(base[C.PERSON_ID].nunique()),
                           "candidates": len(base),
                           "people_with_a_relevant_candidate": int(
                               per_person[names[0]][hk].notna().sum()) if names else 0}}


def fairness_ratios(per_person: dict[str, pd.DataFrame], groups: pd.DataFrame,
                    metrics_: Sequence[str], spec: EvaluationSpec) -> dict:
    """The fairness table: per group variable, group, method and metric, the group's mean over
    everyone's (the reference) with a bootstrap interval; ``outside_band`` when the ratio is
    outside ``spec.fairness_band`` ([0.8, 1.25]: the four-fifths rule and its inverse)."""
    low_band, high_band = spec.fairness_band
    rows = []
    for d, dim in enumerate(groups.columns):
        for name, frame in per_person.items():
            frame = frame.reindex(groups.index)
            for m, metric in enumerate(metrics_):
                ratios = bootstrap.group_ratios(
                    frame[metric].to_numpy(), groups[dim].to_numpy(), spec.n_bootstrap_groups,
                    spec.alpha, spec.random_state + 1000 + 10 * d + m)
                for group, (interval, reference) in ratios.items():
                    ratio = interval.mean
                    rows.append({
                        "dimension": dim, "group": group, "method": name, "metric": metric,
                        "n": interval.n, "reference": reference,
                        "value": ratio * reference if np.isfinite(ratio) else float("nan"),
                        "ratio": ratio, "low": interval.low, "high": interval.high,
                        "outside_band": bool(np.isfinite(ratio)
                                             and not low_band <= ratio <= high_band),
                        "interval_outside_band": bool(np.isfinite(interval.low) and (
                            interval.high < low_band or interval.low > high_band)),
                    })
    return {"reference": "everyone evaluated (same method)", "band": [low_band, high_band],
            "metrics": list(metrics_), "rows": rows,
            "outside_band": sum(r["outside_band"] for r in rows)}


def flatten_metrics(result: dict) -> dict[str, float]:
    """``{"learned.ndcg@10": 0.41, "comparisons.learned-distance.ndcg@10": 0.05, ...}``: the
    numbers a trend or a regression check reads."""
    flat: dict[str, float] = {}
    for method, summary in result.get("methods", {}).items():
        for key, value in summary.items():
            if isinstance(value, dict) and "mean" in value:
                flat[f"{method}.{key}"] = value["mean"]
            elif isinstance(value, int | float) and not isinstance(value, bool):
                flat[f"{method}.{key}"] = float(value)
    for key, value in result.get("comparisons", {}).items():
        flat[f"comparisons.{key}"] = value["mean"]
    # The judged collection (matcher/evaluation/judged.py): "judged.transparent.ndcg@10", ...
    for method, summary in (result.get("judged") or {}).get("methods", {}).items():
        for key, value in summary.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                flat[f"judged.{method}.{key}"] = float(value)
    return flat
