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


class DemoFailure(Exception):
    """The session did not go as scripted: the bot, SimCord or the script changed."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


@dataclass
class Room:
    """Server "Live Room" with #live: a moderator, two fans and two creators-to-be."""

    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    admins: simcord.RoleHandle
    mod: simcord.MemberActor
    alice: simcord.MemberActor
    bob: simcord.MemberActor
    carol: simcord.MemberActor
    dave: simcord.MemberActor

    @classmethod
    def build(cls, env: simcord.Env) -> Room:
        guild = env.create_guild("Live Room")
        channel = guild.create_text_channel("live")
        admins = guild.create_role("Admins", permissions=MANAGE_SERVER)

        def member(name: str, display: str, **kwargs: Any) -> simcord.MemberActor:
            return guild.add_member(env.create_user(name, global_name=display), **kwargs)

        return cls(
            env=env,
            guild=guild,
            channel=channel,
            admins=admins,
            mod=member("mona", "Mona the Mod", roles=[admins]),
            alice=member("alice", "Alice"),
            bob=member("bob", "Bob"),
            carol=member("carol", "Carol"),
            dave=member("dave", "Dave"),
        )

    @property
    def members(self) -> list[simcord.MemberActor]:
        return [self.mod, self.alice, self.bob, self.carol, self.dave]

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
            channels={self.channel.id: self.channel.name or "live"},
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
        self.say(f"⏱ {seconds:g} seconds later: {why}")
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
        stored = self.env.backend.messages[self.room.channel.id][message.id]
        expect(
            not stored.ping_role_ids and not stored.mention_everyone,
            "a message pinged a role or @everyone",
        )
        return sorted(self.names.user(user_id) for user_id in stored.ping_user_ids)

    async def slash(
        self, actor: simcord.MemberActor, command: str, **options: Any
    ) -> simcord.InteractionResult:
        self.say(command_line(self.who(actor), command, options, self._option_name))
        result = await actor.slash(self.room.channel, command, **options)
        self.show(actor, result)
        return result

    async def click(
        self, actor: simcord.MemberActor, shown: simcord.InteractionResult, label: str
    ) -> simcord.InteractionResult:
        expect(shown.response is not None, f"nothing to click {label!r} on")
        assert shown.response is not None
        self.say(f"{self.who(actor)} {ARROW} clicks [{label}]")
        result = await actor.click(shown.response, label=label)
        # A deferred click leaves its message as it was; anything else replaced it, so show it again.
        self.show(actor, result, edited=not result.deferred)
        return result

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

    def _print(self, shown: Shown, *, viewer: str | None, edited: bool = False) -> None:
        self._shown.add(shown.id)
        lines = message_lines(shown, self.names, viewer=viewer, edited=edited)
        expect(not any(APOLOGY in line for line in lines), "the bot apologised for an unexpected error")
        for line in lines:
            self.say(line)
