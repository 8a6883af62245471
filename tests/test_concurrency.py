"""Concurrency: many people saving one record at once, and an import while others read the map.

On both backends (the `db` fixture):
- 100 edits of one incident started together: each either saves on the version it read or is told
  of a conflict (nothing else, nothing hangs); every save is in the history with the version it
  produced, and none is silently overwritten. With each person saving again after a conflict
  (re-reading and re-applying their change), all 100 changes end up in the record.
- An import of 20,000 incidents while another person keeps reloading the overview map: the map
  keeps answering while the import runs (it is not held up for the import's duration), and its
  figures show either none or all of the import, never part of it (the import is one transaction).
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from dashboard import audit, bench, imports, overview
from dashboard import incidents as inc
from dashboard.access import RecordFilters, Viewer
from dashboard.models import Incident, RecordChange, User
from dashboard.reference import Marking
from dashboard.rollups import incidents_by_area
from tests.conftest import add_incident

EDITORS = 100
# The whole run of 100 edits must finish within this (seconds): a deadlock or a lost wake-up
# fails the test instead of hanging it.
EDIT_DEADLINE = 120
RETRY_LIMIT = 200
IMPORT_ROWS = 20_000
MEASURED = {}  # figures printed at the end of the run (-s), for the record


def viewer_of(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def run_together(work, count: int, deadline: float) -> list:
    """Run work(i) in `count` threads released together by a barrier; each result or exception.
    Fails (rather than hangs) when they have not all finished within `deadline` seconds."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=deadline)
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001 - reported per thread below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    ends = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, ends - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {count} editors had not finished after {deadline} s (a deadlock?)"
    return results


def word(i: int) -> str:
    return f"w{i:03d}"


def new_incident(db, people) -> tuple[int, int]:
    """A partner's incident, and its version now."""
    with db.session() as s:
        incident = add_incident(s, people.police_member, Marking.GREEN, title="Leaflets on Elm Road")
        incident.description = "Seen:"
        s.flush()
        return incident.id, incident.version


def edit(db, user, incident_id: int, i: int) -> inc.IncidentView:
    """Read the incident's current version and append this editor's word to its description."""
    with db.session() as s:
        viewer = viewer_of(s, user)
        current = inc.get_incident(s, viewer, incident_id)
        form = replace(inc.IncidentForm.from_view(current), description=f"{current.description} {word(i)}")
        return inc.update_incident(s, viewer, incident_id, current.version, form)


def updates_in_history(db, people, incident_id: int):
    with db.session() as s:
        entries = inc.incident_history(s, viewer_of(s, people.police_member), incident_id)
        incident = s.get(Incident, incident_id)
        rows = s.scalar(select(func.count()).select_from(RecordChange).where(
            RecordChange.record_type == "incident", RecordChange.record_id == incident_id))
        chain = audit.verify(s)
    assert rows == len(entries)
    assert chain.ok, chain.problem  # concurrent saves did not fork the audit log's hash chain
    return incident, [e for e in entries if e.action == "updated"]


def description_after(entry) -> str:
    return next(c.after for c in entry.changes if c.field == inc.FIELD_LABELS["description"])


@pytest.mark.slow
def test_100_concurrent_edits_each_save_or_conflict_and_none_is_lost(db, people):
    incident_id, first = new_incident(db, people)
    editors = [people.police_member, people.police_member2, people.charity_chair]  # all may edit it

    started = time.perf_counter()
    results = run_together(lambda i: edit(db, editors[i % len(editors)], incident_id, i), EDITORS, EDIT_DEADLINE)
    MEASURED[f"{db.dialect}: 100 edits at once (s)"] = time.perf_counter() - started

    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, inc.IncidentConflictError)]
    assert not unexpected, f"edits failed with something other than a conflict: {unexpected[:3]!r}"
    saved = {i: r for i, r in enumerate(results) if isinstance(r, inc.IncidentView)}
    conflicts = [r for r in results if isinstance(r, inc.IncidentConflictError)]
    assert len(saved) + len(conflicts) == EDITORS
    assert saved, "at least the first save goes through"
    MEASURED[f"{db.dialect}: of 100 edits at once, saved and conflicts"] = (len(saved), len(conflicts))
    # Each conflict tells the person who saved in between and shows the version saved now.
    assert all(c.current.version > first and c.changed_by for c in conflicts)

    incident, updates = updates_in_history(db, people, incident_id)
    assert incident.version == first + len(saved)
    # One "updated" entry per save, in version order, each with the version its save produced...
    assert [e.version for e in updates] == list(range(first + 1, first + 1 + len(saved)))
    by_version = {view.version: i for i, view in saved.items()}
    assert sorted(by_version) == [e.version for e in updates], "two saves claimed the same version"
    # ...and the change that save made: its own word appended to what it read (the save before).
    text = "Seen:"
    for entry in updates:
        i = by_version[entry.version]
        text = f"{text} {word(i)}"
        assert description_after(entry) == text == saved[i].description
    # The final text is the last save's, and it holds every saved word (none overwritten).
    assert incident.description == text
    assert re.findall(r"w\d{3}", incident.description) == [word(by_version[v]) for v in sorted(by_version)]


