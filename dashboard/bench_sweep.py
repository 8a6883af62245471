"""`python -m dashboard bench`: the callbacks timed on SQLite and PostgreSQL at 10k, 100k and 1M
incidents, against the plain SQL for the same questions and the naive way, with the targets.

Each database is seeded once (synthetic demo data; later runs reuse it) and then measured in a
process of its own, as a worker would serve it, so that the memory reported is that worker's:
- the app: every measured callback through the real app (dashboard/bench.py `run`), with the
  figures cache off so that every figure is computed, then the cache's miss and hit times;
- the naive way (dashboard/bench_baselines.py) in another process: its own memory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from .config import Settings

SIZES = (10_000, 100_000, 1_000_000)
BACKENDS = ("sqlite", "postgresql")
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
TARGETS = {"p95_ms": 150.0, "times_sql": 2.0, "kb": 100.0, "worker_mb": 400.0}
NAME = re.compile(r"^dashboard_bench_[0-9]+$")
# The naive way reads the whole table each time: fewer runs at the larger sizes.
NAIVE_RUNS = {10_000: 20, 100_000: 10}
NAIVE_RUNS_LARGE = 5


def bench_url(backend: str, size: int, settings: Settings, postgres_server: str = POSTGRES_SERVER) -> str:
    if backend == "sqlite":
        return f"sqlite:///{settings.instance_dir / f'bench-{size}.db'}"
    if backend == "postgresql":
        return f"{postgres_server.rstrip('/')}/dashboard_bench_{size}"
    raise ValueError(f'Unknown database "{backend}": use sqlite or postgresql.')


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database when it is missing (only a dashboard_bench_N
    database is ever created)."""
    target = make_url(url)
    if not NAME.match(target.database or ""):
        raise ValueError(f"{target.database!r} is not a benchmark database name (dashboard_bench_N).")
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}) is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        engine.dispose()


def _child(arguments: list[str], say: Callable[[str], None]) -> dict:
    """Run `python -m dashboard.bench ...` in a process of its own and return its JSON report."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        env = os.environ | {"CACHE_SECONDS": "0"}  # every figure computed; the cache is timed apart
        command = [sys.executable, "-m", "dashboard.bench", *arguments, "--json", str(out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - ours
        if done.returncode != 0:
            raise RuntimeError(f"The benchmark process failed ({' '.join(arguments[:1])}):\n{done.stderr[-2000:]}")
        for line in done.stdout.splitlines():
            if line.startswith(("Seeding", "Warming", "Timing")):
                say("  " + line)
        return json.loads(out.read_text(encoding="utf-8"))


def sweep(
    sizes: tuple[int, ...] = SIZES,
    backends: tuple[str, ...] = BACKENDS,
    repeat: int = 60,
    *,
    naive: bool = True,
    postgres_server: str = POSTGRES_SERVER,
    seed: int = 7,
    say: Callable[[str], None] = print,
) -> dict:
    from .bench import prepare_database

    settings = Settings.from_env()
    runs = []
    for backend in backends:
        for size in sizes:
            url = bench_url(backend, size, settings, postgres_server)
            say(f"{backend}, {size:,} incidents ({make_url(url).render_as_string(hide_password=True)})")
            try:
                if backend == "postgresql":
                    ensure_postgres_database(url)
                prepare_database(url, size, seed, say).dispose()
            except OperationalError as error:
                say(f"  skipped: the database cannot be reached ({str(error.orig).strip().splitlines()[0]})")
                runs.append({"database": backend, "incidents": size, "skipped": str(error.orig).strip()})
                continue
            common = ["--database-url", url, "--repeat", str(repeat)]
            run = {"database": backend, "incidents": size, "app": _child(["callbacks", *common], say)}
            if naive:
                runs_naive = NAIVE_RUNS.get(size, NAIVE_RUNS_LARGE)
                say(f"  the naive way ({runs_naive} runs of each)")
                run["naive"] = _child(["naive", "--database-url", url, "--repeat", str(runs_naive)], say)
            runs.append(run)
    report = {"date": date.today().isoformat(), "cores": os.cpu_count(), "targets": TARGETS, "runs": runs}
    say(format_sweep(report))
    return report


def _checks(result: dict, targets: dict) -> list[str]:
    """The targets a callback's timing misses (none: it meets them all)."""
    missed = []
    if result["p95_ms"] > targets["p95_ms"]:
        missed.append(f"p95 over {targets['p95_ms']:.0f} ms")
    if result.get("sql_p95_ms") and result["p95_ms"] > targets["times_sql"] * result["sql_p95_ms"]:
        missed.append(f"over {targets['times_sql']:.0f}x SQL")
    if result["max_bytes"] > targets["kb"] * 1024:
        missed.append(f"over {targets['kb']:.0f} KB")
    return missed


def format_sweep(report: dict) -> str:
    targets = report["targets"]
    lines = [
        f"Benchmark sweep, {report['date']}, {report['cores']} cores. Targets: p95 under {targets['p95_ms']:.0f} ms "
        f"warm, within {targets['times_sql']:.0f}x the plain SQL for the same question, answers under "
        f"{targets['kb']:.0f} KB, under {targets['worker_mb']:.0f} MB a worker. Times in ms; sizes in KB as sent "
        "(compressed), with the JSON's own size; the figures cache off (every figure computed).",
    ]
    missed_overall = []
    for run in report["runs"]:
        title = f"{'SQLite' if run['database'] == 'sqlite' else 'PostgreSQL'}, {run['incidents']:,} incidents"
        if "skipped" in run:
            lines += ["", f"### {title}: skipped ({run['skipped'].splitlines()[0]})"]
            continue
        app = run["app"]
        memory = app.get("peak_memory_mb") or app.get("worker_memory_mb")
        lines += ["", f"### {title}", "",
                  f"Worker memory: {app.get('worker_memory_mb')} MB at the end, peak {memory} MB"
                  + (f"; the naive way's process: peak {run['naive']['peak_memory_mb']} MB" if "naive" in run else ""),
                  "",
                  "| callback | p50 | p95 | KB sent | KB JSON | SQL p95 | x SQL | meets targets |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        if memory and memory > targets["worker_mb"]:
            missed_overall.append(f"{title}: worker memory {memory} MB")
        for r in app["results"]:
            sql = r.get("sql_p95_ms")
            missed = _checks(r, targets)
            if missed and not r["name"].startswith("figures cache"):
                missed_overall.append(f"{title}: {r['name']}: {', '.join(missed)}")
            json_kb = f"{r['max_json_bytes'] / 1024:.1f}" if r.get("max_json_bytes") else ""
            sent_kb = f"{r['max_bytes'] / 1024:.1f}" if r["max_bytes"] else ""
            sql_ms = "" if sql is None else f"{sql:.1f}"
            times = f"{r['p95_ms'] / sql:.1f}" if sql else ""
            lines.append(
                f"| {r['name']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {sent_kb} | {json_kb} | {sql_ms} | "
                f"{times} | {'yes' if not missed else '; '.join(missed)} |"
            )
        for r in run.get("naive", {}).get("results", []):
            lines.append(f"| {r['name']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | | | | | (for comparison) |")
    lines += ["", "Targets missed: " + ("none." if not missed_overall else "")]
    lines += [f"- {m}" for m in missed_overall]
    return "\n".join(lines)
