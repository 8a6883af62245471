"""Early-warning alerts: who receives them, once only, acknowledging, and what e-mail may say."""

from __future__ import annotations

import email
import json
import socket
from datetime import date, timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from dashboard import alerts, cli
from dashboard.access import Viewer, get_visible
from dashboard.config import ConfigError, Settings
from dashboard.models import (
    Alert,
    AlertRecipient,
    AuditEvent,
    Organisation,
    TensionAssessment,
    User,
    organisation_areas,
)
from dashboard.reference import Marking, MembershipStatus, Role, UserStatus
from tests.conftest import SECRET, TEST_PASSWORD, add_incident, csrf_from, make_people

BIRMINGHAM, COVENTRY, LEICESTER = "E08000025", "E08000026", "E06000016"
AS_OF = date(2026, 10, 4)  # a Sunday: the window is 28 Sep to 4 Oct
SECRET_TITLE = "Leaflets naming a family on Elm Road"
SECRET_RATIONALE = "Informant reports planned gathering outside the mosque"


# --- a small partnership with districts covered ------------------------------------------------


def _cover(session, org: Organisation, *codes: str) -> None:
    session.execute(organisation_areas.insert(), [{"organisation_id": org.id, "area_code": c} for c in codes])


@pytest.fixture
def world(db, password_hash):
    """People of make_people; police cover Birmingham and Coventry, the council Coventry only.
    Also in Birmingham's covering organisations: SCI (never alerted), a disabled police user and
    an organisation that has left the partnership."""
    with db.session() as s:
        p = make_people(s, password_hash)
        _cover(s, p.police, BIRMINGHAM, COVENTRY)
        _cover(s, p.council, COVENTRY)
        _cover(s, p.sci_org, BIRMINGHAM, COVENTRY)
        gone = Organisation(name="Former Partner", sector="statutory", membership_status=MembershipStatus.LEFT)
        s.add(gone)
        s.flush()
        _cover(s, gone, BIRMINGHAM)
        extra = {
            "disabled": User(email="dee.disabled@police.example", name="Dee Disabled", organisation_id=p.police.id,
                             role=Role.MEMBER, status=UserStatus.DISABLED, password_hash=password_hash),
            "former": User(email="fay.former@former.example", name="Fay Former", organisation_id=gone.id,
                           role=Role.MEMBER, password_hash=password_hash),
        }
        s.add_all(extra.values())
        s.flush()
        ids = {name: u.id for name, u in extra.items()}
    return p, ids


def _surge(session, reporter: User, area: str = BIRMINGHAM, marking: Marking = Marking.GREEN,
           window: int = 8, title: str = SECRET_TITLE) -> None:
    """One incident a week for the 12 weeks before the window, then `window` in its 7 days."""
    window_start = AS_OF - timedelta(days=6)
    for week in range(1, 13):
        add_incident(session, reporter, Marking.GREEN, day=window_start - timedelta(days=7 * week - 3), area=area)
    for i in range(window):
        add_incident(session, reporter, marking, day=window_start + timedelta(days=i % 7), area=area, title=title)


def _recipients(db, kind: str | None = None) -> dict[str, set[int]]:
    with db.session() as s:
        stmt = select(Alert.key, AlertRecipient.user_id).join(AlertRecipient)
        if kind:
            stmt = stmt.where(Alert.kind == kind)
        out: dict[str, set[int]] = {}
        for key, user_id in s.execute(stmt):
            out.setdefault(key, set()).add(user_id)
    return out


def _viewer(db, user_id: int) -> Viewer:
    with db.session() as s:
        return Viewer.from_user(s.get(User, user_id))


# --- who receives an alert ---------------------------------------------------------------------


def test_alr001_surge_alert_reaches_covering_members_and_the_chair_only(db, world):
    p, extra = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        result = alerts.check_alerts(s, AS_OF)
    keys = {a.key for a in result.created}
    assert keys == {f"surge:{BIRMINGHAM}:all:2026-W40", f"surge:{BIRMINGHAM}:literature:2026-W40"}
    expected = {p.police_member.id, p.police_member2.id, p.charity_chair.id}
    for users in _recipients(db).values():
        assert users == expected  # not the council (Coventry only), SCI, disabled or former users
    assert extra["disabled"] not in expected and extra["former"] not in expected

    with db.session() as s:
        alert = s.scalar(select(Alert).where(Alert.key == f"surge:{BIRMINGHAM}:literature:2026-W40"))
        assert alert.marking == Marking.GREEN
        assert alert.observed == 8 and alert.expected == pytest.approx(1.0)
        assert alert.link == (f"/trends?period=quarter&grain=week&geo=district&areas={BIRMINGHAM}"
                              "&split=category&category=literature")
        assert "Birmingham" in alert.summary and "8 incidents" in alert.summary
        assert SECRET_TITLE not in alert.summary + alert.title  # aggregates only, never record text


