"""The HTTP request path against FastAPI's hello world, side by side in one run (issue 11).

Starts, on loopback, a FastAPI hello world (``bench/hello_app.py``, the uvicorn options of
``insertion-match serve``) and the real service (``insertion-match serve``, one worker, a fresh
SQLite database in a temporary directory, the embedded catalogue and demo offers, an admin key
made with ``keys create``), then loads each in turn with the same client at ``--concurrency``
requests in flight for ``--seconds`` (after a warm-up): hello world, ``GET /healthz``, ``POST
/v1/recommendations`` (inline synthetic profiles of the Orne, the Sarthe and the Essonne,
``limit`` 10, actions), and ``GET /healthz`` probed while the recommendations run. Also the
**payload floor** (``bench/hello_app.py`` with a real answer of the service): FastAPI
validating the same request bodies with the service's model and serialising that answer,
without ranking, key or audit; the recommendations' rate is printed against it too. Prints req/s,
p50, p99, the ratio to hello world and the goal beside each. Figures only, no assertion.

The client (``bench/httpload.py``, raw asyncio keep-alive connections, pre-encoded requests)
runs in this process; its own CPU per request is printed (``client µs/req``) with the server's
(``server ms/req``, from /proc), so one can check the client is not the limit: on 2 cores the
server (one worker, one core at most for Python) and the client each have a core as long as
the client's CPU share stays under one core.

    .venv/bin/python bench/bench_http.py                     # this tree
    .venv/bin/python bench/bench_http.py --repo /tmp/base    # the service of another tree
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpload import Result, closed_loop, encode, percentiles
from load import communes, free_port, profile

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextmanager
def server(command: list[str], cwd: Path, env: dict[str, str], ready: str, log: Path):
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            for _ in range(480):  # at most two minutes
                if proc.poll() is not None:
                    raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(ready, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            else:
                raise SystemExit("server did not become ready")
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def measure(port: int, pid: int, requests, args) -> tuple[Result, float]:
    cpu0 = cpu_seconds(pid)
    result = await closed_loop(HOST, port, requests, concurrency=args.concurrency,
                               seconds=args.seconds, warmup=args.warmup)
    return result, cpu_seconds(pid) - cpu0


async def probe_during(port: int, pid: int, requests, probe: bytes, args) -> tuple[Result, list]:
    """/healthz every 20 ms on its own connection while ``requests`` load the server."""
    from httpload import Connection

    load = asyncio.create_task(closed_loop(HOST, port, requests, concurrency=args.concurrency,
                                           seconds=args.seconds, warmup=args.warmup))
    conn = Connection(HOST, port)
    await conn.open()
    await asyncio.sleep(args.warmup)
    samples: list[float] = []
    while not load.done():
        start = time.perf_counter()
        status, _ = await conn.send(probe)
        if status == 200:
            samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.02)
    conn.close()
    return await load, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured, per target")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="source tree of the service to serve (default: this one)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    repo = args.repo.resolve()

    rng = random.Random(args.seed)
    homes = communes(args.seed)
    with tempfile.TemporaryDirectory(prefix="im-bench-http-") as tmp, ExitStack() as stack:
        env = {**os.environ, "IM_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
               "IM_VAR_DIR": tmp, "PYTHONPATH": str(repo)}
        created = subprocess.run(
            [sys.executable, "-m", "insertion_match.service.cli", "keys", "create", "--role",
             "admin", "--name", "bench"], cwd=repo, env=env, capture_output=True, text=True,
            check=False)
        if created.returncode:
            raise SystemExit(created.stderr)
        key = created.stdout.strip().splitlines()[-1]
        hello_port, service_port = free_port(), free_port()
        hello = stack.enter_context(server(
            [sys.executable, str(REPO / "bench" / "hello_app.py"), str(hello_port)], REPO,
            {**os.environ}, f"http://{HOST}:{hello_port}/", Path(tmp) / "hello.log"))
        service = stack.enter_context(server(
            [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host", HOST,
             "--port", str(service_port)], repo, env,
            f"http://{HOST}:{service_port}/readyz", Path(tmp) / "service.log"))
        where = subprocess.run(
            [sys.executable, "-c", "import insertion_match as m; print(m.__file__)"],
            cwd=repo, env=env, capture_output=True, text=True, check=False).stdout.strip()
        host = f"{HOST}:{service_port}"
        bodies = [{"beneficiary": profile(rng, homes), "limit": 10} for _ in range(200)]
        recs = [("POST /v1/recommendations", encode(
            "POST", "/v1/recommendations", host, body, {"X-API-Key": key})) for body in bodies]
        healthz = [("GET /healthz", encode("GET", "/healthz", host))]
        hello_req = [("hello world", encode("GET", "/", f"{HOST}:{hello_port}"))]
        # the payload floor: the same bodies validated by FastAPI with the service's request
        # model, a real answer of the service serialised back (bench/hello_app.py)
        sample = httpx.post(f"http://{host}/v1/recommendations", json=bodies[0],
                            headers={"X-API-Key": key}, timeout=30)
        sample.raise_for_status()
        (Path(tmp) / "sample.json").write_bytes(sample.content)
        floor_port = free_port()
        floor = stack.enter_context(server(
            [sys.executable, str(REPO / "bench" / "hello_app.py"), str(floor_port),
             str(Path(tmp) / "sample.json")], REPO, {**os.environ},
            f"http://{HOST}:{floor_port}/", Path(tmp) / "floor.log"))
        floor_reqs = [("floor", encode("POST", "/v1/recommendations", f"{HOST}:{floor_port}",
                                       body)) for body in bodies]

        rows = []
        for label, port, pid, requests in (
                ("FastAPI hello world", hello_port, hello.pid, hello_req),
                ("FastAPI, same body in and out", floor_port, floor.pid, floor_reqs),
                ("GET /healthz", service_port, service.pid, healthz),
                ("POST /v1/recommendations", service_port, service.pid, recs)):
            result, server_cpu = asyncio.run(measure(port, pid, requests, args))
            rows.append((label, result, server_cpu))
        loaded, samples = asyncio.run(probe_during(service_port, service.pid, recs,
                                                   healthz[0][1], args))
        log_lines = sum(1 for _ in (Path(tmp) / "service.log").open())

    hello_rate = rows[0][1].rate()
    goals = {"GET /healthz": (0.8, None), "POST /v1/recommendations": (0.30, 50.0)}
    print(f"\nHTTP request path, one uvicorn worker, {args.concurrency} in flight, "
          f"{args.seconds:g} s per target after {args.warmup:g} s warm-up; service from {where}")
    print(f"{'target':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× hello':>9}"
          f"{'server ms/req':>15}{'client µs/req':>15}  goal")
    for label, result, server_cpu in rows:
        p50, _, p99 = percentiles(result.all_latencies())
        ratio = result.rate() / hello_rate if hello_rate else float("nan")
        goal = ""
        if label in goals:
            need, p99_max = goals[label]
            ok = ratio >= need and (p99_max is None or p99 <= p99_max)
            goal = f"≥ {need:.2f} ×" + (f", p99 ≤ {p99_max:.0f} ms" if p99_max else "")
            goal += "  met" if ok else "  NOT met"
        errors = sum(result.errors.values())
        print(f"{label:<28}{result.rate():>9.0f}{p50:>9.1f}{p99:>9.1f}{ratio:>9.2f}"
              f"{server_cpu / max(result.count, 1) * 1000:>15.2f}{result.client_cpu_us():>15.0f}"
              f"  {goal}" + (f"  errors {dict(result.errors)}" if errors else ""))
    p50, _, p99 = percentiles(__import__("numpy").asarray(samples))
    print(f"{'GET /healthz while ranking':<28}{'':>9}{p50:>9.1f}{p99:>9.1f}   "
          f"({len(samples)} probes, one every 20 ms, during {loaded.rate():.0f} "
          f"recommendations/s)")
    rec = rows[3]
    floor_rate = rows[1][1].rate()
    print(f"POST /v1/recommendations against the payload floor (FastAPI validating the same "
          f"bodies and serialising a real answer, no ranking, key or audit): "
          f"{rec[1].rate() / floor_rate if floor_rate else float('nan'):.2f} ×")
    per = rec[2] / max(rec[1].count, 1)
    print(f"server CPU per recommendation {per * 1000:.2f} ms: one core caps it at about "
          f"{1 / per:.0f} req/s" if per else "")
    print(f"client CPU share while loading hello world: "
          f"{rows[0][1].client_cpu / rows[0][1].elapsed:.0%} of one core; service log lines: "
          f"{log_lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
