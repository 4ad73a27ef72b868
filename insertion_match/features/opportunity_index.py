"""The in-memory, vectorised index of the opportunities (job, volunteering, internship,
immersion offers), one per département, built once per import — never per request.

Every per-offer attribute the matcher reads is an array of :class:`OfferArrays`, aligned on
``OpportunityIndex.opportunities``. Skills are stored as token hashes in CSR form (offer →
skills → tokens) so that the share of an offer's skills a person covers is a few numpy calls
(``features.skills``). A person only looks at the indexes of the départements within reach of
home (:meth:`OpportunityIndex.distance_to_box_km`), so the work per request does not grow with
the national offer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from insertion_match.domain import (
    INSERTION_CONTRACTS,
    OPPORTUNITY_KINDS,
    AtypicalHours,
    ExperienceCode,
    Opportunity,
)
from insertion_match.features.rome import RomeReferential
from insertion_match.features.skills import skill_tokens
from insertion_match.geo import haversine_km

ATYPICAL: tuple[str, ...] = tuple(a.value for a in AtypicalHours)
EXPERIENCE_CODES = {None: ExperienceCode.unknown, "D": ExperienceCode.beginner,
                    "S": ExperienceCode.wished, "E": ExperienceCode.required}
#: Apprenticeship contracts are for people aged 16 to 29 (Code du travail, L6222-1 and L6222-2),
#: with no upper bound for people with an RQTH.
APPRENTICESHIP_AGE_MAX = 29.0
#: Contracts that count as durable employment (DESIGN §3: CDI, CDD over 6 months).
DURABLE_CDD_MONTHS = 6.0


@dataclass(frozen=True)
class OfferArrays:
    """Per-offer arrays (length n), the offer side of every pairwise computation."""

    lat: np.ndarray
    lon: np.ndarray
    kind: np.ndarray  # str
    kind_code: np.ndarray  # int64 index into domain.OPPORTUNITY_KINDS
    rome_pos: np.ndarray  # int32, position in RomeReferential.codes; -1 none
    rome_dp: np.ndarray  # int32 domaine professionnel index; -1 none
    rome_gd: np.ndarray  # int32 grand domaine index; -1 none
    rome_v3: np.ndarray  # int32 ROME v3 parent index; -1 none
    durable: np.ndarray  # bool: CDI, CDI intérimaire, CDD >= 6 months
    insertion_contract: np.ndarray  # bool: IAE / subsidised
    iae: np.ndarray  # bool: a position in a work-integration structure (SIAE)
    age_max: np.ndarray  # float: apprenticeship (APP) 29, NaN none (RQTH: no upper bound)
    hours: np.ndarray  # float, NaN unknown
    atypical: np.ndarray  # (n, len(ATYPICAL)) bool
    training_level: np.ndarray  # float 2..8, NaN none
    training_required: np.ndarray  # bool
    experience: np.ndarray  # int8 ExperienceCode
    licence_b_required: np.ndarray  # bool
    licence_b_desired: np.ndarray  # bool (souhaité only)
    licence_other_required: np.ndarray  # bool: another category (C, D, CE...) is exigée
    expires: np.ndarray  # float ordinal day, NaN none
    # skills: offer -> skills -> token hashes (CSR)
    skill_start: np.ndarray  # (n,) first skill of each offer
    skill_count: np.ndarray  # (n,)
    skill_tok_start: np.ndarray  # (S,) first token of each skill
    skill_tok_count: np.ndarray  # (S,)
    tokens: np.ndarray  # (T,) int64 token hashes

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def take(self, positions: Sequence[int]) -> OfferArrays:
        """The arrays of the offers at ``positions`` (skills re-packed)."""
        pos = np.asarray(positions, dtype=np.int64)
        out = {}
        for f in fields(self):
            if f.name.startswith("skill_") or f.name == "tokens":
                continue
            out[f.name] = getattr(self, f.name)[pos]
        skill_ids = [np.arange(self.skill_start[p], self.skill_start[p] + self.skill_count[p])
                     for p in pos]
        skills = np.concatenate(skill_ids) if skill_ids else np.empty(0, np.int64)
        tok_ids = [np.arange(self.skill_tok_start[s], self.skill_tok_start[s]
                             + self.skill_tok_count[s]) for s in skills]
        counts = self.skill_count[pos]
        return OfferArrays(
            **out,
            skill_start=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            if len(pos) else np.empty(0, np.int64),
            skill_count=counts.copy(),
            skill_tok_start=np.concatenate([[0], np.cumsum(self.skill_tok_count[skills])[:-1]])
            .astype(np.int64) if skills.size else np.empty(0, np.int64),
            skill_tok_count=self.skill_tok_count[skills].copy(),
            tokens=self.tokens[np.concatenate(tok_ids)] if tok_ids else np.empty(0, np.int64),
        )


@dataclass(frozen=True)
class OpportunityIndex:
    """The offers located in one département, vectorised."""

    department: str
    opportunities: tuple[Opportunity, ...]
    ids: np.ndarray  # str
    arrays: OfferArrays
    box: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max

    def __len__(self) -> int:
        return len(self.opportunities)

    def position(self, opportunity_id: str) -> int | None:
        hits = np.flatnonzero(self.ids == opportunity_id)
        return int(hits[0]) if hits.size else None

    def live(self, today: date) -> np.ndarray:
        """Offers not expired on ``today`` (no expiry date: live)."""
        expires = self.arrays.expires
        with np.errstate(invalid="ignore"):
            return np.isnan(expires) | (expires >= today.toordinal())

    def distance_to_box_km(self, lat: float, lon: float) -> float:
        """Crow-fly km from (lat, lon) to the bounding box of the offers (0 inside)."""
        lat_min, lat_max, lon_min, lon_max = self.box
        clat = min(max(lat, lat_min), lat_max)
        clon = min(max(lon, lon_min), lon_max)
        return float(haversine_km(lat, lon, clat, clon))


def _level(value: str | None) -> float:
    if value is None:
        return np.nan
    return 2.0 if value == "infra3" else float(value)


def offer_arrays(opportunities: Sequence[Opportunity], rome: RomeReferential) -> OfferArrays:
    n = len(opportunities)
    rome_pos = np.array([rome.position.get(o.rome_code, -1) if o.rome_code else -1
                         for o in opportunities], dtype=np.int32)
    has = rome_pos >= 0
    safe = np.where(has, rome_pos, 0)

    def pick(table: np.ndarray) -> np.ndarray:
        return np.where(has, table[safe], -1).astype(np.int32) if n else np.empty(0, np.int32)

    atypical = np.zeros((n, len(ATYPICAL)), dtype=bool)
    skill_count = np.zeros(n, dtype=np.int64)
    tok_counts: list[int] = []
    tokens: list[int] = []
    for i, o in enumerate(opportunities):
        for flag in o.atypical_hours:
            atypical[i, ATYPICAL.index(flag.value)] = True
        for skill in o.skills:
            toks = skill_tokens(skill)
            if toks.size:
                skill_count[i] += 1
                tok_counts.append(int(toks.size))
                tokens.extend(toks.tolist())
    tok_count = np.array(tok_counts, dtype=np.int64)

    def licence(o: Opportunity, category: str | None, required: bool) -> bool:
        return any((lic.category == category if category else lic.category != "B")
                   and lic.required == required for lic in o.licences)

    def durable(o: Opportunity) -> bool:
        if o.contract_type in ("CDI", "DIN"):
            return True
        return o.contract_type == "CDD" and (o.contract_months or 0) >= DURABLE_CDD_MONTHS

    return OfferArrays(
        lat=np.array([o.location.lat for o in opportunities], dtype=float),
        lon=np.array([o.location.lon for o in opportunities], dtype=float),
        kind=np.array([o.kind for o in opportunities], dtype=str),
        kind_code=np.array([OPPORTUNITY_KINDS.index(o.kind) for o in opportunities],
                           dtype=np.int64),
        rome_pos=rome_pos,
        rome_dp=pick(rome.dp_index),
        rome_gd=pick(rome.gd_index),
        rome_v3=pick(rome.v3_index),
        durable=np.array([durable(o) for o in opportunities], dtype=bool),
        insertion_contract=np.array([o.contract_type in INSERTION_CONTRACTS or o.iae
                                     for o in opportunities], dtype=bool),
        iae=np.array([o.iae for o in opportunities], dtype=bool),
        age_max=np.array([APPRENTICESHIP_AGE_MAX if o.contract_type == "APP" else np.nan
                          for o in opportunities], dtype=float),
        hours=np.array([np.nan if o.hours_per_week is None else o.hours_per_week
                        for o in opportunities], dtype=float),
        atypical=atypical,
        training_level=np.array([_level(o.training_level.value if o.training_level else None)
                                 for o in opportunities], dtype=float),
        training_required=np.array([o.training_required for o in opportunities], dtype=bool),
        experience=np.array([EXPERIENCE_CODES[o.experience] for o in opportunities], np.int8),
        licence_b_required=np.array([licence(o, "B", True) for o in opportunities], bool),
        licence_b_desired=np.array([licence(o, "B", False) and not licence(o, "B", True)
                                    for o in opportunities], bool),
        licence_other_required=np.array([licence(o, None, True) for o in opportunities], bool),
        expires=np.array([np.nan if o.expires_at is None else float(o.expires_at.toordinal())
                          for o in opportunities], dtype=float),
        skill_start=np.concatenate([[0], np.cumsum(skill_count)[:-1]]).astype(np.int64)
        if n else np.empty(0, np.int64),
        skill_count=skill_count,
        skill_tok_start=np.concatenate([[0], np.cumsum(tok_count)[:-1]]).astype(np.int64)
        if tok_count.size else np.empty(0, np.int64),
        skill_tok_count=tok_count,
        tokens=np.array(tokens, dtype=np.int64),
    )


def build_opportunity_index(
    department: str, opportunities: Sequence[Opportunity], rome: RomeReferential
) -> OpportunityIndex:
    arrays = offer_arrays(opportunities, rome)
    if len(opportunities):
        box = (float(arrays.lat.min()), float(arrays.lat.max()),
               float(arrays.lon.min()), float(arrays.lon.max()))
    else:
        box = (math.nan,) * 4  # type: ignore[assignment]
    return OpportunityIndex(
        department=department, opportunities=tuple(opportunities),
        ids=np.array([o.id for o in opportunities], dtype=str), arrays=arrays, box=box,
    )


def build_opportunity_indexes(
    opportunities: Sequence[Opportunity], rome: RomeReferential
) -> dict[str, OpportunityIndex]:
    """One :class:`OpportunityIndex` per département of the work place, in id order."""
    by_dept: dict[str, list[Opportunity]] = {}
    for opp in sorted(opportunities, key=lambda o: o.id):
        by_dept.setdefault(opp.location.department, []).append(opp)
    return {d: build_opportunity_index(d, items, rome) for d, items in sorted(by_dept.items())}
