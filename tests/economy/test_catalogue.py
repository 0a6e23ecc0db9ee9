"""The default catalogue (TikTok's gifts) and the rules for naming and pricing a gift."""

from __future__ import annotations

import pytest

from bot.economy.catalogue import (
    MAX_GIFT_NAME,
    MAX_GIFT_PRICE,
    check_price,
    clean_emoji,
    clean_gift_name,
    default_gifts,
    name_key,
)
from bot.economy.errors import InvalidSetting


def by_name() -> dict[str, int]:
    return {gift.name: gift.price for gift in default_gifts()}


def test_there_are_28_default_gifts():
    assert len(default_gifts()) == 28


@pytest.mark.parametrize(
    ("name", "price"),
    [
        ("Rose", 1),
        ("TikTok", 1),
        ("Finger Heart", 5),
        ("Doughnut", 30),
        ("Corgi", 299),
        ("Galaxy", 1_000),
        ("Interstellar", 10_000),
        ("Lion", 29_999),
        ("TikTok Universe", 44_999),
    ],
)
def test_default_prices(name, price):
    assert by_name()[name] == price


def test_rose_is_first_and_comboable():
    rose = default_gifts()[0]
    assert (rose.name, rose.emoji, rose.price, rose.comboable) == ("Rose", "🌹", 1, True)


def test_lion_is_a_big_single_gift():
    lion = next(g for g in default_gifts() if g.name == "Lion")
    assert (lion.emoji, lion.price, lion.comboable) == ("🦁", 29_999, False)


def test_every_default_gift_is_valid_by_the_catalogue_rules():
    for gift in default_gifts():
        assert clean_gift_name(gift.name) == gift.name
        assert clean_emoji(gift.emoji) == gift.emoji
        assert check_price(gift.price) == gift.price
        assert gift.tiktok_id > 0


def test_default_names_and_ids_are_unique_even_case_insensitively():
    gifts = default_gifts()
    assert len({name_key(g.name) for g in gifts}) == len(gifts)
    assert len({g.tiktok_id for g in gifts}) == len(gifts)


def test_defaults_are_listed_cheapest_first():
    prices = [g.price for g in default_gifts()]
    assert prices == sorted(prices)


def test_default_gifts_is_read_once_and_immutable():
    assert default_gifts() is default_gifts()
    assert isinstance(default_gifts(), tuple)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Rose", "rose"),
        ("ROSE", "rose"),
        ("  Money   Gun ", "money gun"),
        ("Money\tGun", "money gun"),
        ("TikTok Universe", "tiktok universe"),
        ("Straße", "strasse"),
    ],
)
def test_name_key_ignores_case_and_spacing(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("raw", "clean"), [("Rose", "Rose"), ("  Money   Gun  ", "Money Gun"), ("x" * MAX_GIFT_NAME, "x" * 32)]
)
def test_gift_names_are_trimmed(raw, clean):
    assert clean_gift_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x" * (MAX_GIFT_NAME + 1)])
def test_empty_or_long_gift_names_are_refused(raw):
    with pytest.raises(InvalidSetting):
        clean_gift_name(raw)


@pytest.mark.parametrize("price", [1, 2, 29_999, MAX_GIFT_PRICE])
def test_prices_from_one_to_a_million(price):
    assert check_price(price) == price


@pytest.mark.parametrize("price", [0, -1, MAX_GIFT_PRICE + 1])
def test_prices_out_of_range_are_refused(price):
    with pytest.raises(InvalidSetting) as refused:
        check_price(price)
    assert refused.value.user_message == "A gift's price must be between 1 and 1,000,000 coins."


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("🌹", "🌹"), (" 🦁 ", "🦁"), ("<:rose:123456789012345678>", "<:rose:123456789012345678>"), ("🕶️", "🕶️")],
)
def test_emoji_are_trimmed(raw, clean):
    assert clean_emoji(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "🌹 🦁", "x" * 65, "a\tb"])
def test_blank_long_or_several_emoji_are_refused(raw):
    with pytest.raises(InvalidSetting):
        clean_emoji(raw)
