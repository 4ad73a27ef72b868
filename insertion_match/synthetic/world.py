"""The synthetic world: people, their eligible actions, the historical logs, the hidden truth.

:func:`build_world` draws a population (``population.py``), and for every person runs the **real**
matcher front end on the **real** catalogue: ``person_context`` (geo, travel modes),
``evaluate_eligibility`` (only eligible actions can be proposed or succeed) and ``action_features``
then the design matrix of ``matcher.scoring`` (extended columns). It then:

- computes the hidden outcome probabilities of every (person, eligible action) pair
  (``outcome_model.py``: from the people's **latent** true needs, the documents' reading in
  ``data/action_effects.csv`` and the real distance, never from the matcher's features) and
  draws full-information labels (would proposing it have ended in a positive exit?) for the
  offline evaluation;
- lets the historical logging policy (``logging_policy.py``) propose 1-3 actions per person and
  draws what happened (refused with a reason, entered, abandoned, exited as emploi durable /
  sortie dynamique / other).

``SyntheticWorld.candidates`` and ``.logs`` are what a learner may read; ``.truth`` (aligned with
``candidates``) and ``.latent`` (true needs, aligned with ``people``) are the hidden part, read
only by the oracle baseline and the calibration table.
Every frame carries ``synthetic = True`` (column or ``attrs``): none of this is real data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from insertion_match.domain import FREINS, Action
from insertion_match.features.action_features import action_features
from insertion_match.features.action_index import build_indexes
from insertion_match.features.profile import person_context
from insertion_match.geo import MIN_TRIP_KM, Gazetteer, Territories, best_travel
from insertion_match.matcher import columns as C
from insertion_match.matcher.eligibility import evaluate_eligibility
from insertion_match.matcher.scoring import design_layout, term_features
from insertion_match.synthetic import logging_policy, outcome_model
from insertion_match.synthetic.population import (
    DEPARTMENTS,
    LATENT_COLUMNS,
    generate_population,
    profile_of,
)

#: Observable descriptive columns of a candidates frame (besides the design columns).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    C.PERSON_ID, C.ITEM_ID, C.MONTH, C.DEPARTMENT, C.CATEGORY, C.MAIN_FREIN, C.TRAVEL_MINUTES,
    C.ITINERANT, "distance_km", C.PLACES, "occupancy", "cost_eur", "outcome_rate", "history",
    "need_total", "main_match",
)
DESIGN_COLUMNS = design_layout(extended=True)[0]
#: Columns of the logs besides the candidate and design columns.
LOG_COLUMNS: tuple[str, ...] = (C.RANK, C.STATUS, C.REFUSAL_REASON, C.EXIT_KIND, C.LABEL,
                                C.MODEL_NAME, C.MODEL_VERSION, C.SYNTHETIC)


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines a world; the same config gives the same world."""

    n_people: int = 20_000
    random_state: int = 0
    months: int = 24
    history_share: float = 0.15  # people with one earlier refused or abandoned action

    def as_dict(self) -> dict[str, int | float]:
        return {"n_people": self.n_people, "random_state": self.random_state,
                "months": self.months, "history_share": self.history_share}


@dataclass
class SyntheticWorld:
    config: WorldConfig
    people: pd.DataFrame  # one row per person (population.PERSON_COLUMNS + history columns)
    candidates: pd.DataFrame  # one row per (person, eligible action): observable
    truth: pd.DataFrame  # aligned with candidates: hidden probabilities and labels
    logs: pd.DataFrame  # what the historical policy proposed, and what happened
    catalogue_ids: dict[str, tuple[str, ...]]  # département -> action ids it could serve
    latent: pd.DataFrame | None = None  # hidden: true needs per person (aligned with people)

    def split_month(self, holdout_fraction: float = 0.25) -> int:
        """First month of the temporal hold-out (the last ``holdout_fraction`` of months)."""
        return round(self.config.months * (1.0 - holdout_fraction))


def _eligible_rows(people: pd.DataFrame, indexes, gazetteer, territories, rng,
                   history_share: float, progress: bool):
    blocks: list[dict[str, np.ndarray]] = []
    history_item = np.full(len(people), None, dtype=object)
    history_status = np.full(len(people), None, dtype=object)
    rows = people.itertuples(index=False)
    for row_pos, row in enumerate(tqdm(rows, total=len(people), desc="world: people",
                                       disable=not progress, unit="person")):
        index = indexes[row.department]
        ctx = person_context(profile_of(row), gazetteer, territories)
        elig = evaluate_eligibility(index, ctx)
        eligible = np.flatnonzero(elig.eligible)
        if eligible.size > 1 and rng.random() < history_share:
            item = index.ids[rng.choice(eligible)]
            status = "refused" if rng.random() < 0.5 else "abandoned"
            ctx = replace(ctx, history={str(item): status})
            history_item[row_pos], history_status[row_pos] = item, status
        feats = action_features(index, ctx, elig.public_fit(), elig.unchecked_count())
        design = term_features(feats, ctx.max_travel_minutes, extended=True).values[eligible]
        # The world's own geometry (what the hidden truth and the coaches of the logging policy
        # read): crow-fly km to the nearest listed site and minutes by the person's own modes,
        # whatever the catalogue says about dossiers or sites à préciser (the scorer's view).
        km = index.nearest_site_km(ctx.home.lat, ctx.home.lon)
        minutes, _ = best_travel(np.maximum(km, MIN_TRIP_KM), ctx.modes.modes)
        minutes = np.asarray(minutes, dtype=float)
        main = index.main_frein[eligible]
        blocks.append({
            "person_row": np.full(eligible.size, row_pos),
            "item_id": index.ids[eligible],
            "category": index.category[eligible],
            "main_frein": np.array(FREINS)[main],
            "travel_minutes": minutes[eligible],
            "itinerant": feats.itinerant[eligible],
            "distance_km": km[eligible],
            "places": index.places[eligible],
            "occupancy": feats.occupancy[eligible],
            "cost_eur": feats.cost_eur[eligible],
            "outcome_rate": feats.outcome_rate[eligible],
            "history": feats.history[eligible],
            "need_total": feats.need[eligible].sum(axis=1),
            "main_match": ctx.severities[main] / 3.0,
            "design": design,
        })
    return blocks, history_item, history_status