def test_alr002_surges_count_only_what_every_partner_may_see(db, world):
    p, _ = world
    with db.session() as s:
        # a police-only (AMBER+STRICT) wave must not alert the partnership
        _surge(s, s.get(User, p.police_member.id), marking=Marking.AMBER_STRICT)
        result = alerts.check_alerts(s, AS_OF)
    assert [a for a in result.created if a.kind == "surge"] == []


def test_alr003_a_check_is_idempotent(db, world):
    p, _ = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        s.add(TensionAssessment(area_code=COVENTRY, assessed_on=AS_OF - timedelta(days=2), level=4,
                                source_org_id=p.council.id, reporter_id=p.council_member.id))
    with db.session() as s:
        first = alerts.check_alerts(s, AS_OF)
    with db.session() as s:
        again = alerts.check_alerts(s, AS_OF)
        later_same_week = alerts.check_alerts(s, AS_OF - timedelta(days=1))
        assert s.scalar(select(func.count()).select_from(Alert)) == 3
        assert s.scalar(select(func.count()).select_from(AlertRecipient)) == 3 + 3 + 5
    assert len(first.created) == 3 and first.already_raised == 0
    assert again.created == () and again.already_raised == 3
    assert later_same_week.created == ()
    assert "0 new alert(s)" in again.lines()[0]


def test_alr004_tension_alerts_follow_the_assessments_marking(db, world):
    p, _ = world
    with db.session() as s:
        # Birmingham: the police's own AMBER+STRICT assessment at level 5
        strict = TensionAssessment(area_code=BIRMINGHAM, assessed_on=AS_OF - timedelta(days=3), level=5,
                                   source_org_id=p.police.id, reporter_id=p.police_member.id,
                                   marking=Marking.AMBER_STRICT, rationale=SECRET_RATIONALE)
        # Coventry: the council's GREEN assessment at level 4
        green = TensionAssessment(area_code=COVENTRY, assessed_on=AS_OF - timedelta(days=3), level=4,
                                  source_org_id=p.council.id, reporter_id=p.council_member.id)
        # Leicester: level 5 earlier, but the latest is level 2; and a deleted level-5 after it
        s.add_all([
            strict, green,
            TensionAssessment(area_code=LEICESTER, assessed_on=AS_OF - timedelta(days=40), level=5,
                              source_org_id=p.council.id, reporter_id=p.council_member.id),
            TensionAssessment(area_code=LEICESTER, assessed_on=AS_OF - timedelta(days=10), level=2,
                              source_org_id=p.council.id, reporter_id=p.council_member.id),
            TensionAssessment(area_code=LEICESTER, assessed_on=AS_OF - timedelta(days=1), level=5,
                              source_org_id=p.council.id, reporter_id=p.council_member.id,
                              deleted_at=alerts.utcnow()),
            # level 3 is not an alert
            TensionAssessment(area_code="E08000027", assessed_on=AS_OF - timedelta(days=1), level=3,
                              source_org_id=p.council.id, reporter_id=p.council_member.id),
        ])
        s.flush()
        strict_id, green_id = strict.id, green.id
        alerts.check_alerts(s, AS_OF)
    got = _recipients(db, "tension")
    assert set(got) == {f"tension:{strict_id}", f"tension:{green_id}"}
    # AMBER+STRICT: its own organisation only; the chair (another organisation) may not see it
    assert got[f"tension:{strict_id}"] == {p.police_member.id, p.police_member2.id}
    assert got[f"tension:{green_id}"] == {
        p.police_member.id, p.police_member2.id, p.council_member.id, p.council_admin.id, p.charity_chair.id
    }
    with db.session() as s:
        alert = s.scalar(select(Alert).where(Alert.key == f"tension:{strict_id}"))
        assert alert.marking == Marking.AMBER_STRICT and alert.level == 5
        assert alert.link == f"/?metric=tension&area={BIRMINGHAM}"
        assert SECRET_RATIONALE not in alert.summary + alert.title


