"""The statistics the synthetic world is calibrated on, each with its source and tolerance.

Targets come from the seed notes (``shared/seed-extracts/*_notes.md``, copied facts; the seed
documents are the PLICS Flers and Alençon 2022, the PTI Orne 2020-2022, the PDI Sarthe and the
PTI-PDI Essonne). ``kind`` says how far to trust each one:

- ``document``: a figure written in a source document;
- ``derived``: computed from document figures with a stated assumption;
- ``assumption``: no figure in the documents (Essonne has no caseload statistics at all); the
  generator's own choice, listed so that nobody mistakes it for data.

Tolerances are absolute (proportion points). They allow for sampling noise at the default world
size and for the documents' own inconsistencies (e.g. the Orne orientation split is given both as
65/35 and as "parity" for two commissions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["document", "derived", "assumption"]


@dataclass(frozen=True)
class Target:
    key: str
    statistic: str  # what is measured, in English
    value: float  # the target (a proportion unless said otherwise)
    tolerance: float  # absolute
    source: str
    kind: Kind = "document"


#: RSA households (foyers allocataires), Orne, January 2022 (seeds 000 and 001).
ORNE_HOUSEHOLDS = 6210
#: Essonne publishes no caseload (seed 004 §2). Order of magnitude derived from the 2021
#: allowance of €188 M divided by 12 × €560, an assumed mean monthly payment per household.
ESSONNE_HOUSEHOLDS = 28000
#: Split of Orne RSA households by DTAS / Commission RSA (seeds 000 and 001, Jan 2022).
#: Sarthe: seed 003 (PDI review) gives no caseload. Order of magnitude of the CNAF count of RSA
#: households (about 14,000 around 2020), not from the seeds: an **assumption**.
SARTHE_HOUSEHOLDS = 14000
HOUSEHOLDS: dict[str, int] = {"61": ORNE_HOUSEHOLDS, "72": SARTHE_HOUSEHOLDS,
                              "91": ESSONNE_HOUSEHOLDS}
TOTAL_HOUSEHOLDS = sum(HOUSEHOLDS.values())
DTAS_SHARES: dict[str, float] = {
    "Alençon": 0.30, "Argentan": 0.21, "Flers": 0.26, "Mortagne-au-Perche": 0.23,
}

TARGETS: tuple[Target, ...] = (
    # --- households per territory ---------------------------------------------------------
    Target("households.orne_share", "share of the world's households living in the Orne",
           ORNE_HOUSEHOLDS / TOTAL_HOUSEHOLDS, 0.02,
           "6,210 Orne households (seed 000/001); Essonne 28,000 derived from €188 M (seed 004); "
           "Sarthe 14,000 assumed", "derived"),
    Target("households.sarthe_share", "share of the world's households living in the Sarthe",
           SARTHE_HOUSEHOLDS / TOTAL_HOUSEHOLDS, 0.02,
           "none: seed 003 gives no caseload; about 14,000 RSA households (CNAF order of "
           "magnitude, outside the seeds)", "assumption"),
    *(Target(f"households.dtas.{name}", f"share of Orne households in the DTAS {name}", share,
             0.025, "seed 000 §1 / seed 001 §1: Alençon 30%, Argentan 21%, Flers 26%, "
             "Mortagne 23%") for name, share in DTAS_SHARES.items()),
    # --- sex -------------------------------------------------------------------------------
    Target("sex.women.flers", "women among Flers beneficiaries", 0.53, 0.04,
           "seed 000 §1: women are 53% of Flers RSA beneficiaries"),
    Target("sex.women.alencon", "women among Alençon beneficiaries", 0.52, 0.04,
           "seed 001 §1: 52% of Alençon recipients"),
    Target("sex.women.orne", "women among Orne beneficiaries", 0.53, 0.03,
           "seed 002 §1: 53% women, stable"),
    Target("sex.women.sarthe", "women among Sarthe beneficiaries", 0.53, 0.04,
           "none: seed 003 has no caseload statistics; the Orne's 53% reused", "assumption"),
    # --- age -------------------------------------------------------------------------------
    Target("age.over35.flers", "Flers beneficiaries over 35", 0.64, 0.04,
           "seed 000 §1: 64% are over 35"),
    Target("age.26_45.alencon", "Alençon beneficiaries aged 26-45", 0.58, 0.04,
           "seed 001 §1: 58% of Alençon recipients are aged 26-45"),
    # --- family situation -----------------------------------------------------------------
    Target("family.isolated.flers", "Flers beneficiaries living alone, with or without children",
           0.76, 0.04, "seed 000 §1: 76% live alone, with or without children"),
    Target("family.single.alencon", "Alençon: single person without children", 0.49, 0.04,
           "seed 001 §1 (chart read in legend order): single person 49%"),
    Target("family.single_parent.alencon", "Alençon: single-parent families", 0.27, 0.04,
           "seed 001 §1: single-parent family 27%"),
    Target("family.isolated.orne", "Orne beneficiaries isolated with or without children", 0.76,
           0.03, "seed 001 §1 Orne chart: single 51% + single parent 25%"),
    # --- months in RSA --------------------------------------------------------------------
    Target("rsa_months.over36.flers", "Flers beneficiaries in RSA for more than 36 months", 0.67,
           0.04, "seed 000 §1: 67% (Orne 66%)"),
    Target("rsa_months.over36.alencon", "Alençon beneficiaries in RSA for more than 36 months",
           0.65, 0.04, "seed 001 §1: 65%"),
    Target("rsa_months.over36.orne", "Orne beneficiaries in RSA for more than 36 months", 0.66,
           0.03, "seed 000/001 §1: Orne 66%"),
    # --- orientation ----------------------------------------------------------------------
    Target("orientation.professionnelle.orne", "Orne beneficiaries in professional orientation",
           0.35, 0.03, "seed 002 §1: 65% social, 35% professional (~2019)"),
    Target("orientation.flers_minus_orne", "professional share, Flers minus Orne (points)", 0.09,
           0.05, "seed 000 §1: professional orientation 9 points higher in Flers than in the Orne"),
    Target("orientation.socioprofessionnelle", "beneficiaries in socio-professional orientation",
           0.05, 0.02, "none: the third track is planned (seed 002 Axe 1), no figure",
           "assumption"),
    # --- training level (participants of the PLICS actions) ------------------------------
    Target("training.le3.flers_participants",
           "participants of Flers PLICS actions at or below niveau 3", 0.94, 0.04,
           "seed 000 §1: 94% of participants at or below niveau 3"),
    Target("training.ge4.alencon_participants",
           "participants of Alençon PLICS actions at niveau 4 or above", 0.14, 0.04,
           "seed 001 §1: level IV and above 14%"),
    # --- car ownership --------------------------------------------------------------------
    Target("car.social_participants",
           "participants of the Orne's social-aim actions (insertion sociale) with a car", 0.31,
           0.06, "seed 000 §1: car ownership is low in the social actions: 28% in primo sociale "
           "(72% without a car), 34% in primo pro"),
    Target("car.independent_workers", "independent workers with a car", 0.88, 0.05,
           "seed 000/001: 88% of ADEN participants have a car"),
    # --- freins ---------------------------------------------------------------------------
    *(Target(f"freins.ccas_alencon.{key}",
             f"Alençon (commune) residents in social orientation: share of real or blocking "
             f"freins that are {label}",
             share, 0.06, "seed 001 §1: barriers identified by the CCAS d'Alençon, which serves the "
             "commune (legend order, "
             "inferred): housing 21%, health 33%, budget 15%, mobility 5%, training 10%, "
             "employment 16%")
      for key, label, share in (
          ("logement", "housing", 0.21), ("sante", "health", 0.33), ("finances", "budget", 0.15),
          ("mobilite", "mobility", 0.05), ("qualification", "training", 0.10),
          ("recherche_emploi", "employment", 0.16))),
    # --- outcomes under the historical practice ------------------------------------------
    Target("outcome.iae.dynamic_exit_rate",
           "IAE actions: positive (dynamic) exits among people who left", 0.45, 0.09,
           "seed 000: ACI dynamic exits 35.8%, 42.9%, 50%; seed 003: ACI 47-53%"),
    Target("outcome.iae.lasting_job_rate", "IAE actions: lasting-job exits among people who left",
           0.14, 0.06, "seed 003 (Sarthe): ACI 11-13%, AI/ETTI 11-18%"),
    Target("outcome.iae.dropout_rate", "IAE actions: drop-outs among entrants", 0.12, 0.07,
           "seed 000: ACI AIFR 10 drop-outs for 82 entries, AGIR 2/16, Régie 0/7"),
    Target("outcome.primo_pro.positive_exit_rate",
           "primo professionnelle (Flers, Alençon): positive exits among people who left", 0.52,
           0.15,
           "seed 000 §1: 52% positive exits (29 exits); about 45 exits at the default world size, "
           "so ±2 standard errors"),
)

#: Sarthe outcomes (seed 003, 2018 / 2019 / Dec 2020 provisional): positive (dynamic) exits and
#: lasting-job exits among people who left each action, under the historical practice.
SARTHE_OUTCOMES: tuple[Target, ...] = tuple(
    Target(f"outcome.sarthe.{key}", f"Sarthe {label}: {what} among people who left", value, tol,
           f"seed 003 §{section}: {doc}")
    for key, label, what, value, tol, section, doc in (
        ("aci.dynamic_exit_rate", "ACI", "positive (dynamic) exits", 0.50, 0.10, 8,
         "sorties dynamiques 51%, 53%, 47%"),
        ("aci.lasting_job_rate", "ACI", "lasting-job exits", 0.12, 0.06, 8,
         "emploi durable 12%, 13%, 11%"),
        ("ai_etti.dynamic_exit_rate", "AI / ETTI", "positive (dynamic) exits", 0.54, 0.13, 9,
         "sorties dynamiques 64%, 55%, 43%"),
        ("depart_emploi.dynamic_exit_rate", "Départ'Emploi", "positive (dynamic) exits", 0.52,
         0.10, 10, "sorties dynamiques 48%, 55%, 52%"),
        ("depart_emploi.lasting_job_rate", "Départ'Emploi", "lasting-job exits", 0.18, 0.07, 10,
         "emploi durable 16%, 21%, 16%"),
        ("depart_projet.dynamic_exit_rate", "Départ'Projet", "positive (dynamic) exits", 0.66,
         0.12, 4, "sorties dynamiques 62%, 70%"),
    ))
TARGETS = TARGETS + SARTHE_OUTCOMES
#: The catalogue item of each Sarthe outcome target.
SARTHE_ITEMS: dict[str, str] = {"aci": "sarthe-aci", "ai_etti": "sarthe-ai-etti",
                                "depart_emploi": "sarthe-depart-emploi",
                                "depart_projet": "sarthe-depart-projet"}

TARGETS_BY_KEY: dict[str, Target] = {t.key: t for t in TARGETS}
