"""Concurrent writers on the real server: N threads × M PUTs while a large offers import runs.

Starts ``--servers`` server processes (``insertion-match serve``) on one database (a new SQLite
file unless ``--database-url``), stores/replaces profiles from ``--threads`` threads, each
at least ``--puts`` PUTs spread over the servers and until the import ends, while ``insertion-match offers import`` (the CLI, a
separate process) imports ``--offers`` offers (the synthetic demo offers, ids made unique).
Prints the statuses, the count of non-2xx answers and the import's outcome; exits 1 if any
PUT failed or the import failed.

    .venv/bin/python bench/concurrent_writes.py --threads 16 --puts 50 --offers 50000 --servers 2
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import HOST, REPO, admin_key, free_port

HOMES = ("61169", "61001", "72181", "91228", "61006", "91174")


def offers_file(path: Path, count: int) -> None:
    raw = json.loads((REPO / "data" / "demo" / "offers_demo.json").read_text(encoding="utf-8"))
    records = raw["resultats"] if isinstance(raw, dict) else raw
    out = []
    for i in range(count):
        record = dict(records[i % len(records)])
        record["id"] = f"BULK{i:07d}"
        out.append(record)
    path.write_text(json.dumps(out), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--puts", type=int, default=50)
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="im-writes-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'writes.sqlite3'}"
        key = admin_key(url)
        env = {**os.environ, "IM_DATABASE_URL": url, "IM_VAR_DIR": tmp, "IM_LOG_LEVEL": "WARNING"}
        bulk = Path(tmp) / "offers.json"
        offers_file(bulk, args.offers)
        servers, bases = [], []
        for i in range(args.servers):
            port = free_port()
            log = open(Path(tmp) / f"server{i}.log", "w")  # noqa: SIM115
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host", HOST,
                 "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
            bases.append(f"http://{HOST}:{port}")
            for _ in range(480):  # one at a time: the first seeds the database
                try:
                    if httpx.get(f"{bases[-1]}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
        statuses: Counter = Counter()
        latencies: list[float] = []
        lock = threading.Lock()

        def writer(t: int) -> None:
            with httpx.Client(base_url=bases[t % len(bases)], headers={"X-API-Key": key},
                              timeout=120) as http:
                i = 0
                while i < args.puts or importer.poll() is None:  # until the import is over
                    i += 1
                    start = time.perf_counter()
                    try:
                        res = http.put(f"/v1/beneficiaries/w-{t}-{i % 10}",
                                       json={"home": {"insee": HOMES[(t + i) % len(HOMES)]},
                                             "age": 20 + i % 40})
                        status = res.status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    with lock:
                        statuses[status] += 1
                        latencies.append(time.perf_counter() - start)

        try:
            started = time.perf_counter()
            importer = subprocess.Popen(
                [sys.executable, "-m", "insertion_match.service.cli", "offers", "import",
                 str(bulk), "--source", "bulk"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)
            time.sleep(2)
            threads = [threading.Thread(target=writer, args=(t,)) for t in range(args.threads)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            puts_done = time.perf_counter() - started
            out, _ = importer.communicate(timeout=1800)
            import_done = time.perf_counter() - started
        finally:
            for server in servers:
                server.send_signal(signal.SIGINT)
            for server in servers:
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    bad = sum(v for k, v in statuses.items() if not (isinstance(k, int) and 200 <= k < 300))
    latencies.sort()
    print(f"concurrent writes: {args.threads} threads x >= {args.puts} PUTs "
          f"({sum(statuses.values())} in all) on {args.servers} "
          f"server process(es), {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}")
    print(f"  statuses {dict(statuses)}; non-2xx: {bad}; PUTs done in {puts_done:.1f} s; "
          f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  offers import ({args.offers}) exit {importer.returncode} in {import_done:.1f} s: "
          f"{out.strip().splitlines()[-1] if out.strip() else ''}")
    return 1 if bad or importer.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
