"""The password policy and hashing of DOMAIN.md's security baseline."""

from __future__ import annotations

import pytest

from dashboard.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    PasswordPolicyError,
    check_policy,
    hash_password,
    verify_password,
)
from tests.conftest import TEST_PASSWORD

# A varied passphrase to cut to any length: no common password, no partnership word.
PHRASE = "quiet otters juggle brass lanterns beside frozen quarries at dawn " * 3


def passphrase(length: int) -> str:
    return PHRASE[:length]


def refused(password: str, **who: str) -> str:
    with pytest.raises(PasswordPolicyError) as error:
        check_policy(password, **who)
    return str(error.value)


def test_length_limits_are_12_to_128_characters():
    assert (MIN_LENGTH, MAX_LENGTH) == (12, 128)
    assert "at least 12 characters" in refused(passphrase(11))
    for length in (12, 64, 128):
        check_policy(passphrase(length))
    assert "at most 128 characters" in refused(passphrase(129))


def test_a_twelve_character_password_that_is_not_common_is_accepted():
    check_policy("vyrnwy-kestl")


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "qwertyuiop123",
        "Password1234",  # case does not make a common password uncommon
        "iloveyou12345",
        "111111111111",
        "qwertyuiop!!!!",  # symbols added to a common password to pass the length rule
    ],
)
def test_common_and_breached_passwords_are_refused(password):
    assert "too common" in refused(password)


def test_a_common_digit_sequence_lengthened_to_twelve_is_refused():
    # "1234567890" and "12345678901" are in the shipped list; this is the obvious 12-digit form.
    assert "too common" in refused("123456789012")


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("midlands2026!", "midlands"),
        ("Partnership12", "partnership"),
        ("safecommunities1", "communities"),
        ("police-police-1", "police"),
    ],
)
def test_passwords_built_on_one_partnership_word_are_refused(password, word):
    assert f"mostly the word '{word}'" in refused(password)


@pytest.mark.parametrize("password", ["midlandspartnership", "communitytension2026"])
def test_passwords_made_only_of_partnership_words_are_refused(password):
    assert "too easy to guess" in refused(password)


def test_a_passphrase_that_merely_mentions_a_partnership_word_is_accepted():
    check_policy("council tax direct debit on the ninth")


def test_the_email_local_part_is_refused():
    message = refused("alex.morgan-holly-tree", email="Alex.Morgan@council.example")
    assert "e-mail address" in message


def test_passwords_mostly_the_users_name_are_refused():
    assert "your name" in refused("Quarrington#26", name="Zebedee Quarrington")


def test_there_are_no_composition_rules():
    # All lower case, no digit, no symbol: length is what counts.
    check_policy("marmalade sandwiches under the viaduct")
    check_policy(TEST_PASSWORD)


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password():
    first = hash_password(TEST_PASSWORD)
    second = hash_password(TEST_PASSWORD)

    assert first.startswith("$argon2id$")
    assert first != second, "each hash has its own salt"
    assert TEST_PASSWORD not in first
    assert verify_password(first, TEST_PASSWORD)
    assert verify_password(second, TEST_PASSWORD)
    assert not verify_password(first, TEST_PASSWORD + " ")
    assert not verify_password(first, TEST_PASSWORD.upper())


def test_verify_is_false_without_a_hash_or_with_a_damaged_one():
    assert verify_password(None, TEST_PASSWORD) is False
    assert verify_password("", TEST_PASSWORD) is False
    assert verify_password("not-a-hash", TEST_PASSWORD) is False
    assert verify_password("plain text stored by mistake", "plain text stored by mistake") is False


# --- the wording of each refusal, and the words of the user's own organisation and name -------------


def test_each_refusal_says_what_is_wrong_in_the_users_words():
    assert refused("too-short") == "Your new password must be at least 12 characters long (it is 9)."
    assert refused(passphrase(130)) == "Your new password must be at most 128 characters long (it is 130)."
    assert refused("password1234") == (
        "Your new password is too common: it is on a list of passwords that attackers try first."
    )
    assert "must not be built on the name of the partnership" in refused("midlands2026!")


def test_partnership_words_do_not_count_towards_the_twelve_characters():
    # "midlands" plus 9 more characters: too little besides the word.
    assert "mostly the word 'midlands'" in refused("midlands rocks 99")
    # A long passphrase that merely mentions it is fine.
    check_policy("we walked the midlands canal towpath in june")


@pytest.mark.parametrize("password", ["TheMidlandsPartnership!!", "my safe communities initiative login"])
def test_the_partnerships_own_name_is_refused_anywhere(password):
    assert "contains the name of the partnership" in refused(password)


def test_the_users_organisation_words_are_refused_when_the_password_is_built_on_them():
    message = refused("refugee charity 26", organisation="Test Refugee Charity")
    assert "too easy to guess" in message and "your organisation" in message
    check_policy("refugee charity 26")  # without the organisation, nothing to refuse
    check_policy("the refugee charity runs a choir on fridays", organisation="Test Refugee Charity")


def test_the_users_full_name_is_refused_anywhere_in_the_password():
    assert "must not contain your name" in refused(
        "zebedee quarrington likes long walks", name="Zebedee Quarrington")
    check_policy("zebedee quarrington likes long walks")


def test_sixty_four_characters_and_any_symbols_are_accepted():
    check_policy(("Über-quiet otters, 17 brass lanterns; frozen quarries at dawn! " * 2)[:64])
