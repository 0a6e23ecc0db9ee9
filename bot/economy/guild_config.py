"""Every per-guild setting in one registry, so /config can show and change them all.

A setting is stored as text and parsed here; adding one is a new entry in `SPECS`, with no
migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .budget import Budget, Mode
from .errors import InvalidSetting, quoted
from .periods import Period, zone

# A bare id, or the mention syntax of the expected kind only: a user mention pasted as a
# role would otherwise be stored and silently never match.
_MENTION_PREFIX = {"role": "<@&", "channel": "<#"}


def _parse_int(low: int, high: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        try:
            value = int(raw.replace(",", "").replace("_", "").strip())
        except ValueError as exc:
            raise InvalidSetting(f"Give a whole number between {low:,} and {high:,}.") from exc
        if not low <= value <= high:
            raise InvalidSetting(f"Give a whole number between {low:,} and {high:,}.")
        return str(value)

    return parse


def _parse_snowflake(what: str) -> Callable[[str], str | None]:
    pattern = re.compile(rf"^(?:{re.escape(_MENTION_PREFIX[what])}(\d{{15,21}})>|(\d{{15,21}}))$")

    def parse(raw: str) -> str | None:
        text = raw.strip()
        if text.lower() in {"", "none", "off", "clear"}:
            return None
        match = pattern.match(text)
        if not match:
            raise InvalidSetting(f"Mention a {what} or paste its id, or say `none`.")
        return match.group(1) or match.group(2)

    return parse


_BUDGET = re.compile(
    r"^\s*([\d,_]+)\s*(?:coins?)?\s*(?:/|per|a|an|each)?\s*(day|week|month)\s*(hard|soft)?\s*$", re.I
)


def _parse_budget(raw: str) -> str | None:
    """`5000 per week hard`, `5,000/week soft`, or `none`."""
    text = raw.strip().lower()
    if text in {"", "none", "off", "clear"}:
        return None
    match = _BUDGET.match(text)
    if not match:
        raise InvalidSetting(
            "Write the default budget like `5000 per week hard`, `2500/day soft`, or `none`."
        )
    limit = int(match.group(1).replace(",", "").replace("_", ""))
    budget = Budget(limit, Period(match.group(2)), Mode(match.group(3) or "hard"))
    return f"{budget.limit} {budget.period.value} {budget.mode.value}"


def _parse_switch(raw: str) -> str:
    text = raw.strip().lower()
    if text in {"on", "yes", "true", "1", "enabled"}:
        return "on"
    if text in {"off", "no", "false", "0", "disabled"}:
        return "off"
    raise InvalidSetting("Say `on` or `off`.")


def _parse_optional_int(low: int, high: int) -> Callable[[str], str | None]:
    parse_int = _parse_int(low, high)

    def parse(raw: str) -> str | None:
        return None if raw.strip().lower() in {"", "none", "off", "clear"} else parse_int(raw)

    return parse


def stored_budget(value: str | None) -> Budget | None:
    if not value:
        return None
    limit, period, mode = value.split()
    return Budget(int(limit), Period(period), Mode(mode))


_RATE = re.compile(
    r"^\s*([\d,_]+)\s*(?:gifts?)?\s*(?:/|per|every|in)\s*([\d,_]*)\s*"
    r"(s|secs?|seconds?|m|mins?|minutes?)?\s*$",
    re.I,
)
RATE_LIMITS = (1, 1000)  # gifts
RATE_SPANS = (1, 3600)  # seconds


def _parse_rate(raw: str) -> str:
    """`10 per 10s`, `10/10`, `30 gifts per minute`: stored as `10 per 10s`."""
    match = _RATE.match(raw)
    if not match or not (match.group(2) or match.group(3)):
        raise InvalidSetting(
            "Write the limit as gifts per span of time, like `10 per 10s` or `30 per minute`."
        )
    count = int(match.group(1).replace(",", "").replace("_", ""))
    span = int(match.group(2).replace(",", "").replace("_", "") or 1)
    if (match.group(3) or "s").lower().startswith("m"):
        span *= 60
    if not RATE_LIMITS[0] <= count <= RATE_LIMITS[1] or not RATE_SPANS[0] <= span <= RATE_SPANS[1]:
        raise InvalidSetting("Allow 1 to 1,000 gifts per 1 to 3,600 seconds, like `10 per 10s`.")
    return f"{count} per {span}s"


def stored_rate(value: str) -> tuple[int, int]:
    """(gifts, seconds) of a stored `10 per 10s`."""
    count, _, span = value.split()
    return int(count), int(span.removesuffix("s"))


def _parse_timezone(raw: str) -> str:
    name = raw.strip()
    zone(name)
    return name


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    label: str
    description: str
    default: str | None
    parse: Callable[[str], str | None]
    kind: str = "number"  # number | role | channel | timezone


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "creator_share",
            "Creator share (%)",
            "Percent of a gift's coins the creator receives as diamonds; the platform keeps the rest.",
            None,  # falls back to the bot-wide default from Settings
            _parse_int(0, 100),
        ),
        SettingSpec(
            "moderator_role",
            "Moderator role",
            "Members with this role may use /mod, besides those with Manage Server.",
            None,
            _parse_snowflake("role"),
            kind="role",
        ),
        SettingSpec(
            "confirm_threshold",
            "Confirm gifts from (coins)",
            "Gifts worth at least this many coins ask the sender to confirm first.",
            "1000",
            _parse_int(1, 1_000_000),
        ),
        SettingSpec(
            "combo_window",
            "Combo window (seconds)",
            "The same gift to the same creator within this many seconds grows one combo message.",
            "10",
            _parse_int(1, 300),
        ),
        SettingSpec(
            "gift_cooldown",
            "Gift rate limit",
            "The most /gift uses a member gets in a span, like `10 per 10s`; beyond it they wait.",
            "10 per 10s",
            _parse_rate,
            kind="rate",
        ),
        SettingSpec(
            "big_gift_threshold",
            "Big gift from (coins)",
            "Gifts worth at least this many coins get a highlighted message (and go to the gift wall).",
            "1000",
            _parse_int(1, 1_000_000),
        ),
        SettingSpec(
            "gift_wall_channel",
            "Gift wall channel",
            "Big gifts are also posted here; `none` turns the wall off.",
            None,
            _parse_snowflake("channel"),
            kind="channel",
        ),
        SettingSpec(
            "budget_cooling_off",
            "Budget cooling-off (hours)",
            "Raising or clearing a spending limit takes effect after this many hours; lowering is instant.",
            "24",
            _parse_int(0, 24 * 30),
        ),
        SettingSpec(
            "default_budget",
            "Default budget",
            "A spending limit for members who set none, like `5000 per week hard`; `none` for no limit.",
            None,
            _parse_budget,
            kind="budget",
        ),
        SettingSpec(
            "max_gift_coins",
            "Largest single gift (coins)",
            "No single gift may cost more than this; `none` allows up to 1,000,000.",
            None,
            _parse_optional_int(1, 1_000_000),
        ),
        SettingSpec(
            "age_gate",
            "Age gate",
            "Members confirm once that they are 18 or older before their first gift or purchase.",
            "off",
            _parse_switch,
            kind="switch",
        ),
        SettingSpec(
            "audit_channel",
            "Audit channel",
            "Every grant, revoke, purchase, refund, promotion and cash-out decision is posted here.",
            None,
            _parse_snowflake("channel"),
            kind="channel",
        ),
        SettingSpec(
            "cashouts",
            "Diamond cash-outs",
            "Creators may ask to cash out paid diamonds; moderators pay outside Discord.",
            "off",
            _parse_switch,
            kind="switch",
        ),
        SettingSpec(
            "cashout_minimum",
            "Smallest cash-out (diamonds)",
            "A creator can ask to cash out no fewer diamonds than this.",
            "1000",
            _parse_int(1, 1_000_000),
        ),
        SettingSpec(
            "refund_window",
            "Refund window (days)",
            "Diamonds from bought coins become cashable this many days after the gift.",
            "14",
            _parse_int(0, 90),
        ),
        SettingSpec(
            "timezone",
            "Timezone",
            "IANA timezone for leaderboard days, weeks, months and years.",
            "UTC",
            _parse_timezone,
            kind="timezone",
        ),
    )
}


def parse_setting(key: str, raw: str) -> str | None:
    spec = SPECS.get(key)
    if spec is None:
        raise InvalidSetting(f"There is no setting called “{quoted(key)}”.")
    return spec.parse(raw)


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A guild's settings, parsed, with defaults filled in."""

    creator_share: int
    moderator_role_id: int | None
    confirm_threshold: int
    timezone: str
    combo_window: int = 10
    gift_cooldown: tuple[int, int] = (10, 10)
    """At most this many /gift uses per member in this many seconds."""
    big_gift_threshold: int = 1000
    gift_wall_channel_id: int | None = None
    budget_cooling_off_hours: int = 24
    default_budget: Budget | None = None
    max_gift_coins: int | None = None
    age_gate: bool = False
    audit_channel_id: int | None = None
    cashouts: bool = False
    cashout_minimum: int = 1000
    refund_window_days: int = 14

    @classmethod
    def from_stored(cls, stored: Mapping[str, str], *, default_share: int) -> GuildConfig:
        def raw(key: str) -> str | None:
            return stored.get(key, SPECS[key].default)

        role = raw("moderator_role")
        return cls(
            creator_share=int(raw("creator_share") or default_share),
            moderator_role_id=int(role) if role else None,
            confirm_threshold=int(raw("confirm_threshold") or 1000),
            timezone=raw("timezone") or "UTC",
            combo_window=int(raw("combo_window") or 10),
            gift_cooldown=stored_rate(raw("gift_cooldown") or "10 per 10s"),
            big_gift_threshold=int(raw("big_gift_threshold") or 1000),
            gift_wall_channel_id=int(wall) if (wall := raw("gift_wall_channel")) else None,
            budget_cooling_off_hours=int(raw("budget_cooling_off") or 24),
            default_budget=stored_budget(raw("default_budget")),
            max_gift_coins=int(cap) if (cap := raw("max_gift_coins")) else None,
            age_gate=raw("age_gate") == "on",
            audit_channel_id=int(audit) if (audit := raw("audit_channel")) else None,
            cashouts=raw("cashouts") == "on",
            cashout_minimum=int(raw("cashout_minimum") or 1000),
            refund_window_days=int(raw("refund_window") or 14),
        )

    def age_gate_reason(self, *, sells_coins: bool = False, allows_cashouts: bool = False) -> str | None:
        """Why members must confirm their age here, or None. Selling coins or allowing cash-outs
        turns the gate on whatever the setting says."""
        if sells_coins:
            return "this server sells coins"
        if allows_cashouts:
            return "this server allows diamond cash-outs"
        if self.age_gate:
            return "a manager turned the age gate on"
        return None
