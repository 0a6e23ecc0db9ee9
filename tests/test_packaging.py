"""What ships: the console script, the data files, the Docker build context, CI's entry point, and
a README that documents every slash command the bot registers and the invite it needs."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tomllib
from importlib import metadata, resources
from pathlib import Path

import pytest
from discord import app_commands

import bot.cli
from bot.app import INVITE_PERMISSIONS, invite_url

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
README = (ROOT / "README.md").read_text("utf-8")


def test_the_giftbot_console_script_is_declared():
    assert PYPROJECT["project"]["scripts"] == {"giftbot": "bot.cli:main"}


def test_the_installed_console_script_runs_the_cli():
    found = metadata.entry_points(group="console_scripts", name="giftbot")
    assert [entry.value for entry in found] == ["bot.cli:main"]
    (entry,) = found
    assert entry.load() is bot.cli.main


def test_the_migrations_are_package_resources():
    folder = resources.files("storage").joinpath("migrations")
    names = sorted(item.name for item in folder.iterdir() if item.name.endswith(".sql"))
    assert names and names[0] == "0001_initial.sql"
    assert "CREATE TABLE entries" in folder.joinpath("0001_initial.sql").read_text("utf-8")


def test_the_default_catalogue_is_a_package_resource():
    csv = resources.files("bot.economy").joinpath("data/default_gifts.csv").read_text("utf-8")
    assert csv.splitlines()[0].count(",") >= 2
    assert "Rose" in csv


def _declared_package_data(package: str, relative: str) -> bool:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"].get(package, [])
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


@pytest.mark.parametrize(
    ("package", "folder", "suffix"),
    [("storage", "migrations", ".sql"), ("bot.economy", "data", ".csv"), ("bot", "assets/fonts", ".ttf")],
)
def test_every_data_file_the_code_loads_is_declared_package_data(package, folder, suffix):
    """importlib.resources finds these in a checkout either way; only package-data puts them in
    the wheel (and so in the Docker image)."""
    directory = ROOT.joinpath(*package.split("."), folder)
    files = sorted(p.name for p in directory.iterdir() if p.name.endswith(suffix))
    assert files
    for name in files:
        assert _declared_package_data(package, f"{folder}/{name}"), f"{package}/{folder}/{name}"


def test_the_card_fonts_ship_with_their_licence():
    """bot/cards.py draws with these files only; their licence must travel with them."""
    fonts = resources.files("bot").joinpath("assets").joinpath("fonts")
    assert fonts.joinpath("DejaVuSans.ttf").read_bytes()[:4] == b"\x00\x01\x00\x00"
    assert fonts.joinpath("DejaVuSans-Bold.ttf").read_bytes()[:4] == b"\x00\x01\x00\x00"
    licence = fonts.joinpath("LICENSE-DejaVu.txt").read_text("utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence
    assert _declared_package_data("bot", "assets/fonts/LICENSE-DejaVu.txt")


def test_every_package_is_found_and_copied_into_the_docker_image():
    includes = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = {pattern.rstrip("*").rstrip(".") for pattern in includes}
    assert tops == {"bot", "cogs", "storage"}
    for top in tops:
        for init in ROOT.joinpath(top).rglob("__init__.py"):
            dotted = ".".join(init.parent.relative_to(ROOT).parts)
            assert any(fnmatch.fnmatch(dotted, pattern) for pattern in includes), dotted
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    dockerignore = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    for top in tops:
        assert f"COPY {top} ./{top}" in dockerfile
        assert f"!{top}/" in dockerignore


def _leaf_commands(tree: app_commands.CommandTree) -> list[str]:
    return sorted(
        command.qualified_name
        for command in tree.walk_commands()
        if isinstance(command, app_commands.Command)
    )


async def test_the_readme_documents_every_registered_command(simcord_env):
    """The bot as started (extensions loaded, commands synced); each command and subcommand."""
    commands = _leaf_commands(simcord_env.bot.tree)
    assert {"balance", "history", "gift", "gifts"} <= set(commands)
    missing = [name for name in commands if not re.search(rf"`/{re.escape(name)}[` ]", README)]
    assert not missing, f"README.md's command reference lacks: {missing}"


def test_the_readme_invite_url_matches_the_bots_scopes_and_permissions():
    template = invite_url(123456789).replace("client_id=123456789", "client_id=CLIENT_ID")
    assert template in README
    assert f"`{INVITE_PERMISSIONS.value}`" in README


def test_ci_entry_point_is_an_executable_bash_script_running_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text("utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert text.rstrip().endswith("make test")


def test_no_shipped_file_is_git_ignored():
    """A fresh clone (CI, the Docker build) only has what git tracks; an ignored data file would
    work here and break there."""
    git = shutil.which("git")
    inside = git and subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, check=False
    )
    if not git or not inside or inside.returncode != 0:
        pytest.skip("not a git checkout")
    shipped = [
        str(path.relative_to(ROOT))
        for top in ("bot", "cogs", "storage")
        for path in ROOT.joinpath(top).rglob("*")
        if path.is_file() and path.suffix in {".py", ".sql", ".csv", ".json", ".png", ".ttf"}
    ]
    ignored = subprocess.run(
        [git, "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(shipped),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert ignored == []