RETRYING_EDITORS = 40  # (each retries until it lands: the work grows with the square of the number)


@pytest.mark.slow
def test_concurrent_edits_retrying_after_a_conflict_all_land(db, people):
    """40 people saving at once, each trying again after a conflict as the form lets them: every
    edit lands, in turn, and none is lost. (The 100 at once are in the test above.)"""
    incident_id, first = new_incident(db, people)
    editors = [people.police_member, people.police_member2, people.charity_chair]
    tries = [0] * RETRYING_EDITORS

    def edit_until_saved(i: int) -> inc.IncidentView:
        pause = random.Random(i)
        for attempt in range(1, RETRY_LIMIT + 1):
            tries[i] += 1
            try:
                return edit(db, editors[i % len(editors)], incident_id, i)  # re-reads, re-applies
            except inc.IncidentConflictError:
                time.sleep(pause.uniform(0, 0.02 * min(attempt, 10)))  # as a person would: not at once
        raise AssertionError(f"editor {i} could not save in {RETRY_LIMIT} tries")

    started = time.perf_counter()
    results = run_together(edit_until_saved, RETRYING_EDITORS, EDIT_DEADLINE)
    MEASURED[f"{db.dialect}: {RETRYING_EDITORS} edits at once, retrying (s)"] = time.perf_counter() - started
    MEASURED[f"{db.dialect}: tries per edit (mean, max)"] = (statistics.mean(tries), max(tries))

    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} editors did not save: {failed[:3]!r}"
    incident, updates = updates_in_history(db, people, incident_id)
    assert incident.version == first + RETRYING_EDITORS
    assert [e.version for e in updates] == list(range(first + 1, first + 1 + RETRYING_EDITORS))
    # No lost update: every editor's word is in the final text, once.
    assert sorted(re.findall(r"w\d{3}", incident.description)) == [word(i) for i in range(RETRYING_EDITORS)]
    assert incident.description == description_after(updates[-1])


# --- an import while others read ---------------------------------------------------------------------


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    ordered = sorted(seconds)
    return (statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], ordered[-1])


