"""Benchmark: offers for one person, and people for one offer (reverse matching).

1. **Forward**: rank every live demo offer (data/demo, synthetic: 2,375 offers of the Orne and
   the Essonne) for one person, ``MatchingEngine.recommend(kinds=["job"])`` and with all
   kinds at once; 500 synthetic profiles (seeded) with target jobs and skills.
2. **Reverse**: the candidates for one offer among 10,000 stored beneficiaries: the people
   are stored in a scratch SQLite database, the service's people index is built from it (cold
   build timed once), then ``GET /v1/opportunities/{id}/candidates``'s work is timed for 300
   offers: the freshness check (one aggregate query) plus ``rank_candidates`` over the 10,000.

Prints median and p99; no assertion, figures only.

    make bench            # or: .venv/bin/python bench/bench_jobs.py --people 10000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from profiles import random_profiles

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
from insertion_match.features.offers_import import parse_france_travail
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.candidates import Scope, rank_candidates
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service import db
from insertion_match.service.offers import PeopleIndex

REPO = Path(__file__).resolve().parents[1]


def profiles(n: int, gazetteer: Gazetteer, seed: int = 0) -> list[BeneficiaryProfile]:
    """Orne and Essonne people with target jobs and skills (the demo offers' départements)."""
    return random_profiles(n, ("61", "91"), seed=seed, max_freins=3, jobs=True)


def _ms(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000
    return {"median_ms": round(float(np.median(arr)), 3),
            "p99_ms": round(float(np.percentile(arr, 99)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=500)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    data = REPO / "data"
    t0 = time.perf_counter()
    gaz, terr = Gazetteer.load(data), Territories.load(data)
    rome = RomeReferential.load(data)
    batch = parse_france_travail(json.loads((data / DEMO_FILE).read_text(encoding="utf-8")),
                                 gaz, rome, DEMO_SOURCE)
    engine = MatchingEngine.build(load_catalogue(data / "catalogue"), gaz, terr, rome=rome,
                                  opportunities=batch.opportunities)
    startup = time.perf_counter() - t0
    people = profiles(args.profiles, gaz)
    for p in people[:20]:  # warm-up (and the title cache, as for a stored profile)
        engine.recommend(p, kinds=["job"])
    jobs, every = [], []
    for p in people:
        t = time.perf_counter()
        engine.recommend(p, kinds=["job"], limit=10)
        jobs.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.recommend(p, kinds=["action", "job", "volunteering", "immersion"], limit=10)
        every.append(time.perf_counter() - t)

    stored = profiles(args.people, gaz, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        sessions = db.init_db(db.make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        now = datetime.now(UTC)
        with db.transaction(sessions) as session:
            for p in stored:
                home = gaz.by_insee(p.home.insee)
                commission = terr.commission_of(home.insee)
                session.add(db.BeneficiaryRow(
                    id=p.id, scope=db.scope_of(home.department, commission),
                    department=home.department, commission=commission,
                    home_insee=home.insee, profile=p.model_dump(mode="json", exclude_none=True),
                    created_at=now, updated_at=now))
        index = PeopleIndex()
        t = time.perf_counter()
        arrays = index.get(sessions, engine)
        cold = time.perf_counter() - t
        rng = np.random.default_rng(2)
        offers = [(ix, int(pos)) for ix in engine.opportunity_indexes.values()
                  for pos in rng.choice(len(ix), args.offers // 2, replace=False)]
        reverse, rank_only = [], []
        for ix, pos in offers:
            t = time.perf_counter()
            arrays = index.get(sessions, engine)  # freshness check, as in the route
            t1 = time.perf_counter()
            rank_candidates(ix, pos, arrays, engine.opportunity_scorer,
                            Scope(departments=frozenset({ix.department})), limit=20)
            end = time.perf_counter()
            reverse.append(end - t)
            rank_only.append(end - t1)
    figures = {
        "offers": len(engine.opportunities), "startup_s": round(startup, 3),
        "forward_jobs": {"profiles": len(people), **_ms(jobs)},
        "forward_all_kinds": {"profiles": len(people), **_ms(every)},
        "reverse": {"people": len(stored), "offers": len(offers),
                    "people_index_cold_build_s": round(cold, 3), **_ms(reverse),
                    "rank_only": _ms(rank_only)},
    }
    print(f"start-up (reference data, ROME, catalogue, {len(engine.opportunities)} demo offers): "
          f"{figures['startup_s']} s")
    print(f"forward, jobs only, {len(people)} profiles: median "
          f"{figures['forward_jobs']['median_ms']} ms, p99 {figures['forward_jobs']['p99_ms']} ms")
    print(f"forward, all kinds (actions + jobs + volunteering + immersion): median "
          f"{figures['forward_all_kinds']['median_ms']} ms, p99 "
          f"{figures['forward_all_kinds']['p99_ms']} ms")
    rev = figures["reverse"]
    print(f"reverse, candidates for one offer among {len(stored)} stored beneficiaries "
          f"({len(offers)} offers): median {rev['median_ms']} ms, p99 {rev['p99_ms']} ms "
          f"(ranking alone: median {rev['rank_only']['median_ms']} ms); people index cold "
          f"build {rev['people_index_cold_build_s']} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
