"""Embed colours, one per kind of message, so members learn them at a glance."""

from __future__ import annotations

import discord

GIFT = discord.Colour(0xFE2C55)  # TikTok red: a gift was sent
BIG_GIFT = discord.Colour(0xFFB800)  # gold: a gift worth celebrating
INFO = discord.Colour(0x25F4EE)  # TikTok cyan: balances, catalogue, help
BOARD = discord.Colour(0x9B59B6)  # purple: leaderboards
SUCCESS = discord.Colour(0x2ECC71)  # a moderator action done
WARNING = discord.Colour(0xE67E22)  # needs attention or confirmation
ERROR = discord.Colour(0xED4245)  # refused

COIN = "🪙"
DIAMOND = "💎"
