"""The organisations and users pages through the real app, as dash-renderer calls their callbacks:
admins only (members, chairs and SCI get nothing), the invitation link shown once, suspending an
organisation after a confirmation, and a user's page signing them out everywhere."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app import create_app
from dashboard import invitations
from dashboard.models import AuditEvent, Organisation, User, UserInvitation, UserSession
from tests.conftest import field_error_text, make_people
from tests.test_api_tokens import call, sign_in
from tests.test_pages import open_page

LINK = re.compile(r"http://localhost/activate/[A-Za-z0-9_-]{43}")


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def invite_values(people, email="nadia.new@charity.example", name="Nadia New") -> dict:
    return {"admin-users-invite.n_clicks": 1, "admin-users-name.value": name, "admin-users-email.value": email,
            "admin-users-organisation.value": str(people.charity.id), "admin-users-role.value": "member",
            "admin-users-changed.data": 0}


def org_values(org_id, opened, **changes) -> dict:
    values = {"admin-orgs-save.n_clicks": 1, "admin-orgs-editing.data": org_id, "admin-orgs-opened.data": opened,
              "admin-orgs-changed.data": 0}
    form = dict(opened or {}) | changes
    for key, field in (("name", "admin-orgs-name"), ("short_name", "admin-orgs-short-name"),
                       ("sector", "admin-orgs-sector"), ("membership_status", "admin-orgs-status-choice")):
        values[f"{field}.value"] = form.get(key)
    return values


def action_pattern(app) -> str:
    return next(d["id"] for spec in app.callback_map.values() for d in spec["inputs"]
                if "admin-user-action" in d["id"])


def ask(app, client, csrf, action, record, role=None, organisation=None):
    button = {"type": "admin-user-action", "action": action}
    values = {"admin-user-record.data": record, "admin-user-role.value": role or record["role"],
              "admin-user-organisation.value": str(organisation or record["organisation_id"])}
    return call(app, client, csrf, "admin-user-confirm.displayed", values,
                patterns={action_pattern(app): [{"id": button, "property": "n_clicks", "value": 1}]},
                changed=[json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"])


def _by_id(tree, id_: str) -> dict | None:
    """The props of the component with this id in a callback's answer."""
    if isinstance(tree, dict):
        props = tree.get("props", tree)
        if props.get("id") == id_:
            return props
        children = props.get("children")
        return _by_id(children, id_) if children is not None else None
    if isinstance(tree, list):
        for item in tree:
            if (found := _by_id(item, id_)) is not None:
                return found
    return None


def confirm(app, client, csrf, pending):
    return call(app, client, csrf, "admin-user-redirect.href",
                {"admin-user-confirm.submit_n_clicks": 1, "admin-user-pending.data": pending},
                changed=["admin-user-confirm.submit_n_clicks"])


def test_the_pages_show_organisations_users_and_one_user(web):
    app, _db, people = web
    client = app.server.test_client()
    sign_in(client, people.council_admin.email)
    status, content = open_page(client, "/admin/organisations")
    assert status == 200 and "Test Refugee Charity" in content and "Voluntary and community" in content
    status, content = open_page(client, f"/admin/users?organisation={people.police.id}")
    assert status == 200 and "Pat Police" in content and "Cora Council" not in content
    status, content = open_page(client, f"/admin/users/{people.police_member.id}")
    assert status == 200 and "pat.police@police.example" in content and "Disable the account" in content
    status, content = open_page(client, f"/admin/users/{people.council_admin.id}")
    assert "You cannot disable your own account" in content and "You cannot change your own role" in content
    assert "User not found" in open_page(client, "/admin/users/999999")[1]


