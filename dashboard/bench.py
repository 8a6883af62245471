"""`python -m dashboard bench`: the overview's callbacks timed as a browser would call them.

It seeds (or reuses) a database of the requested size, builds the whole app, signs in as a
partner member through the real sign-in form, and sends the callback requests that filter
changes, map switches and the drill-down send, with their CSRF header, to the app's own WSGI
server in-process (no network). It reports per callback the median and 95th percentile time
and the response size, and the time the same figures take in the database alone.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from itertools import cycle, islice
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, select

from .access import RecordFilters, Viewer
from .config import Settings
from .database import Database, upgrade_schema
from .geography import load_reference_data
from .models import AppSetting, Incident, Organisation, User, action_areas
from .overview import Geography, area_overview
from .passwords import hash_password
from .reference import Role


@dataclass(frozen=True)
class Timing:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_bytes: int
    max_bytes: int
    sql_p50_ms: float | None = None  # the same questions asked in plain SQL (bench_baselines)
    sql_p95_ms: float | None = None
    max_json_bytes: int | None = None  # the largest answer before compression (bytes: as sent)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _timing(name: str, seconds: list[float], sizes: list[int]) -> Timing:
    ms = [s * 1000 for s in seconds]
    return Timing(name, len(ms), statistics.median(ms), _percentile(ms, 0.95), max(ms),
                  int(statistics.mean(sizes)) if sizes else 0, max(sizes) if sizes else 0)


def prepare_database(url: str, incidents: int, seed: int, say: Callable[[str], None]) -> Database:
    """A demo database with `incidents` incidents: reused when it already has them. A database
    that is not a demo database is never touched."""
    from . import demo

    db = Database(url)
    upgrade_schema(db)
    with db.session() as session:
        load_reference_data(session)
        settings = dict(session.execute(select(AppSetting.key, AppSetting.value)).all())
        in_use = session.scalar(select(User.id).limit(1)) is not None
    if in_use and settings.get("demo_mode") != "true":
        raise RuntimeError(f"{url} holds records that are not demo data: the benchmark needs its own database.")
    parameters = dict(p.split("=", 1) for p in settings.get("demo_parameters", "").split("; ") if "=" in p)
    if parameters.get("incidents") != str(incidents):
        say(f"Seeding {incidents:,} synthetic incidents (once; later runs reuse them)")
        demo.seed_demo(db, incidents=incidents, seed=seed, replace=in_use)
    return db


def _bench_user(db: Database, role: Role, organisation_like: str = "%") -> tuple[str, str]:
    """The e-mail of the first user with this role (in an organisation whose name is like
    `organisation_like`), given a fresh random password (this is a benchmark database)."""
    password = secrets.token_urlsafe(18)
    with db.session() as session:
        user = session.scalars(
            select(User).join(Organisation).where(User.role == role, Organisation.name.like(organisation_like))
            .order_by(User.id)
        ).first()
        if user is None:
            raise RuntimeError(f"The benchmark database has no {role} user: seed it with seed-demo.")
        user.password_hash = hash_password(password)
        return user.email, password


def _bench_member(db: Database) -> tuple[User, str]:
    """A member of a police force with a fresh random password."""
    email, password = _bench_user(db, Role.MEMBER, "%Police%")
    with db.session() as session:
        return session.scalar(select(User).where(User.email == email)), password


class Answer(NamedTuple):
    seconds: float
    sent_bytes: int  # as it travelled (compressed)
    json_bytes: int  # the callback's JSON
    body: dict


BROWSER_ENCODINGS = "gzip, deflate, br"  # what Chromium and Firefox accept


def _decoded(sent: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        import gzip

        return gzip.decompress(sent)
    if encoding == "br":
        import brotli

        return brotli.decompress(sent)
    return sent


class Browser:
    """Signs in through the form and calls callbacks as dash-renderer does."""

    def __init__(self, app, email: str, password: str) -> None:
        self.app = app
        self.client = app.server.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        signed_in = self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        if signed_in.status_code != 302:
            raise RuntimeError("The benchmark could not sign in.")
        self.client.get("/")  # the page load sets the CSRF cookie and lets Dash finish its set-up
        self.csrf = self.client.get_cookie("_csrf_token").value
        self.callbacks = {key: spec for key, spec in app.callback_map.items()}

    def _find(self, output_fragment: str) -> tuple[str, dict]:
        for key, spec in self.callbacks.items():
            if key.startswith(output_fragment) or f"..{output_fragment}." in key:
                return key, spec
        raise KeyError(output_fragment)

    def call(self, output_fragment: str, values: dict[str, object], changed: str) -> Answer:
        key, spec = self._find(output_fragment)
        outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
                   for o in key.strip(".").split("...")]
        def with_values(items):
            return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                    for i in items]
        body = {
            "output": key,
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": with_values(spec["inputs"]),
            "state": with_values(spec.get("state", [])),
            "changedPropIds": [changed],
        }
        started = time.perf_counter()
        response = self.client.post("/_dash-update-component", json=body,
                                    headers={"X-CSRFToken": self.csrf, "Accept-Encoding": BROWSER_ENCODINGS})
        sent = response.get_data()  # (compressed as a browser gets it: the time includes that)
        elapsed = time.perf_counter() - started
        text = _decoded(sent, response.headers.get("Content-Encoding"))
        if response.status_code != 200:
            raise RuntimeError(f"{output_fragment}: HTTP {response.status_code}: {text[:300]!r}")
        return Answer(elapsed, len(sent), len(text), json.loads(text))


def _filter_changes(today: date, categories: list[str], strands: list[str], orgs: list[int]) -> Iterator[tuple[str, dict]]:
    """The filter changes a person makes on the overview, in a repeating mix."""
    base = {
        "overview-period.value": "12m", "overview-start.value": None, "overview-end.value": None,
        "overview-categories.value": [], "overview-strands.value": [], "overview-verification.value": [],
        "overview-markings.value": [], "overview-organisations.value": [],
        "overview-geography.value": "district", "overview-metric.value": "count",
        "overview-layers.value": [], "overview-area.value": "",
    }
    changes = [
        ("overview-period.value", {"overview-period.value": "4w"}),
        ("overview-period.value", {"overview-period.value": "quarter"}),
        ("overview-period.value", {"overview-period.value": "12m"}),
        ("overview-period.value", {"overview-period.value": "meeting"}),
        ("overview-start.value", {"overview-period.value": "custom", "overview-start.value": (today - timedelta(days=730)).isoformat(),
                                  "overview-end.value": today.isoformat()}),
        ("overview-categories.value", {"overview-categories.value": categories[:2]}),
        ("overview-categories.value", {"overview-categories.value": categories[7:11]}),
        ("overview-strands.value", {"overview-strands.value": strands[:1]}),
        ("overview-strands.value", {"overview-strands.value": strands[1:3]}),
        ("overview-verification.value", {"overview-verification.value": ["corroborated", "confirmed"]}),
        ("overview-markings.value", {"overview-markings.value": ["TLP:GREEN", "TLP:AMBER"]}),
        ("overview-organisations.value", {"overview-organisations.value": orgs[:2]}),
        ("overview-geography.value", {"overview-geography.value": "force"}),
        ("overview-geography.value", {"overview-geography.value": "region"}),
        ("overview-metric.value", {"overview-metric.value": "rate"}),
        ("overview-metric.value", {"overview-metric.value": "tension"}),
        ("overview-metric.value", {"overview-metric.value": "change"}),
    ]
    for changed, values in cycle(changes):
        yield changed, base | values


def _trend_changes(today: date, categories: list[str], districts: list[str], orgs: list[int]) -> Iterator[tuple[str, dict]]:
    """The changes a person makes on the trends page, in a repeating mix."""
    base = {
        "trends-period.value": "12m", "trends-start.value": None, "trends-end.value": None,
        "trends-categories.value": [], "trends-strands.value": [], "trends-verification.value": [],
        "trends-markings.value": [], "trends-organisations.value": [],
        "trends-grain.value": "week", "trends-split.value": "category", "trends-geography.value": "district",
        "trends-areas.value": [], "trends-measure.value": "count", "trends-compare.value": [],
    }
    changes = [
        ("trends-period.value", {"trends-period.value": "quarter"}),
        ("trends-period.value", {"trends-period.value": "12m"}),
        ("trends-grain.value", {"trends-grain.value": "month"}),
        ("trends-compare.value", {"trends-compare.value": ["year"]}),
        ("trends-split.value", {"trends-split.value": "strand"}),
        ("trends-split.value", {"trends-split.value": "none", "trends-compare.value": ["year"]}),
        ("trends-areas.value", {"trends-split.value": "area", "trends-areas.value": districts[:3],
                                "trends-measure.value": "rate"}),
        ("trends-geography.value", {"trends-split.value": "area", "trends-geography.value": "force"}),
        ("trends-categories.value", {"trends-categories.value": categories[6:10]}),
        ("trends-start.value", {"trends-period.value": "custom", "trends-start.value": (today - timedelta(days=729)).isoformat(),
                                "trends-end.value": today.isoformat(), "trends-grain.value": "month"}),
        ("trends-split.value", {"trends-split.value": "organisation"}),
        ("trends-verification.value", {"trends-verification.value": ["corroborated", "confirmed"]}),
    ]
    for changed, values in cycle(changes):
        yield changed, base | values


def _summary_changes() -> Iterator[tuple[str, dict]]:
    """The changes the national policy team makes on the summaries page, in a repeating mix."""
    base = {"summaries-to.value": None, "summaries-quarters.value": "4", "summaries-geography.value": "district",
            "summaries-breakdown.value": "category", "summaries-areas.value": [], "summaries-categories.value": []}
    changes = [
        ("summaries-quarters.value", {"summaries-quarters.value": "8"}),
        ("summaries-breakdown.value", {"summaries-breakdown.value": "strand"}),
        ("summaries-geography.value", {"summaries-geography.value": "police-force-area"}),
        ("summaries-geography.value", {"summaries-geography.value": "region", "summaries-quarters.value": "8"}),
        ("summaries-quarters.value", {"summaries-quarters.value": "4"}),
        ("summaries-quarters.value", {"summaries-quarters.value": "20", "summaries-breakdown.value": "strand"}),
    ]
    for changed, values in cycle(changes):
        yield changed, base | values


def _record_filters(vocab, today: date, values: dict, prefix: str) -> RecordFilters:
    """The filters a page's controls stand for, parsed as the page parses them."""
    from .filters import FilterState

    def value(name):
        return values.get(f"{prefix}-{name}.value")

    return FilterState.from_controls(
        vocab, today, preset=value("period"), start=value("start"), end=value("end"),
        categories=value("categories"), strands=value("strands"), verification=value("verification"),
        markings=value("markings"), organisations=value("organisations"),
    ).record_filters()


