"""Driving the real bot through SimCord and printing what each member would see.

`Session` wraps SimCord's actors: every command and click is echoed as `Alice ▸ /gift …`, then the
bot's replies (ephemeral ones marked with who sees them) and any new public message in the channel.
Anything unexpected raises `DemoFailure`, so `make test` catches a broken demo.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TextIO

import discord
import simcord

from bot.app import GiftBot
from bot.ui.errors import APOLOGY

from .render import ARROW, Names, Shown, command_line, message_lines

MANAGE_SERVER = discord.Permissions(manage_guild=True)
DAY = 86_400


class DemoFailure(Exception):
    """The session did not go as scripted: the bot, SimCord or the script changed."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


@dataclass(frozen=True)
class Picked:
    """An option as Discord's input box shows it (an autocomplete choice's name, a channel as
    #audit) and the value it sends."""

    shown: str
    value: Any


@dataclass
class Room:
    """Server "Live Room" with #live and a moderators-only #audit: a moderator, three fans and
    two creators-to-be."""

    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    audit: simcord.ChannelHandle
    admins: simcord.RoleHandle
    mod: simcord.MemberActor
    alice: simcord.MemberActor
    bob: simcord.MemberActor
    carol: simcord.MemberActor
    dave: simcord.MemberActor
    erin: simcord.MemberActor

    @classmethod
    def build(cls, env: simcord.Env) -> Room:
        guild = env.create_guild("Live Room")
        channel = guild.create_text_channel("live")
        admins = guild.create_role("Admins", permissions=MANAGE_SERVER)
        hidden, shown = (
            discord.PermissionOverwrite(view_channel=False),
            discord.PermissionOverwrite(view_channel=True),
        )
        bot_user = env.bot.user
        assert bot_user is not None
        audit = guild.create_text_channel(
            "audit", overwrites={guild.default_role: hidden, admins: shown, bot_user: shown}
        )

        def member(name: str, display: str, **kwargs: Any) -> simcord.MemberActor:
            return guild.add_member(env.create_user(name, global_name=display), **kwargs)

        return cls(
            env=env,
            guild=guild,
            channel=channel,
            audit=audit,
            admins=admins,
            mod=member("mona", "Mona the Mod", roles=[admins]),
            alice=member("alice", "Alice"),
            bob=member("bob", "Bob"),
            carol=member("carol", "Carol"),
            dave=member("dave", "Dave"),
            erin=member("erin", "Erin"),
        )

    @property
    def members(self) -> list[simcord.MemberActor]:
        return [self.mod, self.alice, self.bob, self.carol, self.dave, self.erin]

    @property
    def bot(self) -> GiftBot:
        bot = self.env.bot
        assert isinstance(bot, GiftBot)
        return bot

    def names(self) -> Names:
        bot_user = self.bot.user
        users = {m.id: m.user.global_name or m.name for m in self.members}
        if bot_user is not None:
            users[bot_user.id] = "giftbot"
        return Names(
            users=users,
            roles={self.admins.id: "Admins", self.guild.id: "everyone"},
            channels={
                self.channel.id: self.channel.name or "live",
                self.audit.id: self.audit.name or "audit",
            },
            now=self.env.now,
        )


