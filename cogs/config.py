"""/config: see and change this server's giftbot settings (Manage Server only).

Every change is recorded with who made it, when, and the old and new value. When a moderator
role is set, /config also checks that Discord actually lets that role see /mod: the role only
gets it once a server admin opens the command to it in the Integrations settings.
"""

from __future__ import annotations

import logging
from enum import Enum

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import GiftBot
from bot.economy.errors import InvalidSetting
from bot.economy.guild_config import SPECS, SettingSpec, parse_setting
from bot.economy.models import SettingChange
from bot.permissions import require_manager
from bot.ui import format as fmt
from bot.ui import theme
from bot.ui.mentions import NO_PINGS

log = logging.getLogger(__name__)

RECENT_CHANGES = 5
MOD_COMMAND = "mod"
HOW_TO_OPEN = (
    "Server Settings → Integrations → {app} → /mod → add the role {role}. "
    "Until then its members can't see /mod."
)


class ModAccess(Enum):
    ALLOWED = "allowed"
    NOT_ALLOWED = "not allowed"
    UNKNOWN = "unknown"


def show_value(spec: SettingSpec, value: str | None, *, default_share: int) -> str:
    if value is None and spec.key == "creator_share":
        return f"{default_share}% (bot default)"
    if value is None:
        return "Not set"
    if spec.kind == "role":
        return f"<@&{value}>"
    if spec.kind == "channel":
        return f"<#{value}>"
    if spec.kind == "number":
        shown = fmt.number(int(value))
        return f"{shown}%" if spec.key == "creator_share" else shown
    return fmt.safe(value)


def role_allowed(
    overrides: list[app_commands.AppCommandPermissions], *, role: discord.Role, guild_id: int
) -> bool:
    """Whether /mod's overrides let this role use it (a role override beats the @everyone one)."""
    roles = [
        p.permission for p in overrides if p.type is discord.AppCommandPermissionType.role and p.id == role.id
    ]
    if roles:
        return all(roles)
    everyone = [
        p.permission
        for p in overrides
        if p.type is discord.AppCommandPermissionType.role and p.id == guild_id
    ]
    return bool(everyone) and all(everyone)


