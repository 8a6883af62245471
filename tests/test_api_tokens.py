"""API tokens: issued and revoked by admins only, shown once, kept only as a hash, refused once
revoked or expired or when their user or organisation is no longer active; audited."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app import create_app
from dashboard import api_tokens, cli
from dashboard.access import Viewer
from dashboard.api_tokens import ApiTokenError, TokenStatus
from dashboard.config import ConfigError, Settings
from dashboard.models import ApiToken, AuditEvent, Base, User, utcnow
from dashboard.reference import MembershipStatus, UserStatus
from tests.conftest import TEST_PASSWORD, csrf_from, field_error_text, make_people


def viewer_of(session, user) -> Viewer:
    return Viewer.from_user(session.get(User, user.id))


def issue(db, people, *, to=None, name="Monthly pull", days=90, now=None):
    with db.session() as s:
        admin = viewer_of(s, people.council_admin)
        token, text_ = api_tokens.issue(s, admin, (to or people.sci).id, name, days, "192.0.2.1", now=now)
        return token.id, text_


def test_a_token_is_random_and_only_its_hash_and_prefix_are_stored(db, people):
    token_id, token = issue(db, people)
    other_id, other = issue(db, people)
    assert token.startswith("pdk_") and len(token) == 47 and token != other
    with db.session() as s:
        row = s.get(ApiToken, token_id)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.prefix == token[:12]
        # The token text is nowhere in the database: not in any column of any table.
        random_part = token[12:]
        for table in Base.metadata.sorted_tables:
            for record in s.execute(select(table)).all():
                for value in record:
                    assert random_part not in str(value), table.name


def test_a_working_token_authenticates_as_its_user_and_records_its_use(db, people):
    token_id, token = issue(db, people)
    with db.session() as s:
        viewer = api_tokens.authenticate(s, token)
    assert viewer is not None and viewer.user_id == people.sci.id and viewer.role == "sci"
    with db.session() as s:
        first_use = s.get(ApiToken, token_id).last_used_at
        assert first_use is not None
        # Used again within the minute: no new write.
        api_tokens.authenticate(s, token, now=first_use + timedelta(seconds=30))
    with db.session() as s:
        assert s.get(ApiToken, token_id).last_used_at == first_use
        api_tokens.authenticate(s, token, now=first_use + timedelta(minutes=2))
    with db.session() as s:
        assert s.get(ApiToken, token_id).last_used_at == first_use + timedelta(minutes=2)


@pytest.mark.parametrize("presented", [None, "", "Bearer", "pdk_short", "x" * 47, "pdk_" + "A" * 43])
def test_missing_malformed_and_unknown_tokens_do_not_authenticate(db, people, presented):
    issue(db, people)
    with db.session() as s:
        assert api_tokens.authenticate(s, presented) is None


def test_a_revoked_token_stops_working_and_cannot_be_revoked_twice(db, people):
    token_id, token = issue(db, people)
    with db.session() as s:
        view = api_tokens.revoke(s, viewer_of(s, people.council_admin), token_id, "192.0.2.1")
        assert view.status == TokenStatus.REVOKED and view.revoked_by == "Ada Admin"
    with db.session() as s:
        checked = api_tokens.check(s, token)
        assert checked.viewer is None and checked.reason == "revoked" and checked.user_id == people.sci.id
        with pytest.raises(ApiTokenError, match="already revoked") as refused:
            api_tokens.revoke(s, viewer_of(s, people.council_admin), token_id)
        assert refused.value.field == "token"


def test_a_token_expires_after_its_days(db, people):
    issued_at = utcnow() - timedelta(days=31)
    token_id, token = issue(db, people, days=30, now=issued_at)
    with db.session() as s:
        assert s.get(ApiToken, token_id).expires_at == issued_at + timedelta(days=30)
        assert api_tokens.authenticate(s, token, now=issued_at + timedelta(days=29)) is not None
        assert api_tokens.check(s, token).reason == "expired"
        assert api_tokens.authenticate(s, token) is None
    _forever_id, forever = issue(db, people, days=None, now=issued_at)
    with db.session() as s:
        assert api_tokens.authenticate(s, forever, now=issued_at + timedelta(days=3650)) is not None


def test_a_disabled_user_or_an_inactive_organisation_stops_the_token(db, people):
    _id, token = issue(db, people, to=people.police_member)
    with db.session() as s:
        s.get(User, people.police_member.id).status = UserStatus.DISABLED
    with db.session() as s:
        assert api_tokens.check(s, token).reason == "user disabled"
        s.get(User, people.police_member.id).status = UserStatus.ACTIVE
    with db.session() as s:
        assert api_tokens.authenticate(s, token) is not None
        s.get(User, people.police_member.id).organisation.membership_status = MembershipStatus.SUSPENDED
    with db.session() as s:
        assert api_tokens.check(s, token).reason == "organisation not active"
        statuses = {t.id: t.status for t in api_tokens.list_tokens(s, viewer_of(s, people.council_admin))}
        assert list(statuses.values()) == [TokenStatus.ORGANISATION_INACTIVE]


def test_only_admins_of_active_organisations_may_issue_revoke_or_list(db, people):
    token_id, _token = issue(db, people)
    with db.session() as s:
        for user in (people.police_member, people.charity_chair, people.sci):
            viewer = viewer_of(s, user)
            assert not api_tokens.may_manage(viewer)
            with pytest.raises(PermissionError):
                api_tokens.issue(s, viewer, user.id, "Mine", 90)
            with pytest.raises(PermissionError):
                api_tokens.revoke(s, viewer, token_id)
            with pytest.raises(PermissionError):
                api_tokens.list_tokens(s, viewer)
            with pytest.raises(PermissionError):
                api_tokens.user_choices(s, viewer)
        s.get(User, people.council_admin.id).organisation.membership_status = MembershipStatus.LEFT
        s.flush()
        with pytest.raises(PermissionError):
            api_tokens.issue(s, viewer_of(s, people.council_admin), people.sci.id, "Mine", 90)
    with db.session() as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id)) is None
        assert len(s.scalars(select(ApiToken)).all()) == 1


@pytest.mark.parametrize(
    ("user", "name", "days", "field"),
    [
        ("", "Pull", 90, "user"),
        ("999999", "Pull", 90, "user"),
        ("junk", "Pull", 90, "user"),
        ("sci", "   ", 90, "name"),
        ("sci", "x" * 121, 90, "name"),
        ("sci", "Pull", 45, "expiry"),
        ("sci", "Pull", "forever", "expiry"),
        ("disabled", "Pull", 90, "user"),
    ],
)
def test_a_wrong_request_names_the_field_and_issues_nothing(db, people, user, name, days, field):
    with db.session() as s:
        if user == "disabled":
            s.get(User, people.police_member2.id).status = UserStatus.DISABLED
            user = people.police_member2.id
        elif user == "sci":
            user = people.sci.id
        with pytest.raises(ApiTokenError) as refused:
            api_tokens.issue(s, viewer_of(s, people.council_admin), user, name, days)
        assert refused.value.field == field and str(refused.value)
    with db.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_issuing_and_revoking_are_audited_without_the_token(db, people):
    token_id, token = issue(db, people, name="Quarterly pull", days=365)
    with db.session() as s:
        api_tokens.revoke(s, viewer_of(s, people.council_admin), token_id, "192.0.2.9")
    with db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("api-token-%")).order_by(AuditEvent.id)).all()
        expires = s.get(ApiToken, token_id).expires_at.isoformat()
        assert [e.action for e in events] == ["api-token-issued", "api-token-revoked"]
        for event, address in zip(events, ("192.0.2.1", "192.0.2.9"), strict=True):
            assert event.user_id == people.council_admin.id and event.ip_address == address
            assert event.detail == {"token_id": token_id, "prefix": token[:12], "user_id": people.sci.id,
                                    "name": "Quarterly pull", "expires_at": expires}
        dumped = str(s.execute(text("SELECT * FROM audit_events")).all())
        assert token[12:] not in dumped


def test_the_list_shows_who_what_and_status_newest_first(db, people):
    first_id, _ = issue(db, people, name="First")
    second_id, _ = issue(db, people, to=people.police_member, name="Second", days=None)
    with db.session() as s:
        admin = viewer_of(s, people.council_admin)
        api_tokens.revoke(s, admin, first_id)
        tokens = api_tokens.list_tokens(s, admin)
        choices = dict(api_tokens.user_choices(s, admin))
    assert [t.id for t in tokens] == [second_id, first_id]
    second, first = tokens
    assert (second.user_name, second.organisation, second.name, second.expires_at, second.created_by) == (
        "Pat Police", "Test Police", "Second", None, "Ada Admin")
    assert second.active and not first.active and first.revoked
    assert choices[people.sci.id] == "Sam Sci (sam.sci@sci.example), Safe Communities Initiative"


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path, monkeypatch, sqlite_db):
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("API_TOKEN_DAYS", raising=False)
    return sqlite_db


@pytest.fixture
def cli_people(cli_db, password_hash):
    with cli_db.session() as s:
        return make_people(s, password_hash)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_issues_lists_and_revokes_tokens(cli_db, cli_people, capsys):
    code, out, err = run(capsys, "issue-token", "--email", "SAM.SCI@sci.example", "--name", "Nightly pull")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("pdk_") and "shown only now" in out and "expires" in out
    with cli_db.session() as s:
        assert api_tokens.authenticate(s, token).user_id == cli_people.sci.id
        row = s.scalar(select(ApiToken))
        assert row.expires_at - row.created_at == timedelta(days=90)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "api-token-issued"))
        assert event.actor == "command line" and event.user_id is None

    code, out, _ = run(capsys, "list-tokens")
    assert code == 0 and token[:12] in out and "Nightly pull" in out and "Active" in out
    assert token[12:] not in out

    code, out, _ = run(capsys, "revoke-token", "--id", str(row.id))
    assert code == 0 and "Revoked" in out
    with cli_db.session() as s:
        assert api_tokens.authenticate(s, token) is None
    code, _out, err = run(capsys, "revoke-token", "--id", str(row.id))
    assert code == cli.EXIT_BAD_INPUT and "already revoked" in err


def test_the_command_line_refuses_unknown_users_and_lifetimes(cli_db, cli_people, capsys):
    code, _out, err = run(capsys, "issue-token", "--email", "nobody@example.org", "--name", "x")
    assert code == cli.EXIT_BAD_INPUT and "--email" in err
    code, _out, err = run(capsys, "issue-token", "--email", cli_people.sci.email, "--name", "x", "--days", "45")
    assert code == cli.EXIT_BAD_INPUT and "--days" in err
    code, out, err = run(capsys, "issue-token", "--email", cli_people.sci.email, "--name", "x", "--days", "none")
    assert code == 0 and "does not expire" in out
    assert TEST_PASSWORD not in out


# --- the admin page (through the real app, as dash-renderer calls its callbacks) ----------------


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


def call(app, client, csrf, output_contains: str, values: dict, patterns: dict | None = None, changed=None):
    """Post a callback the way dash-renderer does; `patterns` gives the items of ALL-pattern inputs."""
    key = next(k for k in app.callback_map if output_contains in k)
    spec = app.callback_map[key]

    def item(dep):
        raw = dep["id"]
        if raw.startswith("{"):
            return (patterns or {}).get(raw, [])
        return {"id": raw, "property": dep["property"], "value": values.get(f"{raw}.{dep['property']}")}

    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop.split("@")[0]})
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec["state"]],
        "changedPropIds": changed or [k for k in values if k.endswith("n_clicks")],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"X-CSRFToken": csrf, "Content-Type": "application/json"})


def issue_values(user_id, name="Monthly pull", expiry="90") -> dict:
    return {"api-tokens-issue.n_clicks": 1, "api-tokens-user.value": str(user_id), "api-tokens-name.value": name,
            "api-tokens-expiry.value": expiry, "api-tokens-changed.data": 0}


def test_an_admin_issues_a_token_and_sees_it_only_once(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    response = call(app, client, csrf, "api-tokens-new.children", issue_values(people.sci.id, expiry="none"))
    assert response.status_code == 200
    outputs = response.get_json()["response"]
    shown = re.findall(r"pdk_[A-Za-z0-9_-]{43}", json.dumps(outputs["api-tokens-new"]))
    assert len(set(shown)) == 1
    token = shown[0]
    # Only in the panel: not in any other output (stores, status, the table).
    others = {k: v for k, v in outputs.items() if k != "api-tokens-new"}
    assert token not in json.dumps(others) and token[12:] not in json.dumps(others)
    assert "only time the token is shown" in json.dumps(outputs["api-tokens-new"])
    assert outputs["api-tokens-changed"] == {"data": 1} and outputs["api-tokens-name"]["value"] == ""
    with db.session() as s:
        assert api_tokens.authenticate(s, token).user_id == people.sci.id
        assert s.scalar(select(ApiToken.expires_at)) is None
    table = call(app, client, csrf, "api-tokens-table.children", {"api-tokens-changed.data": 1},
                 changed=["api-tokens-changed.data"])
    assert table.status_code == 200 and token[:12] in table.get_data(as_text=True)
    assert token[12:] not in table.get_data(as_text=True)
    hidden = call(app, client, csrf, "api-tokens-status.children@", {"api-tokens-new-hide.n_clicks": 1})
    assert hidden.status_code == 200 and hidden.get_json()["response"]["api-tokens-new"] == {"children": []}


def test_a_wrong_form_names_the_field_and_issues_nothing(web):
    app, db, people = web
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    response = call(app, client, csrf, "api-tokens-new.children", issue_values(people.sci.id, name="  "))
    outputs = response.get_json()["response"]
    assert outputs["api-tokens-form-errors"]["hidden"] is False
    assert field_error_text(outputs["api-tokens-name-error"]["children"]) == (
        "Enter a name for the token, for example \u201cMonthly summary pull\u201d.")
    assert outputs["api-tokens-name"]["invalid"] is True
    with db.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_only_admins_callbacks_do_anything(web):
    app, db, people = web
    for user in (people.police_member, people.charity_chair, people.sci):
        client = app.server.test_client()
        csrf = sign_in(client, user.email)
        assert call(app, client, csrf, "api-tokens-new.children", issue_values(user.id)).status_code == 204
        assert call(app, client, csrf, "api-tokens-table.children", {"api-tokens-changed.data": 1},
                    changed=["api-tokens-changed.data"]).status_code == 204
    with db.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_an_admin_revokes_a_token_after_confirming(web):
    app, db, people = web
    token_id, token = issue(db, people)
    client = app.server.test_client()
    csrf = sign_in(client, people.council_admin.email)
    button = {"index": token_id, "type": "api-tokens-revoke", "version": 0}
    pattern = next(d["id"] for k, spec in app.callback_map.items() for d in spec["inputs"]
                   if "api-tokens-revoke" in d["id"])
    asked = call(app, client, csrf, "api-tokens-revoke-confirm.displayed", {},
                 patterns={pattern: [{"id": button, "property": "n_clicks", "value": 1}]},
                 changed=[json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"])
    assert asked.status_code == 200
    outputs = asked.get_json()["response"]
    assert outputs["api-tokens-revoke-confirm"]["displayed"] is True
    assert "Monthly pull" in outputs["api-tokens-revoke-confirm"]["message"]
    pending = outputs["api-tokens-pending-revoke"]["data"]
    done = call(app, client, csrf, "api-tokens-form-errors.hidden@",
                {"api-tokens-revoke-confirm.submit_n_clicks": 1, "api-tokens-pending-revoke.data": pending,
                 "api-tokens-changed.data": 0}, changed=["api-tokens-revoke-confirm.submit_n_clicks"])
    assert done.status_code == 200 and "Revoked the token" in done.get_data(as_text=True)
    with db.session() as s:
        assert api_tokens.authenticate(s, token) is None
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "api-token-revoked"))
        assert event.user_id == people.council_admin.id


# --- settings -----------------------------------------------------------------------------------


def test_the_api_settings_are_read_and_checked(tmp_path):
    base = {"DASHBOARD_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 40}
    defaults = Settings.from_env(base)
    assert (defaults.api_rate_limit, defaults.api_auth_failure_limit, defaults.api_token_days) == (
        "60 per minute;1000 per day", "30 per minute", 90)
    chosen = Settings.from_env(base | {"API_RATE_LIMIT": "5 per second", "API_AUTH_FAILURE_LIMIT": "10 per hour",
                                       "API_TOKEN_DAYS": "none"})
    assert (chosen.api_rate_limit, chosen.api_auth_failure_limit, chosen.api_token_days) == (
        "5 per second", "10 per hour", None)
    for name, value in (("API_RATE_LIMIT", "lots"), ("API_AUTH_FAILURE_LIMIT", "5 a go"), ("API_TOKEN_DAYS", "45")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env(base | {name: value})
