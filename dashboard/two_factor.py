"""The TOTP second factor and its recovery codes (DOMAIN.md security baseline), with no web
framework in it.

- Codes are standard TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps), so any authenticator
  app works. The step before and after the current one are accepted for clock drift, and a step
  at or before the last one accepted is refused, so a code never works twice.
- The shared secret is kept encrypted (AES-GCM, a key derived by HKDF-SHA256 from the app's
  secret key, bound to the user's id); the database alone does not give it away.
- Ten recovery codes of 16 characters (80 random bits each) are shown once; only the SHA-256 of
  each is kept, and each works once. A new set replaces the old one.
- Wrong codes, TOTP or recovery, count towards the same lockout as a wrong password, and a
  locked account is refused whatever code it gives.
- Which roles must use it is `settings.second_factor_roles` (admins and chairs); others may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from . import audit, auth
from .config import Settings
from .models import RecoveryCode, User, utcnow

ISSUER = "Midlands Partnership Dashboard"
DIGITS = 6
INTERVAL = 30  # seconds per step
VALID_WINDOW = 1  # steps either side of now that are accepted (clock drift)
PENDING_LIFETIME = timedelta(minutes=5)  # from a right password to the second factor

RECOVERY_CODE_COUNT = 10
# Crockford's base32: digits and lowercase letters without i, l, o and u, 5 bits a character
# (16 characters: 80 bits). On entry o reads as 0 and i or l as 1, the mistakes people make.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_LENGTH = 16
_READ_AS = str.maketrans({"o": "0", "i": "1", "l": "1"})

SEALED_PREFIX = "v1:"
_HKDF_INFO = b"partnership-dashboard totp secret v1"

WRONG_CODE = "The code is not right. Enter the 6-digit code your authenticator app shows now."
USED_CODE = "That code has already been used. Wait for your authenticator app to show a new code."
WRONG_RECOVERY_CODE = "The recovery code is not right, or it has already been used."
ENTER_CODE = "Enter the 6-digit code from your authenticator app."
CODE_FORMAT = "Enter the code as 6 digits, for example 123456."
ENTER_RECOVERY_CODE = "Enter one of your recovery codes."
RECOVERY_FORMAT = "Enter a recovery code as 16 letters and digits, for example abcd-efgh-jkmn-pqrs."
WRONG_PASSWORD = "The password is not right."  # noqa: S105 - a message, not a password
ENTER_PASSWORD = "Enter your password."  # noqa: S105 - a message, not a password


class SecretError(ValueError):
    """A stored secret could not be opened: the app's secret key has changed, or it was altered."""


# --- the secret, sealed ----------------------------------------------------------------------


def _key(settings: Settings) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        settings.secret_key.encode("utf-8")
    )


def _aad(user_id: int) -> bytes:
    return f"user:{user_id}".encode()  # a sealed secret copied to another user does not open


def seal_secret(settings: Settings, user_id: int, secret: str) -> str:
    """The secret encrypted for storage: "v1:" + base64 of a fresh 12-byte nonce and the ciphertext."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(settings)).encrypt(nonce, secret.encode("ascii"), _aad(user_id))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_secret(settings: Settings, user_id: int, sealed: str) -> str:
    if not sealed or not sealed.startswith(SEALED_PREFIX):
        raise SecretError("The stored second-factor secret is in an unknown format.")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX):].encode("ascii"))
        return AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], _aad(user_id)).decode("ascii")
    except (InvalidTag, ValueError) as error:
        raise SecretError("The stored second-factor secret cannot be opened with this secret key.") from error


# --- TOTP ------------------------------------------------------------------------------------


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL, issuer=ISSUER)


def code_at(secret: str, step: int) -> str:
    """The code for one step (for tests and for checking)."""
    return _totp(secret).generate_otp(step)


def normalise_code(text) -> str:
    """A typed TOTP code without the spaces or dashes people (and apps) put in it."""
    return re.sub(r"[\s-]", "", text) if isinstance(text, str) else ""


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step within the window whose code this is (the latest, if several), else None."""
    current = step_at(now)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


