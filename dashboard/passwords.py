"""Password hashing (argon2id) and the password policy of DOMAIN.md's security baseline."""

from __future__ import annotations

import gzip
import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import DATA_DIR

MIN_LENGTH = 12
MAX_LENGTH = 128  # at least 64 must be allowed; longer is refused to bound hashing work
# Words of the partnership itself: a password built on them is easy to guess for an insider.
PARTNERSHIP_WORDS = (
    "partnership", "dashboard", "midlands", "tension", "community", "communities",
    "safecommunities", "sci", "police", "prosecution", "council", "password",
)

_hasher = PasswordHasher()  # argon2-cffi defaults: argon2id, RFC 9106 low-memory profile
_DUMMY_HASH = _hasher.hash("a password nobody uses, for timing only")


class PasswordPolicyError(ValueError):
    """The password does not meet the policy; the message says why, in the user's words."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords (data/common-passwords.txt.gz)."""
    with gzip.open(DATA_DIR / "common-passwords.txt.gz", "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def _is_common(lowered: str) -> bool:
    """A listed password, or one padded with digits or symbols to pass the length rule."""
    common = common_passwords()
    if lowered in common:
        return True
    letters = re.sub(r"[^a-z]+", "", lowered)
    if len(letters) >= 4 and letters in common and len(lowered) - len(letters) <= 10:
        return True
    for cut in range(6, len(lowered)):
        head, tail = lowered[:cut], lowered[cut:]
        if head in common and not re.search(r"[a-z]", tail):
            return True
        tail, head = lowered[-cut:], lowered[:-cut]
        if tail in common and not re.search(r"[a-z]", head):
            return True
    return False


def check_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise PasswordPolicyError naming the problem; no composition rules, by design."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"Password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"Password must be at most {MAX_LENGTH} characters long.")
    lowered = password.lower()
    if _is_common(lowered):
        raise PasswordPolicyError("Password is too common: it appears in lists of breached passwords.")
    if len(set(lowered)) < 4:
        raise PasswordPolicyError("Password is too easy to guess: use more different characters.")
    found, rest = [], lowered
    for word in PARTNERSHIP_WORDS:
        if word in rest:
            found.append(word)
            rest = rest.replace(word, "")
    if found and len(rest) < MIN_LENGTH - 4:
        if len(found) == 1:
            raise PasswordPolicyError(f"Password is too easy to guess: it is mostly the word '{found[0]}'.")
        raise PasswordPolicyError(
            "Password is too easy to guess: it is built from words about the partnership."
        )
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        raise PasswordPolicyError("Password must not contain your e-mail address.")
    for part in name.lower().split():
        if len(part) >= 4 and part in lowered and len(lowered.replace(part, "")) < MIN_LENGTH - 4:
            raise PasswordPolicyError("Password must not be mostly your name.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always does the same work, even with no hash to check."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
