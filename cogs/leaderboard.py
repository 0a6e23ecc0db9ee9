"""/leaderboard: a public top 10 (pages to the top 100), and the caller's own rank in private."""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.errors import EconomyError, NotACreator
from bot.economy.models import Board, LeaderboardRow
from bot.economy.periods import Period, Window
from bot.economy.service import BoardPage
from bot.permissions import require_guild
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS
from bot.ui.views import send_paged

PER_PAGE = 10
TOP = 100  # the public board pages up to here; the caller's own rank has no limit
# Discord display names are at most 32 characters; escaped they stay under 70, which keeps ten
# lines well inside an embed description.
NAME_CHARS, NAME_LIMIT = 32, 70

PERIOD_CHOICES = [app_commands.Choice(name=p.label.capitalize(), value=p.value) for p in Period]
BOARD_CHOICES = [
    app_commands.Choice(name="Gifters (coins sent)", value=Board.GIFTERS.value),
    app_commands.Choice(name="Creators (coins received)", value=Board.CREATORS.value),
]

# How the window reads under the title, e.g. "Week from <t:…:D>".
_SPAN_NAMES = {Period.DAY: "Day", Period.WEEK: "Week", Period.MONTH: "Month", Period.YEAR: "Year"}
# "… with 🪙 5 this week" / "… any gifts this week"; all time reads better spelled out.
_SO_FAR = {Period.ALL: "in all"}
_NOT_YET = {Period.ALL: "yet"}


class CreatorBoardConflict(EconomyError):
    user_message = (
        "`creator:` ranks the gifters of one creator; leave `board:` out (or pick Gifters) to use it."
    )


class CreatorHidden(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} has chosen not to appear on public leaderboards.")


def display(row: LeaderboardRow) -> str:
    # Names were stored at gift time, so members who left still show; the mention fallback sits
    # in an embed, which never pings.
    return fmt.safe(row.name[:NAME_CHARS], NAME_LIMIT) if row.name.strip() else f"<@{row.user_id}>"


def row_line(row: LeaderboardRow) -> str:
    return f"`#{row.rank}` {display(row)} · {fmt.coins(row.score)}"


def describe_window(period: Period, span: Window) -> str:
    if span.start is None or span.end is None:
        return "Every gift ever sent in this server."
    # The end is exclusive: the last day shown is the one before the next period starts.
    last_day = span.end - timedelta(microseconds=1)
    if period is Period.DAY:
        return f"{fmt.when(span.start, 'D')} · resets {fmt.when(span.end)}"
    return (
        f"{_SPAN_NAMES[period]} from {fmt.when(span.start, 'D')} to {fmt.when(last_day, 'D')}"
        f" · resets {fmt.when(span.end)}"
    )


def board_title(board: Board, period: Period, creator_name: str) -> str:
    if board is Board.SUPPORTERS:
        return f"🏆 Leaderboard · {creator_name}'s gifters · {period.label}"
    if board is Board.CREATORS:
        return f"🏆 Leaderboard · creators (coins received) · {period.label}"
    return f"🏆 Leaderboard · gifters (coins sent) · {period.label}"


def board_embed(page: BoardPage, creator_name: str = "") -> discord.Embed:
    lines = [row_line(row) for row in page.rows]
    if not lines:
        lines = [f"No gifts {page.period.label} yet. Be the first with /gift!"]
    embed = discord.Embed(
        title=board_title(page.board, page.period, creator_name),
        description=describe_window(page.period, page.window) + "\n\n" + "\n".join(lines),
        colour=theme.BOARD,
    )
    ranked = f"{page.total:,} ranked" if page.total < TOP else f"top {TOP} shown"
    embed.set_footer(text=f"Page {page.page + 1} of {page.page_count} · {ranked}")
    return embed


def standing_line(
    row: LeaderboardRow | None, board: Board, period: Period, creator_name: str, *, hidden: bool
) -> str:
    """The caller's own rank, for their eyes only."""
    when = period.label
    if row is None:
        when = _NOT_YET.get(period, when)
        if board is Board.CREATORS:
            text = f"You haven't received any gifts {when}."
        elif board is Board.SUPPORTERS:
            text = f"You haven't sent {creator_name} any gifts {when}."
        else:
            text = f"You haven't sent any gifts {when}."
    else:
        when = _SO_FAR.get(period, when)
        where = f" among {creator_name}'s gifters" if board is Board.SUPPORTERS else ""
        verb = "received" if board is Board.CREATORS else "sent"
        text = f"You're #{row.rank:,}{where} with {fmt.coins(row.score)} {verb} {when}."
    if hidden:
        text += (
            "\nYou're hidden from the public boards, so only you see this rank. "
            "`/privacy leaderboards:show` puts you back."
        )
    return text


class Leaderboards(commands.Cog):
    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    @app_commands.command(name="leaderboard", description="Top gifters or creators of a period.")
    @app_commands.describe(
        board="Rank gifters (coins sent, the default) or creators (coins received)",
        period="Which period to rank (default: this week)",
        creator="Rank the gifters of this one creator",
    )
    @app_commands.choices(board=BOARD_CHOICES, period=PERIOD_CHOICES)
    @app_commands.guild_only()
    @app_commands.check(require_guild)
    async def leaderboard(
        self,
        interaction: discord.Interaction,
        board: app_commands.Choice[str] | None = None,
        period: app_commands.Choice[str] | None = None,
        creator: discord.Member | None = None,
    ) -> None:
        """Top gifters or creators of a period."""
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        chosen = Period(period.value) if period is not None else Period.WEEK
        kind = Board(board.value) if board is not None else Board.GIFTERS
        creator_id, creator_name = 0, ""
        if creator is not None:
            # Refusals come before the public defer, so they stay private.
            if kind is Board.CREATORS:
                raise CreatorBoardConflict()
            creator_name = fmt.safe(fmt.display_name(creator)[:NAME_CHARS], NAME_LIMIT)
            if creator.bot or not await self.bot.storage.is_creator(guild_id=guild_id, user_id=creator.id):
                raise NotACreator(fmt.display_name(creator))  # NotACreator quotes it safely
            if creator.id != user_id and await self.bot.economy.is_hidden(guild_id, creator.id):
                raise CreatorHidden(creator_name)
            kind, creator_id = Board.SUPPORTERS, creator.id

        await interaction.response.defer()  # public: the board is for the whole channel

        async def render(page: int) -> tuple[discord.Embed, int]:
            shown = await self.bot.economy.board(
                guild_id, chosen, kind, creator_id=creator_id, page=page, per_page=PER_PAGE, limit_to=TOP
            )
            return board_embed(shown, creator_name), shown.page_count

        # The first follow-up takes the deferred reply's place, so the public board goes first.
        await send_paged(interaction, render, ephemeral=False)
        mine = await self.bot.economy.standing(guild_id, chosen, kind, user_id, creator_id=creator_id)
        hidden = await self.bot.economy.is_hidden(guild_id, user_id)
        await interaction.followup.send(
            standing_line(mine, kind, chosen, creator_name, hidden=hidden),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Leaderboards(bot))
