"""/config values are parsed strictly, and missing settings fall back to documented defaults."""

from __future__ import annotations

import pytest

from bot.economy.errors import InvalidSetting
from bot.economy.guild_config import SPECS, GuildConfig, parse_setting

ROLE_ID = "123456789012345678"


def test_the_registry_lists_every_setting():
    assert list(SPECS) == [
        "creator_share",
        "moderator_role",
        "confirm_threshold",
        "combo_window",
        "gift_cooldown",
        "big_gift_threshold",
        "gift_wall_channel",
        "budget_cooling_off",
        "default_budget",
        "max_gift_coins",
        "age_gate",
        "audit_channel",
        "cashouts",
        "cashout_minimum",
        "refund_window",
        "timezone",
    ]
    for key, spec in SPECS.items():
        assert spec.key == key
        assert spec.label and spec.description
        assert len(spec.description) <= 100  # shown as a Discord option description
        assert spec.kind in {"number", "role", "channel", "timezone", "budget", "switch", "rate"}


@pytest.mark.parametrize("key", [k for k, s in SPECS.items() if s.default is not None])
def test_defaults_parse_as_their_own_setting(key):
    default = SPECS[key].default
    assert default is not None
    assert parse_setting(key, default) == default


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("0", "0"), ("50", "50"), ("100", "100"), (" 75 ", "75"), ("007", "7"), ("+5", "5")],
)
def test_creator_share_accepts_0_to_100(raw, stored):
    assert parse_setting("creator_share", raw) == stored


@pytest.mark.parametrize("raw", ["-1", "101", "1,000", "", "fifty", "50%", "5.5", "1e2", "none"])
def test_creator_share_refuses_anything_else(raw):
    with pytest.raises(InvalidSetting) as refused:
        parse_setting("creator_share", raw)
    assert refused.value.user_message == "Give a whole number between 0 and 100."


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("1", "1"),
        ("1000", "1000"),
        ("1,000", "1000"),
        ("10_000", "10000"),
        ("1,000,000", "1000000"),
        (" 2,500 ", "2500"),
    ],
)
def test_confirm_threshold_accepts_commas_and_underscores(raw, stored):
    assert parse_setting("confirm_threshold", raw) == stored


@pytest.mark.parametrize("raw", ["0", "-1", "1,000,001", "2000000", "lots", "", "1.5"])
def test_confirm_threshold_refuses_out_of_range(raw):
    with pytest.raises(InvalidSetting) as refused:
        parse_setting("confirm_threshold", raw)
    assert refused.value.user_message == "Give a whole number between 1 and 1,000,000."


@pytest.mark.parametrize(
    "raw", [ROLE_ID, f"<@&{ROLE_ID}>", f"  <@&{ROLE_ID}>  ", "123456789012345", "123456789012345678901"]
)
def test_moderator_role_takes_a_mention_or_an_id(raw):
    assert parse_setting("moderator_role", raw) == raw.strip().strip("<@&>")


@pytest.mark.parametrize("raw", ["none", "None", "NONE", "off", "clear", "", "   "])
def test_moderator_role_can_be_cleared(raw):
    assert parse_setting("moderator_role", raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "@Mods",
        "Mods",
        "12345",
        "1234567890123456789012",
        "<@&abc>",
        "role:123456789012345678",
        f"<@{ROLE_ID}>",  # a member mention is not a role
        f"<@!{ROLE_ID}>",
        f"<#{ROLE_ID}>",  # nor is a channel
        f"<@&{ROLE_ID}",  # half a mention
        f"{ROLE_ID}>",
    ],
)
def test_moderator_role_refuses_names_and_short_ids(raw):
    with pytest.raises(InvalidSetting) as refused:
        parse_setting("moderator_role", raw)
    assert refused.value.user_message == "Mention a role or paste its id, or say `none`."


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("UTC", "UTC"), ("America/New_York", "America/New_York"), (" Europe/Berlin ", "Europe/Berlin")],
)
def test_timezone_accepts_iana_names(raw, stored):
    assert parse_setting("timezone", raw) == stored


@pytest.mark.parametrize("raw", ["Mars/Olympus", "EST5EDT6", "New York", "", "Europe/"])
def test_timezone_refuses_unknown_names(raw):
    with pytest.raises(InvalidSetting):
        parse_setting("timezone", raw)


def test_unknown_settings_are_refused_by_name():
    with pytest.raises(InvalidSetting) as refused:
        parse_setting("coin_colour", "gold")
    assert "coin\\_colour" in refused.value.user_message


def test_nothing_stored_means_defaults():
    config = GuildConfig.from_stored({}, default_share=50)
    assert config == GuildConfig(
        creator_share=50, moderator_role_id=None, confirm_threshold=1000, timezone="UTC"
    )


def test_the_bot_wide_default_share_applies_until_a_guild_sets_its_own():
    assert GuildConfig.from_stored({}, default_share=70).creator_share == 70
    assert GuildConfig.from_stored({"creator_share": "30"}, default_share=70).creator_share == 30


def test_a_stored_zero_share_is_kept_not_replaced_by_the_default():
    assert GuildConfig.from_stored({"creator_share": "0"}, default_share=50).creator_share == 0


def test_stored_values_are_parsed():
    stored = {
        "creator_share": "65",
        "moderator_role": ROLE_ID,
        "confirm_threshold": "250",
        "timezone": "America/New_York",
    }
    assert GuildConfig.from_stored(stored, default_share=50) == GuildConfig(
        creator_share=65, moderator_role_id=int(ROLE_ID), confirm_threshold=250, timezone="America/New_York"
    )


def test_parsed_values_round_trip_through_storage():
    stored = {
        key: parse_setting(key, raw)
        for key, raw in {
            "creator_share": "40",
            "moderator_role": f"<@&{ROLE_ID}>",
            "confirm_threshold": "5,000",
            "timezone": "Asia/Tokyo",
        }.items()
    }
    config = GuildConfig.from_stored({k: v for k, v in stored.items() if v is not None}, default_share=50)
    assert (config.creator_share, config.moderator_role_id, config.confirm_threshold, config.timezone) == (
        40,
        int(ROLE_ID),
        5000,
        "Asia/Tokyo",
    )


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("5000 per week hard", "5000 week hard"),
        ("5,000/week", "5000 week hard"),
        ("2500 a day soft", "2500 day soft"),
        ("none", None),
    ],
)
def test_default_budget_parses_into_a_budget(raw, stored):
    assert parse_setting("default_budget", raw) == stored


@pytest.mark.parametrize("raw", ["5000", "per week", "0 per week", "5000 per year", "lots"])
def test_a_bad_default_budget_says_how_to_write_one(raw):
    with pytest.raises(InvalidSetting):
        parse_setting("default_budget", raw)


def test_budget_settings_reach_the_guild_config():
    config = GuildConfig.from_stored(
        {
            "default_budget": "5000 week soft",
            "max_gift_coins": "20000",
            "age_gate": "on",
            "budget_cooling_off": "48",
        },
        default_share=50,
    )
    assert config.default_budget is not None and (
        config.default_budget.limit,
        config.default_budget.mode,
    ) == (
        5000,
        "soft",
    )
    assert (config.max_gift_coins, config.age_gate, config.budget_cooling_off_hours) == (20_000, True, 48)
    assert config.age_gate_reason() == "a manager turned the age gate on"
    off = GuildConfig.from_stored({}, default_share=50)
    assert off.age_gate_reason() is None
    assert off.age_gate_reason(sells_coins=True) == "this server sells coins"
    assert off.age_gate_reason(allows_cashouts=True) == "this server allows diamond cash-outs"
