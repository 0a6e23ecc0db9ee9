"""Crash safety: kill a process doing concurrent gifts with SIGKILL, again and again.

After each kill, `giftbot check` must pass on the database as a restart finds it, every gift
the process reported done must be in the ledger exactly once, and on restart the worker
re-sends the gifts around each lane's last "done" (tests/crash/worker.py): a gift that was done
must come back as a replay, never as a second payment.
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from storage.audit import CHECKS
from tests.crash import FIGURES
from tests.crash.worker import LANES, gift_of, read_log

ROOT = Path(__file__).resolve().parents[2]
KILLS = 24
EARLY_KILLS = 4  # of which this many strike during start-up (opening, migrating, seeding)


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTBOT_") and k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def start_worker(database: Path, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash.worker", str(database), str(log)],
        cwd=ROOT,
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(worker: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the worker says it is gifting; a worker that dies or hangs fails the test instead."""
    assert worker.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), "the worker did not start within a minute"
    line = worker.stdout.readline().strip()
    if line != "ready":
        worker.kill()
        _, err = worker.communicate(timeout=30)
        raise AssertionError(f"the worker failed to start:\n{err}")


def kill(worker: subprocess.Popen[str]) -> str:
    """SIGKILL: no cleanup, no atexit, no flush. Returns what the worker wrote to stderr."""
    worker.send_signal(signal.SIGKILL)
    _, err = worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL, err
    return err


def giftbot_check(database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--database", str(database)],
        cwd=ROOT,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ledger_gifts(database: Path) -> tuple[Counter[str], dict[str, tuple[int, int, int]]]:
    """How often each crash-test key is in the ledger, and each gift's (sender, creator, count)."""
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT e.idempotency_key, g.sender_id, g.creator_id, g.count FROM entries e "
            "JOIN gift_events g ON g.entry_id = e.id WHERE e.idempotency_key LIKE 'crash:%'"
        ).fetchall()
    finally:
        conn.close()
    return Counter(row[0] for row in rows), {row[0]: (row[1], row[2], row[3]) for row in rows}


def assert_ledger_holds_every_done_gift_once(database: Path, log: Path) -> set[str]:
    done, _ = read_log(log)
    times, details = ledger_gifts(database)
    assert not [key for key, n in times.items() if n != 1]  # no gift twice
    missing = done - times.keys()
    assert not missing, f"reported done but not in the ledger: {sorted(missing)[:10]}"
    for key, (sender, creator, count) in details.items():  # and each is the gift that key names
        _, lane, n = key.split(":")
        want_sender, want_creator, want_count = gift_of(int(lane), int(n))
        assert (sender, creator, count) == (want_sender.id, want_creator.id, want_count), key
    return done


@pytest.mark.crash
def test_gifts_survive_repeated_sigkills(tmp_path, request):
    database, log = tmp_path / "crash.sqlite3", tmp_path / "done.log"
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    early = set(rng.sample(range(1, KILLS), EARLY_KILLS))
    started = time.monotonic()
    checks = 0

    for kill_number in range(KILLS):
        worker = start_worker(database, log)
        if kill_number in early:
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in start-up, or just after it
        else:
            wait_ready(worker)
            time.sleep(rng.uniform(0.05, 0.4))  # mid-stream: gifts in flight in every lane
        err = kill(worker)
        assert "Traceback" not in err, f"seed {seed}: the worker failed before it was killed:\n{err}"

        checked = giftbot_check(database)
        checks += 1
        assert checked.returncode == 0, f"seed {seed}, after kill {kill_number + 1}:\n{checked.stdout}"
        assert checked.stdout.splitlines()[-1] == f"All {len(CHECKS)} checks passed."
        assert_ledger_holds_every_done_gift_once(database, log)

    lines = log.read_text("utf-8").splitlines()
    assert not [line for line in lines if line.startswith("DOUBLE")], f"seed {seed}"
    done = assert_ledger_holds_every_done_gift_once(database, log)
    replays = sum(1 for line in lines if line.startswith("done") and line.endswith(" replay"))
    assert len(done) > 20 * LANES  # the kills really struck while gifts were flowing
    assert replays >= LANES  # restarts really re-sent gifts that were already done
    request.config.stash[FIGURES] = {
        "kills": KILLS,
        "seconds": time.monotonic() - started,
        "done": len(done),
        "replays": replays,
        "checks": checks,
    }
