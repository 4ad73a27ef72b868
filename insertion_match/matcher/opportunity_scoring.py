"""The transparent additive scorer of opportunities (job, volunteering, internship, immersion).

score(pair) = Σ contributions, each a documented term (weights in :class:`OpportunityWeights`):

=====================  ======================================================================
term                   contribution
=====================  ======================================================================
``frein.<key>``        ``need_weight × severity/3 × w`` for the freins the kind of offer works
                       on (:data:`KIND_FREINS`; w = 1 for the first, 0.5 for the second): a
                       job works on *recherche d'emploi*, volunteering on *isolement*...
``rome``               ``rome_weight × proximity`` of the offer's ROME fiche to the person's
                       closest target job: 1 same fiche, 0.8 same ROME v3 fiche, 0.5 same
                       domaine professionnel, 0.2 same grand domaine (0 when unknown)
``skills``             ``skills_weight × share`` of the offer's skills the person lists
``training``           ``+training_fit`` when the person has the level asked for;
                       ``−training_weight × min(gap, 3)/3`` (halved when only souhaité)
``experience``         ``+experience_weight`` when beginners are welcome (D),
                       ``−experience_weight`` when experience is exigée (E)
``reach``              ``reach_weight × (1 − minutes / max_minutes)`` (within reach: a wall
                       excludes the rest)
``hours``              ``−hours_weight × min(extra hours / offer hours, 1)`` when the offer asks
                       more hours than the person has; ``−atypical_children`` for atypical
                       hours with a child under 12 (childcare not a declared frein)
``licence``            ``−licence_desired`` when a licence is souhaité and the person has none
``contract``           ``+durable_weight`` for durable employment (CDI, CDD ≥ 6 months)
``readiness``          ``readiness_weight × alignment`` of the orientation with the kind of
                       offer (:data:`READINESS`); insertion contracts (IAE) count as ready for
                       social and socio-professional orientations
``history``            ``−refused_penalty`` / ``−abandoned_penalty``
``iae``                ``+iae_weight`` for a position in a work-integration structure (SIAE,
                       ``Opportunity.iae``): RSA beneficiaries meet the IAE administrative
                       criterion, and the post comes with support on the job
=====================  ======================================================================

Pure and vectorised over pairs; the score is exactly the row sum of the contributions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from insertion_match.domain import FREINS, OPPORTUNITY_KINDS, ExperienceCode, HistoryCode
from insertion_match.features.opportunity_features import PairFeatures
from insertion_match.features.opportunity_index import OfferArrays
from insertion_match.features.people import PeopleArrays

KIND_FREINS: dict[str, tuple[str, ...]] = {
    "job": ("recherche_emploi", "experience_professionnelle"),
    "volunteering": ("isolement_confiance", "savoir_etre"),
    "internship": ("experience_professionnelle", "qualification"),
    "immersion": ("projet_professionnel", "experience_professionnelle"),
}
#: Orientation (sociale, socioprofessionnelle, professionnelle) × kind alignment, 0..1.
READINESS: dict[str, tuple[float, float, float]] = {
    "job": (0.0, 0.5, 1.0),
    "volunteering": (1.0, 0.5, 0.0),
    "internship": (0.5, 1.0, 0.5),
    "immersion": (0.5, 1.0, 0.5),
    "insertion": (1.0, 1.0, 0.5),  # IAE and subsidised contracts
}
OTHER_TERMS: tuple[str, ...] = ("rome", "skills", "training", "experience", "reach", "hours",
                                "licence", "contract", "readiness", "history", "iae")
TERMS: tuple[str, ...] = tuple(f"frein.{k}" for k in FREINS) + OTHER_TERMS
#: (kind code, frein) weights, rows in ``domain.OPPORTUNITY_KINDS`` order.
ADDRESSES = np.zeros((len(OPPORTUNITY_KINDS), len(FREINS)))
for _k, _kind in enumerate(OPPORTUNITY_KINDS):
    for _r, _frein in enumerate(KIND_FREINS[_kind]):
        ADDRESSES[_k, FREINS.index(_frein)] = 1.0 if _r == 0 else 0.5
_READINESS = np.array([READINESS[k] for k in OPPORTUNITY_KINDS])


@dataclass(frozen=True)
class OpportunityWeights:
    need_weight: float = 0.15
    rome_weight: float = 0.30
    skills_weight: float = 0.10
    training_fit: float = 0.03
    training_weight: float = 0.10
    experience_weight: float = 0.03
    reach_weight: float = 0.15
    hours_weight: float = 0.08
    atypical_children: float = 0.03
    licence_desired: float = 0.03
    durable_weight: float = 0.05
    readiness_weight: float = 0.05
    refused_penalty: float = 0.10
    abandoned_penalty: float = 0.05
    iae_weight: float = 0.04


@dataclass(frozen=True)
class ScoredPairs:
    contributions: np.ndarray  # (N, len(TERMS))
    scores: np.ndarray  # (N,) == contributions.sum(axis=1)


class OpportunityScorer:
    """Additive, documented weights; pure and vectorised over (person, offer) pairs."""

    name = "transparent-offers"
    version = "1.1.0"  # 1.1.0: the ``iae`` term

    def __init__(self, weights: OpportunityWeights | None = None) -> None:
        self.weights = weights or OpportunityWeights()

    def describe(self) -> dict[str, float]:
        return asdict(self.weights)

    def score(self, people: PeopleArrays, offers: OfferArrays, f: PairFeatures) -> ScoredPairs:
        w = self.weights
        n = f.minutes.shape[0]

        def b(a: np.ndarray) -> np.ndarray:
            return np.broadcast_to(a, (n,) + a.shape[1:]) if a.shape[0] != n else a

        need = w.need_weight * b(ADDRESSES[offers.kind_code]) * (b(people.severities) / 3.0)
        rome = w.rome_weight * np.nan_to_num(f.proximity, nan=0.0)
        skills = w.skills_weight * np.nan_to_num(f.skills, nan=0.0)
        required = b(offers.training_required)
        gap = f.training_gap
        with np.errstate(invalid="ignore"):
            training = np.where(
                np.isnan(gap), 0.0,
                np.where(gap <= 0, w.training_fit,
                         -w.training_weight * np.minimum(gap, 3) / 3 * np.where(required, 1, .5)))
        exp = b(offers.experience)
        experience = np.select([exp == ExperienceCode.beginner, exp == ExperienceCode.required], [w.experience_weight, -w.experience_weight],
                               0.0)
        max_minutes = b(people.max_minutes)
        with np.errstate(invalid="ignore", divide="ignore"):
            reach = np.where(np.isfinite(f.minutes) & (max_minutes > 0),
                             w.reach_weight * (1.0 - f.minutes / max_minutes), 0.0)
        reach = np.clip(reach, -w.reach_weight, w.reach_weight)
        offer_hours = b(offers.hours)
        with np.errstate(invalid="ignore", divide="ignore"):
            extra = np.where(f.hours_gap > 0, np.minimum(f.hours_gap / offer_hours, 1.0), 0.0)
        hours = -w.hours_weight * np.nan_to_num(extra, nan=0.0)
        young = np.nan_to_num(b(people.children_under_3)) + np.nan_to_num(
            b(people.children_3_to_11)) > 0
        hours = hours - w.atypical_children * (b(np.any(offers.atypical, axis=1)) & young)
        lacks = b(people.licence) < 2
        licence = -w.licence_desired * (b(offers.licence_b_desired) & lacks & (b(people.licence)
                                                                               >= 0))
        contract = w.durable_weight * b(offers.durable)
        orientation = b(people.orientation)
        kinds = b(offers.kind_code)
        alignment = np.zeros(n)
        if n:
            known = orientation >= 0
            alignment[known] = _READINESS[kinds[known], orientation[known]]
            insertion = b(offers.insertion_contract) & known
            alignment[insertion] = np.maximum(
                alignment[insertion], np.array(READINESS["insertion"])[orientation[insertion]])
        readiness = w.readiness_weight * alignment
        history = np.select([f.history == HistoryCode.refused, f.history == HistoryCode.abandoned],
                            [-w.refused_penalty, -w.abandoned_penalty], 0.0)
        iae = w.iae_weight * b(offers.iae).astype(float)
        other = np.column_stack([rome, skills, training, experience, reach, hours, licence,
                                 contract, readiness, history, iae]) if n else np.zeros(
            (0, len(OTHER_TERMS)))
        contributions = np.hstack([need.reshape(n, len(FREINS)), other])
        return ScoredPairs(contributions=contributions, scores=contributions.sum(axis=1))