class Config(commands.Cog):
    config = app_commands.Group(
        name="config",
        description="See and change giftbot's settings for this server.",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: GiftBot) -> None:
        self.bot = bot

    def _show(self, key: str, value: str | None) -> str:
        """A stored value as members read it; unset means the default."""
        spec = SPECS[key]
        shown = value if value is not None else spec.default
        return show_value(spec, shown, default_share=self.bot.economy.default_share)

    # -- /mod access ---------------------------------------------------------------------

    async def _find_mod_command(self, guild: discord.Guild) -> app_commands.AppCommand | None:
        for scope in (guild, None):
            for command in await self.bot.tree.fetch_commands(guild=scope):
                if command.name == MOD_COMMAND:
                    return command
        return None

    async def mod_access(self, guild: discord.Guild, role_id: int) -> ModAccess:
        """Can members with this role see /mod? Best effort: UNKNOWN when Discord won't say."""
        role = guild.get_role(role_id)
        if role is None:
            return ModAccess.NOT_ALLOWED
        if role.permissions.manage_guild or role.permissions.administrator:
            return ModAccess.ALLOWED
        try:
            command = await self._find_mod_command(guild)
            if command is None:
                return ModAccess.UNKNOWN
            try:
                overrides = (await command.fetch_permissions(guild)).permissions
            except discord.NotFound:  # no overrides: only Manage Server sees /mod
                overrides = []
        except (discord.HTTPException, discord.ClientException) as exc:
            log.warning("could not read /mod permissions in guild %s: %s", guild.id, exc)
            return ModAccess.UNKNOWN
        allowed = role_allowed(overrides, role=role, guild_id=guild.id)
        return ModAccess.ALLOWED if allowed else ModAccess.NOT_ALLOWED

    async def add_mod_access_warning(
        self, embed: discord.Embed, guild: discord.Guild, role_id: int | None
    ) -> None:
        """Add a field when members with the moderator role can't see /mod (best effort)."""
        if role_id is None:
            return
        app = fmt.safe(self.bot.user.name) if self.bot.user else "giftbot"
        how = HOW_TO_OPEN.format(app=app, role=f"<@&{role_id}>")
        if guild.get_role(role_id) is None:
            embed.add_field(
                name="⚠️ Moderator role not found",
                value=f"The role <@&{role_id}> no longer exists here. Set another with /config set.",
                inline=False,
            )
            return
        access = await self.mod_access(guild, role_id)
        if access is ModAccess.NOT_ALLOWED:
            embed.add_field(
                name="⚠️ The moderator role can't see /mod yet",
                value=f"Discord shows /mod only to Manage Server by default. {how}",
                inline=False,
            )
        elif access is ModAccess.UNKNOWN:
            embed.add_field(
                name="Check /mod access",
                value=f"I couldn't check who can see /mod. If moderators can't find it: {how}",
                inline=False,
            )

    # -- commands ------------------------------------------------------------------------

    @config.command(name="show", description="Every setting, its value, and the latest changes.")
    @app_commands.check(require_manager)
    async def show(self, interaction: discord.Interaction) -> None:
        """Every setting, its value, and the latest changes."""
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored = await self.bot.economy.stored_settings(guild.id)
        embed = discord.Embed(title="giftbot settings", colour=theme.INFO)
        for key, spec in SPECS.items():
            embed.add_field(
                name=f"{spec.label} · `{key}`",
                value=f"**{self._show(key, stored.get(key))}**\n{spec.description}",
                inline=False,
            )
        config = await self.bot.economy.config(guild.id)
        # Selling coins or allowing cash-outs turn the gate on by themselves.
        gate = await self.bot.coin_store.age_gate(guild.id)
        why = config.age_gate_reason(sells_coins=gate.sells_coins, allows_cashouts=gate.allows_cashouts)
        embed.add_field(
            name="Age gate",
            value=(
                f"**On**, because {why}: members confirm once that they are 18 or older before "
                "their first gift or purchase."
                if why
                else "**Off**: nobody is asked their age. It turns on when a manager sets `age_gate` "
                "on, or when this server sells coins or allows cash-outs."
            ),
            inline=False,
        )
        changes = await self.bot.economy.setting_changes(guild.id, limit=RECENT_CHANGES)
        embed.add_field(
            name="Latest changes",
            value="\n".join(self._change_line(c) for c in changes) or "No changes yet.",
            inline=False,
        )
        await self.add_mod_access_warning(embed, guild, config.moderator_role_id)
        embed.set_footer(text="Change one with /config set.")
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    def _change_line(self, change: SettingChange) -> str:
        label = SPECS[change.key].label if change.key in SPECS else change.key
        old, new = self._show(change.key, change.old_value), self._show(change.key, change.new_value)
        who = fmt.person(change.actor_id)
        return f"{fmt.safe(label)}: {old} → {new} by {who} {fmt.when(change.changed_at)}"

    @config.command(name="set", description="Change one setting; the change is recorded.")
    @app_commands.describe(
        setting="Which setting",
        value="The new value: a number, a role mention or id, a timezone like Europe/Paris, or none",
    )
    @app_commands.choices(
        setting=[app_commands.Choice(name=spec.label, value=key) for key, spec in SPECS.items()]
    )
    @app_commands.check(require_manager)
    async def set_setting(
        self,
        interaction: discord.Interaction,
        setting: str,
        value: app_commands.Range[str, 1, 100],
    ) -> None:
        """Change one setting; the change is recorded."""
        guild = interaction.guild
        assert guild is not None
        if setting == "moderator_role":
            self._check_role(guild, parse_setting(setting, value))
        change = await self.bot.economy.set_config(guild.id, setting, value, actor_id=interaction.user.id)
        spec = SPECS[setting]
        embed = discord.Embed(
            title="Setting changed",
            description=(
                f"**{fmt.safe(spec.label)}**: {self._show(setting, change.old_value)} → "
                f"{self._show(setting, change.new_value)}"
            ),
            colour=theme.SUCCESS,
        )
        if setting != "moderator_role" or change.new_value is None:
            await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.add_mod_access_warning(embed, guild, int(change.new_value))
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @staticmethod
    def _check_role(guild: discord.Guild, role_id: str | None) -> None:
        """A moderator role must be a real role here, and not @everyone."""
        if role_id is None:
            return
        if int(role_id) == guild.id:
            raise InvalidSetting("@everyone can't be the moderator role; pick a role moderators hold.")
        if guild.get_role(int(role_id)) is None:
            raise InvalidSetting("There is no such role in this server. Mention the role or paste its id.")


async def setup(bot: GiftBot) -> None:
    await bot.add_cog(Config(bot))
