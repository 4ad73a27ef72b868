"""Synthetic demo offers for the Orne and the Essonne, in the France Travail "offres v2" format.

**Every offer made here is fictitious** (``"origine": "synthetic"``, source ``demo-synthetic``,
employers "… (démo)", a description saying so); they exist so that the job matching can be
tried from a fresh clone, without any real offer. The generator is seeded: the same seed writes
the same file (``data/demo/offers_demo.json``, committed)::

    python -m insertion_match.features.demo_offers            # rewrite the committed file

What is realistic, and from where: the ROME mix is the jobs accessible without a high
qualification that dominate insertion exits (cleaning, home help, catering, retail, logistics,
agri-food industry, building, green spaces, security, care auxiliaries), with hand-set weights;
work places are communes drawn in proportion to their population (INSEE legal population,
``data/geo``); contract types, weekly hours, atypical hours and licence requirements are drawn
per job from hand-set shares typical of such offers (more part-time and split hours in
cleaning, nights and week-ends in security, shifts in the agri-food industry, a B licence
required for home help and delivery). None of these shares is calibrated on real data.
A few volunteering, immersion (PMSMP) and internship offers complete the set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random

import numpy as np

from insertion_match.features.rome import RomeReferential, split_genders
from insertion_match.geo import Gazetteer

DEMO_FILE = Path("demo") / "offers_demo.json"
DEMO_SOURCE = "demo-synthetic"
SEED = 20261123
REFERENCE_DAY = date(2026, 11, 1)
DESCRIPTION = (
    "Offre fictive générée pour la démonstration d'insertion-match : données synthétiques, "
    "ne correspond à aucune offre réelle."
)
#: Number of job offers per département (about 1 per 400 inhabitants: Orne 280k, Essonne 1.3M).
JOBS_PER_DEPARTMENT = {"61": 700, "91": 1500}
OTHER_PER_DEPARTMENT = {
    "61": {"volunteering": 25, "immersion": 30, "internship": 10},
    "91": {"volunteering": 40, "immersion": 50, "internship": 20},
}

HOURS_TEXT = {
    "night": "Travail de nuit",
    "weekend": "Travail samedi et dimanche",
    "shifts": "Travail en équipe",
    "early_late": "Travail en horaires décalés",
    "split": "Horaires en coupure",
}
LEVEL_TEXT = {"3": "CAP, BEP et équivalents", "4": "Bac ou équivalent", "5": "Bac+2 ou équivalents"}
CONTRACT_TEXT = {
    "CDI": "Contrat à durée indéterminée",
    "CDD": "Contrat à durée déterminée",
    "MIS": "Mission intérimaire",
    "SAI": "Contrat travail saisonnier",
    "DDI": "CDD d'insertion",
}
SOFT_SKILLS = (
    "Faire preuve de rigueur et de précision",
    "Travailler en équipe",
    "Faire preuve d'autonomie",
    "Être à l'écoute",
    "Faire preuve de réactivité",
    "Organiser son travail selon les priorités",
    "Faire preuve de persévérance",
)


@dataclass(frozen=True)
class JobProfile:
    """How offers of one ROME fiche look (hand-set shares, not calibrated)."""

    code: str
    weight: float
    skills: tuple[str, ...]
    full_time: float = 0.6  # share of full-time offers
    atypical: tuple[tuple[str, float], ...] = ()  # (flag, probability)
    licence_b: tuple[float, float] = (0.0, 0.1)  # (exigé, souhaité)
    licence_other: str | None = None  # another category always exigée
    level: tuple[str, float, bool] | None = None  # (level, probability, exigé)
    contracts: tuple[float, float, float, float, float] = (0.35, 0.35, 0.2, 0.0, 0.1)
    # CDI, CDD, MIS, SAI, DDI


JOBS: tuple[JobProfile, ...] = (
    JobProfile(
        "K2204",
        10,
        (
            "Nettoyer des locaux",
            "Entretien des sols et surfaces",
            "Utiliser des produits d'entretien",
            "Trier et évacuer les déchets",
            "Autolaveuse",
        ),
        full_time=0.3,
        atypical=(("early_late", 0.5), ("split", 0.35)),
        licence_b=(0.1, 0.2),
    ),
    JobProfile(
        "K2205",
        6,
        (
            "Nettoyer des bureaux",
            "Entretien des sanitaires",
            "Utiliser des produits d'entretien",
            "Vider les corbeilles",
        ),
        full_time=0.25,
        atypical=(("early_late", 0.6), ("split", 0.4)),
    ),
    JobProfile(
        "K1302",
        8,
        (
            "Aide à la toilette",
            "Préparer des repas",
            "Accompagner une personne dépendante",
            "Entretien du logement",
        ),
        full_time=0.35,
        atypical=(("weekend", 0.4), ("early_late", 0.3), ("split", 0.3)),
        licence_b=(0.6, 0.25),
    ),
    JobProfile(
        "K1304",
        5,
        ("Entretien du logement", "Repassage du linge", "Faire les courses", "Préparer des repas"),
        full_time=0.2,
        licence_b=(0.3, 0.3),
    ),
    JobProfile(
        "J1301",
        4,
        (
            "Bionettoyage des chambres",
            "Entretien des locaux hospitaliers",
            "Distribution des repas",
            "Respecter les protocoles d'hygiène",
        ),
        atypical=(("weekend", 0.6), ("shifts", 0.5)),
    ),
    JobProfile(
        "G1603",
        5,
        (
            "Préparer des commandes en restauration rapide",
            "Encaisser",
            "Accueil des clients",
            "Nettoyer le matériel de cuisine",
        ),
        full_time=0.3,
        atypical=(("weekend", 0.7), ("early_late", 0.4), ("split", 0.3)),
    ),
    JobProfile(
        "G1602",
        4,
        (
            "Éplucher les légumes",
            "Préparer les entrées et desserts",
            "Nettoyer le plan de travail",
            "Respecter les règles HACCP",
        ),
        atypical=(("weekend", 0.6), ("split", 0.5)),
        level=("3", 0.3, False),
        contracts=(0.3, 0.35, 0.1, 0.2, 0.05),
    ),
    JobProfile(
        "G1605",
        3,
        ("Laver la vaisselle", "Nettoyer la cuisine", "Ranger la vaisselle", "Trier les déchets"),
        full_time=0.4,
        atypical=(("weekend", 0.6), ("split", 0.5)),
        contracts=(0.3, 0.3, 0.1, 0.25, 0.05),
    ),
    JobProfile(
        "G1803",
        4,
        ("Service en salle", "Dresser les tables", "Accueil des clients", "Encaisser"),
        atypical=(("weekend", 0.7), ("split", 0.5)),
        contracts=(0.3, 0.3, 0.1, 0.25, 0.05),
    ),
    JobProfile(
        "D1507",
        6,
        (
            "Mise en rayon",
            "Étiqueter les produits",
            "Réceptionner les marchandises",
            "Accueil des clients",
        ),
        full_time=0.5,
        atypical=(("weekend", 0.5), ("early_late", 0.4)),
    ),
    JobProfile(
        "D1505",
        4,
        ("Encaisser", "Accueil des clients", "Tenir une caisse", "Mise en rayon"),
        full_time=0.35,
        atypical=(("weekend", 0.7),),
    ),
    JobProfile(
        "D1214",
        2,
        ("Conseiller les clients", "Encaisser", "Mise en rayon", "Entretien du magasin"),
        atypical=(("weekend", 0.6),),
    ),
    JobProfile(
        "N1103",
        7,
        (
            "Préparer des commandes",
            "Utiliser un scanner",
            "Conditionner des colis",
            "Manutention de charges",
        ),
        full_time=0.85,
        atypical=(("shifts", 0.4), ("early_late", 0.3)),
        contracts=(0.25, 0.25, 0.45, 0, 0.05),
    ),
    JobProfile(
        "N1105",
        5,
        ("Manutention de charges", "Charger et décharger des camions", "Trier des colis"),
        full_time=0.85,
        atypical=(("shifts", 0.3),),
        contracts=(0.2, 0.25, 0.5, 0.0, 0.05),
    ),
    JobProfile(
        "N1101",
        3,
        (
            "Conduire un chariot élévateur",
            "CACES R489",
            "Réceptionner les marchandises",
            "Préparer des commandes",
        ),
        full_time=0.95,
        atypical=(("shifts", 0.4),),
        level=("3", 0.2, False),
    ),
    JobProfile(
        "H2102",
        5,
        (
            "Conduire une ligne de production",
            "Contrôler la qualité des produits",
            "Nettoyer une ligne de production",
            "Respecter les règles d'hygiène",
        ),
        full_time=0.95,
        atypical=(("shifts", 0.6), ("night", 0.2)),
        contracts=(0.3, 0.25, 0.4, 0, 0.05),
    ),
    JobProfile(
        "H2105",
        5,
        (
            "Conditionner des produits alimentaires",
            "Contrôler la qualité des produits",
            "Respecter les règles d'hygiène",
        ),
        full_time=0.95,
        atypical=(("shifts", 0.6), ("night", 0.15)),
        contracts=(0.25, 0.25, 0.45, 0, 0.05),
    ),
    JobProfile(
        "H3302",
        3,
        ("Conditionner des produits", "Étiqueter des colis", "Contrôler les produits"),
        full_time=0.9,
        atypical=(("shifts", 0.4),),
        contracts=(0.2, 0.25, 0.5, 0.0, 0.05),
    ),
    JobProfile(
        "A1203",
        4,
        (
            "Tondre les pelouses",
            "Tailler les haies",
            "Entretien des espaces verts",
            "Utiliser un débroussailleur",
        ),
        full_time=0.9,
        licence_b=(0.2, 0.4),
        contracts=(0.3, 0.3, 0.1, 0.15, 0.15),
    ),
    JobProfile(
        "A1401",
        3,
        ("Cueillir des fruits", "Récolter des légumes", "Trier la récolte"),
        full_time=0.9,
        contracts=(0.05, 0.1, 0.05, 0.8, 0.0),
    ),
    JobProfile(
        "F1703",
        3,
        ("Monter des murs en parpaings", "Préparer le mortier", "Lire un plan", "Couler une dalle"),
        full_time=1.0,
        licence_b=(0.1, 0.3),
        level=("3", 0.4, False),
        contracts=(0.4, 0.25, 0.3, 0.0, 0.05),
    ),
    JobProfile(
        "F1704",
        3,
        ("Manutention sur chantier", "Nettoyer le chantier", "Préparer le mortier"),
        full_time=1.0,
        licence_b=(0.1, 0.3),
        contracts=(0.2, 0.25, 0.45, 0.0, 0.1),
    ),
    JobProfile(
        "F1606",
        2,
        ("Préparer les supports", "Peindre des murs", "Poser des revêtements muraux"),
        full_time=1.0,
        licence_b=(0.2, 0.3),
        level=("3", 0.3, False),
    ),
    JobProfile(
        "F1602",
        2,
        (
            "Poser des câbles électriques",
            "Raccorder un tableau électrique",
            "Lire un schéma électrique",
        ),
        full_time=1.0,
        licence_b=(0.4, 0.3),
        level=("3", 0.6, True),
    ),
    JobProfile(
        "I1203",
        3,
        (
            "Entretien du bâtiment",
            "Petites réparations de plomberie",
            "Peindre des murs",
            "Remplacer des luminaires",
        ),
        full_time=0.8,
        licence_b=(0.3, 0.3),
    ),
    JobProfile(
        "K2503",
        3,
        ("Surveiller un site", "Contrôler les accès", "Faire des rondes", "SSIAP 1"),
        full_time=0.9,
        atypical=(("night", 0.5), ("weekend", 0.6), ("shifts", 0.4)),
        licence_b=(0.2, 0.2),
    ),
    JobProfile(
        "N4105",
        3,
        ("Livrer des colis", "Charger le véhicule", "Organiser sa tournée"),
        full_time=0.9,
        atypical=(("early_late", 0.5),),
        licence_b=(1.0, 0.0),
        contracts=(0.3, 0.3, 0.35, 0.0, 0.05),
    ),
    JobProfile(
        "N4101",
        2,
        ("Conduire un poids lourd", "Arrimer le chargement", "FIMO"),
        full_time=1.0,
        atypical=(("early_late", 0.5), ("night", 0.2)),
        licence_b=(1.0, 0.0),
        licence_other="C",
    ),
    JobProfile(
        "M1607",
        2,
        (
            "Accueil téléphonique",
            "Saisir des documents",
            "Classer des dossiers",
            "Utiliser un traitement de texte",
        ),
        full_time=0.6,
        level=("4", 0.5, False),
    ),
    JobProfile(
        "M1601",
        2,
        ("Accueil des visiteurs", "Accueil téléphonique", "Orienter le public"),
        full_time=0.5,
        atypical=(("weekend", 0.3),),
    ),
    JobProfile(
        "K1303",
        2,
        ("Garder des enfants", "Accompagner les enfants à l'école", "Préparer les goûters"),
        full_time=0.1,
        atypical=(("early_late", 0.6),),
        licence_b=(0.3, 0.3),
    ),
)

VOLUNTEERING = (
    ("Bénévole en épicerie solidaire", "D1507", ("Accueil des clients", "Mise en rayon")),
    ("Bénévole en ressourcerie", "K2304", ("Trier des objets", "Accueil des clients")),
    ("Bénévole au jardin partagé", "A1203", ("Entretien des espaces verts",)),
    ("Bénévole pour l'accompagnement scolaire", None, ("Aide aux devoirs",)),
    ("Bénévole pour des visites de convivialité aux personnes âgées", None, ("Être à l'écoute",)),
    (
        "Bénévole pour la distribution de colis alimentaires",
        None,
        ("Préparer des colis", "Accueil des bénéficiaires"),
    ),
)


def _pick(rng: Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _place(gaz: Gazetteer, department: str, rng: Random, cache: dict) -> dict:
    if department not in cache:
        pos = np.flatnonzero(gaz.departments == department)
        weights = gaz.population[pos].astype(float)
        cache[department] = (pos, weights / weights.sum())
    pos, p = cache[department]
    i = int(pos[int(np.searchsorted(np.cumsum(p), rng.random()))])
    commune = gaz.communes[i]
    return {
        "libelle": f"{department} - {commune.name.upper()}",
        "codePostal": commune.postcodes[0] if commune.postcodes else None,
        "commune": commune.insee,
        "latitude": round(commune.lat, 5),
        "longitude": round(commune.lon, 5),
    }


def _title(rome: RomeReferential, code: str, rng: Random) -> tuple[str, str]:
    labels = rome.appellations_by_code.get(code) or (rome.labels[code],)
    # Half the offers use the fiche's own title, the others one of its usual appellations.
    label = rome.labels[code] if rng.random() < 0.5 else rng.choice(labels[:12])
    return label, split_genders(label)[0] + " (H/F)"


def _job(
    rng: Random,
    rome: RomeReferential,
    gaz: Gazetteer,
    dept: str,
    n: int,
    profile: JobProfile,
    cache: dict,
) -> dict:
    appellation, title = _title(rome, profile.code, rng)
    contract = rng.choices(("CDI", "CDD", "MIS", "SAI", "DDI"), weights=profile.contracts)[0]
    months = {
        "CDD": rng.choice((1, 2, 3, 6, 6, 9, 12)),
        "SAI": rng.choice((1, 2, 3)),
        "DDI": rng.choice((4, 6, 12)),
    }.get(contract)
    weeks = rng.choice((1, 2, 4, 8)) if contract == "MIS" else None
    hours = 35 if rng.random() < profile.full_time else rng.choice((15, 20, 24, 25, 28, 30))
    flags = [f for f, p in profile.atypical if rng.random() < p]
    permis = []
    b_req, b_des = profile.licence_b
    draw = rng.random()
    if draw < b_req:
        permis.append({"libelle": "B - Véhicule léger", "exigence": "E"})
    elif draw < b_req + b_des:
        permis.append({"libelle": "B - Véhicule léger", "exigence": "S"})
    if profile.licence_other:
        permis.append({"libelle": f"{profile.licence_other} - Poids lourd", "exigence": "E"})
    formations = []
    if profile.level and rng.random() < profile.level[1]:
        formations.append(
            {
                "niveauLibelle": LEVEL_TEXT[profile.level[0]],
                "exigence": "E" if profile.level[2] else "S",
            }
        )
    exp = rng.choices(("D", "S", "E"), weights=(0.55, 0.25, 0.2))[0]
    skills = rng.sample(profile.skills, k=min(len(profile.skills), rng.randint(2, 4)))
    contract_label = CONTRACT_TEXT[contract] + (
        f" - {months} Mois" if months else f" - {weeks} Semaine(s)" if weeks else ""
    )
    schedule = HOURS_TEXT[flags[0]] if flags else "Horaires normaux"
    return {
        "id": f"DEMO{dept}J{n:05d}",
        "intitule": title,
        "description": DESCRIPTION,
        "dateCreation": (REFERENCE_DAY - timedelta(days=rng.randint(0, 45))).isoformat()
        + "T08:00:00.000Z",
        "lieuTravail": _place(gaz, dept, rng, cache),
        "romeCode": profile.code,
        "romeLibelle": rome.labels[profile.code],
        "appellationlibelle": appellation,
        "entreprise": {"nom": f"Employeur fictif {dept}-{rng.randint(1, 400):03d} (démo)"},
        "typeContrat": contract,
        "typeContratLibelle": contract_label,
        "natureContrat": "Contrat travail" if contract != "DDI" else "Insertion par l'activ.éco.",
        "experienceExige": exp,
        "experienceLibelle": {
            "D": "Débutant accepté",
            "S": "1 An(s) - expérience souhaitée",
            "E": "1 An(s)",
        }[exp],
        "formations": formations,
        "permis": permis,
        "competences": [{"libelle": s, "exigence": "S"} for s in skills],
        "qualitesProfessionnelles": [{"libelle": q} for q in rng.sample(SOFT_SKILLS, 2)],
        "dureeTravailLibelle": f"{hours}H {schedule}",
        "dureeTravailLibelleConverti": "Temps plein" if hours >= 35 else "Temps partiel",
        "contexteTravail": {"horaires": [HOURS_TEXT[f] for f in flags]},
        "nombrePostes": rng.choices((1, 2, 3, 5), weights=(0.8, 0.12, 0.05, 0.03))[0],
        "accessibleTH": rng.random() < 0.3,
        "origine": "synthetic",
    }


def _other(
    rng: Random, rome: RomeReferential, gaz: Gazetteer, dept: str, n: int, kind: str, cache: dict
) -> dict:
    place = _place(gaz, dept, rng, cache)
    letter = {"volunteering": "V", "immersion": "P", "internship": "S"}[kind]
    base = {
        "id": f"DEMO{dept}{letter}{n:05d}",
        "kind": kind,
        "description": DESCRIPTION,
        "dateCreation": (REFERENCE_DAY - timedelta(days=rng.randint(0, 45))).isoformat()
        + "T08:00:00.000Z",
        "lieuTravail": place,
        "origine": "synthetic",
        "experienceExige": "D",
        "experienceLibelle": "Débutant accepté",
    }
    if kind == "volunteering":
        title, code, skills = rng.choice(VOLUNTEERING)
        hours = rng.choice((3, 4, 6, 8))
        return {
            **base,
            "intitule": title,
            "romeCode": code,
            "entreprise": {"nom": f"Association fictive {dept}-{rng.randint(1, 80):02d} (démo)"},
            "typeContrat": "BEN",
            "typeContratLibelle": "Bénévolat",
            "competences": [{"libelle": s, "exigence": "S"} for s in skills],
            "dureeTravailLibelle": f"{hours}H Horaires normaux",
            "dureeTravailLibelleConverti": "Temps partiel",
        }
    profile = rng.choices(JOBS, weights=[j.weight for j in JOBS])[0]
    appellation, title = _title(rome, profile.code, rng)
    if kind == "immersion":
        weeks = rng.choice((1, 2, 2, 4))
        return {
            **base,
            "intitule": f"Immersion (PMSMP) : {title}",
            "romeCode": profile.code,
            "appellationlibelle": appellation,
            "entreprise": {"nom": f"Employeur fictif {dept}-{rng.randint(1, 400):03d} (démo)"},
            "typeContrat": "PMS",
            "typeContratLibelle": f"Période de mise en situation - {weeks} Semaine(s)",
            "competences": [{"libelle": s, "exigence": "S"} for s in profile.skills[:2]],
            "dureeTravailLibelle": "35H Horaires normaux",
            "dureeTravailLibelleConverti": "Temps plein",
        }
    months = rng.choice((1, 2, 3))
    return {
        **base,
        "intitule": f"Stage : {title}",
        "romeCode": profile.code,
        "appellationlibelle": appellation,
        "entreprise": {"nom": f"Employeur fictif {dept}-{rng.randint(1, 400):03d} (démo)"},
        "typeContrat": "STA",
        "typeContratLibelle": f"Stage - {months} Mois",
        "competences": [{"libelle": s, "exigence": "S"} for s in profile.skills[:3]],
        "dureeTravailLibelle": "35H Horaires normaux",
        "dureeTravailLibelleConverti": "Temps plein",
    }


def france_counts(gazetteer: Gazetteer, total: int) -> tuple[dict[str, int], dict[str, dict]]:
    """(jobs, other offers) per département for about ``total`` offers across France, in
    proportion to the départements' population, with the demo's share of non-job offers (5 %):
    the input of :func:`generate` for the scale benchmark (bench/bench_scale.py)."""
    pop: dict[str, float] = {}
    for d, p in zip(gazetteer.departments.tolist(), gazetteer.population.tolist(), strict=True):
        pop[d] = pop.get(d, 0.0) + float(p)
    whole = sum(pop.values())
    jobs, other = {}, {}
    for d in sorted(pop):
        n = round(total * pop[d] / whole)
        if n < 4:
            continue
        rest = n // 20
        jobs[d] = n - rest
        other[d] = {"volunteering": rest // 3, "immersion": rest - 2 * (rest // 3),
                    "internship": rest // 3}
    return jobs, other


def iter_offers(gazetteer: Gazetteer, rome: RomeReferential, seed: int = SEED,
                jobs_per_department: dict[str, int] | None = None,
                other_per_department: dict[str, dict] | None = None) -> Iterator[dict]:
    """The offers of :func:`generate`, one at a time (any size without holding them)."""
    rng = Random(seed)
    cache: dict = {}
    jobs = JOBS_PER_DEPARTMENT if jobs_per_department is None else jobs_per_department
    others = OTHER_PER_DEPARTMENT if other_per_department is None else other_per_department
    weights = [j.weight for j in JOBS]
    for dept, count in jobs.items():
        for n in range(count):
            profile = rng.choices(JOBS, weights=weights)[0]
            yield _job(rng, rome, gazetteer, dept, n, profile, cache)
        for kind, k in others.get(dept, {}).items():
            for n in range(k):
                yield _other(rng, rome, gazetteer, dept, n, kind, cache)


def generate(gazetteer: Gazetteer, rome: RomeReferential, seed: int = SEED,
             jobs_per_department: dict[str, int] | None = None,
             other_per_department: dict[str, dict] | None = None) -> dict:
    """The demo document: ``{"avertissement", "generateur", "resultats": [...]}`` (FT format).
    By default the Orne and the Essonne (the committed file); other counts per département
    give any size (:func:`france_counts`)."""
    offers = list(iter_offers(gazetteer, rome, seed, jobs_per_department,
                              other_per_department))
    return {
        "avertissement": (
            "DONNÉES SYNTHÉTIQUES : offres fictives de démonstration, générées par "
            "insertion_match.features.demo_offers ; aucune ne correspond à une offre réelle."
        ),
        "generateur": {
            "module": "insertion_match.features.demo_offers",
            "seed": seed,
            "reference_day": REFERENCE_DAY.isoformat(),
        },
        "resultats": offers,
    }


def write(document: dict, path: Path) -> None:
    """One offer per line, so that a change of the generator gives a readable diff."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in document.items() if k != "resultats"}
    lines = [
        json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in document["resultats"]
    ]
    text = (
        json.dumps(head, ensure_ascii=False)[:-1]
        + ',"resultats":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    from insertion_match.service.settings import REPO_ROOT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, help="default: DATA_DIR/demo/offers_demo.json")
    args = parser.parse_args(argv)
    document = generate(
        Gazetteer.load(args.data_dir), RomeReferential.load(args.data_dir), args.seed
    )
    out = args.out or args.data_dir / DEMO_FILE
    write(document, out)
    print(
        f"{len(document['resultats'])} synthetic offers written to {out} "
        f"({out.stat().st_size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