# --- the gate: reading and acknowledging ---------------------------------------------------------


@pytest.fixture
def raised(db, world):
    """A surge alert for Birmingham and a GREEN tension alert for Coventry."""
    p, extra = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id), window=9)
        assessment = TensionAssessment(area_code=COVENTRY, assessed_on=AS_OF, level=4,
                                       source_org_id=p.council.id, reporter_id=p.council_member.id)
        s.add(assessment)
        s.flush()
        alerts.check_alerts(s, AS_OF)
        ids = {a.key.split(":")[0] + (":" + a.key.split(":")[2] if a.kind == "surge" else ""): a.id
               for a in s.scalars(select(Alert))}
        ids["assessment"] = assessment.id
    return p, extra, ids


def test_alr005_each_viewer_reads_only_their_own_alerts(db, raised):
    p, extra, ids = raised
    with db.session() as s:
        pat = alerts.alerts_for(s, _viewer(db, p.police_member.id))
        cora = alerts.alerts_for(s, _viewer(db, p.council_member.id))
        chris = alerts.alerts_for(s, _viewer(db, p.charity_chair.id))
        sam = alerts.alerts_for(s, _viewer(db, p.sci.id))
        assert {a.id for a in pat} == {ids["surge:all"], ids["surge:literature"], ids["tension"]}
        assert {a.id for a in cora} == {ids["tension"]}  # Coventry only
        assert {a.id for a in chris} == {ids["surge:all"], ids["surge:literature"], ids["tension"]}
        assert sam == [] and alerts.unacknowledged_count(s, _viewer(db, p.sci.id)) == 0
        assert get_visible(s, _viewer(db, p.council_member.id), Alert, ids["surge:all"]) is None
        assert alerts.unacknowledged_count(s, _viewer(db, p.police_member.id)) == 3
        # a user disabled after the alert no longer sees it
        paul = s.get(User, p.police_member2.id)
        paul.status = UserStatus.DISABLED
        s.flush()
        assert alerts.alerts_for(s, Viewer.from_user(paul)) == []
        # an assessment re-marked AMBER+STRICT hides its alert from other organisations
        s.get(TensionAssessment, ids["assessment"]).marking = Marking.AMBER_STRICT
        s.flush()
        assert alerts.alerts_for(s, _viewer(db, p.police_member.id)) != []
        assert ids["tension"] not in {a.id for a in alerts.alerts_for(s, _viewer(db, p.police_member.id))}
        assert [a.id for a in alerts.alerts_for(s, _viewer(db, p.council_member.id))] == [ids["tension"]]
        s.rollback()


def test_alr006_acknowledging_touches_only_the_viewers_own_copies(db, raised):
    p, _, ids = raised
    pat, paul, cora = (_viewer(db, u) for u in (p.police_member.id, p.police_member2.id, p.council_member.id))
    with db.session() as s:
        assert alerts.acknowledge(s, pat, [ids["surge:all"]], ip_address="192.0.2.7") == 1
        assert alerts.acknowledge(s, pat, [ids["surge:all"]]) == 0  # already done
        assert alerts.acknowledge(s, cora, [ids["surge:all"], ids["surge:literature"]]) == 0  # not hers
        assert alerts.acknowledge(s, _viewer(db, p.sci.id), None) == 0
    with db.session() as s:
        copies = {(r.alert_id, r.user_id): r.acknowledged_at for r in s.scalars(select(AlertRecipient))}
        assert copies[(ids["surge:all"], pat.user_id)] is not None
        assert copies[(ids["surge:all"], paul.user_id)] is None
        assert copies[(ids["surge:all"], p.charity_chair.id)] is None
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "alert acknowledged")).all()
        assert [(e.user_id, e.record_id, e.ip_address) for e in events] == [
            (pat.user_id, str(ids["surge:all"]), "192.0.2.7")
        ]
        listed = alerts.alerts_for(s, pat)
        assert [a.acknowledged_at is None for a in listed] == [True, True, False]  # waiting first
        assert alerts.unacknowledged_count(s, pat) == 2
        assert alerts.acknowledge(s, pat, None) == 2  # "acknowledge all"
        assert alerts.unacknowledged_count(s, pat) == 0
        assert alerts.unacknowledged_count(s, paul) == 3
        assert len(alerts.alerts_for(s, pat, include_acknowledged=False)) == 0


