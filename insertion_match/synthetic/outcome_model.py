"""The hidden outcome model of the synthetic world: what really happens when an action is proposed.

**Hidden**: only the world generator (``world.py``) imports this module; the oracle baseline
reads the probabilities it produced (``SyntheticWorld.truth``). Learners never see it: they get
the logged outcomes only (``tests/synthetic/test_boundaries.py`` enforces the module boundary).

A proposal goes through a chain, each step a probability computed from the person, the action and
the pair, **with interactions** that no linear model of the scorer's columns reproduces exactly:

- ``accept`` (else *refused*, with a reason): the action's main frein matching a real need; travel
  burden (minutes over the person's maximum) **× mobility-frein severity**; **orientation ×
  category** (a person in social orientation refuses IAE more often, a professional one refuses
  social workshops); cost **× financial frein**; over-full actions; an action refused before.
- ``enter`` given accepted: lower when the action is over-full (waiting lists).
- ``complete`` given entered (else *abandoned*): travel **× mobility frein** (a daily trip that
  the person cannot make), a blocking health / housing / French frein **× work or training
  category**, young children **× childcare frein**, the action's hidden quality.
- ``positive`` exit given completed (*sortie dynamique*, of which *emploi durable*): the
  category's base rate, the action's hidden quality anchored on its documented outcome rate,
  **orientation × category**, time in RSA, **training level × work category**, **age × work
  category**, and the need match for social actions.

``p_success = accept × enter × complete × positive``: the probability that proposing the action
leads to a positive exit. That is the relevance the offline evaluation ranks by.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

WORK = ("iae", "emploi_formation")
SOCIAL = ("insertion_sociale", "langue", "sante", "logement", "numerique", "mobilite")

ACCEPT_ORIENTATION: dict[str, dict[str, float]] = {
    "sociale": {"iae": -0.7, "emploi_formation": -0.6, "accompagnement_renforce": -0.35,
                "insertion_sociale": 0.25, "sante": 0.25, "logement": 0.25, "langue": 0.1},
    "socioprofessionnelle": {"iae": 0.25, "accompagnement_renforce": 0.25},
    "professionnelle": {"insertion_sociale": -0.8, "sante": -0.35, "langue": -0.25,
                        "logement": -0.2, "emploi_formation": 0.45, "iae": 0.25,
                        "accompagnement_renforce": 0.45},
}
POSITIVE_BASE: dict[str, float] = {
    "iae": 0.25, "emploi_formation": 0.35, "accompagnement_renforce": 0.0, "mobilite": 0.3,
    "insertion_sociale": -0.25, "langue": -0.1, "sante": -0.35, "logement": -0.25,
    "numerique": -0.2, "diagnostic": 0.2, "projet_departemental": 0.0, "autre": -0.35,
}
POSITIVE_ORIENTATION: dict[str, dict[str, float]] = {
    "sociale": {"iae": -0.45, "emploi_formation": -0.1, "accompagnement_renforce": -0.2},
    "socioprofessionnelle": {"iae": 0.2},
    "professionnelle": {"iae": 0.4, "emploi_formation": 0.45, "accompagnement_renforce": 0.45,
                        "insertion_sociale": -0.3},
}
LASTING_SHARE: dict[str, float] = {"iae": 0.30, "emploi_formation": 0.35,
                                   "accompagnement_renforce": 0.40}
LASTING_SHARE_OTHER = 0.10
REFUSAL_REASONS = ("not_mobile", "incompatible_frein", "not_interested", "lacking_skills",
                   "not_eligible", "other")

#: Columns the model reads from the pairs frame (one row per person × action).
PAIR_COLUMNS = ("item_id", "category", "itinerant", "travel_minutes", "occupancy", "cost_eur",
                "outcome_rate", "history", "need_total", "main_match")
#: Columns it reads from the person, joined on the pair's person.
PERSON_COLUMNS = ("orientation", "age", "rsa_months", "training_level", "max_travel_minutes",
                  "children_under_3", "frein_mobilite", "frein_finances", "frein_garde_enfants",
                  "frein_sante", "frein_logement", "frein_langue_francaise")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def item_quality(item_ids: pd.Series | np.ndarray, random_state: int) -> np.ndarray:
    """Each action's hidden quality, N(0, 0.35), a stable function of its id and the seed."""
    out = np.empty(len(item_ids))
    for i, item in enumerate(np.asarray(item_ids)):
        digest = hashlib.sha256(f"{random_state}:{item}".encode()).digest()
        out[i] = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(0.0, 0.35)
    return out


