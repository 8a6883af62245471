"""Reading the audit log: search and export for administrators only (dashboard.audit_log), and
the /admin/audit page through the real app, as dash-renderer calls its callbacks."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from app import create_app
from dashboard import audit, audit_log
from dashboard.access import Viewer
from dashboard.exports import ExportError
from dashboard.models import AuditEvent, User
from tests.conftest import TEST_PASSWORD, csrf_from, field_error_text, make_people
from tests.test_pages import open_page


def viewer_of(db, user) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user.id))


def add(db, action, *, user=None, actor="", record=None, reason=None, at=None, detail=None, n=1):
    with db.session() as s:
        for _ in range(n):
            event = audit.record(s, action, user_id=user.id if user else None,
                                 actor=actor or (user.email if user else ""),
                                 record_type=record[0] if record else None,
                                 record_id=record[1] if record else None, reason=reason,
                                 ip_address="198.51.100.7", detail=detail)
            if at:
                event.at = at


@pytest.fixture
def admin(db, people):
    return viewer_of(db, people.council_admin)


def test_only_active_admins_may_read_the_log(db, people, admin):
    q = audit_log.AuditQuery()
    for user in (people.police_member, people.charity_chair, people.sci):
        with db.session() as s, pytest.raises(PermissionError):
            audit_log.search(s, viewer_of(db, user), q)
        with db.session() as s, pytest.raises(PermissionError):
            audit_log.export_csv(s, viewer_of(db, user), q, "for the quarterly review")
    with db.session() as s, pytest.raises(PermissionError):
        audit_log.search(s, replace(admin, organisation_active=False), q)
    with db.session() as s, pytest.raises(PermissionError):
        audit_log.verify(s, replace(admin, active=False))
    with db.session() as s:
        assert audit_log.search(s, admin, q) == ([], 0)


def test_search_filters_and_pages_newest_first(db, people, admin):
    pat, cora = people.police_member, people.council_member
    add(db, "sign-in", user=pat, n=60)
    add(db, "incident viewed", user=cora, record=("incident", "42"), reason="Safeguarding_100% referral")
    add(db, "sign-in", user=cora, at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 1 July 00:30 in the UK
    with db.session() as s:
        rows, total = audit_log.search(s, admin, audit_log.AuditQuery())
        assert total == 62 and len(rows) == 50 and rows[0].id == 62 and rows[-1].id == 13
        rows, _ = audit_log.search(s, admin, audit_log.AuditQuery(page=2))
        assert [r.id for r in rows] == list(range(12, 0, -1))
        assert audit_log.search(s, admin, audit_log.AuditQuery(action="sign-in"))[1] == 61
        assert audit_log.search(s, admin, audit_log.AuditQuery(user_id=cora.id))[1] == 2
        rows, total = audit_log.search(s, admin, audit_log.AuditQuery(text="SAFEGUARDING_100% incident"))
        assert total == 1 and rows[0].record == "incident 42" and rows[0].who == "Cora Council (cora.council@council.example)"
        assert audit_log.search(s, admin, audit_log.AuditQuery(text="100%%"))[1] == 0  # wildcards are literal
        assert audit_log.search(s, admin, audit_log.AuditQuery(text="42"))[1] == 1
        july = audit_log.AuditQuery(start=date(2026, 7, 1), end=date(2026, 7, 1))
        assert [r.id for r in audit_log.search(s, admin, july)[0]] == [62]
        june = audit_log.AuditQuery(end=date(2026, 6, 30))
        assert audit_log.search(s, admin, june)[1] == 0
        assert audit_log.actions(s, admin) == ["incident viewed", "sign-in"]
        assert (cora.id, "Cora Council (cora.council@council.example)") in audit_log.user_choices(s, admin)


def test_the_export_is_escaped_audited_and_needs_a_reason(db, people, admin):
    add(db, "=HYPERLINK(\"http://evil\")", actor="@attacker", reason="-2+3", detail={"x": "=1"})
    add(db, "sign-in", user=people.police_member, n=3)
    query = audit_log.AuditQuery(text="hyperlink")
    with db.session() as s, pytest.raises(ExportError) as refused:
        audit_log.export_csv(s, admin, query, "  too   short ")
    assert refused.value.field == "reason"
    with db.session() as s:
        made = audit_log.export_csv(s, admin, query, "Quarterly access review", "203.0.113.9",
                                    today=date(2026, 11, 24))
    assert made.filename == "audit-log-2026-11-24.csv" and made.rows == 1
    table = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert table[0] == list(audit_log.CSV_COLUMNS)
    row = dict(zip(table[0], table[1], strict=True))
    assert row["Action"] == "'=HYPERLINK(\"http://evil\")" and row["Actor"] == "'@attacker"
    assert row["Reason"] == "'-2+3" and row["Details"] == '{"x": "=1"}'
    assert len(row["Entry hash"]) == 64
    with db.session() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert (last.action, last.reason, last.ip_address, last.record_id) == (
            "audit-exported", "Quarterly access review", "203.0.113.9", made.filename)
        assert last.detail["rows"] == 1 and last.detail["filters"]["words"] == "hyperlink"
        assert audit.verify(s).ok


def test_an_export_over_the_limit_is_refused(db, admin, monkeypatch):
    add(db, "sign-in", n=3)
    monkeypatch.setattr(audit_log, "EXPORT_ROW_LIMIT", 2)
    with db.session() as s, pytest.raises(ExportError, match="at most 2"):
        audit_log.export_csv(s, admin, audit_log.AuditQuery(), "Quarterly access review")
    with db.session() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_events")) == 3


def test_detail_text_is_compact():
    assert audit_log.detail_text({"rows": 3, "format": "csv", "filters": {"a": None}}) == (
        'rows: 3; format: csv; filters: {"a": null}')
    assert audit_log.detail_text(None) == ""
    assert audit_log.detail_text({"t": "x" * 500}, 20).endswith("\u2026")


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def sign_in(client, email) -> str:
    csrf = csrf_from(client.get("/login").data)
    client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf, "next": "/"})
    client.get("/")
    return client.get_cookie("_csrf_token").value


def call(app, client, csrf, output_contains: str, values: dict, changed: list[str]):
    key = next(k for k in app.callback_map if output_contains in k and "title" not in k)
    spec = app.callback_map[key]

    def item(dep):
        return {"id": dep["id"], "property": dep["property"], "value": values.get(f"{dep['id']}.{dep['property']}")}

    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop.split("@")[0]})
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [item(d) for d in spec["inputs"]], "state": [item(d) for d in spec["state"]],
            "changedPropIds": changed}
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})


def test_the_page_is_for_admins_only(web):
    app, db, people = web
    add(db, "sign-in", user=people.police_member, reason="a reason that is shown")
    client = app.server.test_client()
    sign_in(client, people.police_member.email)
    status, body = open_page(client, "/admin/audit")
    assert status == 200 and "a reason that is shown" not in body
    client = app.server.test_client()
    sign_in(client, people.council_admin.email)
    status, body = open_page(client, "/admin/audit")
    assert status == 200 and "a reason that is shown" in body and "Check the chain" in body
    assert "Showing entries 1 to" in body


def test_the_callbacks_recheck_the_viewer(web):
    app, db, people = web
    add(db, "sign-in", user=people.police_member, reason="secret reason here")
    client = app.server.test_client()
    csrf = sign_in(client, people.police_member.email)
    for output, values in (
        ("audit-results.children", {"audit-search.n_clicks": 1}),
        ("audit-verify-status.children", {"audit-verify.n_clicks": 1}),
        ("audit-download.data", {"audit-export.n_clicks": 1, "audit-export-reason.value": "Reason long enough"}),
    ):
        response = call(app, client, csrf, output, values, [next(iter(values))])
        assert response.status_code == 204, output
    with db.session() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'audit-exported'")) == 0


def test_an_admin_searches_pages_checks_and_exports(web):
    app, db, people = web
    add(db, "sign-in", user=people.police_member, n=55)
    add(db, "incident viewed", user=people.council_member, reason="Safeguarding referral")
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    with db.session() as s:  # signing in is recorded too
        total = s.scalar(text("SELECT count(*) FROM audit_events"))

    response = call(app, client, csrf, "audit-results.children",
                    {"audit-search.n_clicks": 1, "audit-text.value": "safeguarding", "audit-action.value": "all",
                     "audit-user.value": "all"}, ["audit-search.n_clicks"])
    out = response.get_json()["response"]
    assert "Safeguarding referral" in json.dumps(out["audit-results"])
    assert "1 to 1 of 1" in out["audit-results-status"]["children"]
    assert out["audit-query"]["data"]["text"] == "safeguarding"

    response = call(app, client, csrf, "audit-results.children",
                    {"audit-search.n_clicks": 1, "audit-start.value": "2026-11-25", "audit-end.value": "2026-11-01"},
                    ["audit-search.n_clicks"])
    out = response.get_json()["response"]
    assert out["audit-filter-errors"]["hidden"] is False
    assert "same as or after" in json.dumps(out["audit-filter-errors"])

    stored = {"text": "", "action": "", "user_id": None, "start": None, "end": None, "page": 1}
    response = call(app, client, csrf, "audit-results.children",
                    {"audit-next.n_clicks": 1, "audit-query.data": stored}, ["audit-next.n_clicks"])
    out = response.get_json()["response"]
    assert out["audit-query"]["data"]["page"] == 2 and f"51 to {total} of {total}" in out["audit-results-status"]["children"]

    response = call(app, client, csrf, "audit-verify-status.children", {"audit-verify.n_clicks": 1},
                    ["audit-verify.n_clicks"])
    assert f"intact: all {total} entries" in response.get_json()["response"]["audit-verify-status"]["children"]

    response = call(app, client, csrf, "audit-download.data",
                    {"audit-export.n_clicks": 1, "audit-export-reason.value": "short", "audit-query.data": stored},
                    ["audit-export.n_clicks"])
    out = response.get_json()["response"]
    assert "at least 10 characters" in field_error_text(out["audit-export-reason-error"]["children"])
    assert "audit-download" not in out

    response = call(app, client, csrf, "audit-download.data",
                    {"audit-export.n_clicks": 1, "audit-export-reason.value": "Annual access review",
                     "audit-query.data": stored}, ["audit-export.n_clicks"])
    out = response.get_json()["response"]
    assert out["audit-download"]["data"]["filename"].startswith("audit-log-")
    assert f"Exported {total} entries" in out["audit-export-status"]["children"]

    with db.engine.begin() as conn:  # tamper, then check again through the page
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql("UPDATE audit_events SET reason = 'hidden' WHERE id = 56")
    response = call(app, client, csrf, "audit-verify-status.children", {"audit-verify.n_clicks": 2},
                    ["audit-verify.n_clicks"])
    message = response.get_json()["response"]["audit-verify-status"]["children"]
    assert "tampered with" in message and "Entry 56 (" in message and "do not match its hash" in message


# --- in a real browser --------------------------------------------------------------------------


@pytest.mark.browser
def test_aud101_search_check_and_export_by_keyboard(dash_duo, web):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.helpers import axe_violations, start_app
    from tests.browser.helpers import sign_in as browser_sign_in

    app, db, people = web
    add(db, "sign-in", user=people.police_member, n=60)
    add(db, "incident viewed", user=people.council_member, reason="Safeguarding referral",
        detail={"marking": "TLP:AMBER"})
    start_app(dash_duo, app)
    browser_sign_in(dash_duo, people.council_admin.email, TEST_PASSWORD)
    driver = dash_duo.driver
    driver.get(dash_duo.server.url + "/admin/audit")
    dash_duo.wait_for_element("#audit-search", timeout=15)
    assert "newest first" in dash_duo.find_element("#audit-results-status").text
    assert axe_violations(driver) == []

    dash_duo.find_element("#audit-next").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#audit-results-status", "page 2 of 2", timeout=10)

    # Dates the wrong way round: the error summary takes focus.
    driver.execute_script(
        "const set = (id, v) => { const el = document.getElementById(id);"
        " Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); };"
        "set('audit-start', '2026-11-25'); set('audit-end', '2026-11-01');")
    dash_duo.find_element("#audit-search").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.activeElement.id") == "audit-filter-errors")
    assert axe_violations(driver) == []
    driver.execute_script(
        "const set = (id, v) => { const el = document.getElementById(id);"
        " Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); };"
        "set('audit-start', ''); set('audit-end', '');")

    dash_duo.find_element("#audit-text").send_keys("safeguarding")
    dash_duo.find_element("#audit-search").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#audit-results-status", "1 to 1 of 1", timeout=10)
    assert "Safeguarding referral" in dash_duo.find_element("#audit-table").text

    dash_duo.find_element("#audit-verify").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#audit-verify-status", "intact", timeout=10)

    dash_duo.find_element("#audit-export").send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.activeElement.id") == "audit-export-errors")
    dash_duo.find_element("#audit-export-reason").send_keys("Quarterly access review")
    dash_duo.find_element("#audit-export").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#audit-export-status", "Exported 1 entry", timeout=10)
    assert axe_violations(driver) == []
    with db.session() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'audit-exported'")) == 1