@dataclass(frozen=True)
class Enrolment:
    """What a person needs to add the account to their authenticator app."""

    secret: str
    uri: str  # otpauth://totp/...
    qr_data_uri: str  # an SVG QR code of the URI, as a data: address for an <img>

    @property
    def secret_groups(self) -> str:
        """The secret in groups of four, for typing."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def _enrolment(secret: str, email: str) -> Enrolment:
    uri = _totp(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr.svg_data_uri(scale=5, border=4, dark="#000",
                                                                          light="#fff"))


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None


def is_required(settings: Settings, user: User) -> bool:
    return user.role in settings.second_factor_roles


def begin_enrolment(session: Session, settings: Settings, user: User) -> Enrolment:
    """A secret for the user to add to their app. Until a code confirms it, the account is not
    enrolled; opening the page again shows the same secret (the app may already hold it)."""
    if is_enrolled(user):
        raise ValueError("Two-step verification is already set up for this account.")
    secret = None
    if user.totp_secret:
        try:
            secret = open_secret(settings, user.id, user.totp_secret)
        except SecretError:
            secret = None
    if secret is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        user.totp_secret = seal_secret(settings, user.id, secret)
        user.totp_last_step = None
    return _enrolment(secret, user.email)


# --- recovery codes --------------------------------------------------------------------------


def generate_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """New random codes, shown as xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
    return codes


def normalise_recovery_code(text) -> str:
    """Lowercase, without dashes or spaces, with o read as 0 and i or l as 1."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"[\s-]", "", text).lower().translate(_READ_AS)


def recovery_code_hash(text: str) -> str:
    return hashlib.sha256(normalise_recovery_code(text).encode("utf-8")).hexdigest()


def _replace_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = generate_recovery_codes()
    session.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_code_hash(code), created_at=now)
                    for code in codes)
    return codes


def recovery_codes_left(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ) or 0


# --- checking codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """The answer to a code: ok, or the field at fault and what to tell the person."""

    ok: bool
    field: str = "code"
    message: str = ""
    locked_for: timedelta | None = None
    recovery_codes: list[str] = dataclass_field(default_factory=list)  # a new set, shown once
    codes_left: int | None = None  # after a recovery code was used


def _refused(session, settings, user, message, *, field_name="code", ip_address, now) -> CodeCheck:
    counted = auth.count_failure(session, settings, user, "second factor failed", message,
                                 ip_address=ip_address, now=now)
    return CodeCheck(False, field_name, counted.message, locked_for=counted.locked_for)


def _locked(session, user, *, field_name="code", ip_address, now) -> CodeCheck | None:
    refused = auth.refuse_if_locked(session, user, "second factor refused (locked)", ip_address=ip_address, now=now)
    if refused is None:
        return None
    return CodeCheck(False, field_name, refused.message, locked_for=refused.locked_for)


def _check_totp(session: Session, settings: Settings, user: User, code, *, ip_address, now) -> CodeCheck:
    """Check a TOTP code against the user's secret; on success the step is stored (atomically,
    so two requests racing with one code cannot both pass)."""
    code = normalise_code(code)
    if not code:
        return CodeCheck(False, "code", ENTER_CODE)
    if not re.fullmatch(rf"\d{{{DIGITS}}}", code):
        return CodeCheck(False, "code", CODE_FORMAT)
    locked = _locked(session, user, ip_address=ip_address, now=now)
    if locked:
        return locked
    if not user.totp_secret:
        return _refused(session, settings, user, WRONG_CODE, ip_address=ip_address, now=now)
    step = _matching_step(open_secret(settings, user.id, user.totp_secret), code, now)
    if step is None:
        return _refused(session, settings, user, WRONG_CODE, ip_address=ip_address, now=now)
    taken = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return _refused(session, settings, user, USED_CODE, ip_address=ip_address, now=now)
    session.refresh(user, ["totp_last_step"])
    return CodeCheck(True)


def confirm_enrolment(session: Session, settings: Settings, user: User, code, *,
                      ip_address: str | None = None, now: datetime | None = None) -> CodeCheck:
    """Turn the second factor on once a code from the new secret is right; returns the recovery
    codes (to show once). A wrong code counts towards the lockout."""
    now = now or utcnow()
    if is_enrolled(user):
        return CodeCheck(False, "code", "Two-step verification is already set up for this account.")
    if not user.totp_secret:
        return CodeCheck(False, "code", "Start again: the set-up page gives you a new key.")
    checked = _check_totp(session, settings, user, code, ip_address=ip_address, now=now)
    if not checked.ok:
        return checked
    user.totp_enabled_at = now
    codes = _replace_codes(session, user, now)
    audit.record(session, "second factor enrolled", user_id=user.id, actor=user.email, ip_address=ip_address,
                 record_type="user", record_id=user.id, detail={"method": "totp", "recovery_codes": len(codes)})
    return CodeCheck(True, recovery_codes=codes)


def verify_code(session: Session, settings: Settings, user: User, code, *,
                ip_address: str | None = None, now: datetime | None = None) -> CodeCheck:
    """Check an enrolled user's TOTP code (at sign-in, or before a change to the second factor)."""
    now = now or utcnow()
    if not is_enrolled(user):
        return CodeCheck(False, "code", "Two-step verification is not set up for this account.")
    return _check_totp(session, settings, user, code, ip_address=ip_address, now=now)