class ErrorLogs(logging.Handler):
    """Collects ERROR records: the bot logs bugs it turned into an apology, and those fail the demo."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Session:
    """Echoes each action and the bot's answers to `out`, once per message."""

    def __init__(self, room: Room, out: TextIO) -> None:
        self.room = room
        self.env = room.env
        self.out = out
        self.names = room.names()
        self._shown: set[int] = set()

    def say(self, line: str = "") -> None:
        print(line, file=self.out)

    def heading(self, text: str) -> None:
        self.say()
        self.say(f"── {text} " + "─" * max(3, 60 - len(text)))

    def who(self, actor: simcord.MemberActor) -> str:
        return self.names.user(actor.id)

    def _option_name(self, value: Any) -> str | None:
        if isinstance(value, Picked):
            return value.shown
        if isinstance(value, simcord.MemberActor):
            return self.who(value)
        if isinstance(value, simcord.RoleHandle | simcord.ChannelHandle):
            return value.name
        return None

    def has_command(self, actor: simcord.MemberActor, command: str) -> bool:
        return command in actor.available_commands(self.room.channel)

    async def pause(self, seconds: float) -> None:
        """Let virtual time pass between actions, so timestamps read like a real evening."""
        await self.env.advance_time(seconds)

    async def later(self, seconds: float, why: str) -> None:
        """A pause the reader should notice, because something happens at its end."""
        span = f"{seconds / DAY:g} days" if seconds >= DAY else f"{seconds:g} seconds"
        self.say(f"⏱ {span} later: {why}")
        await self.env.advance_time(seconds)

    def note(self, text: str) -> None:
        """What a member sees that is not a message (a silent acknowledgement, a ping)."""
        self.say(f"  {text}")

    def message(self, message_id: int) -> discord.Message:
        """A public message as it is now, fetched again from the channel."""
        found = next((m for m in self.room.channel.history() if m.id == message_id), None)
        expect(found is not None, f"message {message_id} is no longer in #{self.room.channel.name}")
        assert found is not None
        return found

    def reshow(self, message_id: int) -> discord.Message:
        """Print a message the bot has since edited, as the channel shows it now."""
        message = self.message(message_id)
        self._print(Shown.of(message), viewer=None, edited=True)
        return message

    def pinged(self, message: discord.Message) -> list[str]:
        """Who Discord really notified (SimCord's stored ping set, not the mentions in the text)."""
        stored = self.env.backend.messages[message.channel.id][message.id]
        expect(
            not stored.ping_role_ids and not stored.mention_everyone,
            "a message pinged a role or @everyone",
        )
        return sorted(self.names.user(user_id) for user_id in stored.ping_user_ids)

    async def slash(
        self, actor: simcord.MemberActor, command: str, **options: Any
    ) -> simcord.InteractionResult:
        self.say(command_line(self.who(actor), command, options, self._option_name))
        sent = {key: value.value if isinstance(value, Picked) else value for key, value in options.items()}
        result = await actor.slash(self.room.channel, command, **sent)
        self.show(actor, result)
        return result

    async def pick(
        self, actor: simcord.MemberActor, command: str, option: str, typed: str, **options: Any
    ) -> Picked:
        """What the member picks from an option's autocomplete after typing `typed`: the first choice."""
        choices = await actor.autocomplete(self.room.channel, command, option, typed, **options)
        expect(choices, f"/{command} {option}: no choice for {typed!r}")
        return Picked(str(choices[0]["name"]), choices[0]["value"])

    async def click(
        self,
        actor: simcord.MemberActor,
        shown: simcord.InteractionResult,
        label: str,
        *,
        on: simcord.ResponseMessage | None = None,
    ) -> simcord.InteractionResult:
        """Click a button on the result's reply (or on `on`, one of its follow-ups)."""
        target = on or shown.response
        expect(target is not None, f"nothing to click {label!r} on")
        assert target is not None
        self.say(f"{self.who(actor)} {ARROW} clicks [{label}]")
        result = await actor.click(target, label=label)
        if result.modal is not None:
            return result  # a form opened: `fill` submits it
        # A deferred click leaves its message as it was; anything else replaced it, so show it again.
        self.show(actor, result, edited=not result.deferred)
        return result

    async def fill(
        self, actor: simcord.MemberActor, shown: simcord.InteractionResult, values: dict[str, str]
    ) -> simcord.InteractionResult:
        """Fill in and submit the modal a click opened; `values` by the inputs' custom ids."""
        modal = shown.modal
        expect(modal is not None, "the click opened no form")
        assert modal is not None
        typed = " · ".join(values.values())
        self.say(f"{self.who(actor)} {ARROW} fills in “{modal.get('title', 'the form')}”: {typed}")
        result = await actor.submit_modal(shown, values)
        self.show(actor, result)
        return result

    def dms(self, member: simcord.MemberActor) -> list[discord.Message]:
        """Print the bot's DMs to `member` not shown yet; returns them."""
        return self._new_posts(list(member.user.dm_channel.history()), place=f"DM to {self.who(member)}")

    def posts(self, channel: simcord.ChannelHandle, *, in_full: int) -> list[discord.Message]:
        """The bot's posts in another channel (such as #audit) not shown yet, oldest first: the
        titles of the earlier ones on one line, the last `in_full` as messages."""
        place = f"#{channel.name}"
        fresh = self._fresh(list(channel.history()))
        earlier = fresh[: max(0, len(fresh) - in_full)]
        if earlier:
            titles = " · ".join(
                self.names.text(m.embeds[0].title or "") if m.embeds else "…" for m in earlier
            )
            self.note(f"({place}, earlier: {titles})")
            self._shown.update(m.id for m in earlier)
        for message in fresh[len(earlier) :]:
            self._print(Shown.of(message), viewer=None, place=place)
        return fresh

    def _new_posts(self, messages: list[discord.Message], *, place: str) -> list[discord.Message]:
        fresh = self._fresh(messages)
        for message in fresh:
            self._print(Shown.of(message), viewer=None, place=place)
        return fresh

    def _fresh(self, messages: list[discord.Message]) -> list[discord.Message]:
        """The bot's messages among `messages` not printed yet, oldest first."""
        me = self.room.bot.user
        mine = [m for m in messages if m.id not in self._shown and me is not None and m.author.id == me.id]
        return sorted(mine, key=lambda m: m.id)

    def show(
        self, actor: simcord.MemberActor, result: simcord.InteractionResult, *, edited: bool = False
    ) -> None:
        """The command's reply and follow-ups, then whatever else the bot posted in the channel."""
        replies = ([result.response] if result.response is not None else []) + result.followups
        expect(replies or result.deferred, f"the bot did not answer {self.who(actor)}")
        for reply in replies:
            if reply.id in self._shown and not edited:
                continue
            self._print(Shown.of(reply), viewer=self.who(actor))
        for message in self.room.channel.history():
            author = message.author
            if message.id in self._shown or not author.bot or message.flags.ephemeral:
                continue
            self._print(Shown.of(message), viewer=None)

    def _print(
        self, shown: Shown, *, viewer: str | None, edited: bool = False, place: str | None = None
    ) -> None:
        self._shown.add(shown.id)
        lines = message_lines(shown, self.names, viewer=viewer, edited=edited, place=place)
        expect(not any(APOLOGY in line for line in lines), "the bot apologised for an unexpected error")
        for line in lines:
            self.say(line)