@pytest.mark.slow
def test_an_import_does_not_hold_up_the_overview(db, people):
    if db.dialect == "sqlite":  # readers go on reading while the import holds the write lock
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    today = date.today()
    with db.session() as s:
        importer = viewer_of(s, people.police_member)
        reader = viewer_of(s, people.police_member2)
        council_email, council_name = people.council_member.email, people.council.name
    table = bench.synthetic_import_rows(IMPORT_ROWS, recipient=council_email, organisation=council_name, today=today)
    content = bench.rows_as_csv(table)
    # The synthetic rows span five years back from today; a period that does not start on the 1st
    # makes the overview count from the monthly counts and from the incidents at its edges.
    filters = RecordFilters(start=today - timedelta(days=5 * 365 + 12), end=today)

    def overview_total() -> int:
        with db.factory() as s:
            return overview.area_overview(s, reader, filters).total

    before = overview_total()
    quiet = []  # the same reads with nothing else happening
    for _ in range(15):
        t = time.perf_counter()
        overview_total()
        quiet.append(time.perf_counter() - t)

    reads: list[tuple[float, float, int]] = []  # (start, end, total seen)
    importing, done = threading.Event(), threading.Event()
    importer_thread: dict[str, int] = {}
    moments: dict[str, float] = {}  # when the import began, first wrote, began to commit, ended

    def note_import(name: str):
        def listener(*_args):
            if threading.get_ident() == importer_thread.get("id"):
                if name != "write" or not _args[2].lstrip().upper().startswith("SELECT") or \
                        "NEXTVAL" in _args[2].upper():
                    moments.setdefault(name, time.perf_counter())
        return listener

    listeners = [("before_cursor_execute", note_import("write")), ("commit", note_import("commit"))]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)

    def keep_reading() -> None:
        importing.wait()
        while not done.is_set():
            t = time.perf_counter()
            total = overview_total()
            reads.append((t, time.perf_counter(), total))

    def run_import() -> None:
        importer_thread["id"] = threading.get_ident()
        importing.set()
        moments["start"] = time.perf_counter()
        try:
            with db.session() as s:
                report = imports.import_incidents(s, importer, "incidents.csv", content, today=today)
                assert report.ok, report.summary()
        except BaseException as error:  # noqa: BLE001 - checked below
            moments["error"] = error
        finally:
            moments["end"] = time.perf_counter()
            time.sleep(0.3)  # a few reads after the commit
            done.set()

    reader_thread = threading.Thread(target=keep_reading, daemon=True)
    worker = threading.Thread(target=run_import, daemon=True)
    reader_thread.start()
    worker.start()
    worker.join(180)
    reader_thread.join(60)
    for name, listener in listeners:
        event.remove(db.engine, name, listener)
    assert not worker.is_alive() and not reader_thread.is_alive(), "the import or the reader hung"
    assert "error" not in moments, moments.get("error")
    after = overview_total()
    assert after > before

    # The map kept answering while the import held its transaction open (from its first write to
    # its commit): many reads finished inside that stretch, and none waited for the import.
    began, ended = moments["write"], moments["end"]
    writing = ended - began
    during = [end - start for start, end, _ in reads if start >= began and end <= ended]
    across = [end - start for start, end, _ in reads if end > began and start < ended]
    assert len(during) >= 5, f"only {len(during)} reads finished during {writing:.1f} s of the import's writing"
    assert max(across) < writing / 2, f"a read took {max(across):.2f} s of the import's {writing:.1f} s"
    # Nothing of the import was shown before it committed, and all of it once it had.
    assert {total for _, end, total in reads if end < moments["commit"]} == {before}
    assert {total for start, _, total in reads if start > ended} == {after}

    MEASURED[f"{db.dialect}: import of {IMPORT_ROWS:,} rows (s, of which writing)"] = (ended - moments["start"], writing)
    MEASURED[f"{db.dialect}: overview reads p50/p95/max, quiet (s)"] = percentiles(quiet)
    MEASURED[f"{db.dialect}: overview reads p50/p95/max, during the import's writing (s)"] = percentiles(during)
    MEASURED[f"{db.dialect}: overview reads during the import's writing"] = len(during)
    MEASURED[f"{db.dialect}: overview reads showing part of the import"] = sum(
        total not in (before, after) for _, _, total in reads)


def small_import(rows: list[tuple[str, str]]) -> bytes:
    """An import file of TLP:GREEN incidents in Birmingham, one per (day, title)."""
    table = [list(imports.COLUMN_NAMES)]
    for day, title in rows:
        values = {"title": title, "occurred_on": day, "area_code": "E08000025", "category": "literature",
                  "marking": "TLP:GREEN"}
        table.append([values.get(name, "") for name in imports.COLUMN_NAMES])
    return bench.rows_as_csv(table)


def test_a_figure_read_while_an_import_commits_counts_all_of_it_or_none(db, people):
    with db.session() as s:
        importer = viewer_of(s, people.police_member)
        reader = viewer_of(s, people.police_member2)
    # 10 incidents in a whole month of the period (read from the monthly counts) and 10 in its
    # last, partial month (counted from the incidents).
    content = small_import([("2024-06-15", f"Whole month {n}") for n in range(10)]
                           + [("2025-06-15", f"Edge of the period {n}") for n in range(10)])
    filters = RecordFilters(start=date(2024, 1, 10), end=date(2025, 6, 20))
    reader_thread = threading.get_ident()
    statements = []

    def import_commits_meanwhile(*_args) -> None:
        """Just before the figure's second statement, someone else's import commits."""
        if threading.get_ident() != reader_thread or statements:
            return
        statements.append(1)
        committer = threading.Thread(target=lambda: _import(db, importer, content))
        committer.start()
        committer.join(60)

    with db.factory() as s:
        before = sum(incidents_by_area(s, reader, filters).values())
    event.listen(db.engine, "after_cursor_execute", import_commits_meanwhile)
    try:
        with db.factory() as s:
            seen = sum(incidents_by_area(s, reader, filters).values())
    finally:
        event.remove(db.engine, "after_cursor_execute", import_commits_meanwhile)
    with db.factory() as s:
        after = sum(incidents_by_area(s, reader, filters).values())
    assert (before, after) == (0, 20)
    assert seen in (before, after), f"the figure counted {seen} of the import's 20 incidents"


def _import(db, importer: Viewer, content: bytes) -> None:
    with db.session() as s:
        report = imports.import_incidents(s, importer, "more.csv", content)
        assert report.ok, report.summary()


def teardown_module(_module) -> None:
    for name, value in MEASURED.items():
        shown = (", ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in value)
                 if isinstance(value, tuple) else f"{value:.3f}")
        print(f"\n{name}: {shown}", end="")