def test_non_admins_callbacks_do_nothing(web):
    app, db, people = web
    record = {"id": people.police_member2.id, "role": "member", "organisation_id": people.police.id}
    for user in (people.police_member, people.charity_chair, people.sci):
        client = app.server.test_client()
        csrf = sign_in(client, user.email)
        assert call(app, client, csrf, "admin-users-email.value", invite_values(people)).status_code == 204
        assert call(app, client, csrf, "admin-users-table.children",
                    {"admin-users-changed.data": 1}, changed=["admin-users-changed.data"]).status_code == 204
        assert call(app, client, csrf, "admin-orgs-confirm.displayed",
                    org_values(None, None, name="Their org", sector="faith",
                               membership_status="active")).status_code == 204
        assert ask(app, client, csrf, "disable", record).status_code == 204
        assert confirm(app, client, csrf, {"action": "disable", "id": people.police_member2.id}).status_code == 204
    with db.session() as s:
        assert s.scalars(select(UserInvitation)).all() == []
        assert s.scalar(select(Organisation).where(Organisation.name == "Their org")) is None
        assert s.get(User, people.police_member2.id).status == "active"


def test_an_invitation_link_is_shown_once(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    response = call(app, client, csrf, "admin-users-email.value", invite_values(people))
    assert response.status_code == 200
    outputs = response.get_json()["response"]
    panel = json.dumps(outputs["admin-users-new"])
    links = set(LINK.findall(panel))
    assert len(links) == 1
    link = links.pop()
    assert "only time the link is shown" in panel
    assert "It was not e-mailed: E-mail is not set up on this server." in panel
    others = json.dumps({k: v for k, v in outputs.items() if k != "admin-users-new"})
    assert link.rsplit("/", 1)[1] not in others
    assert outputs["admin-users-email"]["value"] == "" and outputs["admin-users-changed"] == {"data": 1}
    with db.session() as s:
        assert invitations.check_link(s, link.rsplit("/", 1)[1]).name == "Nadia New"
    table = call(app, client, csrf, "admin-users-table.children", {"admin-users-changed.data": 1},
                 changed=["admin-users-changed.data"]).get_data(as_text=True)
    assert "Nadia New" in table and "Invited (link expires" in table and link.rsplit("/", 1)[1] not in table
    # The same address again: the field is named, nothing is made.
    again = call(app, client, csrf, "admin-users-email.value", invite_values(people, name="Other"))
    outputs = again.get_json()["response"]
    assert outputs["admin-users-email"]["invalid"] is True and "already an account" in json.dumps(outputs)
    assert outputs["admin-users-form-errors"]["hidden"] is False


def test_suspending_an_organisation_asks_first_then_signs_its_users_out(web):
    app, db, people = web
    member = app.server.test_client()
    sign_in(member, people.police_member.email)
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    opened = {"name": "Test Police", "short_name": "", "sector": "statutory", "membership_status": "active"}
    values = org_values(people.police.id, opened, membership_status="suspended")
    asked = call(app, client, csrf, "admin-orgs-confirm.displayed", values).get_json()["response"]
    assert asked["admin-orgs-confirm"]["displayed"] is True
    assert "Suspend Test Police? Its 2 active users will be signed out at once" in asked["admin-orgs-confirm"]["message"]
    with db.session() as s:
        assert s.get(Organisation, people.police.id).membership_status == "active"
    values = values | {"admin-orgs-confirm.submit_n_clicks": 1}
    done = call(app, client, csrf, "admin-orgs-confirm.displayed", values,
                changed=["admin-orgs-confirm.submit_n_clicks"]).get_json()["response"]
    assert "Saved the changes to Test Police. Its users were signed out (1 session ended)." == \
        done["admin-orgs-status"]["children"]
    with db.session() as s:
        assert s.get(Organisation, people.police.id).membership_status == "suspended"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "organisation changed")).detail[
            "sessions_ended"] == 1
    assert member.get("/").status_code == 302  # back to the sign-in page


