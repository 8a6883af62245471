"""The retention review page through the real app, as dash-renderer calls it: admins see the
queue (field names and readable titles, never descriptions), page and filter it, and redact or
keep the records they tick after a dialog; a missing selection or reason is named; every
callback refuses anyone but an administrator and writes nothing for them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app import create_app
from dashboard.models import AuditEvent, Incident, RecordChange, User
from dashboard.reference import Marking
from tests.conftest import add_incident, field_error_text, make_people
from tests.test_api_tokens import call, sign_in
from tests.test_pages import REFUSAL, open_page


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
        pat = s.get(User, people.police_member.id)
        ids = []
        for n in range(30):
            item = add_incident(s, pat, Marking.GREEN, day=date(2020, 1, 1 + n % 28), title=f"Old report {n}",
                                area=("E08000025", "E08000026")[n % 2])
            item.description = f"Secret detail number {n}"
            ids.append(item.id)
        red = add_incident(s, pat, Marking.RED, day=date(2019, 12, 1), recipients=[pat], title="Informant named in RED report")
        recent = add_incident(s, pat, Marking.GREEN, day=date.today(), title="Recent report")
        ids_of = {"old": ids, "red": red.id, "recent": recent.id}
    return create_app(settings, sqlite_db), sqlite_db, people, ids_of


def open_dialog(app, client, csrf, kind: str, keys: list[str]):
    """Press "Redact…" or "Keep…" with the rows `keys` ticked (and one more row left unticked)."""
    output = next(k for k in app.callback_map if f"retention-{kind}-dialog.is_open...retention-{kind}-title" in k)
    rows = [(k, True) for k in keys] + [("incident:999998", False)]
    body = {
        "output": output,
        "outputs": [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
                    for part in output[2:-2].split("...")],
        "inputs": [{"id": f"retention-{kind}", "property": "n_clicks", "value": 1},
                   {"id": f"retention-{kind}-cancel", "property": "n_clicks", "value": 0}],
        "state": [[{"id": {"index": k, "type": "retention-select"}, "property": prop,
                    "value": {"index": k, "type": "retention-select"} if prop == "id" else v} for k, v in rows]
                  for prop in ("id", "value")],
        "changedPropIds": [f"retention-{kind}.n_clicks"],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})


def confirm(app, client, csrf, kind: str, keys: list[str], reason: str, months: str | None = None):
    values = {f"retention-{kind}-confirm.n_clicks": 1, "retention-selected.data": keys,
              "retention-changed.data": 0, f"retention-{kind}-reason.value": reason}
    if months is not None:
        values["retention-keep-months.value"] = months
    return call(app, client, csrf, f"retention-{kind}-reason.value", values)


def tick_all(app, client, csrf, keys: list[str]):
    """"Select all on this page", with the page's rows `keys`."""
    output = next(k for k in app.callback_map if '"type":"retention-select"}.value' in k)
    rows = [{"id": {"index": key, "type": "retention-select"}, "property": "value"} for key in keys]
    body = {
        "output": output, "outputs": rows,
        "inputs": [{"id": "retention-select-all", "property": "value", "value": True}],
        "state": [[{**row, "property": "id", "value": row["id"]} for row in rows]],
        "changedPropIds": ["retention-select-all.value"],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})


def written(db) -> tuple:
    with db.session() as s:
        return (sorted(tuple(r) for r in s.execute(select(Incident.id, Incident.title, Incident.description,
                                                          Incident.version, Incident.retain_until))),
                s.scalar(select(func.count()).select_from(RecordChange)),
                s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("records %"))))


def test_admins_see_the_queue_with_field_names_and_readable_titles_only(web):
    app, _db, people, ids = web
    client = app.server.test_client()
    sign_in(client, people.council_admin.email)
    status, body = open_page(client, "/admin/retention")
    assert status == 200
    assert "31 records are due for review, oldest first: showing 1 to 25." in body
    assert "Personal details in incidents and tension assessments are kept for 24 months" in body
    assert "Old report 0" in body and "title, description" in body
    assert "Secret detail" not in body  # never a description
    assert "Recent report" not in body  # not due
    # The TLP:RED record is listed (by number and marking), its title is not.
    assert f"Incident #{ids['red']}" in body and "TLP:RED" in body and "Informant" not in body
    assert "Not shown: restricted by its marking" in body
    for user in (people.police_member, people.charity_chair, people.sci):
        other = app.server.test_client()
        sign_in(other, user.email)
        status, body = open_page(other, "/admin/retention")
        assert status == 200 and REFUSAL in body and "Old report" not in body


def test_the_queue_pages_and_filters_on_the_server(web):
    app, _db, people, _ids = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    values = {"retention-kind.value": "all", "retention-area.value": "all", "retention-organisation.value": "all",
              "retention-previous.n_clicks": 0, "retention-next.n_clicks": 1, "retention-changed.data": 0,
              "retention-page.data": 1}
    second = call(app, client, csrf, "retention-list.children", values, changed=["retention-next.n_clicks"])
    outputs = second.get_json()["response"]
    assert outputs["retention-page"] == {"data": 2} and outputs["retention-page-text"] == {"children": "Page 2 of 2"}
    assert outputs["retention-count"]["children"] == "31 records are due for review, oldest first: showing 26 to 31."
    assert outputs["retention-next"] == {"disabled": True} and outputs["retention-previous"] == {"disabled": False}
    coventry = call(app, client, csrf, "retention-list.children",
                    values | {"retention-area.value": "E08000026", "retention-page.data": 2},
                    changed=["retention-area.value"])
    outputs = coventry.get_json()["response"]
    assert outputs["retention-page"] == {"data": 1}
    assert outputs["retention-count"]["children"] == (
        "15 of the 31 records due for review match these choices, oldest first.")
    assert "Old report 1" in json.dumps(outputs["retention-list"]) and "Old report 0" not in json.dumps(
        outputs["retention-list"])


