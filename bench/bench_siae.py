"""Benchmark: SIAE positions (les emplois de l'inclusion's SIAE API format) → IAE job offers,
and the "did you mean" list of a target job that matches nothing.

1. **Parse**: a generated API page of N structures (ACI, AI, EI, ETTI, EITI of the Orne and the
   Essonne, 3 positions each, a quarter of them closed) parsed and validated by
   ``features/siae_import.parse_siae`` (commune lookup, ROME check, contract mapping).
2. **Serve**: the engine rebuilt with the demo offers plus the open IAE positions, then one
   person of Flers asks for jobs (``recommend(kinds=["job"])``): median over 200 requests, and
   how many IAE positions are in the first 10.
3. **Suggestions**: ``RomeReferential.closest_titles`` for 200 targets that match nothing.

Prints figures only (no assertion).

    .venv/bin/python bench/bench_siae.py --structures 2000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date
from pathlib import Path

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
from insertion_match.features.offers_import import parse_france_travail
from insertion_match.features.rome import RomeReferential
from insertion_match.features.siae_import import parse_siae
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.engine import MatchingEngine

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
KINDS = ("ACI", "AI", "EI", "ETTI", "EITI")
CONTRACTS = ("CDD insertion", "", "Contrat de mission intérimaire", "CDD-I PHC", "CDD d'usage")


def generate(n: int, gazetteer: Gazetteer, rome: RomeReferential, seed: int = 12) -> list[dict]:
    rnd = random.Random(seed)
    communes = [c for c in gazetteer.communes if c.department in ("61", "91") and c.lat]
    codes = [c for c in rome.codes if c[0] in "AFGHKN"]
    out = []
    for s in range(n):
        c = rnd.choice(communes)
        kind = KINDS[s % len(KINDS)]
        postes = [{
            "id": s * 10 + p, "rome": f"{rome.labels[(code := rnd.choice(codes))]} ({code})",
            "cree_le": "2026-10-01T09:00:00+02:00", "mis_a_jour_le": "2026-11-20T09:00:00+01:00",
            "recrutement_ouvert": "False" if rnd.random() < 0.25 else "True",
            "description": "Poste en insertion (généré pour le banc d'essai).",
            "appellation_modifiee": "", "type_contrat": rnd.choice(CONTRACTS),
            "nombre_postes_ouverts": rnd.randint(1, 4), "profil_recherche": "",
            "lieu": {"nom": c.name, "departement": c.department,
                     "code_postaux": list(c.postcodes), "code_insee": c.insee},
        } for p in range(3)]
        out.append({"id": f"bench-{s}", "siret": f"{90000000000000 + s}", "type": kind,
                    "raison_sociale": f"SIAE {s}", "enseigne": f"SIAE {s}",
                    "bloque_candidatures": False, "code_postal": c.postcodes[0] if c.postcodes
                    else "", "ville": c.name, "departement": c.department, "postes": postes})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--structures", type=int, default=2000)
    args = ap.parse_args()
    gazetteer, territories = Gazetteer.load(DATA), Territories.load(DATA)
    rome = RomeReferential.load(DATA)
    structures = generate(args.structures, gazetteer, rome)
    t0 = time.perf_counter()
    parsed = parse_siae(structures, gazetteer, rome, today=date(2026, 12, 1))
    parse_s = time.perf_counter() - t0
    print(f"parse: {parsed.structures} structures, {parsed.open_positions} open positions, "
          f"{len(parsed.skipped)} skipped, {len(parsed.batch.rejected)} rejected in "
          f"{parse_s:.2f} s ({parse_s / max(parsed.open_positions + len(parsed.skipped), 1) * 1e6:.0f} "
          "µs per position)")

    import json
    demo = parse_france_travail(json.loads((DATA / DEMO_FILE).read_text(encoding="utf-8")),
                                gazetteer, rome, DEMO_SOURCE).opportunities
    engine = MatchingEngine.build(load_catalogue(DATA / "catalogue"), gazetteer, territories,
                                  rome=rome, opportunities=[*demo, *parsed.batch.opportunities])
    person = BeneficiaryProfile.model_validate({
        "id": "bench", "home": {"commune": "Flers", "postcode": "61100"},
        "orientation": "socioprofessionnelle", "target_jobs": ["agent d'entretien"],
        "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True,
                     "max_travel_minutes": 45}})
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        result = engine.recommend(person, kinds=["job"], limit=10)
        times.append(time.perf_counter() - t0)
    iae = sum(1 for i in result.items if i.opportunity and i.opportunity.get("iae"))
    print(f"serve: {len(demo)} demo offers + {len(parsed.batch.opportunities)} IAE positions; "
          f"recommend(job) median {statistics.median(times) * 1000:.1f} ms; "
          f"IAE positions in the first 10: {iae}")

    rnd = random.Random(3)
    words = ["bricoleur", "dimanche", "plombir", "vendeuze", "conduct", "chef", "aide", "xyz"]
    targets = [" ".join(rnd.sample(words, 2)) + f" {i}" for i in range(200)]
    t0 = time.perf_counter()
    for t in targets:
        rome.closest_titles(t)
    print(f"suggestions: closest_titles {(time.perf_counter() - t0) / 200 * 1000:.1f} "
          "ms per unrecognised target (mean)")


if __name__ == "__main__":
    main()