# --- e-mail ------------------------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def _mail_settings(db, tmp_path, port: int | None) -> Settings:
    return Settings(
        database_url=db.url, secret_key=SECRET, instance_dir=tmp_path,
        smtp_host="127.0.0.1" if port else None, smtp_port=port or 587, smtp_starttls=False,
        smtp_from="alerts@partnership.example", public_url="https://dashboard.example.org",
    )


def _body(message) -> str:
    return message["Subject"] + "\n" + message.get_content()


def test_alr007_emails_say_only_what_the_marking_allows(db, world, smtp_sink, tmp_path):
    sink, port = smtp_sink
    p, _ = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        s.add(TensionAssessment(area_code=COVENTRY, assessed_on=AS_OF, level=5, source_org_id=p.police.id,
                                reporter_id=p.police_member.id, marking=Marking.AMBER_STRICT,
                                rationale=SECRET_RATIONALE))
    settings = _mail_settings(db, tmp_path, port)
    with db.session() as s:
        result = alerts.check_alerts(s, AS_OF, settings)
    # surge (all + literature) to pat, paul, chris; the strict tension alert to pat and paul
    assert result.email.configured and result.email.sent == 8 and result.email.failed == 0
    by_user: dict[str, list] = {}
    for rcpts, message in sink.messages:
        assert message["From"] == "alerts@partnership.example"
        by_user.setdefault(rcpts[0], []).append(message)
    assert set(by_user) == {p.police_member.email, p.police_member2.email, p.charity_chair.email}
    everything = "\n".join(_body(m) for ms in by_user.values() for m in ms)
    assert SECRET_TITLE not in everything and SECRET_RATIONALE not in everything
    assert "TLP:AMBER" not in everything

    surge_mails = [m for m in by_user[p.charity_chair.email]]
    assert len(surge_mails) == 2
    for m in surge_mails:
        text = _body(m)
        assert "Birmingham" in text and "8 incidents" in text and "TLP:GREEN" in text
        assert "https://dashboard.example.org/trends?period=quarter" in text

    restricted = [m for m in by_user[p.police_member.email] if "needs your attention" in m["Subject"]]
    assert len(restricted) == 1
    text = _body(restricted[0])
    assert "https://dashboard.example.org/alerts" in text
    for leak in ("Coventry", "level", "Level", "5", "Critical", "tension"):
        assert leak not in text, leak

    # each copy is sent once: a second check sends nothing more
    with db.session() as s:
        again = alerts.check_alerts(s, AS_OF, settings)
        assert s.scalar(select(func.count()).select_from(AlertRecipient).where(AlertRecipient.emailed_at.is_(None))) == 0
    assert again.email.sent == 0 and len(sink.messages) == 8


def test_alr008_no_smtp_settings_means_no_email(db, world, tmp_path):
    p, _ = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        result = alerts.check_alerts(s, AS_OF, _mail_settings(db, tmp_path, None))
        assert not result.email.configured
        assert "not configured" in "\n".join(result.lines())
        assert s.scalar(select(func.count()).select_from(AlertRecipient).where(AlertRecipient.emailed_at.is_not(None))) == 0


def test_alr009_an_unreachable_server_is_recorded_not_raised(db, world, tmp_path, smtp_sink):
    sink, live_port = smtp_sink
    p, _ = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        result = alerts.check_alerts(s, AS_OF, _mail_settings(db, tmp_path, _free_port()))
    assert result.email.error and result.email.sent == 0
    with db.session() as s:
        errors = s.scalars(select(AlertRecipient.email_error)).all()
        assert errors and all(errors)
    # the next check, with the server back, sends them (once) and clears the errors
    with db.session() as s:
        retry = alerts.send_pending_emails(s, _mail_settings(db, tmp_path, live_port))
        assert retry.sent == 6
        assert s.scalars(select(AlertRecipient.email_error)).all() == [None] * 6


