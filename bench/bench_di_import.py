"""Benchmark: import a data·inclusion dump of 10,000 services into the catalogue.

1. Generates (seeded) a dump in the data·inclusion v1 formats (``services.json`` +
   ``structures.json``, validated by the official package at import): structures and services
   in the served départements (61, 72, 91) and elsewhere (outside the catalogue: skipped);
   about 1 % of the services duplicate a curated action (same operator, commune, a title
   variant: merged), about 0.5 % are invalid (rejected, imported with ``--skip-invalid``).
2. Imports it with ``catalogue import-di`` (``python -m insertion_match.service.cli``) into a
   scratch SQLite database, timed end to end (process start, validation, conversion,
   deduplication, one write, engine rebuilt), then again (idempotence: all unchanged).
3. Prints three recommendations (profiles of the Orne and the Essonne) from the stored catalogue
   (curated + imported), with the imported services and their reasons.

No assertion, figures only:

    .venv/bin/python bench/bench_di_import.py [--services 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"

KINDS = ["Centre social", "CCAS", "Association Tremplin", "Garage solidaire", ("Espace France "
         "services"), "Atelier numérique", "Épicerie sociale", "Maison de l'emploi",
         "Association Lire et écrire", "Point information jeunesse", "Régie de quartier"]
TITLES = {
    "mobilite": ["Auto-école sociale", "Location solidaire de scooters", "Conseil en mobilité"],
    "numerique": ["Atelier d'initiation à l'ordinateur", ("Accès libre à Internet et aide en "
                  "ligne"), "Atelier démarches en ligne"],
    "lecture-ecriture-calcul": ["Atelier de français", "Cours d'alphabétisation", ("Atelier "
                                "savoirs de base")],
    "logement-hebergement": ["Permanence logement", "Aide à la recherche d'un logement"],
    "preparer-sa-candidature": ["Atelier CV et lettre de motivation", ("Club de recherche "
                                "d'emploi")],
    "trouver-un-emploi": ["Préparation aux entretiens d'embauche", "Job dating local"],
    "remobilisation": ["Atelier estime de soi", "Sorties culturelles et sportives",
                       "Jardin partagé"],
    "difficultes-financieres": ["Conseil budgétaire", "Point conseil budget"],
    "famille": ["Halte-garderie solidaire", "Soutien à la parentalité"],
    "sante": ["Permanence d'accès aux soins", "Consultation santé mentale"],
    "choisir-un-metier": ["Découverte des métiers", "Bilan d'orientation"],
    "se-former": ["Information sur les formations", "Montage de dossier de formation"],
    "creer-une-entreprise": ["Accompagnement à la création d'entreprise"],
    "difficultes-administratives-ou-juridiques": ["Aide aux démarches administratives",
                                                   "Point d'accès au droit"],
    "equipement-et-alimentation": ["Épicerie solidaire", "Vestiaire solidaire"],
    "souvrir-a-linternational": ["Information mobilité internationale"],
}


def _communes(department: str) -> list[dict]:
    import csv

    with (DATA / "geo" / "communes_france.csv").open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["department"] == department
                and r["type"] == "commune-actuelle"]


def generate(n_services: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Write ``services.json`` and ``structures.json`` (module docstring, step 1)."""
    from data_inclusion.schema.v1 import Thematique

    from insertion_match.features.catalogue import load_catalogue

    rng = random.Random(seed)
    themes = [t.value for t in Thematique]
    by_prefix: dict[str, list[str]] = {}
    for t in themes:
        by_prefix.setdefault(t.split("--")[0], []).append(t)
    weights = {"61": 0.25, "72": 0.15, "91": 0.25, "14": 0.1, "50": 0.1, "75": 0.15}
    communes = {d: _communes(d) for d in weights}
    structures: list[dict] = []
    structure_dept: list[str] = []
    today = date.today()
    for k in range(max(1, n_services // 4)):
        dept = rng.choices(list(weights), list(weights.values()))[0]
        c = rng.choice(communes[dept][:150])  # the first 150 communes (INSEE order)
        structures.append({
            "source": "bench", "id": f"bench--s{k}", "nom": f"{rng.choice(KINDS)} de {c['name']}",
            "date_maj": (today - timedelta(days=rng.randint(0, 700))).isoformat(),
            "commune": c["name"], "code_insee": c["insee_code"],
            "code_postal": c["postcodes"].split(";")[0], "adresse": f"{rng.randint(1, 80)} rue "
            "de la République", "telephone": f"02{rng.randint(10**7, 10**8 - 1)}",
        })
        structure_dept.append(dept)
    services = []
    for k in range(n_services):
        s = rng.randrange(len(structures))
        st, dept = structures[s], structure_dept[s]
        prefix = rng.choice(list(TITLES))
        picked = rng.sample(by_prefix[prefix], k=min(len(by_prefix[prefix]), rng.choice([1, 1, 2])))
        if rng.random() < 0.15:
            picked.append(rng.choice(themes))
        title = rng.choice(TITLES[prefix])
        record = {
            "source": "bench", "structure_id": st["id"], "id": f"bench--{k}",
            "nom": f"{title} – {st['commune']}",
            "description": f"{title} proposé par {st['nom']} : accueil, information et "
            "accompagnement des personnes, sur rendez-vous ou lors des permanences.",
            "date_maj": (today - timedelta(days=rng.randint(0, 700))).isoformat(),
            "thematiques": sorted(set(picked)),
            "publics": rng.choice([["tous-publics"], ["tous-publics"],
                                   ["beneficiaires-des-minimas-sociaux", "demandeurs-emploi"],
                                   ["jeunes"], ["femmes"], ["residents-qpv-frr"]]),
            "modes_accueil": rng.choices([["en-presentiel"], ["a-distance"],
                                          ["a-distance", "en-presentiel"], None],
                                         [0.78, 0.03, 0.05, 0.14])[0],
            "frais": rng.choice(["gratuit", "gratuit", "payant", None]),
            "telephone": st["telephone"],
            "mobilisable_par": rng.choice([["professionnels"], ["professionnels", "usagers"]]),
            "modes_mobilisation": ["telephoner"],
        }
        where = rng.random()
        if where < 0.6:  # the service's own INSEE code
            record.update(commune=st["commune"], code_insee=st["code_insee"],
                          adresse=st["adresse"])
        elif where < 0.8:  # a postcode and a name only
            record.update(commune=st["commune"], code_postal=st["code_postal"])
        # else: no place of its own (the structure's is used)
        zone = rng.random()
        record["zone_eligibilite"] = ([dept] if zone < 0.5 else [st["code_insee"]]
                                      if zone < 0.7 else ["200035459"] if zone < 0.8 else None)
        if rng.random() < 0.005:  # invalid: rejected
            key, value = rng.choice([("nom", "ab"), ("date_maj", "2030-01-01"),
                                     ("thematiques", ["pas-une-thematique"]),
                                     ("code_postal", "6100")])
            record[key] = value
        services.append(record)
    # about 1 % duplicate a curated action (operator, commune, a title variant)
    curated = [a for a in load_catalogue(DATA / "catalogue") if a.operator and any(
        s.precision in ("address", "commune") for s in a.sites)]
    for k in range(n_services // 100):
        a = rng.choice(curated)
        site = next(s for s in a.sites if s.precision in ("address", "commune"))
        sid = f"bench--dup{k}"
        structures.append({"source": "bench", "id": f"bench--sdup{k}", "nom": a.operator[:150],
                           "date_maj": today.isoformat(), "code_insee": site.insee,
                           "commune": site.commune})
        services.append({
            "source": "bench", "structure_id": f"bench--sdup{k}", "id": sid,
            "nom": f"{a.title[:120]} ({site.commune})", "description": a.description_fr,
            "date_maj": today.isoformat(), "code_insee": site.insee, "commune": site.commune,
            "thematiques": ["remobilisation--lien-social"], "publics": ["tous-publics"],
        })
    services_path, structures_path = out / "services.json", out / "structures.json"
    services_path.write_text(json.dumps(services, ensure_ascii=False), encoding="utf-8")
    structures_path.write_text(json.dumps(structures, ensure_ascii=False), encoding="utf-8")
    return services_path, structures_path


PROFILES = [
    {"id": "bench-61-a", "home": {"commune": "Alençon"}, "age": 34, "freins": {
        "numerique": 3, "langue_francaise": 2}, "mobility": {"public_transport": True}},
    {"id": "bench-61-b", "home": {"commune": "Flers", "postcode": "61100"}, "age": 27,
     "freins": {"finances": 3, "garde_enfants": 2}, "family": {"situation": "isole",
                                                               "children_under_3": 1}},
    {"id": "bench-91-a", "home": {"commune": "Évry-Courcouronnes"}, "age": 45, "freins": {
        "recherche_emploi": 3, "numerique": 2, "isolement_confiance": 2},
     "mobility": {"public_transport": True, "driving_licence": "none"}},
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        services, structures = generate(args.services, args.seed, work)
        print(f"dump generated in {time.perf_counter() - t0:.1f} s: "
              f"{len(json.loads(services.read_text()))} services, "
              f"{len(json.loads(structures.read_text()))} structures "
              f"({services.stat().st_size / 1e6:.1f} MB)")
        env = {"IM_DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "IM_VAR_DIR": str(work),
               "IM_LOG_LEVEL": "WARNING", "IM_SEED_DEMO_OFFERS_ON_START": "false"}
        import os

        env = {**os.environ, **env}
        subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "db", "upgrade"],
                       env=env, cwd=REPO, check=True, capture_output=True)
        for run in ("first import", "second import (same files)"):
            t0 = time.perf_counter()
            res = subprocess.run(
                [sys.executable, "-m", "insertion_match.service.cli", "catalogue", "import-di",
                 str(services), str(structures), "--skip-invalid"],
                check=False, env=env, cwd=REPO, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            rejected = [line for line in res.stderr.splitlines() if "rejet :" in line]
            print(f"\n== {run}: exit {res.returncode}, {elapsed:.1f} s wall (process included)")
            print(res.stdout.strip())
            print(f"  {len(rejected)} rejection line(s), e.g.: "
                  + (rejected[0].strip() if rejected else "-"))
        _recommend(env, work)
    return 0


def _recommend(env: dict, work: Path) -> None:
    import os

    os.environ.update(env)
    from insertion_match.domain import BeneficiaryProfile
    from insertion_match.service.settings import Settings
    from insertion_match.service.state import build_state

    t0 = time.perf_counter()
    state = build_state(Settings())
    print(f"\nservice state rebuilt from the database in {time.perf_counter() - t0:.1f} s: "
          f"{len(state.engine.actions)} actions")
    try:
        for raw in PROFILES:
            profile = BeneficiaryProfile.model_validate(raw)
            t0 = time.perf_counter()
            rec = state.engine.recommend(profile, kinds=("action",), limit=10)
            ms = (time.perf_counter() - t0) * 1000
            items = [i for i in rec.items if i.kind == "action"]
            imported = [i for i in items if i.id.startswith("di-")]
            print(f"\n== {raw['id']} ({rec.home_commune}), freins {raw['freins']}: "
                  f"{len(items)} actions in {ms:.0f} ms, {len(imported)} imported from "
                  "data·inclusion")
            for item in items[:10]:
                origin = "data·inclusion" if item.id.startswith("di-") else "catalogue"
                trip = (f"{item.travel.mode} {item.travel.minutes:.0f} min"
                        if item.travel.minutes is not None else item.travel.mode or "-")
                print(f"  {item.rank:>2}. [{origin}] {item.title} — "
                      f"{item.provider or '?'} ({item.commune or 'lieu à préciser'}; {trip}), "
                      f"score {item.score:.3f}")
                if item.id.startswith("di-"):
                    for r in item.reasons:
                        print(f"       + {r.label} ({r.contribution:+.3f})")
                    for w in item.warnings[:2]:
                        print(f"       ! {w.label}")
    finally:
        state.close()


if __name__ == "__main__":
    sys.exit(main())
