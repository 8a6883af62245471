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
# The user's own organisation's words, name and e-mail address are added for each check.
PARTNERSHIP_WORDS = (
    "partnership", "dashboard", "midlands", "tension", "community", "communities",
    "safecommunities", "initiative", "sci", "police", "prosecution", "council", "password",
)
# Whole names that are refused anywhere in a password, however long it is (letters only).
PARTNERSHIP_NAMES = (
    "midlandspartnership", "partnershipdashboard", "safecommunitiesinitiative",
)
# Said after every refusal for guessable words, so the person knows what to avoid.
OWN_WORDS = (
    "It must not be built on the name of the partnership or your organisation, "
    "or on your own name or e-mail address."
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


def _words(text: str) -> list[str]:
    """The words of a name of 4 or more letters, lower case ('Test Refugee Charity' -> test,
    refugee, charity)."""
    return [w for w in re.split(r"[^a-z]+", (text or "").lower()) if len(w) >= 4]


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]+", "", (text or "").lower())


def check_policy(password: str, *, email: str = "", name: str = "", organisation: str = "") -> None:
    """Raise PasswordPolicyError saying what is wrong, in the user's words; no composition rules,
    by design. The partnership's words, the user's organisation's words, and the user's name and
    e-mail address do not count towards the length: a password must still have 12 characters
    without them."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(
            f"Your new password must be at least {MIN_LENGTH} characters long (it is {len(password)})."
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(
            f"Your new password must be at most {MAX_LENGTH} characters long (it is {len(password)})."
        )
    lowered = password.lower()
    if _is_common(lowered):
        raise PasswordPolicyError(
            "Your new password is too common: it is on a list of passwords that attackers try first."
        )
    if len(set(lowered)) < 4:
        raise PasswordPolicyError(
            "Your new password is too easy to guess: use more different characters."
        )
    email = (email or "").strip().lower()
    local = email.split("@", 1)[0]
    if (len(local) >= 4 and local in lowered) or (email and email in lowered):
        raise PasswordPolicyError("Your new password must not contain your e-mail address.")
    letters = _letters(lowered)
    name_words = _words(name)
    full_name = _letters(name)
    if len(name.split()) >= 2 and len(full_name) >= 6 and full_name in letters:
        raise PasswordPolicyError(f"Your new password must not contain your name. {OWN_WORDS}")
    if any(n in letters for n in PARTNERSHIP_NAMES):
        raise PasswordPolicyError(
            f"Your new password is too easy to guess: it contains the name of the partnership. {OWN_WORDS}"
        )
    found, rest = [], lowered
    for word in (*PARTNERSHIP_WORDS, *_words(organisation), *name_words):
        if word in rest:
            found.append(word)
            rest = rest.replace(word, "")
    if found and len(rest) < MIN_LENGTH:
        if all(word in name_words for word in found):
            raise PasswordPolicyError(f"Your new password must not be mostly your name. {OWN_WORDS}")
        if len(found) == 1:
            raise PasswordPolicyError(
                f"Your new password is too easy to guess: it is mostly the word '{found[0]}'. {OWN_WORDS}"
            )
        raise PasswordPolicyError(
            "Your new password is too easy to guess: it is built from words about the partnership, "
            f"your organisation or you. {OWN_WORDS}"
        )


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