def test_alr010_smtp_settings_from_the_environment(tmp_path):
    base = {"DASHBOARD_INSTANCE": str(tmp_path), "SECRET_KEY": SECRET}
    assert Settings.from_env(base).smtp_host is None
    s = Settings.from_env({**base, "SMTP_HOST": "mail.example.org", "SMTP_FROM": "alerts@example.org",
                           "SMTP_USERNAME": "alerts", "SMTP_PASSWORD": "s3cret-pass", "SMTP_PORT": "2525",
                           "SMTP_STARTTLS": "false", "PUBLIC_URL": "https://dash.example.org/",
                           "ALERT_CHECK_MINUTES": "0"})
    assert (s.smtp_host, s.smtp_port, s.smtp_starttls, s.public_url, s.alert_check_minutes) == (
        "mail.example.org", 2525, False, "https://dash.example.org", 0)
    assert "s3cret-pass" not in repr(s)
    with pytest.raises(ConfigError, match="SMTP_FROM"):
        Settings.from_env({**base, "SMTP_HOST": "mail.example.org"})
    with pytest.raises(ConfigError, match="SMTP_USERNAME and SMTP_PASSWORD"):
        Settings.from_env({**base, "SMTP_HOST": "m", "SMTP_FROM": "a@b.c", "SMTP_USERNAME": "x"})
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        Settings.from_env({**base, "PUBLIC_URL": "dash.example.org"})


# --- the command line --------------------------------------------------------------------------