def _table(table: dict[str, dict[str, float]], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.array([table.get(r, {}).get(c, 0.0) for r, c in zip(rows, cols, strict=True)])


def outcome_probabilities(pairs: pd.DataFrame, people: pd.DataFrame,
                          random_state: int) -> pd.DataFrame:
    """The chain's probabilities for every pair (aligned with ``pairs``).

    ``pairs`` has :data:`PAIR_COLUMNS` and ``person_row`` (row position in ``people``).
    """
    person = people.iloc[pairs["person_row"].to_numpy()]
    get = {c: person[c].to_numpy() for c in PERSON_COLUMNS}
    category = pairs["category"].to_numpy().astype(str)
    orientation = get["orientation"].astype(str)
    minutes = pairs["travel_minutes"].to_numpy(dtype=float)
    burden = np.where(np.isfinite(minutes), minutes / get["max_travel_minutes"], 2.5)
    burden = np.where(pairs["itinerant"].to_numpy(dtype=bool), 0.0, np.minimum(burden, 2.5))
    mobility = get["frein_mobilite"] / 3.0
    main = pairs["main_match"].to_numpy(dtype=float)
    need = np.minimum(pairs["need_total"].to_numpy(dtype=float), 1.5)
    over = np.clip(np.nan_to_num(pairs["occupancy"].to_numpy(dtype=float), nan=1.0) - 1, 0, 1)
    paying = np.nan_to_num(pairs["cost_eur"].to_numpy(dtype=float), nan=0.0) > 0
    history = pairs["history"].to_numpy()
    refused_before, abandoned_before = history == 1, history == 2
    work = np.isin(category, WORK)
    quality = item_quality(pairs["item_id"].unique(), random_state)
    quality = pd.Series(quality, index=pairs["item_id"].unique())[pairs["item_id"]].to_numpy()

    accept = (0.7 + 1.6 * main + 0.6 * need - 0.9 * burden * (1.0 + 2.0 * mobility)
              + _table(ACCEPT_ORIENTATION, orientation, category)
              - 2.0 * refused_before - 0.6 * abandoned_before
              - paying * (0.3 + 0.9 * get["frein_finances"] / 3.0) - 0.3 * over)
    enter = 0.92 - 0.3 * over
    prior_block = np.maximum.reduce([get["frein_sante"], get["frein_logement"],
                                     get["frein_langue_francaise"]]) >= 3
    childcare = (get["children_under_3"] > 0) & (get["frein_garde_enfants"] >= 2)
    complete = (2.1 + 0.6 * main - 1.4 * burden * mobility - 1.3 * (prior_block & work)
                - 0.8 * childcare * ~pairs["itinerant"].to_numpy(dtype=bool)
                + 0.5 * quality - 0.8 * abandoned_before)
    rate = pairs["outcome_rate"].to_numpy(dtype=float)
    anchor = np.where(np.isfinite(rate), 1.0 * (_logit(np.nan_to_num(rate, nan=0.5)) - _logit(
        np.array(0.45))), 0.0)
    level = np.array([2 if t == "infra3" else int(t) for t in get["training_level"]])
    positive = (np.array([POSITIVE_BASE.get(c, 0.0) for c in category]) + quality + anchor
                + _table(POSITIVE_ORIENTATION, orientation, category)
                - 0.012 * np.clip(get["rsa_months"] - 36, 0, 100)
                + 0.35 * (level >= 3) * work - 0.5 * (get["age"] > 55) * work
                + 0.6 * main * np.isin(category, SOCIAL))
    lasting = np.array([LASTING_SHARE.get(c, LASTING_SHARE_OTHER) for c in category])
    lasting = _sigmoid(_logit(lasting) + 0.3 * (level >= 4))
    out = pd.DataFrame({
        "p_accept": _sigmoid(accept), "p_enter": enter, "p_complete": _sigmoid(complete),
        "p_positive": _sigmoid(positive), "p_lasting_given_positive": lasting,
    }, index=pairs.index)
    out["p_success"] = out.p_accept * out.p_enter * out.p_complete * out.p_positive
    # What drives a refusal, for the reasons recorded (order of REFUSAL_REASONS).
    not_interested = np.maximum(-_table(ACCEPT_ORIENTATION, orientation, category), 0) + 0.4 \
        + 2.0 * refused_before
    out[[f"why_{r}" for r in REFUSAL_REASONS]] = np.column_stack([
        0.9 * burden * (1.0 + 2.0 * mobility),
        1.3 * (prior_block & work) + 0.8 * childcare,
        not_interested,
        0.8 * ((category == "emploi_formation") & (level <= 2)),
        np.full(len(pairs), 0.15),
        np.full(len(pairs), 0.2),
    ])
    return out


def sample_outcomes(probabilities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw each proposal's fate: final ``status``, ``refusal_reason``, ``exit_kind``,
    ``success`` (a positive exit)."""
    n = len(probabilities)
    u = rng.random((n, 5))
    accepted = u[:, 0] < probabilities.p_accept.to_numpy()
    entered = accepted & (u[:, 1] < probabilities.p_enter.to_numpy())
    completed = entered & (u[:, 2] < probabilities.p_complete.to_numpy())
    positive = completed & (u[:, 3] < probabilities.p_positive.to_numpy())
    lasting = positive & (u[:, 4] < probabilities.p_lasting_given_positive.to_numpy())
    status = np.select([~accepted, accepted & ~entered, entered & ~completed],
                       ["refused", "accepted", "abandoned"], "exited")
    why = probabilities[[f"why_{r}" for r in REFUSAL_REASONS]].to_numpy()
    cum = np.cumsum(why, axis=1)
    pick = (rng.random((n, 1)) * cum[:, -1:] > cum).sum(axis=1)
    reason = np.where(~accepted, np.array(REFUSAL_REASONS)[pick], None)
    exit_kind = np.where(status == "exited",
                         np.where(lasting, "emploi_durable",
                                  np.where(positive, "sortie_dynamique", "other")), None)
    return pd.DataFrame({"status": status, "refusal_reason": reason, "exit_kind": exit_kind,
                         "success": positive}, index=probabilities.index)


def sample_success(probabilities: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Full-information labels: whether proposing each pair *would* end in a positive exit."""
    return rng.random(len(probabilities)) < probabilities.p_success.to_numpy()
