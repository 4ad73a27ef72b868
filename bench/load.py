"""Bounded load test of the real server on loopback: throughput, latency percentiles, errors.

Starts ``insertion-match serve`` on 127.0.0.1 (a free port, a fresh SQLite database in a
temporary directory unless ``--database-url``), creates an admin key, stores a few people, then
sends ``--requests`` requests with ``--concurrency`` in flight (httpx, asyncio): a mix of inline
recommendations (seeded synthetic profiles of the Orne, Sarthe and Essonne), recommendations by
stored id, profile reads, profile writes (PUT: creations and replacements, each audited) and
catalogue pages. Stops by itself after the requests or
``--max-seconds``, stops the server, prints the figures; exits 1 if any request failed (5xx or
transport error). Figures only, no assertion on speed.

    make load            # or: .venv/bin/python bench/load.py --requests 2000 --concurrency 16

**Fixed rate** (``--rate R --duration S``): open-loop arrivals at R requests/s of the same mix
for S seconds, whatever the answers (``bench/httpload.py``: raw keep-alive connections, a new
one when all are busy; latency counted from the *scheduled* arrival, so a server falling
behind shows it). Reports errors, statuses, latency percentiles per kind of request, the
achieved rate, and the client's own lag and CPU (to tell a slow server from a slow client):

    .venv/bin/python bench/load.py --rate 60 --duration 300
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import encode, open_loop, percentiles

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
FREINS = ("mobilite", "logement", "sante", "garde_enfants", "finances", "numerique",
          "langue_francaise", "isolement_confiance", "qualification", "recherche_emploi")


def communes(seed: int) -> list[str]:
    with (REPO / "data" / "geo" / "territories.csv").open(encoding="utf-8") as fh:
        codes = [row["insee_code"] for row in csv.DictReader(fh)
                 if row["department"] in ("61", "72", "91")]
    rng = random.Random(seed)
    return rng.sample(codes, min(300, len(codes)))


def profile(rng: random.Random, homes: list[str], pid: str | None = None) -> dict:
    return {
        "id": pid, "home": {"insee": rng.choice(homes)}, "age": rng.randint(18, 64),
        "orientation": rng.choice(["sociale", "socioprofessionnelle", "professionnelle"]),
        "rsa_months": rng.randint(1, 120),
        "training_level": rng.choice(["infra3", "3", "4", "5"]),
        "mobility": {"driving_licence": rng.choice(["none", "b"]),
                     "vehicle": rng.choice(["none", "car"]),
                     "public_transport": rng.random() < 0.5,
                     "max_travel_minutes": rng.choice([20, 30, 45, 60])},
        "freins": {f: rng.randint(1, 3) for f in rng.sample(FREINS, rng.randint(1, 4))},
        "status": {"foreign_newcomer": rng.random() < 0.1, "qpv": rng.random() < 0.2},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def admin_key(database_url: str) -> str:
    from insertion_match.service import db

    engine = db.make_engine(database_url)
    try:
        return db.create_api_key(db.init_db(engine), "load test", "admin", []).key
    finally:
        engine.dispose()


def draw(rng: random.Random, homes: list[str], stored: list[str]) -> tuple:
    """One request of the mix: (label, method, path, body or query)."""
    value = rng.random()
    if value < 0.50:
        return ("POST /v1/recommendations (inline)", "POST", "/v1/recommendations",
                {"beneficiary": profile(rng, homes), "limit": 10})
    if value < 0.65:
        pid = f"load-{rng.randrange(100):03d}"  # half replace a stored one, half create
        return ("PUT /v1/beneficiaries/{id}", "PUT", f"/v1/beneficiaries/{pid}",
                profile(rng, homes))
    if value < 0.85:
        return ("POST /v1/recommendations (by id)", "POST", "/v1/recommendations",
                {"beneficiary_id": rng.choice(stored), "limit": 10})
    if value < 0.95:
        return ("GET /v1/beneficiaries/{id}", "GET", f"/v1/beneficiaries/{rng.choice(stored)}",
                None)
    return ("GET /v1/actions", "GET", "/v1/actions", {"department": "61", "limit": 20})


async def run_rate(base: str, key: str, args: argparse.Namespace) -> dict:
    """Open loop: ``args.rate`` arrivals per second of the mix for ``args.duration`` s."""
    rng = random.Random(args.seed)
    homes = communes(args.seed)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
        stored = []
        for i in range(50):  # a small caseload
            pid = f"load-{i:03d}"
            res = await http.put(f"/v1/beneficiaries/{pid}", json=profile(rng, homes))
            if res.status_code in (200, 201):
                stored.append(pid)
    host, port = base.removeprefix("http://").split(":")

    def make() -> tuple[str, bytes]:
        label, method, path, body = draw(rng, homes, stored)
        if method == "GET" and body:
            path += "?" + "&".join(f"{k}={v}" for k, v in body.items())
            body = None
        return label, encode(method, path, f"{host}:{port}", body, {"X-API-Key": key})

    # Encoded before the clock starts: the client's cost during the run is sending and reading.
    plan = iter([make() for _ in range(int(args.rate * args.duration))])

    def next_request() -> tuple[str, bytes]:
        return next(plan)

    def bad(label: str, status: int) -> bool:
        return status >= 500 or (label.startswith("PUT") and status >= 300)

    result = await open_loop(host, int(port), next_request, rate=args.rate,
                             seconds=args.duration, bad=bad)
    statuses = Counter({str(k): v for k, v in result.statuses.items()
                        if k != "connections opened"})
    return {"latencies": result.latencies, "statuses": statuses, "errors": result.errors,
            "elapsed": result.elapsed, "unsent": 0, "lag": np.asarray(result.lag_ms),
            "client_cpu_us": result.client_cpu_us(),
            "connections": result.statuses["connections opened"]}


async def run_load(base: str, key: str, args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    homes = communes(args.seed)
    latencies: dict[str, list[float]] = {}
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60,
                                 limits=limits) as http:
        stored = []
        for i in range(50):  # a small caseload
            pid = f"load-{i:03d}"
            res = await http.put(f"/v1/beneficiaries/{pid}", json=profile(rng, homes))
            if res.status_code in (200, 201):
                stored.append(pid)
        plan = []
        for _ in range(args.requests):
            draw = rng.random()
            if draw < 0.50:
                plan.append(("POST /v1/recommendations (inline)", "POST", "/v1/recommendations",
                             {"beneficiary": profile(rng, homes), "limit": 10}))
            elif draw < 0.65:
                pid = f"load-{rng.randrange(100):03d}"  # half replace a stored one, half create
                plan.append(("PUT /v1/beneficiaries/{id}", "PUT", f"/v1/beneficiaries/{pid}",
                             profile(rng, homes)))
            elif draw < 0.85:
                plan.append(("POST /v1/recommendations (by id)", "POST", "/v1/recommendations",
                             {"beneficiary_id": rng.choice(stored), "limit": 10}))
            elif draw < 0.95:
                plan.append(("GET /v1/beneficiaries/{id}", "GET",
                             f"/v1/beneficiaries/{rng.choice(stored)}", None))
            else:
                plan.append(("GET /v1/actions", "GET", "/v1/actions",
                             {"department": "61", "limit": 20}))
        queue: asyncio.Queue = asyncio.Queue()
        for item in plan:
            queue.put_nowait(item)
        deadline = time.perf_counter() + args.max_seconds

        async def worker() -> None:
            while not queue.empty() and time.perf_counter() < deadline:
                label, method, path, body = queue.get_nowait()
                start = time.perf_counter()
                try:
                    if method == "GET":
                        res = await http.get(path, params=body)
                    elif method == "PUT":
                        res = await http.put(path, json=body)
                    else:
                        res = await http.post(path, json=body)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                latencies.setdefault(label, []).append((time.perf_counter() - start) * 1000)
                statuses[str(res.status_code)] += 1
                if res.status_code >= 500 or (method == "PUT" and res.status_code >= 300):
                    errors[f"HTTP {res.status_code}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "statuses": statuses, "errors": errors, "elapsed": elapsed,
            "unsent": queue.qsize()}


def report(result: dict, args: argparse.Namespace) -> None:
    every = np.concatenate([np.array(v) for v in result["latencies"].values()] or [np.zeros(0)])
    done = len(every)
    if args.rate:
        print(f"\nload: fixed rate {args.rate:g} requests/s for {args.duration:g} s (open loop) "
              f"on {HOST}: {done} answered in {result['elapsed']:.1f} s "
              f"({args.workers} server worker process, {result['connections']} connections)")
        p50, _, p99 = percentiles(result["lag"])
        print(f"  client       lag behind schedule p50 {p50:.1f} ms p99 {p99:.1f} ms; "
              f"{result['client_cpu_us']:.0f} µs CPU per request")
    else:
        print(f"\nload: {done} requests in {result['elapsed']:.1f} s on {HOST}, concurrency "
              f"{args.concurrency} ({args.workers} server worker process)")
    print(f"  throughput   {done / result['elapsed']:.1f} requests/s")
    if done:
        p50, p95, p99 = np.percentile(every, [50, 95, 99])
        print(f"  latency      p50 {p50:.1f} ms   p95 {p95:.1f} ms   p99 {p99:.1f} ms   "
              f"max {every.max():.1f} ms")
    for label, values in sorted(result["latencies"].items()):
        arr = np.array(values)
        p50, p95, p99 = np.percentile(arr, [50, 95, 99])
        print(f"    {label:<36} n={len(arr):<5} p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f} ms")
    print(f"  statuses     {dict(sorted(result['statuses'].items()))}")
    print(f"  errors       {sum(result['errors'].values())} {dict(result['errors'])}"
          + (f"; {result['unsent']} not sent (--max-seconds reached)" if result["unsent"] else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary dir")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--rate", type=float, help="fixed rate (requests/s, open loop) instead "
                        "of --requests/--concurrency; with --duration")
    parser.add_argument("--duration", type=float, default=300, help="seconds, with --rate")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="im-load-") as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        key = admin_key(database_url)
        port = free_port()
        env = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": tmp,
               "IM_LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host", HOST,
                   "--port", str(port)]
        if args.workers > 1:
            command += ["--workers", str(args.workers)]
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as server_log:
            server = subprocess.Popen(command, cwd=REPO, env=env, stdout=server_log,
                                      stderr=subprocess.STDOUT)
            base = f"http://{HOST}:{port}"
            try:
                for _ in range(240):  # at most a minute to start
                    try:
                        if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.poll() is not None:
                        print(log_path.read_text(), file=sys.stderr)
                        return 1
                    time.sleep(0.25)
                else:
                    print("the server did not become ready", file=sys.stderr)
                    return 1
                result = asyncio.run(run_rate(base, key, args) if args.rate
                                     else run_load(base, key, args))
            finally:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    report(result, args)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
