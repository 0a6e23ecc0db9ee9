"""The `giftbot` command as an operator meets it: clear refusals, help, and no token in the logs."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logging_setup import RedactSecrets, setup_logging

ROOT = Path(__file__).resolve().parents[1]
# Shaped like a Discord bot token (three dot-separated base64 parts), built so no scanner flags it.
TOKEN_SHAPED = "M" + "T" * 25 + "." + "G" * 6 + "." + "x" * 38
SECRET = "the-configured-secret-value"


def giftbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` like a fresh shell: no token, no .env, a database under cwd."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBOT_") and k != "DISCORD_TOKEN"}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    clean["GIFTBOT_DATABASE_PATH"] = str(cwd / "giftbot.sqlite3")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("token", [None, "", "   "])
def test_run_without_a_token_says_so_in_one_line_and_exits_2(tmp_path, token):
    extra = {} if token is None else {"DISCORD_TOKEN": token}
    result = giftbot("run", cwd=tmp_path, **extra)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert "README" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "giftbot.sqlite3").exists()  # refused before touching anything


def test_help_lists_the_subcommands(tmp_path):
    result = giftbot("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert "migrate" in result.stdout


def test_migrate_creates_the_database_and_is_idempotent(tmp_path):
    first = giftbot("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "0001_initial" in first.stdout
    assert (tmp_path / "giftbot.sqlite3").exists()

    again = giftbot("migrate", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout


def test_redaction_hides_the_configured_secret_and_anything_token_shaped():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([SECRET]))
    log = logging.getLogger("giftbot.test_cli.redaction")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("connecting with %s", TOKEN_SHAPED)
        log.warning("configured secret is %s; again: " + SECRET, SECRET)
        log.warning("an ordinary line about 1,000 coins")
    finally:
        log.removeHandler(handler)

    output = stream.getvalue()
    assert TOKEN_SHAPED not in output
    assert SECRET not in output
    assert output.count("[redacted]") == 3
    assert "an ordinary line about 1,000 coins" in output


def test_setup_logging_redacts_the_token_from_every_logger(capsys):
    root, http = logging.getLogger(), logging.getLogger("discord.http")
    saved_handlers, saved_level, saved_http_level = root.handlers[:], root.level, http.level
    try:
        setup_logging("INFO", secrets=[SECRET])
        logging.getLogger("discord.gateway").info("identify with %s", SECRET)
        logging.getLogger("giftbot").error("leaked %s", TOKEN_SHAPED)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        http.setLevel(saved_http_level)

    err = capsys.readouterr().err
    assert SECRET not in err
    assert TOKEN_SHAPED not in err
    assert err.count("[redacted]") == 2


def test_a_bad_setting_is_one_line_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIFTBOT_", "DISCORD_"))}
    env.update(GIFTBOT_DEFAULT_CREATOR_SHARE="150", GIFTBOT_DATABASE_PATH=str(tmp_path / "db.sqlite3"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("giftbot: DEFAULT_CREATOR_SHARE:")
    assert "Traceback" not in done.stderr
