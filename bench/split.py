"""`python -m bench.split [--gifts G] [--wallets W] [--rules-us U] [--rounds N]`: would the
rules in a second process take the service to the SQL's own ceiling?

`bench.gil` shows that Python anywhere in giftbot's process delays the database thread, so one
process cannot overlap a batch's rules with another batch's SQL. Two processes can. This
records the SQL of G gifts sent through the real service (as the raw ceiling does), then
replays it three ways, alternating, on fresh copies of the database:

- the SQL alone: the ceiling;
- one process: before each batch's statements, U µs a gift of pure Python (the rules, the
  batch bookkeeping and the event loop's share: about 53 µs a gift on this machine), as
  giftbot works today;
- two processes: the same Python in this one, then the batch's statements handed (pickled,
  through a pipe) to a writer process, two batches in flight, as a writer process fed rows
  worked out from carried-over state would be.

Nothing here works out real rules from carried state; that is the redesign it sizes
(docs/benchmarks.md, "Why not 10,000 a second").
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import pickle
import statistics
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bot.gc_tuning import pace_collector

from . import dataset, throughput
from .config import DATA_DIR
from .gil import spin

IN_FLIGHT = 2  # batches handed to the writer process and not yet committed


def _writer(db: Path, pipe: Connection) -> None:
    """The writer process: run each batch it is handed, answer once it committed."""
    conn = throughput.replay_connection(db)
    try:
        while message := pipe.recv_bytes():
            throughput.run_batch(conn, pickle.loads(message))
            pipe.send_bytes(b"committed")
    finally:
        conn.close()


def one_process(db: Path, recording: throughput.Recording, rules_s: float) -> float:
    conn = throughput.replay_connection(db)
    try:
        started = time.perf_counter()
        for batch in recording.batches:
            spin(rules_s)
            throughput.run_batch(conn, batch)
        return time.perf_counter() - started
    finally:
        conn.close()


def two_processes(db: Path, recording: throughput.Recording, rules_s: float) -> float:
    ours, theirs = multiprocessing.Pipe()
    writer = multiprocessing.get_context("fork").Process(target=_writer, args=(db, theirs))
    writer.start()
    try:
        in_flight = 0
        started = time.perf_counter()
        for batch in recording.batches:
            spin(rules_s)
            payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            if in_flight == IN_FLIGHT:
                ours.recv_bytes()
                in_flight -= 1
            ours.send_bytes(payload)
            in_flight += 1
        for _ in range(in_flight):
            ours.recv_bytes()
        return time.perf_counter() - started
    finally:
        ours.send_bytes(b"")
        writer.join()


def main(gifts: int, wallets: int, rules_us: float, rounds: int) -> None:
    shape = dataset.Shape(wallets, 0)
    source = dataset.copy_of(shape, DATA_DIR / "split-record.sqlite3")
    orders = throughput.plan_gifts(shape, gifts, seed=1, tag="split")
    recording = asyncio.run(throughput.record(source, orders))
    source.unlink()
    rules_s = rules_us * recording.gifts / len(recording.batches) / 1e6
    ways = {
        "the SQL alone": lambda db: throughput.replay(db, recording),  # the raw ceiling's own replay
        f"one process, {rules_us:g} µs of Python a gift": lambda db: one_process(db, recording, rules_s),
        f"two processes, {rules_us:g} µs of Python a gift": lambda db: two_processes(db, recording, rules_s),
    }
    rates: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, run in ways.items():
            db = dataset.copy_of(shape, DATA_DIR / "split.sqlite3")
            rates[way].append(recording.gifts / run(db))
            db.unlink()
    ceiling = statistics.median(rates["the SQL alone"])
    for way, mine in rates.items():
        each = " ".join(f"{rate:7,.0f}" for rate in mine)
        print(f"{way:<40} {each}   {statistics.median(mine) / ceiling:.2f} of the SQL alone")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gifts", type=int, default=20_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--rules-us", type=float, default=53.0)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    pace_collector()
    main(options.gifts, options.wallets, options.rules_us, options.rounds)
