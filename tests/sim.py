"""SimCord helpers shared by every end-to-end test, built once here.

They cover what SimCord 3.2.1 leaves to the test: the real ping set of a message, racing and
duplicate delivery of interactions, injected Discord errors, captured request bodies and the
virtual clock. A few rely on SimCord internals (`env.backend`); keep those here so an upgrade
touches one file. See ../shared/reference/simcord-notes.md.
"""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
import simcord
from simcord import interactions as sim_interactions
from simcord.backend import serializers

from bot.app import GiftBot
from bot.economy.service import Party
from bot.ui.errors import user_message_for

MANAGE_SERVER = discord.Permissions(manage_guild=True)


@dataclass
class Community:
    """A small server: a moderator, two members, two creators and a bot, in #live."""

    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    mod: simcord.MemberActor
    alice: simcord.MemberActor
    bob: simcord.MemberActor
    carol: simcord.MemberActor
    dave: simcord.MemberActor
    robot: simcord.MemberActor
    admins: simcord.RoleHandle
    _grants: int = 0

    @classmethod
    def build(cls, env: simcord.Env, *, name: str = "Live Room") -> Community:
        guild = env.create_guild(name)
        channel = guild.create_text_channel("live")
        admins = guild.create_role("Admins", permissions=MANAGE_SERVER)
        return cls(
            env=env,
            guild=guild,
            channel=channel,
            mod=guild.add_member(env.create_user("mod", global_name="Mona the Mod"), roles=[admins]),
            alice=guild.add_member(env.create_user("alice", global_name="Alice")),
            bob=guild.add_member(env.create_user("bob", global_name="Bob")),
            carol=guild.add_member(env.create_user("carol", global_name="Carol")),
            dave=guild.add_member(env.create_user("dave", global_name="Dave")),
            robot=guild.add_member(env.create_user("robot", bot=True)),
            admins=admins,
        )

    @property
    def bot(self) -> GiftBot:
        bot = self.env.bot
        assert isinstance(bot, GiftBot)
        return bot

    async def make_creators(self, *creators: simcord.MemberActor) -> None:
        """Seed creators straight through the service (the /mod cog has its own tests)."""
        for creator in creators or (self.carol, self.dave):
            await self.bot.economy.add_creator(
                self.guild.id, Party(creator.id, creator.name), actor=Party(self.mod.id, self.mod.name)
            )

    async def grant(self, member: simcord.MemberActor, coins: int, reason: str = "welcome") -> None:
        """Seed promo coins straight through the service, under a unique key."""
        self._grants += 1
        await self.bot.economy.grant(
            self.guild.id,
            Party(member.id, member.name),
            coins,
            actor=Party(self.mod.id, self.mod.name),
            reason=reason,
            key=f"test-grant:{self._grants}",
        )

    async def coins(self, member: simcord.MemberActor) -> int:
        held = await self.bot.storage.balances(guild_id=self.guild.id, user_id=member.id)
        return held.coins

    async def diamonds(self, member: simcord.MemberActor) -> int:
        held = await self.bot.storage.balances(guild_id=self.guild.id, user_id=member.id)
        return held.diamonds

    async def assert_books_balance(self) -> None:
        totals = await self.bot.storage.ledger_totals()
        assert totals.balanced, totals
        assert await self.bot.storage.balance_mismatches() == []


# -- the real ping set ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pings:
    users: frozenset[int]
    roles: frozenset[int]
    everyone: bool

    @property
    def nobody(self) -> bool:
        return not self.users and not self.roles and not self.everyone


def pings(env: simcord.Env, message: discord.Message | simcord.ResponseMessage) -> Pings:
    """Who Discord really notified, not just who `Message.mentions` lists."""
    channel_id = message.channel_id if isinstance(message, simcord.ResponseMessage) else message.channel.id
    stored = env.backend.messages[channel_id][message.id]
    return Pings(
        frozenset(stored.ping_user_ids), frozenset(stored.ping_role_ids), bool(stored.mention_everyone)
    )


# -- request bodies --------------------------------------------------------------------------


def requests(
    env: simcord.Env, method: str | None = None, path: str | None = None
) -> list[simcord.HttpLogEntry]:
    """Every request the bot attempted, optionally filtered by method and a path glob."""
    return [
        entry
        for entry in env.http_requests
        if (method is None or entry.method == method) and (path is None or fnmatch.fnmatch(entry.path, path))
    ]


