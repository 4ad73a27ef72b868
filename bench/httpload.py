"""A small HTTP/1.1 load client on raw asyncio streams (keep-alive), so that on a 2-core machine
the client is not what limits the server being measured.

Each connection sends pre-encoded requests one after the other and reads the answer by its
``Content-Length`` (or chunks). Per request it costs tens of microseconds of client CPU
(measured and printed by the benchmarks: ``client_cpu_us``), against about 0.6 ms for
``httpx``. Two modes:

- :func:`closed_loop`: ``concurrency`` connections, each sending its next request as soon as
  the previous answer arrived (``N in flight``): throughput and latency at that concurrency;
- :func:`open_loop`: arrivals at a fixed rate whatever the answers (a new connection is opened
  when all are busy, up to ``max_connections``): latency is measured from the *scheduled*
  arrival, so a server that falls behind shows it (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


def encode(method: str, path: str, host: str, body: object | None = None,
           headers: dict[str, str] | None = None) -> bytes:
    """One request, ready to write."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; (status, body). Reopens the connection when needed."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            body = await self.reader.readexactly(int(lower[at + 17:end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            body = b"".join(parts)
        else:
            body = b""
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, body


@dataclass
class Result:
    """Latencies (ms) per label, statuses, transport errors, wall and client CPU time."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    lag_ms: list[float] = field(default_factory=list)  # open loop: send time - scheduled time

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def all_latencies(self) -> np.ndarray:
        values = [np.asarray(v) for v in self.latencies.values() if v]
        return np.concatenate(values) if values else np.zeros(0)

    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def client_cpu_us(self) -> float:
        """Client CPU per request (µs): what the client itself costs the machine."""
        return self.client_cpu / self.count * 1e6 if self.count else 0.0


#: A request: (label, encoded bytes, is it an error?) given the status.
Request = tuple[str, bytes]
Check = Callable[[str, int], bool]


def _default_bad(_label: str, status: int) -> bool:
    return status >= 500


async def closed_loop(host: str, port: int, requests: Sequence[Request], *, concurrency: int,
                      seconds: float, warmup: float = 1.0, bad: Check = _default_bad) -> Result:
    """``concurrency`` connections cycling through ``requests`` for ``seconds`` (after a
    ``warmup`` whose answers are not counted)."""
    result = Result()
    conns = [Connection(host, port) for _ in range(concurrency)]
    for c in conns:
        await c.open()
    counting = False
    stop_at = time.perf_counter() + warmup + seconds
    next_index = 0

    async def worker(conn: Connection) -> None:
        nonlocal next_index
        while time.perf_counter() < stop_at:
            label, raw = requests[next_index % len(requests)]
            next_index += 1
            start = time.perf_counter()
            try:
                status, _ = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                if counting:
                    result.errors[type(exc).__name__] += 1
                continue
            if counting:
                result.latencies.setdefault(label, []).append(
                    (time.perf_counter() - start) * 1000)
                result.statuses[status] += 1
                if bad(label, status):
                    result.errors[f"HTTP {status}"] += 1

    tasks = [asyncio.create_task(worker(c)) for c in conns]
    await asyncio.sleep(warmup)
    counting = True
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - wall0
    result.client_cpu = time.process_time() - cpu0
    for c in conns:
        c.close()
    return result


async def open_loop(host: str, port: int, next_request: Callable[[], Request], *, rate: float,
                    seconds: float, max_connections: int = 256, max_idle: float = 4.0,
                    bad: Check = _default_bad) -> Result:
    """Arrivals every ``1/rate`` s for ``seconds``, whatever the answers; latency from the
    scheduled arrival. Requests beyond ``max_connections`` in flight wait for a connection
    (and that wait counts in their latency). A connection idle for ``max_idle`` s is not
    reused (the server closes idle keep-alive connections after 5 s); one the server closed
    anyway is retried once on a new connection, as HTTP clients do."""
    result = Result()
    idle: list[Connection] = []
    opened = 0
    slots = asyncio.Semaphore(max_connections)
    pending: set[asyncio.Task] = set()

    async def one(label: str, raw: bytes, scheduled: float) -> None:
        nonlocal opened
        async with slots:
            conn = None
            while idle:  # the server closes keep-alive connections idle for 5 s: skip those
                candidate = idle.pop()
                if time.perf_counter() - candidate.last_used < max_idle:
                    conn = candidate
                    break
                candidate.close()
            reused = conn is not None
            if conn is None:
                conn = Connection(host, port)
                opened += 1
            result.lag_ms.append((time.perf_counter() - scheduled) * 1000)
            try:
                status, _ = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                if not (reused and isinstance(exc, (asyncio.IncompleteReadError,
                                                    ConnectionResetError))):
                    result.errors[type(exc).__name__] += 1
                    return
                # closed by the server while idle, before reading the request: send it again
                # once on a new connection (what HTTP clients do), still counted from schedule
                conn = Connection(host, port)
                opened += 1
                try:
                    status, _ = await conn.send(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc2:
                    conn.close()
                    result.errors[type(exc2).__name__] += 1
                    return
            conn.last_used = time.perf_counter()
            idle.append(conn)
        result.latencies.setdefault(label, []).append((time.perf_counter() - scheduled) * 1000)
        result.statuses[status] += 1
        if bad(label, status):
            result.errors[f"HTTP {status}"] += 1

    cpu0, start = time.process_time(), time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        label, raw = next_request()
        task = asyncio.create_task(one(label, raw, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    result.elapsed = time.perf_counter() - start
    result.client_cpu = time.process_time() - cpu0
    for c in idle:
        c.close()
    result.statuses["connections opened"] = opened
    return result


def percentiles(values: np.ndarray) -> tuple[float, float, float]:
    if values.size == 0:
        return (float("nan"),) * 3
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return float(p50), float(p95), float(p99)
