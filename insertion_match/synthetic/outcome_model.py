"""The hidden outcome model of the synthetic world: what really happens when an action is proposed.

**Hidden**: only the world generator (``world.py``) imports this module; the oracle baseline
reads the probabilities it produced (``SyntheticWorld.truth``). Learners never see it: they get
the logged outcomes only (``tests/synthetic/test_boundaries.py`` enforces the module boundary).

**Independent of the scorer.** The model reads none of the transparent scorer's terms, nothing
of ``matcher`` or ``features``, and none of the catalogue's ``freins``, ``itinerant``,
``places``, ``category``, ``cost_eur`` or ``outcome_rate`` fields. It reads:

- the person's **true** needs (``need_<dimension>``, 0-1: the latent part of the population,
  of which the diagnostic the matcher sees is a noisy reading) and facts (orientation, age,
  months in RSA, training level, children, newcomer / self-employed / farmer status, the real
  means of transport and the longest trip they accept, an earlier refused or abandoned action);
- each action's row of :data:`EFFECTS_PATH` (``data/action_effects.csv``), a **separate reading
  of the seed documents** written by hand: its own typology (``kind``), how it is delivered
  (``site``, ``itinerant``, ``home``, ``remote``, ``dossier``) and how often one goes there, who
  it works for (``public``), its true effect on each need dimension, its base success (the
  documented positive-exit rate where a document gives one, else a stated assumption), the share
  of lasting jobs among its positive exits and the person's cost;
- the crow-fly distance (km) from the person's commune to the action's nearest site (geo).

A proposal goes through a chain, each step a probability with **interactions**:

- ``accept`` (else *refused*, with a reason): how much the action meets the person's true needs;
  travel burden (true minutes by the person's real means / the longest trip they accept)
  **× true mobility need**; **orientation × kind**; cost **× true budget need**; an action
  refused or abandoned before;
- ``enter`` given accepted: 0.92;
- ``complete`` given entered (else *abandoned*): travel × mobility need × how often one goes
  there; an unmet blocking need (health, housing, French, childcare) **× work or training**;
  young children without childcare × on-site attendance; the action's hidden quality;
- ``positive`` exit given completed: the action's base success (logit), **who it works for ×
  the person** (distance from employment, age, status), the need match, orientation × kind,
  time in RSA, training level and age × job-oriented kinds, an unmet blocking need, quality.

``p_success = accept × enter × complete × positive``: the probability that proposing the action
leads to a positive exit. That is the relevance the offline evaluation ranks by.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

#: None as a 0-d object array: ``np.where(mask, values, _NONE)`` is an object array with None
#: where the mask is false (what ``np.where(..., None)`` does, in a form numpy's types accept).
_NONE = np.array(None, dtype=object)

EFFECTS_PATH = Path(__file__).resolve().parent / "data" / "action_effects.csv"
DIMENSIONS = ("mobility", "housing", "health", "language", "basic_skills", "digital", "social",
              "budget", "childcare", "job_search", "qualification", "self_employment")
KINDS = ("work", "training", "job_coaching", "creation", "platform", "diagnostic", "referent",
         "social_path", "language", "health", "housing", "mobility", "digital", "fund",
         "childcare")
DELIVERIES = ("site", "itinerant", "home", "remote", "dossier")
PUBLICS = ("any", "social", "professional", "young", "newcomer", "self_employed", "farmers",
           "parents")
RHYTHM_WEIGHT = {"daily": 1.0, "weekly": 0.6, "occasional": 0.3}
JOB_KINDS = ("work", "training", "job_coaching", "creation", "platform")
WORK_KINDS = ("work", "training")
BLOCKING = ("health", "housing", "language", "childcare")

ACCEPT_ORIENTATION: dict[str, dict[str, float]] = {
    "sociale": {"work": -0.6, "training": -0.5, "job_coaching": -0.35, "platform": -0.4,
                "social_path": 0.25, "health": 0.25, "housing": 0.25, "referent": 0.2},
    "socioprofessionnelle": {"work": 0.25, "job_coaching": 0.25},
    "professionnelle": {"social_path": -0.8, "health": -0.35, "language": -0.25,
                        "housing": -0.2, "referent": -0.5, "training": 0.45, "work": 0.25,
                        "job_coaching": 0.45},
}
POSITIVE_ORIENTATION: dict[str, dict[str, float]] = {
    "sociale": {"work": -0.4, "training": -0.1, "job_coaching": -0.2},
    "socioprofessionnelle": {"work": 0.2},
    "professionnelle": {"work": 0.35, "training": 0.4, "job_coaching": 0.4, "social_path": -0.3},
}
REFUSAL_REASONS = ("not_mobile", "incompatible_frein", "not_interested", "lacking_skills",
                   "not_eligible", "other")
DETOUR = 1.3  # road km per crow-fly km
#: Centres of the person terms of ``positive``, so that a typical participant gets about the
#: action's base success: distance from employment (mean about 0.35), months in RSA beyond 36
#: (mean about 30 among people in RSA for over 36 months).
TYPICAL_DISTANCE = 0.35
TYPICAL_EXTRA_MONTHS = 30

#: Columns the model reads from the pairs frame (one row per person × action).
PAIR_COLUMNS = ("item_id", "distance_km")
#: Columns it reads from the person (facts), joined on the pair's person.
PERSON_COLUMNS = ("orientation", "age", "rsa_months", "training_level", "max_travel_minutes",
                  "car", "driving_licence", "vehicle", "public_transport", "children_under_3",
                  "children_3_to_11", "foreign_newcomer", "independent_worker", "farmer",
                  "history_item", "history_status")
#: Columns it reads from the person's latent part (true needs, 0-1).
LATENT_COLUMNS = tuple(f"need_{d}" for d in DIMENSIONS)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def load_action_effects(path: Path = EFFECTS_PATH) -> pd.DataFrame:
    """The effects table, indexed by item id, with one ``effect_<dimension>`` column (0-1) per
    :data:`DIMENSIONS` parsed from ``effects`` (``dimension=value;...``). Strict: an unknown
    kind, delivery, rhythm, public or dimension raises ``ValueError``."""
    table = pd.read_csv(path, dtype={"item_id": str}, keep_default_na=False)
    if table.item_id.duplicated().any():
        raise ValueError(f"{path.name}: duplicated item ids")
    effects = np.zeros((len(table), len(DIMENSIONS)))
    for i, text in enumerate(table.effects):
        for part in filter(None, str(text).split(";")):
            dim, _, value = part.partition("=")
            if dim not in DIMENSIONS:
                raise ValueError(f"{path.name}: {table.item_id[i]}: unknown dimension {dim!r}")
            effects[i, DIMENSIONS.index(dim)] = float(value)
    for column, allowed in (("kind", KINDS), ("delivery", DELIVERIES),
                            ("rhythm", tuple(RHYTHM_WEIGHT)), ("public", PUBLICS)):
        bad = sorted(set(table[column]) - set(allowed))
        if bad:
            raise ValueError(f"{path.name}: unknown {column} {bad}")
    out = table.set_index("item_id")
    for j, dim in enumerate(DIMENSIONS):
        out[f"effect_{dim}"] = effects[:, j]
    for column in ("base_success", "lasting_share", "cost_eur"):
        out[column] = out[column].astype(float)
    return out


def item_quality(item_ids: pd.Series | np.ndarray, random_state: int) -> np.ndarray:
    """Each action's hidden quality, N(0, 0.25), a stable function of its id and the seed."""
    out = np.empty(len(item_ids))
    for i, item in enumerate(np.asarray(item_ids)):
        digest = hashlib.sha256(f"{random_state}:{item}".encode()).digest()
        out[i] = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(0.0, 0.25)
    return out


