"""Does the built wheel serve outside the clone? Build it, install it in a fresh venv, serve.

    python bench/check_wheel.py [--workers N] [--database-url URL] [--keep]

1. builds the wheel of this checkout (``pip wheel --no-deps``: the build backend comes from the
   package index, as on any machine);
2. creates a fresh venv in a temporary directory outside the clone, installs the runtime lock
   (``requirements.lock``) then the wheel without dependencies, and runs ``pip check``;
3. from a working directory in that temporary directory (not the clone), checks the installed
   package reads its data from site-packages, runs ``insertion-match recommend`` on an example,
   creates an API key with the installed CLI, starts ``insertion-match serve`` on a free port,
   waits for ``/readyz``, POSTs ``/v1/recommendations`` with the key, and stops the server;
4. prints each step with its duration, and exits non-zero at the first failure.

Nothing here is a test (no timing is asserted): CI may call it (see docs/production.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "jobs_flers.json"


class CheckFailed(Exception):
    pass


def _step(name: str, started: float, detail: str = "") -> None:
    print(f"  ok  {name:<46} {time.monotonic() - started:6.1f} s  {detail}", flush=True)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 900) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(cmd)} -> exit {done.returncode}\n{done.stdout[-3000:]}\n"
                          f"{done.stderr[-3000:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(method: str, url: str, body: object = None, headers: dict[str, str] | None = None,
          timeout: float = 30) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def build_wheel(dist: Path) -> Path:
    had_build = (REPO / "build").exists()
    try:
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist),
              str(REPO)], cwd=dist)
    finally:
        if not had_build:  # setuptools builds in the tree: leave the clone as it was
            shutil.rmtree(REPO / "build", ignore_errors=True)
    wheels = sorted(dist.glob("insertion_match-*.whl"))
    if not wheels:
        raise CheckFailed(f"no wheel in {dist}")
    return wheels[-1]


def serve_and_query(cli: Path, cwd: Path, env: dict[str, str], workers: int, key: str) -> str:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (cwd / "serve.log").open("w")
    server = subprocess.Popen([str(cli), "serve", "--port", str(port), "--workers", str(workers)],
                              cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        started = time.monotonic()
        status = 0
        while time.monotonic() - started < 180:
            if server.poll() is not None:
                raise CheckFailed(f"serve exited with {server.returncode}:\n"
                                  f"{(cwd / 'serve.log').read_text()[-3000:]}")
            try:
                status, _ = _http("GET", f"{base}/readyz", timeout=2)
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)
        if status != 200:
            raise CheckFailed(f"/readyz did not answer 200 within 180 s (last {status})")
        _step(f"serve --workers {workers}: /readyz 200", started, base)

        started = time.monotonic()
        body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        body["kinds"] = ["action", "job"]
        status, raw = _http("POST", f"{base}/v1/recommendations", body, {"X-API-Key": key})
        if status != 200:
            raise CheckFailed(f"POST /v1/recommendations -> {status}: {raw[:2000]!r}")
        answer = json.loads(raw)
        kinds: dict[str, int] = {}
        for item in answer.get("items", []):
            kinds[item.get("kind", "?")] = kinds.get(item.get("kind", "?"), 0) + 1
        if not kinds:
            raise CheckFailed(f"POST /v1/recommendations answered no item: {raw[:2000]!r}")
        found = ", ".join(f"{v} {k}" for k, v in kinds.items())
        _step("POST /v1/recommendations 200", started,
              f"{found} (model {answer['model']['name']})")
        status, _ = _http("POST", f"{base}/v1/recommendations", body)
        if status != 401:
            raise CheckFailed(f"POST /v1/recommendations without a key -> {status}, not 401")
        return base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="serve on this database (default: SQLite in the "
                        "temporary directory's var/)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    total = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="im-wheel-check-"))
    if tmp.resolve().is_relative_to(REPO):
        raise SystemExit("the temporary directory must be outside the clone")
    print(f"wheel check in {tmp} (outside the clone {REPO})")
    try:
        started = time.monotonic()
        dist = tmp / "dist"
        dist.mkdir()
        wheel = build_wheel(dist)
        _step("build the wheel", started, f"{wheel.name}, {wheel.stat().st_size / 1e6:.1f} MB")

        started = time.monotonic()
        venv = tmp / "venv"
        _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        _run([*pip, "install", "--quiet", "-r", str(REPO / "requirements.lock")], cwd=tmp)
        _run([*pip, "install", "--quiet", "--no-deps", str(wheel)], cwd=tmp)
        _run([*pip, "check"], cwd=tmp)
        _step("fresh venv: lock, then the wheel; pip check", started)

        run = tmp / "run"
        run.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("IM_")}
        env.update({"IM_LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"})
        if args.database_url:
            env["IM_DATABASE_URL"] = args.database_url
        started = time.monotonic()
        probe = ("import insertion_match, insertion_match.service.settings as s; "
                 "print(insertion_match.__file__); print(s.DATA_ROOT); "
                 "print(s.Settings().var_dir)")
        where = _run([str(venv / "bin" / "python"), "-c", probe], cwd=run, env=env).split()
        site = venv.resolve()
        if not all(Path(p).resolve().is_relative_to(site) for p in where[:2]):
            raise CheckFailed(f"the package or its data is not read from the venv: {where}")
        if Path(where[2]).resolve() != (run / "var").resolve():
            raise CheckFailed(f"var/ is not the working directory's: {where[2]}")
        _step("package and data read from site-packages", started, where[1])

        cli = venv / "bin" / "insertion-match"
        started = time.monotonic()
        shutil.copy(EXAMPLE, run / EXAMPLE.name)
        out = _run([str(cli), "recommend", EXAMPLE.name, "--kinds", "action,job", "--limit", "3"],
                   cwd=run, env=env)
        _step("insertion-match recommend", started, f"{len(out.splitlines())} lines printed")

        started = time.monotonic()
        out = _run([str(cli), "keys", "create", "--role", "coach", "--territory", "61",
                    "--name", "wheel-check"], cwd=run, env=env)
        key = out.strip().splitlines()[-1]
        _step("insertion-match keys create (migrates)", started)

        serve_and_query(cli, run, env, args.workers, key)
        inside = [p for p in (venv / "lib").rglob("var") if p.is_dir()]
        if inside:
            raise CheckFailed(f"the service wrote inside the venv: {inside}")
        print(f"wheel check passed in {time.monotonic() - total:.0f} s")
        return 0
    except (CheckFailed, subprocess.TimeoutExpired) as exc:
        print(f"wheel check FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
