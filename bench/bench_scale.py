"""Benchmark at national scale: offers (10k, 100k, 1M) and stored people (100k, 1M).

For each offer count, offers are generated across France (``features/demo_offers.py``, in
proportion to the départements' population; synthetic) and stored in a scratch SQLite
database (kept under ``--work`` and reused by later runs). Then, each in a **new process**
started like the service (``service.state.build_state``: migrations, catalogue, stored offers):

- **cold**: no snapshot: the offers' columnar table is built from the stored documents and
  its snapshot written; **warm**: the snapshot is loaded (the normal start). Printed: seconds
  from process start to ready, and the process's memory (RSS, and its peak).
- in the warm process: ranking one person over all kinds (actions, job, volunteering,
  immersion, internship: ``MatchingEngine.recommend``) for ``--profiles`` varied profiles
  across France (p50, p99), and the naive pandas + geopy baseline (``bench/naive_baseline.py``)
  on the first ``--naive`` of them, with the ratio of the medians (the baseline's over those,
  the engine's over every measured profile; the warm-up ranks other profiles).

For each people count: profiles generated across France, the people index built in chunks
(``build_people`` + ``concat_people`` + grid: the index build time), then the candidates for
``--offers`` random offers (``rank_candidates``, all people in scope) p50 / p99.

Figures only, no assertion; the goals of issue 11 are printed beside them.

    .venv/bin/python bench/bench_scale.py                         # 10k and 100k offers, 100k people
    .venv/bin/python bench/bench_scale.py --sizes 10000,100000,1000000 --people-sizes 100000,1000000
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

ALL_KINDS = ["action", "job", "volunteering", "immersion", "internship"]
OFFER_KINDS = ALL_KINDS[1:]
GOALS = {
    "rank_p99_ms": 50.0, "rss_mb": 2500.0, "ready_s": 60.0, "naive_ratio": 100.0,
    "candidates_p99_ms": 100.0,
}


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB (Linux /proc)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1)


def _ms(values: list[float]) -> dict[str, float]:
    arr = np.array(values) * 1000
    return {"p50_ms": round(float(np.median(arr)), 2),
            "p99_ms": round(float(np.percentile(arr, 99)), 2)}


def _departments(gazetteer) -> tuple[str, ...]:
    """Metropolitan départements (the generator's and the profiles' territory)."""
    return tuple(sorted({d for d in gazetteer.departments.tolist() if len(d) == 2}))


# ----------------------------------------------------------------------------- offers db
def ensure_offers_db(n: int, work: Path) -> tuple[Path, float | None]:
    """A SQLite database holding about ``n`` generated offers (reused when present)."""
    from insertion_match.features.demo_offers import france_counts, iter_offers
    from insertion_match.features.offers_import import parse_france_travail
    from insertion_match.features.rome import RomeReferential
    from insertion_match.geo import Gazetteer
    from insertion_match.service import db

    path = work / f"offers-{n}.sqlite3"
    done = work / f"offers-{n}.done"
    if path.exists() and done.exists():
        return path, None
    path.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    data = REPO / "data"
    gaz, rome = Gazetteer.load(data), RomeReferential.load(data)
    sessions = db.init_db(db.make_engine(f"sqlite:///{path}"))
    jobs, other = france_counts(gaz, n)
    jobs = {d: c for d, c in jobs.items() if d in _departments(gaz)}
    t = time.perf_counter()
    chunk: list[dict] = []
    total = 0

    def flush() -> None:
        batch = parse_france_travail(chunk, gaz, rome, "bench-synthetic")
        db.upsert_opportunities(sessions, batch.opportunities, "bench-synthetic",
                                origin="bench/bench_scale.py")
        chunk.clear()

    for record in iter_offers(gaz, rome, seed=n, jobs_per_department=jobs,
                              other_per_department=other):
        chunk.append(record)
        total += 1
        if len(chunk) >= 10_000:
            flush()
            print(f"  stored {total:,} offers ({time.perf_counter() - t:.0f} s)", flush=True)
    if chunk:
        flush()
    done.write_text(str(total))
    return path, time.perf_counter() - t


# ----------------------------------------------------------------------------- children
def child_serve(cfg: dict) -> dict:
    """Start like the service, then (warm) rank profiles and run the naive baseline."""
    from insertion_match.service.settings import Settings
    from insertion_match.service.state import build_state

    settings = Settings(environment="test", var_dir=Path(cfg["var"]),
                        database_url=f"sqlite:///{cfg['db']}", seed_demo_offers_on_start=False)
    state = build_state(settings)
    ready = time.perf_counter() - START
    rss, peak = _rss_mb()
    engine = state.engine
    out: dict = {"ready_s": round(ready, 2), "rss_mb": rss, "peak_mb": peak,
                 "offers": len(engine.opportunity_table or ())}
    if not cfg.get("rank"):
        return out
    from profiles import random_profiles

    people = random_profiles(cfg["profiles"], _departments(engine.gazetteer), seed=7,
                             max_freins=3, jobs=True)
    # warm-up on other people: a measured person's offers and trips are never read before
    # (the engine keeps recently read offer documents and trips from a home)
    for p in random_profiles(20, _departments(engine.gazetteer), seed=8, max_freins=3,
                             jobs=True):
        engine.recommend(p, kinds=ALL_KINDS)
    times, cpu = [], []
    for p in people:
        t, c = time.perf_counter(), time.thread_time()
        engine.recommend(p, kinds=ALL_KINDS, limit=10)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
    out.update(_ms(times))
    out.update({f"cpu_{k}": v for k, v in _ms(cpu).items()})
    out["rss_after_mb"], out["peak_mb"] = _rss_mb()
    if cfg["naive"]:
        out.update(_brute(engine, people[: cfg["naive"]]))
        out.update(_naive(cfg, engine, people[: cfg["naive"]], times))
    return out


def _brute(engine, people) -> dict:
    """The previous algorithm (every offer of the départements within reach, the ``brute``
    path kept as the reference) against the indexed one, offer kinds only, same profiles."""
    from insertion_match.features.people import person_arrays
    from insertion_match.features.profile import person_context
    from insertion_match.matcher.opportunity_recommend import recommend_opportunities

    fast, brute = [], []
    for p in people:
        ctx = person_context(p, engine.gazetteer, engine.territories, engine.home_scope())
        person = person_arrays(ctx, engine.rome)
        args = (person, ctx.history, engine.opportunity_indexes, engine.opportunity_scorer,
                OFFER_KINDS, 10)
        for out, is_brute in ((fast, False), (brute, True)):
            t = time.thread_time()
            recommend_opportunities(*args, brute=is_brute)
            out.append(time.thread_time() - t)
    f, b = float(np.median(fast)), float(np.median(brute))
    return {"offers_indexed_cpu_p50_ms": round(f * 1000, 2),
            "offers_brute_cpu_p50_ms": round(b * 1000, 2), "brute_ratio": round(b / f, 1)}


def _naive(cfg: dict, engine, people, engine_times: list[float]) -> dict:
    from naive_baseline import NaivePerson, load_offers, rank

    from insertion_match.geo import available_modes
    from insertion_match.service import db

    t = time.perf_counter()
    offers = load_offers(db.make_engine(f"sqlite:///{cfg['db']}"))
    load = time.perf_counter() - t
    times = []
    for p in people:
        home = engine.gazetteer.by_insee(p.home.insee)
        mob = p.mobility
        modes = available_modes(
            driving_licence=mob.driving_licence.value if mob.driving_licence else None,
            vehicle=mob.vehicle.value if mob.vehicle else None,
            public_transport=mob.public_transport).modes
        codes = [m.code for m in (engine.rome.match_title(x) for x in p.target_jobs) if m.code]
        person = NaivePerson(home.lat, home.lon, float(mob.max_travel_minutes or 45),
                             tuple(m.value for m in modes),
                             mob.driving_licence is not None and mob.driving_licence.value == "b",
                             p.availability.atypical_hours is not False, tuple(codes),
                             tuple(p.skills))
        t = time.perf_counter()
        rank(offers, person, OFFER_KINDS)
        times.append(time.perf_counter() - t)
    # The baseline scans every offer whatever the person: its median over a few people is
    # its median; the engine's is taken over every measured person (a few would be noise).
    naive = float(np.median(times))
    mine = float(np.median(engine_times))
    same = float(np.median(engine_times[: len(people)]))
    return {"naive_load_s": round(load, 1), "naive_p50_ms": round(naive * 1000, 1),
            "engine_same_p50_ms": round(same * 1000, 2), "naive_ratio": round(naive / mine, 1)}


def child_people(cfg: dict) -> dict:
    """Build the people index of ``cfg['people']`` people, then time candidates."""
    from profiles import random_profiles

    from insertion_match.features.people import (
        PersonRecord,
        build_people,
        concat_people,
        resolve_targets,
    )
    from insertion_match.matcher.candidates import Scope, rank_candidates
    from insertion_match.service.settings import Settings
    from insertion_match.service.state import build_state

    settings = Settings(environment="test", var_dir=Path(cfg["var"]),
                        database_url=f"sqlite:///{cfg['db']}", seed_demo_offers_on_start=False)
    engine = build_state(settings).engine
    depts = _departments(engine.gazetteer)
    parts, build, chunk = [], 0.0, 25_000
    for k in range(0, cfg["people"], chunk):
        profiles = random_profiles(min(chunk, cfg["people"] - k), depts, seed=1000 + k,
                                   max_freins=3, jobs=True)
        t = time.perf_counter()
        records = []
        for p in profiles:
            home = engine.gazetteer.by_insee(p.home.insee)
            records.append(PersonRecord(p, home, engine.territories.commission_of(home.insee),
                                        resolve_targets(p, engine.rome)))
        parts.append(build_people(records, engine.rome))
        build += time.perf_counter() - t
        del profiles, records
    t = time.perf_counter()
    people = concat_people(parts).with_grid()
    build += time.perf_counter() - t
    del parts
    rss, _ = _rss_mb()
    rng = np.random.default_rng(3)
    table = engine.opportunity_table
    picks = rng.choice(len(table), size=min(cfg["offers"], len(table)), replace=False)
    times, cpu, listed = [], [], []
    for at in picks:
        index, pos = engine.opportunity(str(table.ids[at]))
        t, c = time.perf_counter(), time.thread_time()
        result = rank_candidates(index, pos, people, engine.opportunity_scorer, Scope(), 20)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        listed.append(result.eligible)
    return {"people": len(people), "index_build_s": round(build, 1), "rss_mb": rss,
            "eligible_median": int(np.median(listed)), **_ms(times),
            **{f"cpu_{k}": v for k, v in _ms(cpu).items()}}


def run_child(kind: str, cfg: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(cfg)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main
def _met(value: float, goal: float, higher: bool = False) -> str:
    return "yes" if (value >= goal if higher else value <= goal) else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="offer counts (comma list)")
    parser.add_argument("--people-sizes", default="100000", help="people counts (comma list)")
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--naive", type=int, default=20, help="profiles run by the baseline")
    parser.add_argument("--offers", type=int, default=300, help="offers for candidates")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench-scale")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, cfg = args.child
        result = (child_serve if kind == "serve" else child_people)(json.loads(cfg))
        print(json.dumps(result))
        return

    sizes = [int(x) for x in args.sizes.split(",") if x]
    people_sizes = [int(x) for x in args.people_sizes.split(",") if x]
    figures: dict = {"offers": {}, "people": {}}
    print("offers   | load db  | cold ready | warm ready | RSS MB (peak) | rank all kinds p50 / p99"
          " (CPU p50 / p99) | naive p50 | ratio | offer kinds CPU p50: brute → indexed")
    for n in sizes:
        db_path, stored = ensure_offers_db(n, args.work)
        var = args.work / f"var-{n}"
        (var / "offers-index.npz").unlink(missing_ok=True)
        cold = run_child("serve", {"db": str(db_path), "var": str(var)})
        warm = run_child("serve", {"db": str(db_path), "var": str(var), "rank": True,
                                   "profiles": args.profiles,
                                   "naive": args.naive if n <= 100_000 else min(args.naive, 5)})
        figures["offers"][n] = {"stored_s": stored, "cold": cold, "warm": warm}
        print(f"{warm['offers']:>8,} | {'cached' if stored is None else f'{stored:.0f} s':>8} | "
              f"{cold['ready_s']:>8} s | {warm['ready_s']:>8} s | "
              f"{warm['rss_after_mb']:>6} ({warm['peak_mb']}) | "
              f"{warm['p50_ms']} / {warm['p99_ms']} ms ({warm['cpu_p50_ms']} / "
              f"{warm['cpu_p99_ms']}) | {warm.get('naive_p50_ms', '-')} ms | "
              f"{warm.get('naive_ratio', '-')} × | {warm.get('offers_brute_cpu_p50_ms', '-')} → "
              f"{warm.get('offers_indexed_cpu_p50_ms', '-')} ms ({warm.get('brute_ratio', '-')} ×)",
              flush=True)
    print("\npeople   | index build | RSS MB | candidates for one offer p50 / p99 (CPU p50 / p99)"
          " | eligible median")
    smallest = min(sizes) if sizes else 10_000
    for m in people_sizes:
        db_path, _ = ensure_offers_db(smallest, args.work)
        res = run_child("people", {"db": str(db_path), "var": str(args.work / f"var-{smallest}"),
                                   "people": m, "offers": args.offers})
        figures["people"][m] = res
        print(f"{res['people']:>8,} | {res['index_build_s']:>9} s | {res['rss_mb']:>6} | "
              f"{res['p50_ms']} / {res['p99_ms']} ms ({res['cpu_p50_ms']} / {res['cpu_p99_ms']})"
              f" | {res['eligible_median']}", flush=True)

    print("\ngoals (issue 11)                                   | goal      | measured | met")
    big = figures["offers"].get(max(sizes)) if sizes else None
    if big:
        n = max(sizes)
        w, c = big["warm"], big["cold"]
        rows = [(f"{n:,} offers: rank one person, all kinds, p99", "≤ 50 ms",
                 f"{w['p99_ms']} ms", _met(w["p99_ms"], GOALS["rank_p99_ms"])),
                (f"{n:,} offers: the same, CPU time of the request", "≤ 50 ms",
                 f"{w['cpu_p99_ms']} ms", _met(w["cpu_p99_ms"], GOALS["rank_p99_ms"])),
                (f"{n:,} offers: server memory (RSS after ranking)", "≤ 2,500 MB",
                 f"{w['rss_after_mb']} MB", _met(w["rss_after_mb"], GOALS["rss_mb"])),
                (f"{n:,} offers: ready after start (snapshot)", "≤ 60 s", f"{w['ready_s']} s",
                 _met(w["ready_s"], GOALS["ready_s"])),
                (f"{n:,} offers: ready after start (no snapshot)", "≤ 60 s", f"{c['ready_s']} s",
                 _met(c["ready_s"], GOALS["ready_s"]))]
        if "naive_ratio" in w:
            rows.append((f"{n:,} offers: × the naive baseline (medians)", "≥ 100 ×",
                         f"{w['naive_ratio']} ×", _met(w["naive_ratio"], GOALS["naive_ratio"],
                                                       higher=True)))
        if n < 1_000_000:
            rows.append(("(the goals are for 1,000,000 offers: run with --sizes ...,1000000)",
                         "", "", ""))
        for r in rows:
            print(f"{r[0]:<50} | {r[1]:<9} | {r[2]:>8} | {r[3]}")
    if people_sizes:
        m = max(people_sizes)
        r = figures["people"][m]
        print(f"{f'{m:,} people: candidates for one offer, p99':<50} | {'≤ 100 ms':<9} | "
              f"{r['p99_ms']:>5} ms | {_met(r['p99_ms'], GOALS['candidates_p99_ms'])}")
        print(f"{f'{m:,} people: the same, CPU time':<50} | {'≤ 100 ms':<9} | "
              f"{r['cpu_p99_ms']:>5} ms | {_met(r['cpu_p99_ms'], GOALS['candidates_p99_ms'])}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
