"""Benchmark: streaming offers import through the CLI, rate and peak memory.

For each size (default 100,000 and 1,000,000 offers): a synthetic France Travail JSON file
(``bench/offers_files.py``, generated once, not timed) is imported into a fresh SQLite database
by ``insertion-match offers import`` run as a child process; then the same file again (nothing
changes: the idempotent path), then with ``--replace-source`` after dropping the last 10 % of
the file (those expire). Measured per run: wall time, CPU time (user + system, workers
included) and peak memory (the child's ``ru_maxrss``, or with ``--jobs`` the sampled sum of the
PSS of the child and its workers when larger). Goals printed beside: ≥ 10,000 offers/s,
< 500 MB. Figures only, no assertion; on a shared machine the wall time depends on the load,
so the CPU-time rate is printed too.

    .venv/bin/python bench/bench_import.py                  # 100k and 1M
    .venv/bin/python bench/bench_import.py --sizes 100000   # one size
    .venv/bin/python bench/bench_import.py --database-url postgresql+psycopg://...  # PG
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from offers_files import write

REPO = Path(__file__).resolve().parents[1]
GOAL_RATE = 10_000
GOAL_MB = 500


def _tree(pid: int) -> list[int]:
    """A process and its descendants (``--jobs`` workers), from /proc."""
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
                found += _tree(int(child))
    except OSError:  # gone meanwhile
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak MB, stdout summary) of one CLI run. CPU from the child's rusage
    (its workers included); peak memory: the larger of the child's own peak RSS and the
    highest sum of the proportional set sizes (PSS: shared pages counted once) of the child
    and its worker processes, sampled every 0.1 s — with ``--jobs`` the workers' memory counts
    too."""
    cli = [sys.executable, "-m", "insertion_match.service.cli", *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cli, env=env, stdout=out, stderr=err, text=True)
        tree_peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                tree_peak[0] = max(tree_peak[0], sum(_pss_kb(p) for p in _tree(proc.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"import failed ({proc.returncode}): {err.read()[-2000:]}")
        summary = " | ".join(line.strip() for line in out.read().splitlines()
                             if not line.startswith("{"))
    peak_mb = max(usage.ru_maxrss, tree_peak[0]) / 1024
    return wall, usage.ru_utime + usage.ru_stime, peak_mb, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated offer counts (default 100000,1000000)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per size")
    parser.add_argument("--jobs", type=int, default=1, help="the CLI's --jobs (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for size in sizes:
            var = Path(tmp) / f"var{size}"
            var.mkdir()
            env = {**os.environ, "IM_VAR_DIR": str(var), "IM_SEED_DEMO_OFFERS_ON_START": "false",
                   "IM_SEED_CATALOGUE_ON_START": "false", "PYTHONPATH": str(REPO)}
            if args.database_url:
                env["IM_DATABASE_URL"] = args.database_url
            path = Path(tmp) / f"offers_{size}.json"
            t = time.perf_counter()
            write(path, size)
            print(f"{size:,} offers generated in {time.perf_counter() - t:.0f} s "
                  f"({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
            shorter = Path(tmp) / f"offers_{size}_90.json"
            for label, argv in (
                ("first import", ["offers", "import", str(path), "--no-progress"]),
                ("same file again", ["offers", "import", str(path), "--no-progress"]),
            ):
                argv += ["--jobs", str(args.jobs)]
                wall, cpu, peak, summary = measure(argv, env)
                rows.append((size, label, wall, cpu, peak))
                print(f"  {label}: {summary}", flush=True)
            write(shorter, size * 9 // 10)
            wall, cpu, peak, summary = measure(
                ["offers", "import", str(shorter), "--no-progress", "--replace-source",
                 "--jobs", str(args.jobs)], env)
            rows.append((size * 9 // 10, "--replace-source, 10 % gone", wall, cpu, peak))
            print(f"  replace-source: {summary}", flush=True)
            if args.keep:
                print(f"  files kept in {tmp}")
            for p in (path, shorter):
                p.unlink()
    print()
    print(f"{'offers':>10}  {'run':<28} {'wall s':>7} {'offers/s':>9} {'CPU s':>7} "
          f"{'offers/CPU-s':>12} {'peak MB':>8}   goals: ≥ {GOAL_RATE:,}/s, < {GOAL_MB} MB")
    for size, label, wall, cpu, peak in rows:
        rate, cpu_rate = size / wall, size / cpu
        print(f"{size:>10,}  {label:<28} {wall:>7.1f} {rate:>9,.0f} {cpu:>7.1f} {cpu_rate:>12,.0f} "
              f"{peak:>8,.0f}   rate {rate / GOAL_RATE:.2f}× goal, memory "
              f"{'ok' if peak < GOAL_MB else 'OVER'}")


if __name__ == "__main__":
    main()