def channel_writes(env: simcord.Env, channel_id: int) -> list[simcord.HttpLogEntry]:
    """POSTs and PATCHes that put something in a channel (messages and interaction replies)."""
    found = []
    for entry in env.http_requests:
        if entry.method not in {"POST", "PATCH"}:
            continue
        if entry.path.startswith(f"/channels/{channel_id}/messages"):
            found.append(entry)
    return found


# -- injected Discord errors ------------------------------------------------------------------


def close_dms(env: simcord.Env, member: simcord.MemberActor) -> None:
    """The member's DMs are closed: sending to them fails with 50007."""
    dm = member.user.dm_channel if hasattr(member, "user") else env.backend.get_user(member.id)
    env.inject_error("POST", f"/channels/{dm.id}/messages", status=403, code=50007, times=None)


def fail_interaction_callbacks(
    env: simcord.Env, *, status: int, code: int = 0, times: int | None = 1
) -> None:
    """Discord refuses interaction replies (429, 5xx, or 10062 for an expired interaction)."""
    env.inject_error("POST", "/interactions/*/*/callback", status=status, code=code, times=times)


# -- racing and duplicate delivery -------------------------------------------------------------


def command_payload(
    actor: simcord.MemberActor,
    channel: simcord.ChannelHandle,
    name: str,
    options: dict[str, Any],
    *,
    ignore_length_limits: bool = False,
) -> dict[str, Any]:
    """The interaction the member's client would send for `/name options`. With
    `ignore_length_limits`, the one a client ignoring the options' min/max_length would send."""
    backend = actor._env.backend
    parts = name.split()
    root = next(
        command
        for command in backend.visible_commands(user_id=actor.id, channel_id=channel.id)
        if command["name"] == parts[0]
    )
    if ignore_length_limits:
        root = copy.deepcopy(root)
    leaf, nesting = sim_interactions.walk_to_subcommand(root, parts[1:])
    if ignore_length_limits:
        for option in leaf.get("options", []):
            option.pop("max_length", None)
            option.pop("min_length", None)
    leaf_options, resolved = sim_interactions.build_options(actor, name, leaf, options, channel_id=channel.id)
    data: dict[str, Any] = {
        "id": root["id"],
        "name": root["name"],
        "type": root.get("type", 1),
        "options": sim_interactions.nest_options(root, nesting, leaf_options),
    }
    if resolved:
        data["resolved"] = resolved
    _, payload = sim_interactions.base_payload(
        backend, type=2, channel_id=channel.id, guild_id=actor.guild.id, user_id=actor.id, data=data
    )
    return payload


async def race(
    env: simcord.Env,
    actor: simcord.MemberActor,
    channel: simcord.ChannelHandle,
    name: str,
    n: int,
    **options: Any,
) -> list[int]:
    """Deliver `n` distinct invocations of a slash command at once; returns their interaction ids."""
    payloads = [command_payload(actor, channel, name, options) for _ in range(n)]
    for payload in payloads:
        env.backend.emit("INTERACTION_CREATE", payload)
    await env.settle()
    return [int(p["id"]) for p in payloads]


async def deliver_twice(
    env: simcord.Env, actor: simcord.MemberActor, channel: simcord.ChannelHandle, name: str, **options: Any
) -> int:
    """Deliver the very same interaction twice, as Discord may on a retry; returns its id."""
    payload = command_payload(actor, channel, name, options)
    env.backend.emit("INTERACTION_CREATE", payload)
    env.backend.emit("INTERACTION_CREATE", payload)
    await env.settle()
    return int(payload["id"])


def acknowledge_errors(env: simcord.Env, *kinds: type[BaseException]) -> list[BaseException]:
    """Take the errors the bot swallowed (so teardown does not fail) and return those of `kinds`."""
    return [error for error in env.errors if not kinds or isinstance(error, kinds)]


# -- the clock ------------------------------------------------------------------------------------


def now(env: simcord.Env) -> datetime:
    """SimCord's virtual now; the bot reads the same clock through discord.utils.utcnow."""
    return env.now()


# -- buttons ------------------------------------------------------------------------------------


def buttons(message: simcord.ResponseMessage) -> dict[str, dict[str, Any]]:
    found = {}
    for row in message.components:
        for component in row.get("components", []):
            if component.get("type") == 2:
                found[component["label"]] = component
    return found


