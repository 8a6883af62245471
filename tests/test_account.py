"""Changing your own password: the current password is required and a wrong one counts towards
the lockout; the policy's refusals say what is wrong; a change ends every other session while the
browser that made it stays signed in on a new session; audited; CSRF-protected; every role."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import create_app
from dashboard import account, auth
from dashboard.models import AuditEvent, LoginThrottle, User, UserSession
from tests.conftest import TEST_PASSWORD, csrf_from, field_error_text, make_people
from tests.test_pages import open_page

NEW = "copper kettles hum beside the canal"


def change(db, settings, user, current=TEST_PASSWORD, new=NEW, confirm=None, **kwargs):
    with db.session() as s:
        return account.change_own_password(s, settings, user.id, current, new, NEW if confirm is None else confirm,
                                           ip_address="192.0.2.7", **kwargs)


def signs_in(db, settings, user, password) -> bool:
    with db.session() as s:
        return auth.authenticate(s, settings, user.email, password).ok


def actions(db, user) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == user.id)
                              .order_by(AuditEvent.id)))


def open_sessions(db, user) -> int:
    with db.session() as s:
        return len(s.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                       UserSession.ended_at.is_(None))).all())


# --- the domain, on both databases ------------------------------------------------------------------


def test_a_change_ends_every_session_opens_one_for_this_browser_and_is_audited(db, settings, people):
    pat = people.police_member
    with db.session() as s:
        here = auth.start_session(s, s.get(User, pat.id))
        elsewhere = auth.start_session(s, s.get(User, pat.id))
    result = change(db, settings, pat)
    assert result.ok and result.errors == {} and result.other_sessions_ended == 1
    assert result.viewer.user_id == pat.id and result.token not in (here, elsewhere)
    with db.session() as s:
        assert auth.resolve_session(s, settings, here).ended_reason == "password changed"
        assert auth.resolve_session(s, settings, elsewhere).ended_reason == "password changed"
        assert auth.resolve_session(s, settings, result.token).user.id == pat.id
    assert open_sessions(db, pat) == 1
    assert not signs_in(db, settings, pat, TEST_PASSWORD)
    assert signs_in(db, settings, pat, NEW)
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "password changed"))
        assert event.user_id == pat.id and event.ip_address == "192.0.2.7"
        assert event.detail == {"sessions_ended": 2}
        # No password, old or new, is in the audit log.
        for row in s.scalars(select(AuditEvent)):
            assert TEST_PASSWORD not in json.dumps(row.detail or {}) and NEW not in json.dumps(row.detail or {})


def test_a_wrong_current_password_is_refused_and_counted_like_a_failed_sign_in(db, settings, people):
    pat = people.police_member
    result = change(db, settings, pat, current="not my password at all")
    assert not result.ok and result.errors == {"current": "The current password is wrong."}
    assert signs_in(db, settings, pat, TEST_PASSWORD) is True  # unchanged (and the count reset)
    change(db, settings, pat, current="not my password at all")
    with db.session() as s:
        assert s.get(LoginThrottle, pat.email).failures == 1
    assert actions(db, pat)[-1] == "password change failed"


def test_too_many_wrong_current_passwords_lock_the_account_as_at_sign_in(db, settings, people):
    pat = people.police_member
    for attempt in range(settings.lockout_threshold - 1):
        assert change(db, settings, pat, current=f"wrong guess {attempt}").errors["current"] == \
            "The current password is wrong."
    locked = change(db, settings, pat, current="the last wrong guess")
    assert "Too many failed attempts for this account. Try again in 5 minutes." == locked.errors["current"]
    assert locked.locked_for is not None
    # Locked: the right password neither signs in nor changes the password.
    assert not signs_in(db, settings, pat, TEST_PASSWORD)
    still = change(db, settings, pat)
    assert not still.ok and still.errors["current"].startswith("Too many failed attempts")
    assert "account locked" in actions(db, pat) and "password change refused (locked)" in actions(db, pat)
    with db.session() as s:
        assert auth.verify_password(s.get(User, pat.id).password_hash, TEST_PASSWORD)


def test_a_wrong_current_password_counts_even_when_the_new_one_is_refused(db, settings, people):
    result = change(db, settings, people.police_member, current="a wrong guess here", new="short", confirm="short")
    assert result.errors["current"] == "The current password is wrong."
    assert "at least 12 characters long (it is 5)" in result.errors["new"]
    with db.session() as s:
        assert s.get(LoginThrottle, people.police_member.email).failures == 1


POLICY_CASES = [
    ("too-short", "Your new password must be at least 12 characters long (it is 9)."),
    ("password1234", "Your new password is too common: it is on a list of passwords that attackers try first."),
    ("midlands-2026!", "it is mostly the word 'midlands'"),
    ("midlands rocks 99", "it is mostly the word 'midlands'"),
    ("the midlands partnership rules", "it contains the name of the partnership"),
    ("Pat Police rules the world", "must not contain your name"),
    ("pat.police@police.example!", "must not contain your e-mail address"),
    ("Test Police 2026!!", "must not be built on the name of the partnership or your organisation"),
    ("x" * 129, "at most 128 characters long (it is 129)"),
]


def test_the_policy_says_what_is_wrong_and_nothing_changes(db, settings, people):
    for new, message in POLICY_CASES:
        result = change(db, settings, people.police_member, new=new, confirm=new)
        assert not result.ok and message in result.errors["new"], new
        assert set(result.errors) == {"new"}, new
    assert signs_in(db, settings, people.police_member, TEST_PASSWORD)


def test_blank_fields_a_mismatch_and_the_same_password_are_named(db, settings, people):
    blank = change(db, settings, people.police_member, current="", new="", confirm="")
    assert blank.errors == {"current": "Enter your current password.", "new": "Enter a new password."}
    missing = change(db, settings, people.police_member, confirm="")
    assert missing.errors == {"confirm": "Enter your new password again, to confirm it."}
    mismatch = change(db, settings, people.police_member, confirm=NEW + "!")
    assert mismatch.errors == {"confirm": "The two new passwords do not match. Enter your new password again."}
    same = change(db, settings, people.police_member, new=TEST_PASSWORD, confirm=TEST_PASSWORD)
    assert same.errors == {"new": "Your new password must be different from your current password."}
    assert not any(r.ok for r in (blank, missing, mismatch, same))
    with db.session() as s:  # a right current password is not a failure
        throttle = s.get(LoginThrottle, people.police_member.email)
        assert throttle is None or throttle.failures == 0


def test_at_least_64_characters_and_pasted_symbols_are_accepted(db, settings, people):
    long_one = ("Über-quiet otters juggle 17 brass lanterns; beside frozen quarries at dawn " * 2)[:100]
    assert change(db, settings, people.police_member, new=long_one, confirm=long_one).ok
    assert signs_in(db, settings, people.police_member, long_one)


# --- the page, through the real app -----------------------------------------------------------------


@pytest.fixture
def web(settings, sqlite_db, password_hash):
    with sqlite_db.session() as s:
        people = make_people(s, password_hash)
    return create_app(settings, sqlite_db), sqlite_db, people


def sign_in(client, email, password=TEST_PASSWORD):
    token = csrf_from(client.get("/login").data)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"})
    client.get("/")  # a page load sets the CSRF cookie Dash reads
    return response


def csrf(client) -> str:
    return client.get_cookie("_csrf_token").value


def submit(app, client, current, new, confirm, header: str | None = "from the cookie"):
    key = next(k for k in app.callback_map if "account-password-errors.children" in k)
    spec = app.callback_map[key]
    values = {"account-password-submit.n_clicks": 1, "account-password-current.value": current,
              "account-password-new.value": new, "account-password-confirm.value": confirm}

    def item(dep):
        return {"id": dep["id"], "property": dep["property"], "value": values.get(f"{dep['id']}.{dep['property']}")}

    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
               for part in key[2:-2].split("...")]
    body = {"output": key, "outputs": outputs, "inputs": [item(d) for d in spec["inputs"]],
            "state": [item(d) for d in spec["state"]], "changedPropIds": ["account-password-submit.n_clicks"]}
    headers = {"Content-Type": "application/json"}
    if header:
        headers["X-CSRFToken"] = csrf(client) if header == "from the cookie" else header
    return client.post("/_dash-update-component", data=json.dumps(body), headers=headers)


def find_props(node, ident):
    """The props of the component with this id in a layout's JSON, or None."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and props.get("id") == ident:
            return props
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = find_props(child, ident)
        if found is not None:
            return found
    return None


