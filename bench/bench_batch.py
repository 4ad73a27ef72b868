"""Benchmark: people per second of ``insertion-match batch`` with 1 and 2 local Dask workers.

Generates a caseload with the seeded profile generator of ``bench/profiles.py`` (homes in the
Orne, the Essonne and the Sarthe weighted by population; freins, mobility, target jobs, skills),
writes it as Parquet, seeds a fresh SQLite database as the API does (catalogue + demo offers),
then runs the batch once per worker count. Prints, per run, the ranking time (from the workers'
engines loaded to the file written) and people per second, the total time (cluster start and
engine loading included), the ratio to 1 worker, and the CPU seconds each worker used (on a
shared machine, people per CPU second says what the workers would do with whole cores); also a
plain in-process loop over ``MatchingEngine.recommend`` on a sample, as the reference without
Dask (its CPU column is its wall time). No assertion.

    .venv/bin/python bench/bench_batch.py --people 5000 --kinds action,job
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from profiles import random_profiles

from insertion_match.batch import BatchOptions, people_frame, run_batch
from insertion_match.service.settings import Settings
from insertion_match.service.state import build_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--kinds", default="action,job")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--partition-size", type=int, default=250)
    parser.add_argument("--baseline", type=int, default=500,
                        help="people ranked by the plain in-process loop (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        var = Path(tmp)
        settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'bench.sqlite3'}",
                            log_level="WARNING")
        engine = build_state(settings).engine  # seeds the database as the API's start-up does
        profiles = random_profiles(args.people, seed=args.seed, jobs=True)
        people = var / "people.parquet"
        people_frame(profiles).to_parquet(people)
        print(f"caseload: {len(profiles)} people (61, 72, 91), kinds {','.join(kinds)}, "
              f"limit {args.limit}, partitions of {args.partition_size}; "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}", flush=True)

        results = []
        if args.baseline:
            sample = profiles[:args.baseline]
            start = time.perf_counter()
            for profile in sample:
                engine.recommend(profile, kinds, args.limit)
            seconds = time.perf_counter() - start
            results.append({"run": "in-process loop (no Dask)", "workers": 1,
                            "people": len(sample), "seconds": seconds,
                            "people_per_s": len(sample) / seconds, "total_s": seconds})
        del engine
        outputs = []
        for workers in (int(w) for w in args.workers.split(",")):
            out = var / f"out-{workers}.parquet"
            started = time.perf_counter()
            summary = run_batch(settings, people, out, BatchOptions(
                kinds=kinds, limit=args.limit, workers=workers,
                partition_size=args.partition_size))
            total = time.perf_counter() - started
            outputs.append(out.read_bytes())
            results.append({"run": f"batch, {workers} local worker(s)", "workers": workers,
                            "people": summary.people, "seconds": summary.seconds_ranking,
                            "people_per_s": summary.people_per_second, "total_s": total,
                            "rows": summary.rows, "partitions": summary.partitions,
                            "engine_loads": sorted(summary.engine_loads.values()),
                            "worker_cpu_s": sorted(summary.worker_cpu_seconds.values())})
            print(f"  {workers} worker(s) done: {summary.people_per_second:.0f} people/s",
                  flush=True)

    first_batch = next((r for r in results if r["run"].startswith("batch")), None)
    print()
    print(f"{'run':<28} {'people':>7} {'ranking s':>10} {'people/s':>9} {'total s':>8} "
          f"{'vs 1 worker':>12} {'worker CPU s':>14} {'people/CPU s':>13}")
    for r in results:
        ratio = (f"{r['people_per_s'] / first_batch['people_per_s']:.2f} ×"
                 if first_batch and r["run"].startswith("batch") else "")
        cpu = r.get("worker_cpu_s") or [r["seconds"]]
        print(f"{r['run']:<28} {r['people']:>7} {r['seconds']:>10.1f} {r['people_per_s']:>9.0f} "
              f"{r['total_s']:>8.1f} {ratio:>12} {'+'.join(f'{c:.0f}' for c in cpu):>14} "
              f"{r['people'] / sum(cpu):>13.0f}")
    print("\nworker CPU s: CPU time each worker process used while ranking; far below "
          "'ranking s', the machine's other processes took the rest (a shared machine).")
    same = len(set(outputs)) == 1
    print(f"\noutputs identical across worker counts: {'yes' if same else 'NO'}; engines built "
          "per worker: " + "; ".join(f"{r['workers']} worker(s) {r['engine_loads']}"
                                     for r in results if "engine_loads" in r))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "identical": same}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
