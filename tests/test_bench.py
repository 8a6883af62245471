"""The benchmark command runs end to end (on a small database) and refuses real data."""

from __future__ import annotations

import pytest

from dashboard import bench
from dashboard.models import Organisation


def test_bench_sweeps_both_databases_with_plain_sql_naive_way_memory_and_targets(
    tmp_path, monkeypatch, postgres_databases
):
    """`python -m dashboard bench`: every callback timed on SQLite and PostgreSQL in a worker
    process of its own, with the plain SQL for the same questions, the naive way, the worker's
    memory, the figures cache, and which targets are met; a second run reuses the databases."""
    from dashboard import bench_sweep
    from tests.conftest import PG_ADMIN_URL

    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "bench-test-secret-0123456789-abcdefghijkl")
    server = PG_ADMIN_URL.rsplit("/", 1)[0]
    postgres_databases.created.append("dashboard_bench_2000")  # dropped with the test databases
    lines: list[str] = []
    report = bench_sweep.sweep((2_000,), ("sqlite", "postgresql"), repeat=10, postgres_server=server,
                               say=lines.append)
    assert [(r["database"], r["incidents"]) for r in report["runs"]] == [("sqlite", 2_000), ("postgresql", 2_000)]
    for run in report["runs"]:
        results = {r["name"]: r for r in run["app"]["results"]}
        assert run["app"]["database"] == run["database"] and run["app"]["cache"] == "off"
        for name in ["overview: filter change (map colours, summary, headline)", "overview: district drill-down",
                     "trends: change (chart, summary, calendar annotations)",
                     "summaries: change (tables, charts, disclosure control)"]:
            timing = results[name]
            assert timing["runs"] >= 10 and timing["p95_ms"] >= timing["p50_ms"] > 0
            assert timing["sql_p95_ms"] > 0  # the same question in plain SQL
            assert 0 < timing["max_bytes"] < timing["max_json_bytes"]  # sent compressed
        assert results["figures cache: the map's figures from the cache (a hit)"]["p50_ms"] < results[
            "figures cache: the map's figures computed (a miss)"]["p50_ms"]
        assert 50 < run["app"]["peak_memory_mb"] < 2_000 and 50 < run["naive"]["peak_memory_mb"] < 2_000
        assert [r["name"].split(" (")[0] for r in run["naive"]["results"]] == [
            "naive: the map's figures", "naive: a trend chart", "naive: a national summary"]
    text = lines[-1]
    assert "### SQLite, 2,000 incidents" in text and "### PostgreSQL, 2,000 incidents" in text
    assert "| overview: filter change (map colours, summary, headline) |" in text
    assert "Targets missed:" in text
    lines.clear()
    bench_sweep.sweep((2_000,), ("sqlite",), repeat=10, naive=False, say=lines.append)
    assert not any("Seeding" in line for line in lines) and "naive:" not in lines[-1]


def test_bench_command_refuses_bad_sizes_and_databases(capsys):
    from dashboard.cli import main

    assert main(["bench", "--sizes", "ten thousand"]) != 0
    assert "--sizes must be numbers" in capsys.readouterr().err
    assert main(["bench", "--sizes", "500"]) != 0
    assert "between 1,000 and 5,000,000" in capsys.readouterr().err
    assert main(["bench", "--databases", "mysql"]) != 0
    assert "sqlite, postgresql or both" in capsys.readouterr().err


def test_bench_never_touches_a_database_that_is_not_demo_data(sqlite_db):
    with sqlite_db.session() as s:
        s.add(Organisation(name="A real partner"))
    from dashboard.models import User

    with sqlite_db.session() as s:
        s.add(User(email="x@y.example", name="X", organisation_id=1, password_hash="x"))
    with pytest.raises(RuntimeError, match="not demo data"):
        bench.prepare_database(sqlite_db.url, 2_000, 1, lambda _m: None)


def test_meeting_bench_times_the_tracker_and_the_briefing_pack(tmp_path):
    from datetime import date

    from dashboard.database import Database, upgrade_schema
    from dashboard.demo import seed_demo
    from dashboard.geography import load_reference_data

    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)
    seed_demo(db, incidents=2_000, seed=3, today=date.today())
    results = {t.name: t for t in bench.meeting_timings(db, repeat=3, say=lambda _m: None)}
    assert "actions: tracker, every action" in results
    assert "actions: the outcome chart of one district" in results
    pdf = results["briefing pack: build and render the PDF"]
    assert pdf.runs == 3 and pdf.p50_ms > 0 and pdf.max_bytes > 10_000  # a real PDF was made
    db.dispose()


def test_summary_bench_times_the_national_summaries(tmp_path):
    from datetime import date

    from dashboard.database import Database, upgrade_schema
    from dashboard.demo import seed_demo
    from dashboard.geography import load_reference_data

    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)
    seed_demo(db, incidents=500, seed=3, today=date.today())
    results = {t.name: t for t in bench.summary_timings(db, repeat=3, say=lambda _m: None)}
    default = results["summaries: default (4 quarters, districts by category)"]
    assert default.runs == 3 and default.p95_ms >= default.p50_ms > 0
    assert default.max_bytes > 1_000  # the API's JSON of a whole summary was made
    assert any(name.startswith("disclosure control alone: 65 x") for name in results)
    pdf = results["summaries: default, downloaded as the one-page PDF"]
    assert pdf.max_bytes > 1_000  # a real PDF was made, through the download's own function
    assert len(results) == 10
    db.dispose()


def test_retention_bench_times_the_queue_and_a_redaction_it_rolls_back(tmp_path, monkeypatch):
    from datetime import date

    from sqlalchemy import func, select

    from dashboard.database import Database, upgrade_schema
    from dashboard.demo import seed_demo
    from dashboard.geography import load_reference_data
    from dashboard.models import Incident

    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)
    seed_demo(db, incidents=500, seed=3, today=date.today())
    results = bench.retention_timings(db, repeat=3, say=lambda _m: None)
    assert [t.name.split(" (")[0] for t in results] == [
        "retention: the count of records due", "retention: the first page with its count",
        "retention: the last page", "retention: redacting 25 incidents"]
    assert all(t.runs >= 3 and t.p95_ms >= t.p50_ms > 0 for t in results)
    with db.session() as session:  # the redaction was rolled back
        assert session.scalar(select(func.count()).where(Incident.redacted_at.is_not(None))) == 0
    db.dispose()