def build_world(
    config: WorldConfig, gazetteer: Gazetteer, territories: Territories,
    actions: Sequence[Action], progress: bool = False,
) -> SyntheticWorld:
    """Draw the whole world. Deterministic in ``config``; ``progress`` shows a tqdm bar."""
    seed = config.random_state
    people = generate_population(config.n_people, gazetteer, territories, seed, config.months)
    latent = people.loc[:, list(LATENT_COLUMNS)].reset_index(drop=True)
    latent.attrs[C.SYNTHETIC] = True
    people = people.drop(columns=list(LATENT_COLUMNS))
    indexes = {d: ix for d, ix in build_indexes(actions, gazetteer).items() if d in DEPARTMENTS}
    missing = sorted(set(DEPARTMENTS) - set(indexes))
    if missing:
        raise ValueError(f"the catalogue has no action for département(s) {missing}")
    effects = outcome_model.load_action_effects()
    unread = sorted({str(i) for ix in indexes.values() for i in ix.ids} - set(effects.index))
    if unread:
        raise ValueError(f"no true effect written for action(s) {unread} in "
                         f"{outcome_model.EFFECTS_PATH.name}: read their documents and add rows")
    rng_history, rng_labels, rng_habit, rng_policy, rng_outcomes = (
        np.random.default_rng([seed, k]) for k in range(1, 6))
    blocks, history_item, history_status = _eligible_rows(
        people, indexes, gazetteer, territories, rng_history, config.history_share, progress)
    people = people.assign(history_item=history_item, history_status=history_status)

    design = np.vstack([b.pop("design") for b in blocks])
    frame = pd.DataFrame({k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]})
    person_rows = frame.pop("person_row").to_numpy()
    frame.insert(0, C.PERSON_ID, people[C.PERSON_ID].to_numpy()[person_rows])
    frame.insert(2, C.MONTH, people["entry_month"].to_numpy()[person_rows])
    frame.insert(3, C.DEPARTMENT, people["department"].to_numpy()[person_rows])
    candidates = pd.concat([frame.loc[:, list(CANDIDATE_COLUMNS)],
                            pd.DataFrame(design, columns=list(DESIGN_COLUMNS))], axis=1)
    candidates.attrs[C.SYNTHETIC] = True

    pairs = candidates.loc[:, list(outcome_model.PAIR_COLUMNS)].assign(person_row=person_rows)
    truth = outcome_model.outcome_probabilities(pairs, people, latent, effects, seed)
    truth[C.LABEL] = outcome_model.sample_success(truth, rng_labels)
    truth.attrs[C.SYNTHETIC] = True

    item_sizes = {}
    for ix in indexes.values():
        for i, item in enumerate(ix.ids):
            item_sizes[str(item)] = (ix.participants[i], ix.places[i])
    items = sorted(item_sizes)
    fam = logging_policy.familiarity(np.array([item_sizes[i][0] for i in items]),
                                     np.array([item_sizes[i][1] for i in items]), rng_habit)
    utility = logging_policy.policy_utility(candidates, pd.Series(fam, index=items))
    chosen = logging_policy.propose(candidates, utility, rng_policy)
    fate = outcome_model.sample_outcomes(
        truth.loc[chosen.index, [c for c in truth.columns if c.startswith(("p_", "why_"))]],
        rng_outcomes)
    logged: dict[str, Any] = {
        C.RANK: chosen["rank"], C.STATUS: fate["status"], C.REFUSAL_REASON: fate["refusal_reason"],
        C.EXIT_KIND: fate["exit_kind"], C.LABEL: fate["success"].astype(int),
        C.MODEL_NAME: logging_policy.POLICY_NAME, C.MODEL_VERSION: logging_policy.POLICY_VERSION,
        C.SYNTHETIC: True,
    }
    logs = candidates.loc[chosen.index].assign(**logged)
    logs.attrs[C.SYNTHETIC] = True
    catalogue_ids = {d: tuple(str(i) for i in ix.ids) for d, ix in indexes.items()}
    return SyntheticWorld(config=config, people=people, candidates=candidates, truth=truth,
                          logs=logs, catalogue_ids=catalogue_ids, latent=latent)