def test_the_page_is_linked_from_the_shell_and_helps_password_managers(web):
    app, _db, people = web
    client = app.server.test_client()
    sign_in(client, people.police_member.email)
    link = find_props(client.get("/_dash-layout").get_json(), "shell-password-link")
    assert link["href"] == "/account/password" and link["children"] == "Change your password"
    status, content = open_page(client, "/account/password")
    assert status == 200 and "Change your password" in content
    spec = json.loads(content)
    for field, autocomplete in (("current", "current-password"), ("new", "new-password"),
                                ("confirm", "new-password")):
        props = find_props(spec, f"account-password-{field}")
        assert props["type"] == "password" and props["autoComplete"] == autocomplete
        assert props["value"] == "" and "maxLength" not in props  # a pasted password is never cut short
    assert "at least 12 characters" in content and "pat.police@police.example" in content


def test_an_error_first_then_the_change_keeps_this_browser_signed_in_and_signs_out_the_rest(web):
    app, db, people = web
    client, other = app.server.test_client(), app.server.test_client()
    sign_in(client, people.police_member.email)
    sign_in(other, people.police_member.email)
    old_cookie = client.get_cookie("dashboard_session").value

    wrong = submit(app, client, "not my password", NEW, NEW)
    assert wrong.status_code == 200
    outputs = wrong.get_json()["response"]
    assert outputs["account-password-errors"]["hidden"] is False
    assert "The current password is wrong." in json.dumps(outputs["account-password-errors"]["children"])
    assert field_error_text(outputs["account-password-current-error"]["children"]) == "The current password is wrong."
    assert outputs["account-password-current"] == {"invalid": True}  # the typed value is never sent back
    assert "not my password" not in wrong.get_data(as_text=True) and NEW not in wrong.get_data(as_text=True)
    assert "dashboard_session" not in wrong.headers.get("Set-Cookie", "")

    done = submit(app, client, TEST_PASSWORD, NEW, NEW)
    assert done.status_code == 200
    body = done.get_data(as_text=True)
    assert "Your password has been changed. You have been signed out everywhere else." in body
    assert TEST_PASSWORD not in body and NEW not in body
    outputs = done.get_json()["response"]
    for field in ("current", "new", "confirm"):
        assert outputs[f"account-password-{field}"]["value"] == ""
    # This browser continues, on a new session; every other session has ended.
    assert client.get_cookie("dashboard_session").value != old_cookie
    assert client.get("/").status_code == 200
    assert open_page(client, "/access")[0] == 200
    assert other.get("/").status_code == 302
    replay = app.server.test_client()
    replay.set_cookie("dashboard_session", old_cookie)
    assert replay.get("/").status_code == 302
    # The old password no longer signs in; the new one does.
    assert "not right" in sign_in(app.server.test_client(), people.police_member.email).get_data(as_text=True)
    assert sign_in(app.server.test_client(), people.police_member.email, NEW).status_code == 302
    with db.session() as s:
        logged = list(s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == people.police_member.id)))
    assert "password change failed" in logged and "password changed" in logged