def test_an_admin_redacts_the_ticked_records_after_the_dialog(web):
    app, db, people, ids = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    keys = [f"incident:{ids['old'][0]}", f"incident:{ids['red']}"]
    asked = open_dialog(app, client, csrf, "redact", keys).get_json()["response"]
    assert asked["retention-redact-dialog"] == {"is_open": True}
    assert asked["retention-redact-title"] == {"children": "Redact 2 records?"}
    assert "cannot be undone" in asked["retention-redact-explanation"]["children"]
    assert asked["retention-selected"] == {"data": keys}

    done = confirm(app, client, csrf, "redact", keys, "Past the retention period").get_json()["response"]
    assert done["retention-redact-dialog"] == {"is_open": False}
    assert done["retention-status"] == {
        "children": "Redacted the personal details of 2 records. Their figures are unchanged."}
    assert done["retention-changed"] == {"data": 1}
    with db.session() as s:
        first, red = s.get(Incident, ids["old"][0]), s.get(Incident, ids["red"])
        assert first.title == "Redacted: Literature and leaflets in Birmingham" and first.description == ""
        assert red.redacted_at is not None and "Informant" not in red.title
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "records redacted"))
        assert event.user_id == people.council_admin.id and event.reason == "Past the retention period"
        assert event.detail["incidents"] == sorted([ids["old"][0], ids["red"]])
    # The record's page says so.
    _status, page = open_page(client, f"/incidents/{ids['old'][0]}")
    assert "Personal details were redacted on" in page and "Secret detail number 0" not in page
    # Asking again for a record already redacted: refused by name above the queue, nothing written.
    before = written(db)
    again = confirm(app, client, csrf, "redact", keys[:1], "Again").get_json()["response"]
    assert again["retention-errors"]["hidden"] is False
    assert "was redacted already" in json.dumps(again["retention-errors"]["children"])
    assert written(db) == before


def test_no_records_or_no_reason_is_named_and_nothing_is_written(web):
    app, db, people, ids = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    before = written(db)
    nothing = open_dialog(app, client, csrf, "redact", []).get_json()["response"]
    assert nothing["retention-redact-dialog"] == {"is_open": False}
    assert nothing["retention-errors"]["hidden"] is False
    assert "Records: tick at least one record" in json.dumps(nothing["retention-errors"]["children"])

    no_reason = confirm(app, client, csrf, "redact", [f"incident:{ids['old'][1]}"], "  ").get_json()["response"]
    assert no_reason["retention-redact-errors"]["hidden"] is False
    assert field_error_text(no_reason["retention-redact-reason-error"]["children"]).startswith("Reason: say why")
    assert no_reason["retention-redact-reason"] == {"invalid": True}
    assert "retention-redact-dialog" not in no_reason  # the dialog stays open

    wrong = confirm(app, client, csrf, "keep", [f"incident:{ids['old'][1]}"], "", months="6").get_json()["response"]
    summary = json.dumps(wrong["retention-keep-errors"]["children"])
    assert "How long to keep them" in summary and "Reason: say why" in summary
    assert field_error_text(wrong["retention-keep-months-error"]["children"]).startswith("How long to keep them")
    assert field_error_text(wrong["retention-keep-reason-error"]["children"]).startswith("Reason: say why")
    forged = confirm(app, client, csrf, "redact", [f"incident:{ids['recent']}"], "Forged").get_json()["response"]
    assert "is not due for review" in json.dumps(forged["retention-errors"]["children"])
    assert written(db) == before


def test_an_admin_keeps_records_for_longer(web):
    app, db, people, ids = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    key = f"incident:{ids['old'][2]}"
    asked = open_dialog(app, client, csrf, "keep", [key]).get_json()["response"]
    assert asked["retention-keep-title"] == {"children": "Keep the personal details of 1 record?"}
    done = confirm(app, client, csrf, "keep", [key], "Needed for the trial", months="24").get_json()["response"]
    assert done["retention-status"]["children"].startswith("Kept the personal details of 1 record until ")
    with db.session() as s:
        incident = s.get(Incident, ids["old"][2])
        assert incident.retain_until.year == date.today().year + 2 and incident.description == "Secret detail number 2"
    _status, body = open_page(client, "/admin/retention")
    assert "30 records are due for review" in body


def test_select_all_ticks_every_row_of_the_page(web):
    app, _db, people, ids = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    keys = [f"incident:{i}" for i in ids["old"][:3]]
    response = tick_all(app, client, csrf, keys)
    assert response.status_code == 200
    assert json.dumps(response.get_json()["response"]).count('"value": true') == 3


def test_only_admins_callbacks_do_anything(web):
    app, db, people, ids = web
    before = written(db)
    key = f"incident:{ids['old'][0]}"
    for user in (people.police_member, people.charity_chair, people.sci):
        client = app.server.test_client()
        csrf = sign_in(client, user.email)
        redraw = call(app, client, csrf, "retention-list.children",
                      {"retention-kind.value": "all", "retention-next.n_clicks": 1, "retention-page.data": 1},
                      changed=["retention-next.n_clicks"])
        assert redraw.status_code == 204
        assert open_dialog(app, client, csrf, "redact", [key]).status_code == 204
        assert confirm(app, client, csrf, "redact", [key], "Forged").status_code == 204
        assert confirm(app, client, csrf, "keep", [key], "Forged", months="24").status_code == 204
        assert tick_all(app, client, csrf, [key]).status_code == 204
    assert written(db) == before
