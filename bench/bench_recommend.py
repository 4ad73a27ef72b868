"""Benchmark: in-process time to rank the whole catalogue for one person.

Draws 1,000 synthetic profiles (home communes of the Orne, Essonne and Sarthe weighted by
population, random freins, mobility, statuses; seeded) and times ``MatchingEngine.recommend``
for each. Prints the median and p99, and the share of the time spent in the vectorised core
(context + eligibility + features + scoring) versus explanations. No assertion: figures only.

    make bench            # or: .venv/bin/python bench/bench_recommend.py --profiles 1000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from profiles import random_profiles

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.action_features import action_features
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.profile import person_context
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.eligibility import evaluate_eligibility
from insertion_match.matcher.engine import MatchingEngine

REPO = Path(__file__).resolve().parents[1]


def synthetic_profiles(n: int, seed: int = 0) -> list[BeneficiaryProfile]:
    return random_profiles(n, ("61", "91", "72"), seed=seed, max_freins=4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    t0 = time.perf_counter()
    gaz, terr = Gazetteer.load(REPO / "data"), Territories.load(REPO / "data")
    engine = MatchingEngine.build(load_catalogue(REPO / "data/catalogue"), gaz, terr)
    startup = time.perf_counter() - t0
    profiles = synthetic_profiles(args.profiles)

    for p in profiles[:20]:  # warm-up
        engine.recommend(p, limit=args.limit)
    full, core = [], []
    for p in profiles:
        t = time.perf_counter()
        engine.recommend(p, limit=args.limit)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        ctx = person_context(p, engine.gazetteer, engine.territories)
        index = engine.indexes[ctx.department]
        evaluate_eligibility(index, ctx)
        engine.scorer.score(action_features(index, ctx), ctx.max_travel_minutes)
        core.append(time.perf_counter() - t)
    full_ms, core_ms = np.array(full) * 1000, np.array(core) * 1000
    sizes = {d: len(ix) for d, ix in engine.indexes.items()}
    figures = {
        "profiles": len(profiles), "catalogue_actions": len(engine.actions),
        "actions_per_departement": sizes, "startup_s": round(startup, 3),
        "recommend_ms_median": round(float(np.median(full_ms)), 3),
        "recommend_ms_p99": round(float(np.percentile(full_ms, 99)), 3),
        "core_ms_median": round(float(np.median(core_ms)), 3),
        "core_share_of_median": round(float(np.median(core_ms) / np.median(full_ms)), 3),
        "throughput_per_s_one_core": round(1000 / float(np.median(full_ms)), 1),
    }
    print(f"start-up (reference data + catalogue index): {figures['startup_s']} s")
    print(f"catalogue: {len(engine.actions)} actions; per département {sizes}")
    print(f"recommend, {len(profiles)} profiles, limit {args.limit}: "
          f"median {figures['recommend_ms_median']} ms, p99 {figures['recommend_ms_p99']} ms")
    print(f"vectorised core (context+eligibility+features+score): median "
          f"{figures['core_ms_median']} ms = {figures['core_share_of_median']:.0%} of a request")
    print(f"≈ {figures['throughput_per_s_one_core']} recommendations / s on one core")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
