"""Every refusal carries a sentence written for a member, never a raw exception's text."""

from __future__ import annotations

import pytest

from bot.economy import errors
from bot.economy.errors import EconomyError
from bot.economy.guild_config import parse_setting
from bot.economy.periods import zone


def all_subclasses(cls: type[EconomyError]) -> set[type[EconomyError]]:
    found: set[type[EconomyError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


# One example of each domain error, built the way the code raises it.
EXAMPLES: dict[type[EconomyError], EconomyError] = {
    errors.EconomyError: errors.EconomyError(),
    errors.InsufficientCoins: errors.InsufficientCoins(balance=12, needed=29_999),
    errors.NotACreator: errors.NotACreator("carol"),
    errors.SelfGift: errors.SelfGift(),
    errors.RecipientIsBot: errors.RecipientIsBot(),
    errors.UnknownGift: errors.UnknownGift("Unicorn"),
    errors.GiftDisabled: errors.GiftDisabled("Lion"),
    errors.AmountOutOfRange: errors.AmountOutOfRange(amount=2_000_000, maximum=1_000_000),
    errors.CatalogueConflict: errors.CatalogueConflict("Rose"),
    errors.InvalidSetting: errors.InvalidSetting("Give a whole number between 0 and 100."),
    errors.AlreadyCreator: errors.AlreadyCreator("carol"),
}

RAW_TEXT_MARKERS = ("Traceback", "Error", "Exception", "sqlite", "invalid literal", "object at 0x", "None")


def test_every_domain_error_has_an_example():
    declared = {cls for cls in all_subclasses(EconomyError) if cls.__module__ == errors.__name__}
    assert declared | {EconomyError} == set(EXAMPLES)


@pytest.mark.parametrize("error", EXAMPLES.values(), ids=lambda e: type(e).__name__)
def test_user_message_is_a_plain_sentence(error):
    message = error.user_message
    assert isinstance(message, str) and message.strip()
    assert not any(marker in message for marker in RAW_TEXT_MARKERS), message
    assert str(error) == message


def test_messages_use_thousands_separators():
    assert "29,999" in EXAMPLES[errors.InsufficientCoins].user_message
    assert "2,000,000" in EXAMPLES[errors.AmountOutOfRange].user_message


def test_insufficient_coins_keeps_the_numbers_for_callers():
    error = errors.InsufficientCoins(balance=3, needed=5)
    assert (error.balance, error.needed) == (3, 5)
    assert error.user_message.startswith("You need 5 coins but have 3.")


def test_a_custom_message_overrides_the_class_default():
    assert errors.SelfGift("Nope.").user_message == "Nope."
    assert errors.SelfGift().user_message == "You can't send a gift to yourself."


def test_a_bad_number_setting_hides_the_int_parse_error():
    with pytest.raises(errors.InvalidSetting) as refused:
        parse_setting("creator_share", "fifty")
    assert "invalid literal" not in refused.value.user_message
    assert refused.value.user_message == "Give a whole number between 0 and 100."


def test_a_bad_timezone_hides_the_zoneinfo_error():
    with pytest.raises(errors.InvalidSetting) as refused:
        zone("Mars/Olympus_Mons")
    message = refused.value.user_message
    assert "No time zone found" not in message
    assert "Mars/Olympus\\_Mons" in message and "Europe/Berlin" in message  # escaped: shown as typed