def use_recovery_code(session: Session, settings: Settings, user: User, code, *,
                      ip_address: str | None = None, now: datetime | None = None) -> CodeCheck:
    """Accept one unused recovery code in place of a TOTP code, and use it up."""
    now = now or utcnow()
    normalised = normalise_recovery_code(code)
    if not normalised:
        return CodeCheck(False, "recovery_code", ENTER_RECOVERY_CODE)
    if len(normalised) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in normalised):
        return CodeCheck(False, "recovery_code", RECOVERY_FORMAT)
    locked = _locked(session, user, field_name="recovery_code", ip_address=ip_address, now=now)
    if locked:
        return locked
    row_id = None
    if is_enrolled(user):
        row_id = session.scalar(select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == recovery_code_hash(normalised),
            RecoveryCode.used_at.is_(None)))
    # Used up atomically: of two requests racing with one code, only one passes.
    used = row_id is not None and session.execute(
        update(RecoveryCode).where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not used:
        return _refused(session, settings, user, WRONG_RECOVERY_CODE, field_name="recovery_code",
                        ip_address=ip_address, now=now)
    left = recovery_codes_left(session, user.id)
    audit.record(session, "recovery code used", user_id=user.id, actor=user.email, ip_address=ip_address,
                 record_type="user", record_id=user.id, detail={"recovery_codes_left": left})
    return CodeCheck(True, codes_left=left)


def replace_recovery_codes(session: Session, settings: Settings, user: User, code, *,
                           ip_address: str | None = None, now: datetime | None = None) -> CodeCheck:
    """A new set of recovery codes for a current TOTP code; the old ones stop working."""
    now = now or utcnow()
    checked = verify_code(session, settings, user, code, ip_address=ip_address, now=now)
    if not checked.ok:
        return checked
    withdrawn = recovery_codes_left(session, user.id)
    codes = _replace_codes(session, user, now)
    audit.record(session, "recovery codes replaced", user_id=user.id, actor=user.email, ip_address=ip_address,
                 record_type="user", record_id=user.id,
                 detail={"recovery_codes": len(codes), "unused_codes_withdrawn": withdrawn})
    return CodeCheck(True, recovery_codes=codes)


@dataclass(frozen=True)
class TurnOff:
    """The answer to turning the second factor off: each field's problem, or how many other
    sessions ended."""

    errors: dict[str, str] = dataclass_field(default_factory=dict)
    other_sessions_ended: int = 0
    locked_for: timedelta | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def turn_off(session: Session, settings: Settings, user: User, password, code, *, keep_token: str | None = None,
             ip_address: str | None = None, now: datetime | None = None) -> TurnOff:
    """Turn the second factor off (only where the role does not require it), after the password
    and a current code; every other session of the user ends."""
    now = now or utcnow()
    if is_required(settings, user):
        return TurnOff({"password": "Your role requires two-step verification, so it cannot be turned off."})
    if not is_enrolled(user):
        return TurnOff({"password": "Two-step verification is not set up for this account."})
    password = password if isinstance(password, str) else ""
    errors: dict[str, str] = {}
    if not password:
        errors["password"] = ENTER_PASSWORD
    if not normalise_code(code):
        errors["code"] = ENTER_CODE
    if errors:
        return TurnOff(errors)
    checked = auth.check_current_password(session, settings, user, password[:1024], ip_address=ip_address,
                                          now=now, purpose="second factor turn-off")
    if not checked.ok:
        message = checked.message if checked.locked_for else WRONG_PASSWORD
        return TurnOff({"password": message}, locked_for=checked.locked_for)
    code_check = verify_code(session, settings, user, code, ip_address=ip_address, now=now)
    if not code_check.ok:
        return TurnOff({"code": code_check.message}, locked_for=code_check.locked_for)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = auth.end_all_sessions(session, user.id, "second factor turned off", except_token=keep_token)
    audit.record(session, "second factor turned off", user_id=user.id, actor=user.email, ip_address=ip_address,
                 record_type="user", record_id=user.id, detail={"sessions_ended": ended})
    return TurnOff(other_sessions_ended=ended)


@dataclass(frozen=True)
class Status:
    """What the account page says about a user's second factor."""

    enrolled_at: datetime | None
    required: bool
    recovery_codes_left: int

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None


def status(session: Session, settings: Settings, user: User) -> Status:
    return Status(
        enrolled_at=user.totp_enabled_at,
        required=is_required(settings, user),
        recovery_codes_left=recovery_codes_left(session, user.id) if is_enrolled(user) else 0,
    )
