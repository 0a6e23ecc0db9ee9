"""Handler latency of /gift and /balance, inside SimCord, on the big database.

A handler's time runs from the moment discord.py invokes the command (its checks, then the
callback) to the moment the reply reaches SimCord's transport: the first POST of the
interaction's callback. Both ends are read with time.perf_counter (SimCord patches
time.monotonic). SimCord's own cost per interaction, building and delivering the event,
routing the reply and settling, is what remains of the whole `member.slash()` call.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import simcord
from discord import app_commands
from simcord.http import router

from bot.app import create_bot
from bot.economy.service import Party
from bot.settings import Settings

from .config import GUILD_ID, MOD_ID
from .stats import percentile

_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")
SENDERS = 20
CREATORS = 5
GIFTS = ("Corgi", "Money Gun", "Swan", "Train")  # below the confirm threshold, not comboable


@dataclass(frozen=True, slots=True)
class HandlerTiming:
    command: str
    samples: int
    p50_ms: float
    p99_ms: float
    simcord_overhead_p50_ms: float


class Stopwatch:
    """When each interaction's command started and when its reply reached the transport."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.replied: dict[int, float] = {}

    @contextmanager
    def installed(self) -> Iterator[None]:
        original_invoke = app_commands.Command._invoke_with_namespace
        original_dispatch = router.dispatch
        started, replied = self.started, self.replied

        async def invoke(command: Any, interaction: discord.Interaction, namespace: Any) -> Any:
            started.setdefault(interaction.id, time.perf_counter())
            return await original_invoke(command, interaction, namespace)

        def dispatch(backend: Any, method: str, path: str, **kwargs: Any) -> Any:
            if method == "POST" and (match := _CALLBACK.match(path)):
                replied.setdefault(int(match.group(1)), time.perf_counter())
            return original_dispatch(backend, method, path, **kwargs)

        app_commands.Command._invoke_with_namespace = invoke  # type: ignore[method-assign,assignment]
        router.dispatch = dispatch
        try:
            yield
        finally:
            app_commands.Command._invoke_with_namespace = original_invoke  # type: ignore[method-assign]
            router.dispatch = original_dispatch

    def handler_ms(self, interaction_id: int) -> float:
        return (self.replied[interaction_id] - self.started[interaction_id]) * 1000


def _settings(db: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=None,
        database_path=db,
        dev_guild_id=None,
        sync_commands=True,
    )


async def measure_handlers(db: Path, samples: int) -> list[HandlerTiming]:
    """`samples` /gift and as many /balance, one at a time, after a short warm-up."""
    logging.getLogger("giftbot").setLevel(logging.WARNING)
    bot = create_bot(_settings(db))
    watch = Stopwatch()
    timings: dict[str, list[tuple[float, float]]] = {"gift": [], "balance": []}
    try:
        async with simcord.run(bot) as env:
            guild = env.create_guild("Bench", id=GUILD_ID)
            channel = guild.create_text_channel("live")
            senders = [guild.add_member(env.create_user(f"fan{i}")) for i in range(SENDERS)]
            creators = [guild.add_member(env.create_user(f"creator{i}")) for i in range(CREATORS)]
            mod = Party(MOD_ID, "bench mod")
            for creator in creators:
                await bot.economy.add_creator(GUILD_ID, Party(creator.id, creator.name), actor=mod)
            for n, sender in enumerate(senders):
                await bot.economy.grant(
                    GUILD_ID, Party(sender.id, sender.name), 1_000_000, actor=mod, reason="bench", key=f"h{n}"
                )
            with watch.installed():
                warm_up = 5
                for i in range(samples + warm_up):
                    sender = senders[i % SENDERS]
                    for command, options in (
                        ("gift", {"creator": creators[i % CREATORS], "gift": GIFTS[i % len(GIFTS)]}),
                        ("balance", {}),
                    ):
                        started = time.perf_counter()
                        result = await sender.slash(channel, command, **options)
                        total_ms = (time.perf_counter() - started) * 1000
                        interaction_id = int(result._interaction.id)
                        if not result.acknowledged or interaction_id not in watch.replied:
                            raise RuntimeError(f"/{command} was not answered: {env.errors!r}")
                        if i >= warm_up:
                            handler = watch.handler_ms(interaction_id)
                            timings[command].append((handler, total_ms - handler))
                    await env.advance_time(2)  # gifts a couple of seconds apart, as people send them
            if env.errors:
                raise RuntimeError(f"the bot raised during the handler benchmark: {env.errors[:3]!r}")
    finally:
        await bot.storage.close()
    return [
        HandlerTiming(
            command=f"/{command}",
            samples=len(pairs),
            p50_ms=percentile([h for h, _ in pairs], 50),
            p99_ms=percentile([h for h, _ in pairs], 99),
            simcord_overhead_p50_ms=percentile([o for _, o in pairs], 50),
        )
        for command, pairs in timings.items()
    ]