async def raw_click(
    env: simcord.Env,
    actor: simcord.MemberActor,
    message: simcord.ResponseMessage,
    label: str,
    *,
    deliveries: int = 1,
    distinct: bool = False,
) -> list[simcord.InteractionResult]:
    """Press a button the way a (possibly misbehaving) client would, bypassing SimCord's visibility
    check: `deliveries` copies of one click, or distinct clicks arriving together."""
    backend = env.backend
    stored = backend.get_message(message.channel_id, message.id)
    data = {"custom_id": buttons(message)[label]["custom_id"], "component_type": 2}
    records, payloads = [], []
    for index in range(deliveries):
        if index == 0 or distinct:
            record, payload = sim_interactions.base_payload(
                backend,
                type=3,
                channel_id=message.channel_id,
                guild_id=actor.guild.id,
                user_id=actor.id,
                data=data,
            )
            payload["message"] = dict(serializers.message_payload(backend, stored))
            record.source_message_id = stored.id
            records.append(record)
        payloads.append(payload)
    for payload in payloads:
        backend.emit("INTERACTION_CREATE", payload)
    await env.settle()
    return [simcord.InteractionResult(env, record) for record in records]


def interaction_result(env: simcord.Env, interaction_id: int) -> simcord.InteractionResult:
    return simcord.InteractionResult(env, env.backend.interactions[interaction_id])


def command_id(env: simcord.Env, name: str) -> int:
    """The synced id of a top-level slash command (global or guild)."""
    for scope in env.backend.commands.values():
        for (command_name, _type), command in scope.items():
            if command_name == name:
                return int(command["id"])
    raise LookupError(name)


def unexpected_errors(env: simcord.Env) -> list[BaseException]:
    """Errors the bot swallowed that are bugs, leaving out refusals a member was shown.

    SimCord records every exception that reaches a view's on_error, expected refusals included.
    """
    return [error for error in env.errors if user_message_for(error) is None]


# -- channel writes over virtual time -------------------------------------------------------------


class _StampedLog(list[simcord.HttpLogEntry]):
    """The backend's request log, also noting the virtual time each request was made."""

    def __init__(self, env: simcord.Env, entries: list[simcord.HttpLogEntry]) -> None:
        super().__init__(entries)
        self.env = env
        self.times: list[datetime | None] = [None] * len(entries)

    def append(self, entry: simcord.HttpLogEntry) -> None:
        self.times.append(self.env.now())
        super().append(entry)


def stamp_requests(env: simcord.Env) -> None:
    """From now on, remember when (in virtual time) each request was made; see message_writes."""
    backend = env.backend
    if not isinstance(backend.http_requests, _StampedLog):
        backend.http_requests = _StampedLog(env, backend.http_requests)


@dataclass(frozen=True)
class Write:
    at: datetime
    request: simcord.HttpLogEntry


def message_writes(env: simcord.Env, channel_id: int) -> list[Write]:
    """Every POST/PATCH that creates or edits a message in the channel, with its virtual time:
    the channel's message endpoints, plus followups and webhook edits of interactions in that
    channel. Interaction callbacks answer one interaction and are left out, and so are ephemeral
    followups (only the member who acted sees them: they are not posts in the channel). Requests
    made before stamp_requests(env) are left out too."""
    log = env.backend.http_requests
    if not isinstance(log, _StampedLog):
        raise simcord.SetupError("call stamp_requests(env) before the requests you want to time")
    found = []
    for entry, at in zip(log, log.times, strict=True):
        if at is None or entry.method not in {"POST", "PATCH"}:
            continue
        parts = entry.path.strip("/").split("/")
        token = parts[2] if parts[0] == "webhooks" and len(parts) >= 3 else None
        in_channel = parts[:3] == ["channels", str(channel_id), "messages"] or (
            token in env.backend.interaction_tokens
            and env.backend.interaction_by_token(token).channel_id == channel_id
        )
        ephemeral = isinstance(entry.json, dict) and int(entry.json.get("flags") or 0) & 64
        if in_channel and not ephemeral:
            found.append(Write(at, entry))
    return found


def most_writes_in_any(writes: list[Write], seconds: float) -> int:
    """The most writes that fall in any half-open span [t, t + seconds)."""
    times = sorted(write.at for write in writes)
    return max(
        (sum(1 for other in times if 0 <= (other - start).total_seconds() < seconds) for start in times),
        default=0,
    )


def interaction_id(result: simcord.InteractionResult) -> int:
    """The id of the interaction behind a result (a button click's key is f"interaction:{id}")."""
    return int(result._interaction.id)