def _table(table: dict[str, dict[str, float]], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.array([table.get(r, {}).get(c, 0.0) for r, c in zip(rows, cols, strict=True)])


def true_travel_minutes(km: np.ndarray, person: dict[str, np.ndarray]) -> np.ndarray:
    """One-way minutes by the best of the person's real means (road km = crow-fly × DETOUR);
    ``inf`` when none reaches. Independent of the matcher's travel model."""
    road = np.nan_to_num(km, nan=10.0) * DETOUR
    car = person["car"].astype(bool) & (person["driving_licence"] == "b")
    two_wheeler = person["vehicle"] == "two_wheeler"
    bike = person["vehicle"] == "bike"
    options = [
        np.where(car, 6.0 + 1.2 * road, np.inf),
        np.where(two_wheeler, 6.0 + 1.6 * road, np.inf),
        np.where(person["public_transport"].astype(bool) & (road <= 45), 20.0 + 2.2 * road,
                 np.inf),
        np.where(bike & (road <= 12), 3.0 + 4.0 * road, np.inf),
        np.where(road <= 3, 12.0 * road, np.inf),
    ]
    return np.minimum.reduce(options)


def _public_fit(public: np.ndarray, person: dict[str, np.ndarray], distance: np.ndarray):
    kids = (person["children_under_3"] + person["children_3_to_11"]) > 0
    young = person["age"] <= 30
    return np.select(
        [public == "professional", public == "social", public == "young",
         public == "newcomer", public == "self_employed", public == "farmers",
         public == "parents"],
        [-1.6 * (distance - TYPICAL_DISTANCE), 0.8 * (distance - TYPICAL_DISTANCE), np.where(young, 0.4, -0.8),
         np.where(person["foreign_newcomer"], 0.4, -1.0),
         np.where(person["independent_worker"], 0.5, -1.2),
         np.where(person["farmer"], 0.5, -1.0), np.where(kids, 0.4, -1.0)], 0.0)


def outcome_probabilities(pairs: pd.DataFrame, people: pd.DataFrame, latent: pd.DataFrame,
                          effects: pd.DataFrame, random_state: int) -> pd.DataFrame:
    """The chain's probabilities for every pair (aligned with ``pairs``).

    ``pairs`` has :data:`PAIR_COLUMNS` and ``person_row`` (row position in ``people`` and in
    ``latent``); ``effects`` is :func:`load_action_effects` (it must cover every item).
    """
    rows = pairs["person_row"].to_numpy()
    person = {c: people[c].to_numpy()[rows] for c in PERSON_COLUMNS}
    need = latent.loc[:, list(LATENT_COLUMNS)].to_numpy(dtype=float)[rows]
    items = pairs["item_id"].to_numpy().astype(str)
    missing = sorted(set(items) - set(effects.index))
    if missing:
        raise ValueError(f"no true effect for item(s) {missing[:5]} (action_effects.csv)")
    act = effects.loc[items]
    effect = act.loc[:, [f"effect_{d}" for d in DIMENSIONS]].to_numpy(dtype=float)
    kind = act["kind"].to_numpy().astype(str)
    delivery = act["delivery"].to_numpy().astype(str)
    rhythm = act["rhythm"].map(RHYTHM_WEIGHT).to_numpy(dtype=float)
    public = act["public"].to_numpy().astype(str)
    orientation = person["orientation"].astype(str)
    d = {dim: i for i, dim in enumerate(DIMENSIONS)}

    met = effect * need
    match = met.max(axis=1)
    cover = met.sum(axis=1) / (need.sum(axis=1) + 0.5)
    unmet = need * (1.0 - effect)
    blocking_unmet = np.max(unmet[:, [d[b] for b in BLOCKING]], axis=1) >= 2 / 3 - 1e-9
    work = np.isin(kind, WORK_KINDS)
    job = np.isin(kind, JOB_KINDS)
    mobility = need[:, d["mobility"]]
    budget = need[:, d["budget"]]
    distance_from_job = np.clip(1.5 * need[:, [d[k] for k in (
        "health", "housing", "language", "social", "childcare", "basic_skills")]].mean(axis=1),
        0, 1) + 0.2 * (person["rsa_months"] > 60)

    minutes = true_travel_minutes(pairs["distance_km"].to_numpy(dtype=float), person)
    comes = np.isin(delivery, ("itinerant", "home", "remote", "dossier"))
    burden = np.where(comes, 0.0, np.minimum(minutes / person["max_travel_minutes"], 2.5))
    burden = burden * (1.0 - 0.5 * effect[:, d["mobility"]])  # organised transport, rentals
    history = np.where(person["history_item"] == items, person["history_status"], _NONE)
    refused_before, abandoned_before = history == "refused", history == "abandoned"
    paying = act["cost_eur"].to_numpy(dtype=float) > 0
    uniq = pd.unique(items)
    quality = pd.Series(item_quality(uniq, random_state), index=uniq)[items].to_numpy()
    level = np.array([2 if t == "infra3" else int(t) for t in person["training_level"]])
    childcare = (person["children_under_3"] > 0) & (need[:, d["childcare"]] >= 2 / 3 - 1e-9)

    accept = (0.8 + 1.6 * match + 0.5 * cover - 0.9 * burden * (1.0 + 2.0 * mobility)
              + _table(ACCEPT_ORIENTATION, orientation, kind)
              - 2.0 * refused_before - 0.6 * abandoned_before - paying * (0.3 + 0.9 * budget))
    enter = np.full(len(pairs), 0.92)
    complete = (2.4 + 0.6 * match - 1.4 * burden * mobility * rhythm
                - 1.0 * (blocking_unmet & work) - 0.8 * childcare * ~comes * rhythm
                + 0.4 * quality - 0.8 * abandoned_before)
    positive = (_logit(act["base_success"].to_numpy(dtype=float))
                + _public_fit(public, person, distance_from_job) + 0.9 * (match - 0.3)
                + _table(POSITIVE_ORIENTATION, orientation, kind)
                - 0.012 * (np.clip(person["rsa_months"] - 36, 0, 100) - TYPICAL_EXTRA_MONTHS)
                + 0.35 * (level >= 3) * job - 0.5 * (person["age"] > 55) * job
                - 0.6 * (blocking_unmet & job) + quality)
    lasting = _sigmoid(_logit(act["lasting_share"].to_numpy(dtype=float)) + 0.3 * (level >= 4))
    out = pd.DataFrame({
        "p_accept": _sigmoid(accept), "p_enter": enter, "p_complete": _sigmoid(complete),
        "p_positive": _sigmoid(positive), "p_lasting_given_positive": lasting,
    }, index=pairs.index)
    out["p_success"] = out.p_accept * out.p_enter * out.p_complete * out.p_positive
    # What drives a refusal, for the reasons recorded (order of REFUSAL_REASONS).
    not_interested = np.maximum(-_table(ACCEPT_ORIENTATION, orientation, kind), 0) + 0.4 \
        + 2.0 * refused_before
    out[[f"why_{r}" for r in REFUSAL_REASONS]] = np.column_stack([
        0.9 * burden * (1.0 + 2.0 * mobility),
        1.3 * (blocking_unmet & work) + 0.8 * childcare,
        not_interested,
        0.8 * ((kind == "training") & (level <= 2)),
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
    reason = np.where(~accepted, np.array(REFUSAL_REASONS)[pick], _NONE)
    exit_kind = np.where(status == "exited",
                         np.where(lasting, "emploi_durable",
                                  np.where(positive, "sortie_dynamique", "other")), _NONE)
    return pd.DataFrame({"status": status, "refusal_reason": reason, "exit_kind": exit_kind,
                         "success": positive}, index=probabilities.index)


def sample_success(probabilities: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Full-information labels: whether proposing each pair *would* end in a positive exit."""
    return rng.random(len(probabilities)) < probabilities.p_success.to_numpy()
