"""Bot-wide settings from environment variables and `.env`, read through `get_settings()`.

Nothing reads the environment at import time: tests and embedders build `Settings(...)` in code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GIFTBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "GIFTBOT_DISCORD_TOKEN"),
        description="The bot token from Discord's developer portal.",
    )
    database_path: Path = Field(
        default=Path("data/giftbot.sqlite3"), description="Where the SQLite database lives."
    )
    dev_guild_id: int | None = Field(
        default=None,
        description="Sync slash commands to this one server instantly (for development); "
        "unset syncs globally.",
    )
    log_level: LogLevel = Field(default="INFO", description="How much the bot logs.")
    default_creator_share: int = Field(
        default=50,
        ge=0,
        le=100,
        description="Percent of a gift's coins that creators receive as diamonds, unless a server "
        "sets its own.",
    )
    durability: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite synchronous mode: NORMAL survives a process crash, FULL survives power loss.",
    )
    writer_process: bool = Field(
        default=True,
        description="Under load, write batches of gifts in a second process while the next batch is "
        "worked out (both cores at once); off keeps every write in the bot's process.",
    )
    sync_commands: bool = Field(default=True, description="Sync slash commands with Discord at start-up.")

    @field_validator("dev_guild_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`GIFTBOT_DEV_GUILD_ID=` in a .env file means "not set", not an error."""
        return None if isinstance(value, str) and not value.strip() else value


def get_settings() -> Settings:
    """Read settings from the environment and `.env` now (never at import time)."""
    return Settings()
