"""The TOTP second factor and recovery codes, in the domain (SQLite and PostgreSQL): the secret is
sealed, codes work once, neighbouring steps are accepted, wrong codes share the password's
lockout, recovery codes are stored as hashes and work once each."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard import auth, two_factor
from dashboard.models import AuditEvent, LoginThrottle, RecoveryCode, User, UserSession
from tests.conftest import TEST_PASSWORD

NOW = datetime(2026, 11, 3, 9, 0, 10, tzinfo=UTC)  # 10 seconds into a 30-second step
DEFAULT_ROLES = frozenset({"admin", "chair"})


@pytest.fixture
def cfg(settings):
    """The real requirement: admins and chairs must use a second factor."""
    return settings.with_overrides(second_factor_roles=DEFAULT_ROLES)


def code(secret: str, at: datetime = NOW, steps: int = 0) -> str:
    return two_factor.code_at(secret, two_factor.step_at(at) + steps)


def begin(db, cfg, person) -> str:
    with db.session() as s:
        return two_factor.begin_enrolment(s, cfg, s.get(User, person.id)).secret


def enrol(db, cfg, person, at: datetime = NOW) -> tuple[str, list[str]]:
    """Enrol a user at `at`; returns the secret and the recovery codes."""
    secret = begin(db, cfg, person)
    with db.session() as s:
        checked = two_factor.confirm_enrolment(s, cfg, s.get(User, person.id), code(secret, at), now=at)
    assert checked.ok, checked.message
    return secret, checked.recovery_codes


def verify(db, cfg, person, text, at: datetime = NOW) -> two_factor.CodeCheck:
    with db.session() as s:
        return two_factor.verify_code(s, cfg, s.get(User, person.id), text, now=at)


def recover(db, cfg, person, text, at: datetime = NOW) -> two_factor.CodeCheck:
    with db.session() as s:
        return two_factor.use_recovery_code(s, cfg, s.get(User, person.id), text, now=at)


def actions(db, person) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.user_id == person.id).order_by(AuditEvent.id)))


def test_the_secret_is_sealed_with_a_fresh_nonce_and_bound_to_its_user(db, cfg, people):
    secret = begin(db, cfg, people.police_member)
    with db.session() as s:
        stored = s.get(User, people.police_member.id).totp_secret
    assert stored.startswith("v1:") and secret not in stored and secret.lower() not in stored.lower()
    assert two_factor.open_secret(cfg, people.police_member.id, stored) == secret
    assert two_factor.seal_secret(cfg, 1, secret) != two_factor.seal_secret(cfg, 1, secret)  # a nonce each time
    with pytest.raises(two_factor.SecretError):  # copied onto another account, it does not open
        two_factor.open_secret(cfg, people.police_member2.id, stored)
    with pytest.raises(two_factor.SecretError):  # nor under another secret key
        two_factor.open_secret(cfg.with_overrides(secret_key="another-secret-key-" + "x" * 40),
                               people.police_member.id, stored)
    # Opening the set-up page again shows the same secret (the app may already hold it).
    assert begin(db, cfg, people.police_member) == secret


def test_enrolment_needs_a_right_code_and_gives_ten_recovery_codes(db, cfg, people):
    secret = begin(db, cfg, people.council_admin)
    with db.session() as s:
        wrong = two_factor.confirm_enrolment(s, cfg, s.get(User, people.council_admin.id), "000000"
                                             if code(secret) != "000000" else "111111", now=NOW)
    assert not wrong.ok and wrong.field == "code" and "not right" in wrong.message
    with db.session() as s:
        assert s.get(User, people.council_admin.id).totp_enabled_at is None
        assert not two_factor.confirm_enrolment(s, cfg, s.get(User, people.council_admin.id), "12 34",
                                                now=NOW).ok  # too short: named, not counted
    _, codes = enrol(db, cfg, people.council_admin)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}", c) for c in codes)
    with db.session() as s:
        user = s.get(User, people.council_admin.id)
        assert user.totp_enabled_at == NOW and user.totp_last_step == two_factor.step_at(NOW)
        assert two_factor.status(s, cfg, user).recovery_codes_left == 10
    assert actions(db, people.council_admin) == ["second factor failed", "second factor enrolled"]


def test_a_code_works_once(db, cfg, people):
    secret, _ = enrol(db, cfg, people.police_member)
    later = NOW + timedelta(seconds=30)
    assert verify(db, cfg, people.police_member, code(secret, later), later).ok
    replay = verify(db, cfg, people.police_member, code(secret, later), later + timedelta(seconds=5))
    assert not replay.ok and "already been used" in replay.message
    # An older code is refused too, even inside the window: only steps after the last one count.
    assert not verify(db, cfg, people.police_member, code(secret, NOW), later).ok


@pytest.mark.parametrize("drift", [-1, 1])
def test_a_code_from_the_step_before_or_after_is_accepted_once(db, cfg, people, drift):
    secret, _ = enrol(db, cfg, people.police_member)
    at = NOW + timedelta(minutes=5)
    typed = code(secret, at, steps=drift)
    assert verify(db, cfg, people.police_member, typed, at).ok
    assert not verify(db, cfg, people.police_member, typed, at).ok
    assert not verify(db, cfg, people.police_member, code(secret, at + timedelta(minutes=2), steps=2),
                      at + timedelta(minutes=2)).ok  # two steps away is too far


def test_spaces_in_a_typed_code_do_not_matter(db, cfg, people):
    secret, _ = enrol(db, cfg, people.police_member)
    at = NOW + timedelta(seconds=60)
    typed = code(secret, at)
    assert verify(db, cfg, people.police_member, f" {typed[:3]} {typed[3:]} ", at).ok


def test_wrong_codes_share_the_password_lockout_and_a_locked_account_is_refused(db, cfg, people):
    secret, codes = enrol(db, cfg, people.police_member)
    at = NOW + timedelta(minutes=1)
    wrong = "000000" if code(secret, at) != "000000" else "111111"
    # A right password does not clear the count while a second factor is still to come.
    with db.session() as s:
        assert auth.authenticate(s, cfg, people.police_member.email, TEST_PASSWORD, now=at).second_factor == "verify"
    for _ in range(cfg.lockout_threshold - 2):
        assert "not right" in verify(db, cfg, people.police_member, wrong, at).message
    with db.session() as s:
        assert auth.authenticate(s, cfg, people.police_member.email, TEST_PASSWORD, now=at).ok
    assert "not right" in recover(db, cfg, people.police_member, "aaaa-bbbb-cccc-dddd", at).message
    locked = verify(db, cfg, people.police_member, wrong, at)
    assert locked.locked_for == cfg.lockout_base and "Try again in 5 minutes" in locked.message
    # Locked: the right code, a recovery code and the right password are all refused.
    assert verify(db, cfg, people.police_member, code(secret, at), at).locked_for
    assert recover(db, cfg, people.police_member, codes[0], at).locked_for
    with db.session() as s:
        assert not auth.authenticate(s, cfg, people.police_member.email, TEST_PASSWORD, now=at).ok
    assert "account locked" in actions(db, people.police_member)
    # After the lock, the right code works, and the completed sign-in clears the count.
    after = at + cfg.lockout_base + timedelta(seconds=1)
    assert verify(db, cfg, people.police_member, code(secret, after), after).ok
    with db.session() as s:
        auth.complete_sign_in(s, s.get(User, people.police_member.id), second_factor="totp", now=after)
    with db.session() as s:
        throttle = s.get(LoginThrottle, people.police_member.email)
        assert throttle.failures == 0 and throttle.locked_until is None


def test_recovery_codes_are_stored_hashed_and_work_once_each(db, cfg, people):
    _, codes = enrol(db, cfg, people.charity_chair)
    with db.session() as s:
        rows = s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == people.charity_chair.id)).all()
        stored = " ".join(f"{r.code_hash} {r.id} {r.created_at}" for r in rows)
    assert len(rows) == 10
    for c in codes:
        plain = c.replace("-", "")
        assert c not in stored and plain not in stored
        assert hashlib.sha256(plain.encode()).hexdigest() in stored
    first = recover(db, cfg, people.charity_chair, codes[0])
    assert first.ok and first.codes_left == 9
    again = recover(db, cfg, people.charity_chair, codes[0])
    assert not again.ok and again.field == "recovery_code" and "already been used" in again.message
    # Capitals, spaces, no dashes, and o for 0 or l for 1 are read as meant.
    typed = codes[1].upper().replace("-", " ").replace("0", "O").replace("1", "l")
    assert recover(db, cfg, people.charity_chair, typed).codes_left == 8
    assert not recover(db, cfg, people.charity_chair, "not a code").ok
    with db.session() as s:
        used = s.scalars(select(AuditEvent).where(AuditEvent.action == "recovery code used")
                         .order_by(AuditEvent.id)).all()
    assert [e.detail["recovery_codes_left"] for e in used] == [9, 8]


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(db, cfg, people):
    secret, old = enrol(db, cfg, people.police_member)
    at = NOW + timedelta(minutes=1)
    with db.session() as s:
        refused = two_factor.replace_recovery_codes(s, cfg, s.get(User, people.police_member.id), "", now=at)
    assert not refused.ok and refused.message == two_factor.ENTER_CODE
    with db.session() as s:
        new = two_factor.replace_recovery_codes(s, cfg, s.get(User, people.police_member.id), code(secret, at),
                                                now=at).recovery_codes
    assert len(new) == 10 and not set(new) & set(old)
    assert not recover(db, cfg, people.police_member, old[1], at).ok
    assert recover(db, cfg, people.police_member, new[0], at).codes_left == 9
    assert "recovery codes replaced" in actions(db, people.police_member)


def test_turning_off_needs_the_password_and_a_code_and_ends_other_sessions(db, cfg, people):
    secret, codes = enrol(db, cfg, people.police_member)
    at = NOW + timedelta(minutes=1)
    with db.session() as s:
        user = s.get(User, people.police_member.id)
        here = auth.start_session(s, user)
        auth.start_session(s, user)
    with db.session() as s:
        user = s.get(User, people.police_member.id)
        assert two_factor.turn_off(s, cfg, user, "", "", now=at).errors == {
            "password": "Enter your password.", "code": two_factor.ENTER_CODE}
        wrong = two_factor.turn_off(s, cfg, user, "not my password at all", code(secret, at), now=at)
        assert wrong.errors == {"password": two_factor.WRONG_PASSWORD}
    assert "second factor turn-off failed" in actions(db, people.police_member)  # counted
    with db.session() as s:
        done = two_factor.turn_off(s, cfg, s.get(User, people.police_member.id), TEST_PASSWORD, code(secret, at),
                                   keep_token=here, now=at)
    assert done.ok and done.other_sessions_ended == 1
    with db.session() as s:
        user = s.get(User, people.police_member.id)
        assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
        assert s.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id)) is None
        open_sessions = s.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                            UserSession.ended_at.is_(None))).all()
        assert [r.token_hash for r in open_sessions] == [auth.token_hash(here)]
        assert auth.authenticate(s, cfg, user.email, TEST_PASSWORD, now=at).second_factor is None
    assert not recover(db, cfg, people.police_member, codes[0], at).ok
    assert "second factor turned off" in actions(db, people.police_member)


def test_a_role_that_requires_it_cannot_turn_it_off(db, cfg, people):
    secret, _ = enrol(db, cfg, people.council_admin)
    at = NOW + timedelta(minutes=1)
    with db.session() as s:
        result = two_factor.turn_off(s, cfg, s.get(User, people.council_admin.id), TEST_PASSWORD,
                                     code(secret, at), now=at)
    assert not result.ok and "requires two-step verification" in result.errors["password"]
    with db.session() as s:
        assert s.get(User, people.council_admin.id).totp_enabled_at is not None


def test_which_step_follows_a_right_password(db, cfg, people):
    enrol(db, cfg, people.police_member2)
    with db.session() as s:
        steps = {p.email: auth.authenticate(s, cfg, p.email, TEST_PASSWORD, now=NOW).second_factor
                 for p in (people.police_member, people.police_member2, people.council_admin, people.charity_chair)}
    assert steps == {people.police_member.email: None, people.police_member2.email: "verify",
                     people.council_admin.email: "setup", people.charity_chair.email: "setup"}
    # Only the sign-in that is complete is audited as "sign-in"; the others wait for the code.
    assert actions(db, people.police_member) == ["sign-in"]
    assert actions(db, people.council_admin) == ["sign-in password accepted"]
    with db.session() as s:
        auth.complete_sign_in(s, s.get(User, people.police_member2.id), second_factor="recovery code", now=NOW)
        event = s.scalars(select(AuditEvent).where(AuditEvent.user_id == people.police_member2.id,
                                                   AuditEvent.action == "sign-in")).one()
        assert event.detail == {"second_factor": "recovery code"}


def test_recovery_codes_carry_eighty_random_bits_in_an_unambiguous_alphabet():
    codes = two_factor.generate_recovery_codes(200)
    alphabet = set("".join(codes).replace("-", ""))
    assert alphabet <= set(two_factor.RECOVERY_ALPHABET) and not alphabet & set("ilou")
    assert len(two_factor.RECOVERY_ALPHABET) == 32 and two_factor.RECOVERY_LENGTH == 16  # 16 x 5 bits
    assert len(set(codes)) == 200
