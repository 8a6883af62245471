"""The benchmark command runs end to end (on a small database) and refuses real data."""

from __future__ import annotations

import pytest

from dashboard import bench
from dashboard.models import Organisation


def test_bench_measures_every_callback_on_a_small_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "bench-test-secret-0123456789-abcdefghijkl")
    lines: list[str] = []
    report = bench.run(incidents=2_000, repeat=10, say=lines.append)
    names = [r["name"] for r in report["results"]]
    assert names[0].startswith("overview: filter change")
    assert any("drill-down" in n for n in names) and any("locations" in n for n in names)
    for result in report["results"]:
        assert result["runs"] >= 10 and result["p95_ms"] >= result["p50_ms"] > 0
    assert report["results"][0]["max_bytes"] < 100_000
    assert "| overview: filter change" in lines[-1]
    # a second run reuses the seeded database
    lines.clear()
    bench.run(incidents=2_000, repeat=10, say=lines.append)
    assert not any("Seeding" in line for line in lines)


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