def test_a_stale_organisation_form_saves_nothing_and_says_why(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    opened = {"name": "Test Police", "short_name": "", "sector": "faith", "membership_status": "active"}
    response = call(app, client, csrf, "admin-orgs-confirm.displayed",
                    org_values(people.police.id, opened, short_name="TP")).get_json()["response"]
    assert "since you opened it" in json.dumps(response["admin-orgs-form-errors"])
    with db.session() as s:
        assert s.get(Organisation, people.police.id).short_name is None


def test_a_user_is_signed_out_everywhere_after_confirming(web):
    app, db, people = web
    member = app.server.test_client()
    sign_in(member, people.police_member.email)
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    record = {"id": people.police_member.id, "role": "member", "organisation_id": people.police.id}
    asked = ask(app, client, csrf, "signout", record).get_json()["response"]
    assert asked["admin-user-confirm"]["displayed"] is True
    assert "Sign Pat Police out everywhere? 1 open session end" in asked["admin-user-confirm"]["message"]
    done = confirm(app, client, csrf, asked["admin-user-pending"]["data"])
    assert "Signed out everywhere: 1 session ended." in done.get_data(as_text=True)
    assert member.get("/").status_code == 302
    with db.session() as s:
        assert s.scalar(select(UserSession.end_reason).where(UserSession.user_id == people.police_member.id)) == \
            "signed out everywhere"


def test_signing_oneself_out_everywhere_ends_ones_own_session(web):
    app, _db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    record = {"id": people.council_admin.id, "role": "admin", "organisation_id": people.council.id}
    asked = ask(app, client, csrf, "signout", record).get_json()["response"]
    assert "This includes your own session" in asked["admin-user-confirm"]["message"]
    done = confirm(app, client, csrf, asked["admin-user-pending"]["data"]).get_json()["response"]
    assert done["admin-user-redirect"] == {"href": "/"}
    assert call(app, client, csrf, "admin-users-table.children", {"admin-users-changed.data": 1},
                changed=["admin-users-changed.data"]).status_code == 401


def test_a_role_change_is_confirmed_then_saved_and_own_role_is_refused(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    record = {"id": people.council_member.id, "role": "member", "organisation_id": people.council.id}
    asked = ask(app, client, csrf, "role", record, role="chair").get_json()["response"]
    assert "Change Cora Council\u2019s role from Member to Chair?" in asked["admin-user-confirm"]["message"]
    done = confirm(app, client, csrf, asked["admin-user-pending"]["data"])
    assert "Cora Council is now Chair at Test Council" in done.get_data(as_text=True)
    with db.session() as s:
        assert s.get(User, people.council_member.id).role == "chair"
    unchanged = ask(app, client, csrf, "role", {**record, "role": "chair"}).get_json()["response"]
    assert "Nothing to change" in json.dumps(unchanged["admin-user-form-errors"])
    # the same message beside the role field, which is marked invalid (the GOV.UK pattern)
    assert field_error_text(unchanged["admin-user-role-error"]["children"]).startswith("Nothing to change")
    assert unchanged["admin-user-role"]["invalid"] is True
    own = {"action": "role", "id": people.council_admin.id, "role": "member", "organisation_id": people.council.id,
           "opened": {"role": "admin", "organisation_id": people.council.id}}
    refused = confirm(app, client, csrf, own).get_json()["response"]
    assert "You cannot change your own role" in json.dumps(refused["admin-user-form-errors"])
    # the page is drawn again with the message beside the role field too
    role_error = _by_id(refused["admin-user-body"], "admin-user-role-error")
    assert field_error_text(role_error["children"]).startswith("You cannot change your own role")
    with db.session() as s:
        assert s.get(User, people.council_admin.id).role == "admin"


def test_a_new_link_for_an_invited_user_is_shown_once_and_the_old_one_stops(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    invited = call(app, client, csrf, "admin-users-email.value", invite_values(people)).get_json()["response"]
    (first,) = set(LINK.findall(json.dumps(invited["admin-users-new"])))
    with db.session() as s:
        user_id = s.scalar(select(User.id).where(User.email == "nadia.new@charity.example"))
    record = {"id": user_id, "role": "member", "organisation_id": people.charity.id}
    asked = ask(app, client, csrf, "resend", record).get_json()["response"]
    assert "The link sent before stops working" in asked["admin-user-confirm"]["message"]
    done = confirm(app, client, csrf, asked["admin-user-pending"]["data"]).get_json()["response"]
    (second,) = set(LINK.findall(json.dumps(done["admin-user-new"])))
    assert second != first
    assert second.rsplit("/", 1)[1] not in json.dumps({k: v for k, v in done.items() if k != "admin-user-new"})
    with db.session() as s:
        assert invitations.check_link(s, first.rsplit("/", 1)[1]) is None
        assert invitations.check_link(s, second.rsplit("/", 1)[1]) is not None