def run(
    incidents: int = 1_000_000,
    database_url: str | None = None,
    repeat: int = 60,
    seed: int = 7,
    say: Callable[[str], None] = print,
    *,
    with_register: bool = True,
    with_cache: bool = False,
) -> dict:
    """Measure, and return the results (also printed). Each callback's timing comes with the
    time of the same question asked in plain SQL (dashboard/bench_baselines.py)."""
    from app import create_app, settle_memory  # the whole app, as it is served

    from . import bench_baselines as plain
    from . import summaries
    from .filters import vocabulary

    settings = Settings.from_env()
    url = database_url or f"sqlite:///{settings.instance_dir / f'bench-{incidents}.db'}"
    db = prepare_database(url, incidents, seed, say)
    user, password = _bench_member(db)
    sci_email, sci_password = _bench_user(db, Role.SCI)
    app = create_app(settings.with_overrides(database_url=url, login_rate_limit="1000 per minute"), db)
    settle_memory()  # as a served worker does
    browser = Browser(app, user.email, password)
    today = date.today()

    with db.session() as session:
        viewer = Viewer.from_user(session.scalar(select(User).where(User.email == user.email)))
        vocab = vocabulary(session, viewer, today)
        choices = summaries.choices(session, today)
    categories = [c for c, _ in vocab.categories]
    strands = [s for s, _ in vocab.strands]
    orgs = [o for o, _ in vocab.organisations]
    districts = [d for d, _ in vocab.districts]
    results: list[Timing] = []
    half = max(10, repeat // 2)

    def plain_sql(question: Callable) -> Callable[[], object]:
        def call():
            with db.factory() as session:
                return question(session)
        return call

    def measure(name: str, calls: list, questions: list | None = None) -> None:
        if not calls:  # (a short run may not reach every kind of change)
            return
        answers = [call() for call in calls]
        timing = replace(_timing(name, [a.seconds for a in answers], [a.sent_bytes for a in answers]),
                         max_json_bytes=max(a.json_bytes for a in answers))
        if questions:
            raw = _timing(name, _timed(questions), [0])
            timing = replace(timing, sql_p50_ms=raw.p50_ms, sql_p95_ms=raw.p95_ms)
        results.append(timing)

    say(f"Warming up ({db.dialect}, {incidents:,} incidents)")
    changes = _filter_changes(today, categories, strands, orgs)
    for changed, values in islice(changes, 17):
        browser.call("overview-summary.children", values, changed)
    overview_mix = list(islice(changes, repeat))
    queries: list[str] = []

    def refresh(changed, values):
        answer = browser.call("overview-summary.children", values, changed)
        queries.append(answer.body["response"]["overview-query"]["data"])
        return answer

    def overview_question(values) -> Callable:
        filters = _record_filters(vocab, today, values, "overview")
        geography = Geography(values["overview-geography.value"])
        return plain_sql(lambda s: plain.overview(s, viewer, filters, geography))

    measure("overview: filter change (map colours, summary, headline)",
            [lambda c=c, v=v: refresh(c, v) for c, v in overview_mix],
            [overview_question(v) for _c, v in overview_mix])
    followed = overview_mix[:half]
    measure("overview: incident locations layer, after a filter change",
            [lambda q=q: browser.call("overview-map.figure@", {"overview-query.data": q + "&layers=points"},
                                      "overview-query.data")
             for q in queries[:half]],
            [plain_sql(lambda s, f=_record_filters(vocab, today, v, "overview"): plain.locations(s, viewer, f))
             for _c, v in followed])
    measure("overview: table view, after a filter change",
            [lambda q=q: browser.call("overview-table.children",
                                      {"overview-query.data": q, "overview-table-collapse.is_open": True},
                                      "overview-query.data")
             for q in queries[:half]],
            [plain_sql(lambda s, f=_record_filters(vocab, today, v, "overview"),
                       g=Geography(v["overview-geography.value"]): plain.table(s, viewer, f, g))
             for _c, v in followed])
    year = RecordFilters(start=today - timedelta(days=364), end=today)
    picked = list(islice(cycle(districts), half))
    measure("overview: district drill-down",
            [lambda d=d: browser.call("overview-area-panel.children",
                                      {"overview-area.value": d, "overview-period.value": "12m",
                                       "overview-geography.value": "district"}, "overview-area.value")
             for d in picked],
            [plain_sql(lambda s, d=d: plain.drill_down(s, viewer, year, d)) for d in picked])

    say("Warming up the trends page")
    trend_mix = _trend_changes(today, categories, districts, orgs)
    for changed, values in islice(trend_mix, 12):
        browser.call("trends-graph.figure", values, changed)
    trend_queries: list[str] = []
    trend_tables: list[dict] = []

    def trend_refresh(changed, values):
        answer = browser.call("trends-graph.figure", values, changed)
        trend_queries.append(answer.body["response"]["trends-query"]["data"])
        trend_tables.append(answer.body["response"]["trends-data"]["data"])
        return answer

    def trend_question(values) -> Callable:
        filters = _record_filters(vocab, today, values, "trends")
        return plain_sql(lambda s: plain.trend(
            s, viewer, filters, grain=values["trends-grain.value"], split=values["trends-split.value"],
            compare_last_year="year" in values["trends-compare.value"]))

    def by_record(values) -> bool:
        return values["trends-split.value"] == "organisation" or bool(values["trends-verification.value"])

    trend_calls = list(islice(trend_mix, repeat * 3))  # (a sixth of the mix is record by record)
    from_rollups = [(c, v) for c, v in trend_calls if not by_record(v)][:repeat]
    record_by_record = [(c, v) for c, v in trend_calls if by_record(v)][:half]
    measure("trends: change (chart, summary, calendar annotations)",
            [lambda c=c, v=v: trend_refresh(c, v) for c, v in from_rollups],
            [trend_question(v) for _c, v in from_rollups])
    measure("trends: change needing record-by-record counts (organisation, verification)",
            [lambda c=c, v=v: trend_refresh(c, v) for c, v in record_by_record],
            [trend_question(v) for _c, v in record_by_record])
    warned = (from_rollups + record_by_record)[:half]
    measure("trends: early warning and trigger events, after a change",
            [lambda q=q: browser.call("trends-warning.children", {"trends-query.data": q}, "trends-query.data")
             for q in trend_queries[:half]],
            [plain_sql(lambda s, f=_record_filters(vocab, today, v, "trends"):
                       plain.weekly(s, viewer, f, f.end, by_category=True)) for _c, v in warned])
    measure("trends: table view, after a change (from the chart's data: no SQL)",
            [lambda d=d: browser.call("trends-table.children",
                                      {"trends-data.data": d, "trends-table-collapse.is_open": True},
                                      "trends-data.data")
             for d in trend_tables[:half]])

    say("Warming up the national summaries page")
    national = Browser(app, sci_email, sci_password)
    summary_mix = _summary_changes()
    for changed, values in islice(summary_mix, 6):
        national.call("summaries-results.children", values, changed)

    def summary_question(values) -> Callable:
        params = {key.removeprefix("summaries-").removesuffix(".value"): value
                  for key, value in values.items() if value not in (None, [])}
        params["area"], params["category"] = params.pop("areas", []), params.pop("categories", [])
        query = summaries.query_from_params(params, today, vocabulary=choices)
        ends = [q.end for q in query.quarter_list]
        return plain_sql(lambda s: plain.summary(s, query.start, ends))

    summary_calls = list(islice(summary_mix, half))
    measure("summaries: change (tables, charts, disclosure control)",
            [lambda c=c, v=v: national.call("summaries-results.children", v, c) for c, v in summary_calls],
            [summary_question(v) for _c, v in summary_calls])

    if with_register:
        results.extend(register_timings(db, viewer, repeat, say))
    if with_cache and not settings.cache_seconds:
        results.extend(cache_timings(db, settings.with_overrides(cache_seconds=300), half, say))
    report = {
        "database": db.dialect,
        "incidents": incidents,
        "cores": os.cpu_count(),
        "worker_memory_mb": _resident_memory_mb(),
        "peak_memory_mb": plain.peak_memory_mb(),
        "cache": "off" if not settings.cache_seconds else "on",
        "results": [r.__dict__ for r in results],
    }
    say(format_report(report))
    db.dispose()
    return report


def _resident_memory_mb() -> float | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def format_report(report: dict) -> str:
    memory = f"worker memory {report['worker_memory_mb']} MB"
    if report.get("peak_memory_mb"):
        memory += f" (peak {report['peak_memory_mb']} MB)"
    cache = {"off": ", figures cache off", "on": ", figures cache on"}.get(report.get("cache", ""), "")
    lines = [
        f"Benchmark: {report['incidents']:,} incidents on {report['database']}, {report['cores']} cores, "
        f"{memory}{cache}",
        "",
        f"| {'what':<58} | runs | p50 ms | p95 ms | max ms | max KB sent | max KB JSON | SQL p50 | SQL p95 |",
        f"|{'-' * 60}|------|--------|--------|--------|-------------|-------------|---------|---------|",
    ]

    def number(value, scale=1.0) -> str:
        return "" if value is None else f"{value / scale:.1f}"

    for r in report["results"]:
        lines.append(
            f"| {r['name']:<58} | {r['runs']:>4} | {r['p50_ms']:>6.1f} | {r['p95_ms']:>6.1f} | {r['max_ms']:>6.1f} "
            f"| {number(r['max_bytes'] or None, 1024):>11} | {number(r.get('max_json_bytes'), 1024):>11} "
            f"| {number(r.get('sql_p50_ms')):>7} | {number(r.get('sql_p95_ms')):>7} |"
        )
    return "\n".join(lines)


def write_json(report: dict, path: str) -> None:
    Path(path).write_text(json.dumps(report, indent=2), encoding="utf-8")


# --- the incident register, exports and imports -----------------------------------------------------


def synthetic_import_rows(n: int, *, seed: int = 11, today: date | None = None,
                          recipient: str = "", organisation: str = "") -> list[list[str]]:
    """`n` rows for the import template (headings first), made up but valid: a mix of districts
    (some by old Northamptonshire codes), categories, strands, dates over five years, points,
    and markings including TLP:RED (naming `recipient`) and TLP:AMBER (listing `organisation`)."""
    import random

    from .geography import read_districts
    from .imports import COLUMN_NAMES
    from .reference import DEFAULT_CATEGORIES, DEFAULT_STRANDS

    rng = random.Random(seed)
    today = today or date.today()
    districts = [d["code"] for d in read_districts()]
    old_codes = ["E07000150", "E07000153", "E07000154"]
    markings = ["TLP:GREEN"] * 14 + ["TLP:CLEAR"] * 3 + ["TLP:AMBER+STRICT"]
    if recipient:
        markings.append("TLP:RED")
    if organisation:
        markings.append("TLP:AMBER")
    rows = [list(COLUMN_NAMES)]
    for i in range(n):
        category, label = rng.choice(DEFAULT_CATEGORIES)
        marking = rng.choice(markings)
        point = rng.random() < 0.5
        day = today - timedelta(days=rng.randrange(5 * 365))
        row = {
            "title": f"{label} reported ({i + 1})",
            "occurred_on": day.isoformat() if i % 2 else day.strftime("%d/%m/%Y"),
            "date_precision": rng.choice(["day", "day", "day", "week", "month"]),
            "area_code": rng.choice(old_codes) if i % 50 == 0 else rng.choice(districts),
            "category": category if i % 3 else label,
            "strands": "; ".join(s for s, _, _ in rng.sample(DEFAULT_STRANDS, rng.randrange(3))),
            "description": f"Seen by a partner ({i + 1}).",
            "latitude": f"{rng.uniform(52.3, 52.9):.5f}" if point else "",
            "longitude": f"{rng.uniform(-2.0, -1.0):.5f}" if point else "",
            "location_precision": rng.choice(["exact", "approximate"]) if point else "area",
            "severity": str(rng.randint(1, 4)),
            "verification": "reported",
            "marking": marking,
            "recipients": recipient if marking == "TLP:RED" else "",
            "listed_organisations": organisation if marking == "TLP:AMBER" else "",
        }
        rows.append([row[c] for c in COLUMN_NAMES])
    return rows


def rows_as_csv(rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def rows_as_xlsx(rows: list[list[str]]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Incidents")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()



def _in_session(db: Database, work: Callable) -> Callable[[], object]:
    """A timed call: `work(session)` in a session of its own, rolled back (a bench writes nothing)."""
    def call():
        with db.factory() as session:
            try:
                return work(session)
            finally:
                session.rollback()
    return call

def _timed(calls: list[Callable[[], object]]) -> list[float]:
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def register_timings(db: Database, viewer: Viewer, repeat: int = 60, say: Callable[[str], None] = print
                     ) -> list[Timing]:
    """The incident register's reads and an export, as the database and `dashboard.register` /
    `dashboard.exports` answer them (each in its own session, rolled back: the export's audit
    event is not kept)."""
    from . import exports, register

    def grid_filter(column: str, text: str) -> dict:
        return {column: {"filterType": "text", "type": "contains", "filter": text}}

    in_session = partial(_in_session, db)

    def page(query, start=0, size=100):
        return in_session(lambda s: register.rows(s, viewer, query, start, start + size))

    Q = register.RegisterQuery
    leaflets = Q(search="leaflets")
    related = Q.from_grid(None, "leaflets", None, grid_filter("category", "Literature and leaflets"))
    unrelated = Q.from_grid(None, "leaflets", None, grid_filter("category", "Stickers and graffiti"))
    with db.factory() as session:
        edge = register.rows(session, viewer, Q(), 9_999, 10_000).rows
    ten_thousand = Q(filters=RecordFilters(start=date.fromisoformat(edge[0]["occurred_on"]))) if edge else Q()
    with db.factory() as session:
        export_rows = register.count(session, viewer, ten_thousand)

    say(f"Timing the register ({repeat} runs of each page)")
    few = max(10, repeat // 6)
    plan = [
        ("register: first page, newest first (100 rows)", [page(Q())] * repeat),
        ("register: a page deep in (rows 5,000-5,100)", [page(Q(), 5_000 + i) for i in range(repeat)]),
        ("register: oldest first, first page", [page(Q(sort=(("occurred_on", "asc"),)))] * repeat),
        ("register: quick search 'leaflets', first page", [page(leaflets)] * repeat),
        ("register: search 'leaflets', rows 5,000-5,100", [page(leaflets, 5_000)] * few),
        ("register: search 'leaflets' + its own category", [page(related)] * repeat),
        ("register: search 'leaflets' + another category (0 rows)", [page(unrelated)] * repeat),
        ("register: category and district filters, first page",
         [page(Q.from_grid(None, "", None, grid_filter("category", "hate crime") | grid_filter("area", "leic")))]
         * repeat),
        ("register: title contains 'march' (common)", [page(Q.from_grid(None, "", None, grid_filter("title", "march")))]
         * few),
        ("register: title contains 'zzz' (no match: reads every row)",
         [page(Q.from_grid(None, "", None, grid_filter("title", "zzz")))] * few),
        ("register: count, no filters ('N incidents')", [in_session(lambda s: register.count(s, viewer, Q()))] * repeat),
        ("register: count, search 'leaflets'", [in_session(lambda s: register.count(s, viewer, leaflets))] * few),
        ("register: count, search 'leaflets' + category", [in_session(lambda s: register.count(s, viewer, related))]
         * few),
        (f"export: {export_rows:,} rows as CSV (count, read, write, audit)",
         [in_session(lambda s: exports.export_incidents(s, viewer, ten_thousand, "csv", "benchmark run"))] * few),
        (f"export: {export_rows:,} rows as XLSX",
         [in_session(lambda s: exports.export_incidents(s, viewer, ten_thousand, "xlsx", "benchmark run"))] * few),
    ]
    for call in (plan[0][1][0], plan[3][1][0]):  # warm up the caches
        call()
    return [_timing(name, _timed(calls), [0]) for name, calls in plan]


def import_timing(db: Database, rows: int = 100_000, fmt: str = "csv", *, keep: bool = False,
                  say: Callable[[str], None] = print) -> dict:
    """Import `rows` synthetic incidents as a police member, timed from the file's bytes to the
    end of the transaction. Unless `keep`, the transaction is rolled back afterwards (the
    database is left as it was; the time then leaves out the commit, which is timed apart on a
    kept import)."""
    from . import imports

    with db.session() as session:
        user = session.scalars(
            select(User).join(Organisation).where(User.role == Role.MEMBER, Organisation.name.like("%Police%"))
            .order_by(User.id)
        ).first()
        other = session.scalars(
            select(User).where(User.role == Role.MEMBER, User.organisation_id != user.organisation_id).order_by(User.id)
        ).first()
        viewer = Viewer.from_user(user)
        organisation = session.get(Organisation, other.organisation_id).name
    table = synthetic_import_rows(rows, recipient=other.email, organisation=organisation)
    content = rows_as_csv(table) if fmt == "csv" else rows_as_xlsx(table)
    say(f"Importing {rows:,} rows ({fmt}, {len(content) / 1024 / 1024:.1f} MB) into {db.dialect}")
    with db.factory() as session:
        started = time.perf_counter()
        report = imports.import_incidents(session, viewer, f"bench.{fmt}", content)
        checked_and_added = time.perf_counter() - started
        if keep:
            session.commit()
        else:
            session.rollback()
        total = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"The benchmark import failed: {report.summary()} {report.errors[:3]}")
    result = {"database": db.dialect, "rows": rows, "format": fmt, "megabytes": round(len(content) / 1024 / 1024, 1),
              "import_seconds": round(checked_and_added, 1), "committed": keep,
              "seconds_with_commit_or_rollback": round(total, 1)}
    say(f"Imported {rows:,} rows in {checked_and_added:.1f} s ({'committed' if keep else 'rolled back'}: "
        f"{total:.1f} s in all)")
    return result


def meeting_timings(db: Database, repeat: int = 30, say: Callable[[str], None] = print) -> list[Timing]:
    """The meetings, action tracker, outcome, joint party statement and briefing pack, as the
    chair asks for them (each in its own session, rolled back)."""
    from . import actions, briefing, meetings, statement
    from .since_meeting import since_last_meeting

    with db.session() as session:
        chair = session.scalars(select(User).where(User.role == Role.CHAIR).order_by(User.id)).first()
        if chair is None:
            raise RuntimeError("The benchmark database has no chair: seed it with seed-demo.")
        viewer = Viewer.from_user(chair)
    today = date.today()
    with db.factory() as session:
        linked = session.execute(
            select(action_areas.c.action_id, action_areas.c.area_code).order_by(action_areas.c.action_id.desc())
        ).first()
        statements = statement.statements(session, viewer)

    in_session = partial(_in_session, db)

    def pdf(session):
        return briefing.render_pdf(briefing.build_pack(session, viewer, today))

    say(f"Timing meetings, actions and the briefing pack ({repeat} runs of each)")
    few = max(3, repeat // 10)
    plan = [
        ("meetings: the list", [in_session(lambda s: meetings.list_meetings(s, viewer, today))] * repeat),
        ("actions: tracker, every action", [in_session(lambda s: actions.tracker(
            s, viewer, actions.ActionFilters(), today))] * repeat),
        ("actions: tracker, my organisation's open actions", [in_session(lambda s: actions.tracker(
            s, viewer, actions.ActionFilters(mine=True, include_closed=False), today))] * repeat),
        ("actions: the counts by rating", [in_session(lambda s: actions.tracker_counts(
            s, viewer, actions.ActionFilters(), today))] * repeat),
    ]
    if linked:
        action_id, area = linked
        plan += [
            ("actions: one action's page data", [in_session(lambda s: actions.get_action(
                s, viewer, action_id, today))] * repeat),
            ("actions: the outcome chart of one district", [in_session(lambda s: actions.outcome(
                s, viewer, action_id, area, today))] * repeat),
        ]
    if statements:
        plan.append(("statement: adoption by district and elections", [in_session(
            lambda s: statement.adoption(s, viewer, statements[0][0], today))] * repeat))
    plan += [
        ("since the last meeting (the pack's figures)", [in_session(
            lambda s: since_last_meeting(s, viewer, today))] * few),
        ("briefing pack: build and render the HTML", [in_session(
            lambda s: briefing.render_html(briefing.build_pack(s, viewer, today)))] * few),
        ("briefing pack: build and render the PDF", [in_session(pdf)] * few),
    ]
    plan[1][1][0]()  # warm up
    timings = []
    for name, calls in plan:
        seconds, sizes = [], []
        for call in calls:
            started = time.perf_counter()
            result = call()
            seconds.append(time.perf_counter() - started)
            # the pack's size as sent (HTML, PDF); the other reads are not responses
            sizes.append(len(result.encode() if isinstance(result, str) else result)
                         if isinstance(result, str | bytes) else 0)
        timings.append(_timing(name, seconds, sizes))
    return timings


def summary_timings(db: Database, repeat: int = 30, say: Callable[[str], None] = print) -> list[Timing]:
    """The national summaries as the SCI page, its downloads and the API ask for them: the
    choices, whole summaries for a mix of queries (sizes: the API's JSON), disclosure control of
    the largest table alone, and the downloads (each in its own session, rolled back)."""
    from . import disclosure, summaries, summary_exports

    with db.session() as session:
        sci = session.scalars(select(User).where(User.role == Role.SCI).order_by(User.id)).first()
        if sci is None:
            raise RuntimeError("The benchmark database has no SCI user: seed it with seed-demo.")
        viewer = Viewer.from_user(sci)
    today = date.today()
    with db.factory() as session:
        vocabulary = summaries.choices(session, today)
    districts = [code for code, _ in vocabulary.districts]
    categories = [code for code, _ in vocabulary.categories]

    def query(**params) -> summaries.SummaryQuery:
        return summaries.query_from_params(params, today, vocabulary)

    in_session = partial(_in_session, db)

    def as_json(q: summaries.SummaryQuery) -> Callable[[], object]:
        return in_session(lambda s: json.dumps(summaries.to_dict(summaries.build(s, viewer, q))))

    def as_download(q: summaries.SummaryQuery, fmt: str) -> Callable[[], object]:
        """The whole download: the summary built, the file made and the audit event written."""
        return in_session(lambda s: summary_exports.export_summary(
            s, viewer, summaries.build(s, viewer, q), fmt, "benchmark run").content)

    default = query()
    with db.factory() as session:  # the true counts of the default's largest table, for protect() alone
        areas = summaries._areas(session, default)
        counts = summaries._incident_counts(session, default, areas)
    columns = sorted({column for (_q, _u, column) in counts})
    units = {code: i for i, (code, _) in enumerate(areas.units)}
    grid = [[0] * len(columns) for _ in units]
    for (_q, unit, column), n in counts.items():
        grid[units[unit]][columns.index(column)] += n

    say(f"Timing the national summaries ({repeat} runs of each)")
    few = max(3, repeat // 3)
    plan = [
        ("summaries: the choices (districts, categories, quarters)",
         [in_session(lambda s: summaries.choices(s, today))] * repeat),
        ("summaries: default (4 quarters, districts by category)", [as_json(default)] * repeat),
        ("summaries: police force areas by strand, 4 quarters",
         [as_json(query(geography="police-force-area", breakdown="strand"))] * repeat),
        ("summaries: regions by category, 8 quarters", [as_json(query(geography="region", quarters="8"))] * repeat),
        ("summaries: 3 districts and 2 categories, 4 quarters",
         [as_json(query(area=districts[:3], category=categories[:2]))] * repeat),
        ("summaries: districts by strand, 20 quarters (the most)",
         [as_json(query(quarters=str(summaries.MAX_QUARTERS), breakdown="strand"))] * few),
        (f"disclosure control alone: {len(grid)} x {len(columns)} table with totals",
         [lambda: disclosure.protect(grid)] * repeat),
        ("summaries: default, downloaded as CSV", [as_download(default, "csv")] * repeat),
        ("summaries: default, downloaded as Excel", [as_download(default, "xlsx")] * few),
        ("summaries: default, downloaded as the one-page PDF", [as_download(default, "pdf")] * few),
    ]
    plan[1][1][0]()  # warm up
    timings = []
    for name, calls in plan:
        seconds, sizes = [], []
        for call in calls:
            started = time.perf_counter()
            result = call()
            seconds.append(time.perf_counter() - started)
            sizes.append(len(result.encode()) if isinstance(result, str) else
                         len(result) if isinstance(result, bytes) else 0)
        timings.append(_timing(name, seconds, sizes))
    return timings


def retention_timings(db: Database, repeat: int = 30, say: Callable[[str], None] = print) -> list[Timing]:
    """The retention review queue as an admin's page asks for it (the count, the first and the
    last page), and a redaction of one page of incidents, rolled back (a bench writes nothing)."""
    from . import retention

    with db.session() as session:
        admin = session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id)).first()
        if admin is None:
            raise RuntimeError("The benchmark database has no admin: seed it with seed-demo.")
        viewer = Viewer.from_user(admin)
    today, months = date.today(), Settings.from_env().retention_months
    in_session = partial(_in_session, db)
    with db.factory() as session:
        last = retention.queue(session, viewer, today=today, months=months).pages
        first_page = retention.queue(session, viewer, retention.QueueFilters(kind="incident"), today=today,
                                     months=months)
    keys = [f"{record.kind}:{record.id}" for record in first_page.records]
    say(f"Timing the retention review queue ({repeat} runs of each; {first_page.total:,} incidents due)")
    few = max(3, repeat // 5)
    plan = [
        ("retention: the count of records due", [in_session(
            lambda s: retention.count_due(s, viewer, today=today, months=months))] * repeat),
        ("retention: the first page with its count", [in_session(
            lambda s: retention.queue(s, viewer, today=today, months=months))] * repeat),
        (f"retention: the last page ({last:,})", [in_session(
            lambda s: retention.queue(s, viewer, today=today, months=months, page=last))] * repeat),
        (f"retention: redacting {len(keys)} incidents (rolled back)", [in_session(
            lambda s: retention.redact(s, viewer, keys, "benchmark run", today=today, months=months))] * few),
    ]
    return [_timing(name, _timed(calls), []) for name, calls in plan]


def main(argv: list[str] | None = None) -> int:
    """`python -m dashboard.bench register|import|meetings|summaries|retention ...`: the register's,
    the import's, the meetings' and briefing pack's, the national summaries' and the retention
    review's timings on an
    existing demo database (e.g. one made by `python -m dashboard bench`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dashboard.bench")
    parser.add_argument("what", choices=["register", "import", "meetings", "summaries", "retention", "callbacks",
                                         "naive"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--rows", type=int, default=100_000, help="import: rows to import (default 100,000)")
    parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    parser.add_argument("--keep", action="store_true", help="import: commit the import (default: roll it back)")
    parser.add_argument("--json", default=None, help="callbacks, naive: also write the report to this file")
    args = parser.parse_args(argv)
    db = Database(args.database_url)
    with db.session() as session:
        if session.scalar(select(AppSetting.value).where(AppSetting.key == "demo_mode")) != "true":
            raise SystemExit(f"{args.database_url} is not a demo database: the benchmark needs its own.")
        incidents = session.scalar(select(func.count()).select_from(Incident))
    if args.what == "import":
        import_timing(db, args.rows, args.format, keep=args.keep)
        return 0
    if args.what in {"callbacks", "naive"}:
        db.dispose()
        report = (run(incidents, args.database_url, args.repeat, with_register=False, with_cache=True)
                  if args.what == "callbacks" else naive_report(args.database_url, args.repeat))
        if args.json:
            write_json(report, args.json)
        return 0
    if args.what == "meetings":
        results = meeting_timings(db, max(args.repeat // 2, 3))
    elif args.what == "summaries":
        results = summary_timings(db, max(args.repeat // 2, 3))
    elif args.what == "retention":
        results = retention_timings(db, max(args.repeat // 2, 3))
    else:
        viewer, _ = _bench_viewer(db)
        results = register_timings(db, viewer, args.repeat)
    print(format_report({"database": db.dialect, "incidents": incidents, "cores": os.cpu_count(),
                         "worker_memory_mb": _resident_memory_mb(), "results": [r.__dict__ for r in results]}))
    return 0


def cache_timings(db: Database, settings: Settings, repeat: int = 30, say: Callable[[str], None] = print) -> list[Timing]:
    """The overview's figures (12 months, districts) for a police member with the figures cache
    (dashboard/cache.py) as `settings` set it up: every call a miss (a new generation before
    each), then every call a hit. The cache is detached again afterwards."""
    from . import cache

    viewer, _user = _bench_viewer(db)
    today = date.today()
    filters = RecordFilters(start=today - timedelta(days=365), end=today)
    figures = cache.attach(db, settings)
    if figures is None:
        raise RuntimeError("CACHE_SECONDS is 0: there is no cache to time.")
    try:
        def overview() -> object:
            with db.factory() as session:
                return area_overview(session, viewer, filters, Geography.DISTRICT)

        def miss() -> object:
            figures.bump()
            return overview()

        say(f"Timing the figures cache ({type(figures.store).__name__})")
        results = [
            _timing("figures cache: the map's figures computed (a miss)", _timed([miss] * repeat), []),
            _timing("figures cache: the map's figures from the cache (a hit)", _timed([overview] * repeat), []),
        ]
    finally:
        cache.detach(db)
    return results


def naive_report(database_url: str, repeat: int, say: Callable[[str], None] = print) -> dict:
    """The naive way's timings (bench_baselines), in this process: run it in one of its own."""
    from . import bench_baselines as plain

    db = Database(database_url)
    viewer, _user = _bench_viewer(db)
    with db.session() as session:
        incidents = session.scalar(select(func.count()).select_from(Incident))
    say(f"Timing the naive way ({repeat} runs of each)")
    results = plain.naive_timings(db.factory, viewer, plain.naive_questions(date.today()), repeat)
    db.dispose()
    return {"database": db.dialect, "incidents": incidents, "peak_memory_mb": plain.peak_memory_mb(),
            "results": results}


def _bench_viewer(db: Database) -> tuple[Viewer, User]:
    with db.session() as session:
        user = session.scalars(
            select(User).join(Organisation).where(User.role == Role.MEMBER, Organisation.name.like("%Police%"))
            .order_by(User.id)
        ).first()
        if user is None:
            raise RuntimeError("The benchmark database has no police member: seed it with seed-demo.")
        return Viewer.from_user(user), user


if __name__ == "__main__":
    raise SystemExit(main())