def test_the_change_needs_the_csrf_header(web):
    app, db, people = web
    client = app.server.test_client()
    sign_in(client, people.police_member.email)
    assert submit(app, client, TEST_PASSWORD, NEW, NEW, header=None).status_code == 400
    assert submit(app, client, TEST_PASSWORD, NEW, NEW, header="forged-token").status_code == 400
    anonymous = app.server.test_client()
    anonymous.get("/login")
    assert submit(app, anonymous, TEST_PASSWORD, NEW, NEW, header="forged-token").status_code == 401
    with db.session() as s:
        assert auth.verify_password(s.get(User, people.police_member.id).password_hash, TEST_PASSWORD)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "password changed")) is None


def test_every_role_can_change_their_own_password(web):
    app, db, people = web
    for user in (people.council_member, people.charity_chair, people.sci, people.council_admin):
        client = app.server.test_client()
        sign_in(client, user.email)
        assert open_page(client, "/account/password")[0] == 200
        response = submit(app, client, TEST_PASSWORD, NEW, NEW)
        assert response.status_code == 200, user.role
        assert "Your password has been changed" in response.get_data(as_text=True)
        assert client.get("/").status_code == 200
    with db.session() as s:
        # Only each viewer's own password changed: the one nobody changed still has the old one.
        assert auth.verify_password(s.get(User, people.police_member.id).password_hash, TEST_PASSWORD)