def test_alr011_check_alerts_and_create_org_with_coverage(sqlite_db, tmp_path, monkeypatch, capsys, password_hash):
    monkeypatch.setenv("DASHBOARD_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    assert cli.main(["create-org", "--name", "Coventry Cohesion", "--covers", "Coventry", BIRMINGHAM]) == 0
    assert "covers 2 district(s)" in capsys.readouterr().out
    assert cli.main(["create-org", "--name", "Nowhere", "--covers", "Atlantis"]) == cli.EXIT_BAD_INPUT
    assert "Atlantis" in capsys.readouterr().err
    with sqlite_db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.name == "Coventry Cohesion"))
        assert sorted(a.code for a in org.covered_areas) == [BIRMINGHAM, COVENTRY]
        user = User(email="cat@cohesion.example", name="Cat", organisation_id=org.id, role=Role.MEMBER,
                    password_hash=password_hash)
        s.add(user)
        s.flush()
        _surge(s, user)
    assert cli.main(["check-alerts", "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "2 new alert(s) (2 surge, 0 tension)" in out and "Sharp rise in incidents in Birmingham" in out
    assert "E-mail: not configured" in out
    assert cli.main(["check-alerts", "--as-of", AS_OF.isoformat()]) == 0
    assert "0 new alert(s)" in capsys.readouterr().out


def test_alr012_the_background_checker_logs_instead_of_failing(sqlite_db, world_sqlite, tmp_path, monkeypatch):
    p = world_sqlite
    checker = alerts.AlertChecker(sqlite_db, _mail_settings(sqlite_db, tmp_path, None), 15, today=lambda: AS_OF)
    with sqlite_db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
    assert len(checker.run_once().created) == 2
    assert checker.run_once().created == ()

    def broken(*_args):
        raise RuntimeError("surge engine down")

    monkeypatch.setattr(alerts, "find_surges", broken)
    assert checker.run_once() is None  # logged, not raised


@pytest.fixture
def world_sqlite(sqlite_db, password_hash):
    with sqlite_db.session() as s:
        p = make_people(s, password_hash)
        _cover(s, p.police, BIRMINGHAM)
    return p


# --- the web layer -----------------------------------------------------------------------------


@pytest.fixture
def web(settings, sqlite_db, world_sqlite):
    from app import create_app

    p = world_sqlite
    with sqlite_db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        alerts.check_alerts(s, AS_OF)
        ids = sorted(s.scalars(select(Alert.id)))
    return create_app(settings, sqlite_db), p, ids


def _client(app, email_address):
    client = app.server.test_client()
    token = csrf_from(client.get("/login").data)
    client.post("/login", data={"email": email_address, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"})
    client.get("/")
    return client


def _ack_output(app) -> str:
    return next(k for k in app.callback_map if k.startswith("..alerts-list.children..."))


def _ack(app, client, clicked: dict, buttons: list[dict]):
    body = {
        "output": _ack_output(app),
        "outputs": [{"id": "alerts-list", "property": "children"},
                    {"id": "alerts-status", "property": "children"},
                    {"id": "shell-alerts-count", "property": "children"}],
        "inputs": [
            [{"id": b, "property": "n_clicks", "value": 1 if b == clicked else None} for b in buttons
             if b["type"] == "alerts-ack"],
            [{"id": b, "property": "n_clicks", "value": 1 if b == clicked else None} for b in buttons
             if b["type"] == "alerts-ack-all"],
        ],
        "changedPropIds": [json.dumps(clicked, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
    }
    token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def _count(client):
    body = {
        "output": "shell-alerts-count.children",
        "outputs": {"id": "shell-alerts-count", "property": "children"},
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/alerts"}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def test_alr013_sci_cannot_use_the_alerts_callbacks(web):
    app, p, ids = web
    buttons = [{"type": "alerts-ack", "index": i} for i in ids]
    sci = _client(app, p.sci.email)
    assert _ack(app, sci, buttons[0], buttons).status_code == 204
    assert _count(sci).status_code == 204
    pat = _client(app, p.police_member.email)
    response = _count(pat)
    assert response.status_code == 200
    assert '" (2"' in json.dumps(response.get_json())  # "Alerts (2 waiting)"


def test_alr014_acknowledging_through_the_callback(web, sqlite_db):
    app, p, ids = web
    buttons = [{"type": "alerts-ack", "index": i} for i in ids] + [{"type": "alerts-ack-all", "index": 0}]
    # the council member has no copy: clicking a forged button changes nothing
    cora = _client(app, p.council_member.email)
    response = _ack(app, cora, buttons[0], buttons)
    assert response.status_code == 200
    assert "Nothing to acknowledge" in json.dumps(response.get_json())
    pat = _client(app, p.police_member.email)
    response = _ack(app, pat, buttons[0], buttons)
    assert response.status_code == 200
    text = json.dumps(response.get_json())
    assert "Acknowledged 1 alert. 1 still waiting." in text
    with sqlite_db.session() as s:
        acked = {(r.alert_id, r.user_id) for r in s.scalars(
            select(AlertRecipient).where(AlertRecipient.acknowledged_at.is_not(None)))}
        assert acked == {(ids[0], p.police_member.id)}
    response = _ack(app, pat, buttons[-1], buttons)
    assert "Acknowledged 1 alert. No alerts are waiting." in json.dumps(response.get_json())


def test_alr015_two_checks_racing_raise_each_alert_once(db, world, monkeypatch):
    p, _ = world
    with db.session() as s:
        _surge(s, s.get(User, p.council_member.id))
        alerts.check_alerts(s, AS_OF)
    # a second checker that did not yet see the first one's alerts: the unique key stops it
    monkeypatch.setattr(alerts, "_existing_keys", lambda _session, _keys: set())
    with db.session() as s:
        s.add(TensionAssessment(area_code=COVENTRY, assessed_on=AS_OF, level=4,
                                source_org_id=p.council.id, reporter_id=p.council_member.id))
        s.flush()
        result = alerts.check_alerts(s, AS_OF)
    assert [a.kind for a in result.created] == ["tension"]  # the surges were already raised
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 3
        assert s.scalar(select(func.count()).select_from(TensionAssessment)) == 1


def test_alr016_the_demo_covers_districts_and_raises_its_alerts(tmp_path, monkeypatch):
    from dashboard import demo, geography, passwords
    from dashboard.database import Database, upgrade_schema

    monkeypatch.setattr(passwords, "hash_password", lambda _password: "not-a-real-hash")
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade_schema(db)
    with db.session() as s:
        geography.load_reference_data(s)
    messages: list[str] = []
    demo.seed_demo(db, incidents=3_000, today=AS_OF, progress=messages.append)
    with db.session() as s:
        birmingham_cc = s.scalar(select(Organisation).where(Organisation.name == "Birmingham City Council"))
        assert [a.name for a in birmingham_cc.covered_areas] == ["Birmingham"]
        tuc = s.scalar(select(Organisation).where(Organisation.name == "Midlands TUC"))
        assert len(tuc.covered_areas) == 65
        raised = s.scalar(select(func.count()).select_from(Alert))
        sci = s.scalars(select(User.id).where(User.role == Role.SCI)).all()
        assert not s.scalar(select(func.count()).select_from(AlertRecipient).where(AlertRecipient.user_id.in_(sci)))
    assert any(m.startswith(f"Alert check as of {AS_OF.isoformat()}: {raised} new alert(s)") for m in messages)
    db.dispose()
