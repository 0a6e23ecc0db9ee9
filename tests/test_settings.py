"""Bot-wide settings: built in code, read from the environment, documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import AliasChoices, ValidationError

from bot.economy.guild_config import SPECS
from bot.settings import Settings, get_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
FAKE_TOKEN = "fake-token-for-settings-tests"


def env_var(name: str) -> str:
    """The environment variable a Settings field is read from (its first alias, if it has one)."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        assert isinstance(first, str)
        return first
    if isinstance(alias, str):
        return alias
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No giftbot variables and no .env: tests set exactly what they need."""
    for name in Settings.model_fields:
        monkeypatch.delenv(env_var(name), raising=False)
    monkeypatch.delenv("GIFTBOT_DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_build_in_code_with_defaults_and_ignore_a_dotenv_file(clean_env, tmp_path):
    (tmp_path / ".env").write_text("GIFTBOT_LOG_LEVEL=ERROR\nGIFTBOT_DEFAULT_CREATOR_SHARE=10\n", "utf-8")
    settings = Settings(_env_file=None, database_path=Path("x.sqlite3"))  # type: ignore[call-arg]
    assert settings.database_path == Path("x.sqlite3")
    assert settings.discord_token is None
    assert settings.log_level == "INFO"
    assert settings.default_creator_share == 50
    assert settings.dev_guild_id is None
    assert settings.durability == "NORMAL"
    assert settings.sync_commands is True


def test_get_settings_reads_the_environment(clean_env):
    clean_env.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    clean_env.setenv("GIFTBOT_DATABASE_PATH", "state/bot.sqlite3")
    clean_env.setenv("GIFTBOT_DEV_GUILD_ID", "123456789012345678")
    clean_env.setenv("GIFTBOT_LOG_LEVEL", "WARNING")
    clean_env.setenv("GIFTBOT_DEFAULT_CREATOR_SHARE", "70")
    clean_env.setenv("GIFTBOT_DURABILITY", "FULL")
    clean_env.setenv("GIFTBOT_SYNC_COMMANDS", "false")

    settings = get_settings()

    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == FAKE_TOKEN
    assert settings.database_path == Path("state/bot.sqlite3")
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "WARNING"
    assert settings.default_creator_share == 70
    assert settings.durability == "FULL"
    assert settings.sync_commands is False


def test_get_settings_reads_a_dotenv_file_in_the_working_directory(clean_env, tmp_path):
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={FAKE_TOKEN}\nGIFTBOT_LOG_LEVEL=DEBUG\n", "utf-8")
    settings = get_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == FAKE_TOKEN
    assert settings.log_level == "DEBUG"


def test_the_token_is_a_secret_that_never_shows_in_repr_or_dumps(clean_env):
    clean_env.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    settings = get_settings()
    assert FAKE_TOKEN not in repr(settings)
    assert FAKE_TOKEN not in str(settings)
    assert FAKE_TOKEN not in repr(settings.discord_token)
    assert FAKE_TOKEN not in settings.model_dump_json()


@pytest.mark.parametrize("share", [0, 50, 100])
def test_default_creator_share_accepts_whole_percentages(share):
    settings = Settings(_env_file=None, default_creator_share=share)  # type: ignore[call-arg]
    assert settings.default_creator_share == share


@pytest.mark.parametrize("share", [-1, 101, 1000])
def test_default_creator_share_outside_0_to_100_is_refused(share):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, default_creator_share=share)  # type: ignore[call-arg]


def test_an_out_of_range_share_in_the_environment_is_refused(clean_env):
    clean_env.setenv("GIFTBOT_DEFAULT_CREATOR_SHARE", "150")
    with pytest.raises(ValidationError):
        get_settings()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_the_readme_documents_every_setting(name):
    assert f"`{env_var(name)}`" in README, f"README.md's settings table lacks {env_var(name)}"


@pytest.mark.parametrize("key", sorted(SPECS))
def test_the_readme_documents_every_per_server_setting(key):
    assert f"`{key}`" in README, f"README.md's /config table lacks {key}"


def test_a_blank_dev_guild_id_means_unset(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIFTBOT_DEV_GUILD_ID", "")
    assert get_settings().dev_guild_id is None
