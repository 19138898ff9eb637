"""Web platform benchmark: the patient chart page vs. a trivial view, same server, same run.

- Server: gunicorn, sync workers, worker count pinned (default 2) and printed; server and load share the
  machine's cores (2 on the reference machine), so absolute numbers are pessimistic and the ratio
  chart/trivial is the figure to watch.
- Load: N concurrent logged-in users (threads with keep-alive connections and their own sessions), each
  issuing GETs for a fixed duration; p50/p95 latency and throughput per endpoint.
- SQL: queries per chart page measured in-process (CaptureQueriesContext).

Usage: .venv/bin/python benchmarks/bench_web.py [--users 1,4,8] [--seconds 10] [--workers 2]
Database: a separate SQLite file under var/bench/ unless DATABASE_URL is set (e.g. PostgreSQL).
Results go to stdout and to the "Web platform" section of docs/PERFORMANCE.md (--write-doc).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
BENCH_VAR = ROOT / "var" / "bench"
os.environ.setdefault("KAIROS_VAR_DIR", str(BENCH_VAR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")
os.environ.setdefault("DEBUG", "0")


def _sessions(n: int) -> list[str]:
    """Session cookies for n bench users, created directly (as a logged-in browser would hold)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for user in get_user_model().objects.filter(username__startswith="bench-").order_by("pk")[:n]:
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        keys.append(s.session_key)
    return keys


def _queries_per_chart(patient_id: int) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    c = Client()
    c.force_login(get_user_model().objects.get(username="bench-0"))
    c.get(f"/patients/{patient_id}/")  # warm caches (membership lookup, session)
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(f"/patients/{patient_id}/")
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def _load(port: int, path: str, cookies: list[str], seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def user(cookie: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
            resp = conn.getresponse()
            resp.read()
            local.append(time.perf_counter() - t0)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
                    if errors[0] == 1:
                        print(
                            f"first error on {path}: HTTP {resp.status} {resp.getheader('Location') or ''}",
                            file=sys.stderr,
                        )
        conn.close()
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=user, args=(c,)) for c in cookies]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", default="1,4,8", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (pinned)")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--write-doc", action="store_true", help="update docs/PERFORMANCE.md")
    args = parser.parse_args()
    levels = [int(x) for x in args.users.split(",")]
    if args.port == 0:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]

    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], check=True, env=env
    )
    import bulk_load_web

    info = bulk_load_web.load(args.patients)
    cookies = _sessions(max(levels))
    queries = _queries_per_chart(info["chart_patient"])

    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "kairos.config.wsgi",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        chart = f"/patients/{info['chart_patient']}/"
        rows = []
        for n in levels:
            _load(args.port, "/health", cookies[:n], 1.0)  # warm-up: imports, connections, template caches
            _load(args.port, chart, cookies[:n], 3.0)
            base = _load(args.port, "/health", cookies[:n], args.seconds)
            page = _load(args.port, chart, cookies[:n], args.seconds)
            rows.append((n, base, page))
    finally:
        server.terminate()
        server.wait(timeout=10)

    import django
    import numpy

    db = "PostgreSQL" if "postgres" in os.environ.get("DATABASE_URL", "") else "SQLite"
    header = (
        f"cores={os.cpu_count()} gunicorn workers={args.workers} (sync) db={db} python={platform.python_version()} "
        f"django={django.get_version()} numpy={numpy.__version__}; chart patient history rows={info['history_rows']}; "
        f"SQL queries per chart page={queries}"
    )
    lines = [
        header,
        "",
        "| users | endpoint | req/s | p50 ms | p95 ms | errors | chart/trivial throughput |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, base, page in rows:
        lines.append(
            f"| {n} | /health (trivial) | {base['rps']:.0f} | {base['p50_ms']:.1f} | {base['p95_ms']:.1f} | {base['errors']} | |"
        )
        lines.append(
            f"| {n} | chart page | {page['rps']:.0f} | {page['p50_ms']:.1f} | {page['p95_ms']:.1f} | {page['errors']} | {page['rps'] / base['rps']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.write_doc:
        _write_section(
            "Web platform",
            f"Measured {time.strftime('%Y-%m-%d')} with `benchmarks/bench_web.py`.\n\n{text}\n",
        )
    return 0


def _write_section(title: str, body: str) -> None:
    doc = ROOT / "docs" / "PERFORMANCE.md"
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    begin, end = f"<!-- BEGIN {title} -->", f"<!-- END {title} -->"
    block = f"{begin}\n## {title}\n\n{body}{end}"
    if begin in current:
        current = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    doc.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
