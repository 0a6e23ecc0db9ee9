"""The economy under random interleavings: hypothesis drives the real storage layer (a real SQLite
file, group commit included) through grants, revokes, gifts, purchases, refunds, promotions,
cash-out requests and decisions, budget and timezone changes, replays of earlier keys, bursts of
concurrent operations, forgetting members and time passing; a plain-Python model
(economy_model.py) predicts every outcome, refusals included.

After every step: no non-negative account is below zero; each currency sums to zero; every balance
equals the sum of its transfers; the leaderboard rollups and spend counters equal a recomputation
from the ledger; and every wallet, hold, pending cash-out and system account equals the model's.
A refused or replayed operation changes nothing at all.

`make test` runs at least MIN_STEPS[profile] steps (10,000 in the default "ci" profile) and prints
the count; `GIFTBOT_FUZZ_PROFILE=quick` runs a short version while developing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot.economy.budget import Budget, BudgetState, Mode, SpendPolicy, change_budget
from bot.economy.models import Balances, EntryKind
from bot.economy.periods import Period
from bot.economy.purchases import DISCORD_EPOCH_MS, EntitlementFacts
from storage import Storage, budget_ops, reads, rollups
from storage.forget import forget, planned
from tests.property.economy_model import Economy, Promotion, Wallet, ms
from tests.property.stats import ECONOMY

GUILD, OTHER_GUILD = 1, 2
MOD = 9
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14
MEMBERS = (ALICE, BOB, CAROL, DAVE)
INITIAL_CREATORS = (CAROL, DAVE)
APPROVERS = (MOD, CAROL)  # Carol is a creator too: her own cash-outs must be refused to her
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday; New York changes its clocks on 8 March
GIFTS = ("Rose", "Finger Heart", "Doughnut", "Confetti", "Train", "Interstellar", "Lion")
SKUS = {111: (70, 0), 222: (350, 38)}  # mapped to the guild's packages; 333 is sold nowhere
UNSOLD_SKU = 333
TIMEZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati")
PLANNED_EVERY = 4  # every 4th machine writes its bursts through the writer process
AUDIT_CHANNEL = 4242

PROFILES = {  # hypothesis settings per profile, and the fewest steps a test run must reach
    "ci": (settings(max_examples=160, stateful_step_count=70), 10_000),
    "quick": (settings(max_examples=20, stateful_step_count=40), 500),
}

members = st.sampled_from(MEMBERS)
amounts = st.one_of(st.integers(1, 50), st.integers(1, 5_000), st.sampled_from([1, 999, 30_000, 1_000_000]))
counts = st.one_of(st.integers(1, 5), st.sampled_from([1, 15, 99, 9_999]))
shares = st.sampled_from([0, 37, 50, 100])
hold_days = st.sampled_from([0, 0, 1, 14])


@lru_cache(maxsize=4096)
def _likely(preferred: tuple[Any, ...], anything: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    if not preferred:
        return st.sampled_from(anything)
    return st.one_of(st.sampled_from(preferred), st.sampled_from(preferred), st.sampled_from(anything))


@lru_cache(maxsize=4096)
def _counts(least: int, most: int) -> st.SearchStrategy[int]:
    """Mostly counts in [least, most] (what the sender can afford), sometimes any count at all."""
    fits = st.integers(least, most)
    return st.one_of(fits, fits, counts)


@dataclass(frozen=True)
class Refused:
    """What a refused storage call raised, by class name (compared with the model's prediction)."""

    name: str


@dataclass(frozen=True)
class Template:
    """A database already set up for a run (migrated, guild opened, creators, SKUs mapped): each
    run starts from a copy of the file, which is far quicker than setting it up again."""

    path: Path
    gift_ids: dict[str, tuple[int, int]]  # name -> (catalogue id, price)


_TEMPLATES: dict[str, Template] = {}


def template() -> Template:
    if "economy" not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="giftbot-fuzz-template-"))
        loop = asyncio.new_event_loop()
        try:
            gift_ids = loop.run_until_complete(_set_up(folder / "template.sqlite3"))
        finally:
            loop.close()
        _TEMPLATES["economy"] = Template(folder / "template.sqlite3", gift_ids)
    return _TEMPLATES["economy"]


async def _set_up(path: Path) -> dict[str, tuple[int, int]]:
    store = Storage(path, synchronous="OFF")
    await store.open()
    try:
        await store.ensure_guild(guild_id=GUILD, at=START)
        await store.set_guild_setting(
            guild_id=GUILD, key="audit_channel", value=str(AUDIT_CHANNEL), actor_id=MOD, at=START
        )
        for creator in INITIAL_CREATORS:
            await store.add_creator(
                guild_id=GUILD, user_id=creator, name=f"m{creator}", actor_id=MOD, at=START
            )
        gift_ids = {}
        for name in GIFTS:
            item = await store.gift_by_name(guild_id=GUILD, name=name)
            assert item is not None, name
            gift_ids[name] = (item.id, item.price)
        packages = {(p.coins, p.bonus): p for p in await store.packages(guild_id=GUILD)}
        for sku, (coins, bonus) in SKUS.items():
            await store.map_package(
                guild_id=GUILD,
                package_id=packages[(coins, bonus)].id,
                sku_id=sku,
                actor_id=MOD,
                key=f"map{sku}",
                at=START,
            )
        # Another server where Alice has coins: nothing done in the first may ever touch them.
        await store.grant(
            guild_id=OTHER_GUILD, user_id=ALICE, amount=7, actor_id=MOD, reason="r", key="other", at=START
        )
        return gift_ids
    finally:
        await store.close()


class EconomyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        start = template()
        self.folder = Path(tempfile.mkdtemp(prefix="giftbot-fuzz-"))
        shutil.copyfile(start.path, self.folder / "fuzz.sqlite3")
        self.loop = asyncio.new_event_loop()
        self.store = Storage(self.folder / "fuzz.sqlite3", synchronous="OFF")
        self.run(self.store.open())
        ECONOMY.machines += 1
        if ECONOMY.machines % PLANNED_EVERY == 0 and self.store.db.writer_process is not None:
            # Every burst through the writer process: half worked out while the other half is
            # written (storage/plan_ahead.py), each outcome still checked against the model.
            self.store.db.writer.plan_from = 1
            self.run(self.store.db.writer_process.started())
        skus = {sku: coins + bonus for sku, (coins, bonus) in SKUS.items()}
        self.model = Economy(now=START, creators=set(INITIAL_CREATORS), skus=skus)
        self.gift_ids = start.gift_ids
        self.keys = 0
        self.done: list[tuple[str, str]] = []  # (key, kind) of operations that moved money
        self.entitlements = 0
        self.clean_print: tuple[Any, ...] | None = None
        self.derived_checked: tuple[Any, ...] | None = None

    def teardown(self) -> None:
        try:
            ECONOMY.planned += self.store.db.writer.planned
            self.run(self.store.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- plumbing --------------------------------------------------------------------------------

    def run(self, awaitable: Any) -> Any:
        self.clean_print = None  # it may write: the last fingerprint no longer holds
        return self.loop.run_until_complete(awaitable)

    def attempt(self, awaitable: Any) -> Any:
        """The call's result, or Refused(name) for the economy refusal it raised."""
        try:
            return self.run(awaitable)
        except Exception as exc:
            if type(exc).__module__.startswith(("bot.economy", "storage")):
                return Refused(type(exc).__name__)
            raise

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything an operation could change; equal before and after means it changed nothing.
        Taken by the invariant check after each step too, and reused until the next call."""
        if self.clean_print is None:
            self.clean_print = self.loop.run_until_complete(self.store.db.read(_fingerprint))
        return self.clean_print

    counting = False
    """Count steps for the summary (the fuzz run does; the hand-written story does not)."""

    def step(self, rule_name: str, refused: bool = False) -> None:
        if not self.counting:
            return
        ECONOMY.steps += 1
        ECONOMY.rules[rule_name] += 1
        ECONOMY.refusals += refused

    def expect(self, outcome: Any, predicted: str | None, before: tuple[Any, ...]) -> bool:
        """Check a refusal against the model's prediction; a refusal must change nothing."""
        actual = outcome.name if isinstance(outcome, Refused) else None
        assert actual == predicted, f"storage said {actual}, the model predicted {predicted}"
        if actual is not None:
            assert self.fingerprint() == before, f"a refused operation ({actual}) changed something"
        return actual is not None

    # -- choosing what to do next: mostly things that can succeed, sometimes anything ------------

    @staticmethod
    def likely(preferred: list[Any], anything: Any) -> st.SearchStrategy[Any]:
        """Usually one of `preferred` (when there are any), sometimes anything at all, so that
        operations mostly go through and every refusal is still reached."""
        return _likely(tuple(preferred), tuple(anything))

    def funded(self, *, paid: bool = False) -> list[int]:
        wallets = self.model.wallets
        return [m for m in MEMBERS if m in wallets and (wallets[m].paid if paid else wallets[m].coins) > 0]

    def draw_gift(self, data: st.DataObject, *, paid: bool = False) -> tuple[int, int, str, int]:
        """A sender (one with coins, or with bought coins), a recipient (mostly a creator), a gift
        they can mostly afford, and a count. With `paid`, mostly a count that spends past the
        sender's promo coins into bought ones (promo coins go first), so paid diamonds are made."""
        sender = data.draw(self.likely(self.funded(paid=paid), MEMBERS), label="sender")
        creator = data.draw(self.likely(sorted(self.model.creators & set(MEMBERS)), MEMBERS), label="creator")
        wallet = self.model.wallets[sender] if sender in self.model.wallets else Wallet()
        affordable = [name for name in GIFTS if self.gift_ids[name][1] <= wallet.coins]
        gift = data.draw(self.likely(affordable, GIFTS), label="gift")
        price = self.gift_ids[gift][1]
        most = min(max(1, wallet.coins // price), 9_999)
        least = min(wallet.promo // price + 1, most) if paid and wallet.paid else 1
        return sender, creator, gift, data.draw(_counts(least, most), label="count")

    # -- coins in and out ------------------------------------------------------------------------

    @initialize(
        promo=st.lists(st.sampled_from([0, 0, 0, 50, 1_000, 20_000]), min_size=4, max_size=4),
        bought=st.lists(st.sampled_from([None, 111, 222]), min_size=4, max_size=4),
    )
    def fund(self, promo: list[int], bought: list[int | None]) -> None:
        """Start most runs with money about: granted (promo) coins and bought (paid) ones."""
        for member, coins, sku in zip(MEMBERS, promo, bought, strict=True):
            if coins:
                self.grant_one(member, coins)
            if sku is not None:
                self.buy(member, sku, here=True, back=0)

    @rule(data=st.data())
    def grant(self, data: st.DataObject) -> None:
        self.grant_one(data.draw(members, label="member"), data.draw(amounts, label="amount"))

    def grant_one(self, member: int, amount: int) -> None:
        key = self.key()
        receipt = self.run(
            self.store.grant(
                guild_id=GUILD,
                user_id=member,
                amount=amount,
                actor_id=MOD,
                reason="promo",
                key=key,
                at=self.model.now,
            )
        )
        self.model.grant(member, amount)
        assert not receipt.replayed and receipt.balance == self.model.wallets[member].coins
        self.done.append((key, EntryKind.GRANT))
        self.step("grant")

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        member = data.draw(self.likely(self.funded(), MEMBERS), label="member")
        amount = data.draw(amounts, label="amount")
        key, before = self.key(), self.fingerprint()
        outcome = self.attempt(
            self.store.revoke(
                guild_id=GUILD,
                user_id=member,
                amount=amount,
                actor_id=MOD,
                reason="oops",
                key=key,
                at=self.model.now,
            )
        )
        refused = self.expect(outcome, self.model.revoke(member, amount), before)
        if not refused:
            self.done.append((key, EntryKind.REVOKE))
        self.step("revoke", refused)

    @rule(data=st.data())
    def gift(self, data: st.DataObject) -> None:
        sender, creator, gift, count = self.draw_gift(data)
        self.send_one(sender, creator, gift, count, data.draw(shares), data.draw(hold_days))

    @rule(data=st.data())
    def gift_bought_coins(self, data: st.DataObject) -> None:
        """A gift from a member who bought coins: paid diamonds, holds, and later cash-outs."""
        sender, creator, gift, count = self.draw_gift(data, paid=True)
        self.send_one(sender, creator, gift, count, data.draw(shares), data.draw(hold_days))

    def send_one(self, sender: int, creator: int, gift: str, count: int, share: int, days: int) -> None:
        key, before = self.key(), self.fingerprint()
        outcome = self.attempt(self._send(key, sender, creator, gift, count, share, days))
        _, price = self.gift_ids[gift]
        predicted = self.model.gift_refusal(sender, creator, gift, price, count)
        over_soft = predicted is None and self.model.over_soft_budget(sender, price * count)
        refused = self.expect(outcome, predicted, before)
        if not refused:
            made = self.model.gift(key, sender, creator, price * count, share, days)
            assert (outcome.coins, outcome.diamonds, outcome.paid_coins, outcome.paid_diamonds) == (
                made.coins,
                made.diamonds,
                made.paid_coins,
                made.paid_diamonds,
            )
            assert outcome.over_budget == over_soft and not outcome.replayed
            assert outcome.sender_balance == self.model.wallets[sender].coins
            self.done.append((key, EntryKind.GIFT))
        self.step("gift", refused)

    def _send(self, key: str, sender: int, creator: int, gift: str, count: int, share: int, days: int) -> Any:
        gift_id, _ = self.gift_ids[gift]
        return self.store.send_gift(
            guild_id=GUILD,
            sender_id=sender,
            sender_name=f"m{sender}",
            creator_id=creator,
            creator_name=f"m{creator}",
            gift_id=gift_id,
            count=count,
            share_percent=share,
            key=key,
            at=self.model.now,
            policy=SpendPolicy(default_budget=self.model.default_budget, max_gift_coins=self.model.max_gift),
            hold_days=days,
        )

    @rule(data=st.data())
    def burst(self, data: st.DataObject) -> None:
        """Gifts submitted together: group commit runs them in one transaction, a savepoint each,
        in the order they were submitted; a refused one rolls back alone."""
        share = data.draw(shares)
        ops = [self.draw_gift(data) for _ in range(data.draw(st.integers(2, 6), label="size"))]
        keys = [self.key() for _ in ops]

        async def together() -> list[Any]:
            calls = [self._send(k, *op, share, 14) for k, op in zip(keys, ops, strict=True)]
            return await asyncio.gather(*calls, return_exceptions=True)

        outcomes = self.run(together())
        for key, (sender, creator, gift, count), outcome in zip(keys, ops, outcomes, strict=True):
            _, price = self.gift_ids[gift]
            predicted = self.model.gift_refusal(sender, creator, gift, price, count)
            actual = type(outcome).__name__ if isinstance(outcome, Exception) else None
            assert actual == predicted, f"storage said {actual}, the model predicted {predicted}"
            if predicted is None:
                made = self.model.gift(key, sender, creator, price * count, share, 14)
                assert (outcome.coins, outcome.paid_coins) == (made.coins, made.paid_coins)
                self.done.append((key, EntryKind.GIFT))
        self.step("burst")

    # -- replays: an earlier key, whatever arguments come with it, moves nothing ------------------

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        key, original = data.draw(st.sampled_from(self.done), label="earlier")
        kind = data.draw(st.sampled_from([original, original, EntryKind.GRANT, EntryKind.GIFT]), label="as")
        member = data.draw(members, label="member")
        before = self.fingerprint()
        if kind == EntryKind.GIFT:
            outcome = self.attempt(self._send(key, member, CAROL, "Rose", 1, 50, 14))
        elif kind == EntryKind.REVOKE:
            outcome = self.attempt(
                self.store.revoke(
                    guild_id=GUILD,
                    user_id=member,
                    amount=1,
                    actor_id=MOD,
                    reason="x",
                    key=key,
                    at=self.model.now,
                )
            )
        else:
            outcome = self.attempt(
                self.store.grant(
                    guild_id=GUILD,
                    user_id=member,
                    amount=5,
                    actor_id=MOD,
                    reason="x",
                    key=key,
                    at=self.model.now,
                )
            )
        if kind == original:
            assert not isinstance(outcome, Refused) and outcome.replayed, outcome
        else:
            assert outcome == Refused("KeyReused"), outcome
        assert self.fingerprint() == before, "a replayed key moved something"
        self.step("replay", isinstance(outcome, Refused))

    # -- settings: budgets, the guild's spending rules, timezones, catalogue, creators ----------

    @rule(data=st.data())
    def settings_change(self, data: st.DataObject) -> None:
        what = data.draw(
            st.sampled_from(
                ["budget", "policy", "guild_timezone", "member_timezone", "gift", "creator", "forget"]
            ),
            label="what",
        )
        refused = getattr(self, f"_set_{what}")(data)
        self.step(f"settings:{what}", bool(refused))

    def _set_budget(self, data: st.DataObject) -> None:
        model, member = self.model, data.draw(members, label="member")
        limit = data.draw(st.one_of(st.none(), st.integers(1, 3_000)), label="limit")
        period = data.draw(st.sampled_from([Period.DAY, Period.WEEK, Period.MONTH]), label="period")
        mode = data.draw(st.sampled_from(list(Mode)), label="mode")
        cooling = data.draw(st.sampled_from([0, 1, 24]), label="cooling-off hours")
        new = None if limit is None else Budget(limit, period, mode)
        state = model.budgets.get(member, BudgetState(current=model.default_budget))
        change = change_budget(state, new, now=model.now, cooling_off=timedelta(hours=cooling))
        self.run(
            self.store.save_budget(
                guild_id=GUILD, user_id=member, state=change.state, thresholds=(50, 80, 100), at=model.now
            )
        )
        model.budgets[member] = change.state

    def _set_policy(self, data: st.DataObject) -> None:
        weekly = st.builds(Budget, st.integers(50, 5_000), st.just(Period.WEEK), st.just(Mode.HARD))
        self.model.default_budget = data.draw(st.one_of(st.none(), weekly), label="default budget")
        self.model.max_gift = data.draw(st.one_of(st.none(), st.sampled_from([10, 500, 30_000])), label="max")

    def _set_guild_timezone(self, data: st.DataObject) -> None:
        timezone = data.draw(st.sampled_from(TIMEZONES), label="timezone")
        self.run(
            self.store.set_guild_setting(
                guild_id=GUILD, key="timezone", value=timezone, actor_id=MOD, at=self.model.now
            )
        )
        self.model.guild_timezone = timezone

    def _set_member_timezone(self, data: st.DataObject) -> None:
        member = data.draw(members, label="member")
        timezone = data.draw(st.one_of(st.none(), st.sampled_from(TIMEZONES)), label="timezone")
        self.run(
            self.store.update_prefs(guild_id=GUILD, user_id=member, at=self.model.now, timezone=timezone)
        )
        if timezone is None:
            self.model.member_timezones.pop(member, None)
        else:
            self.model.member_timezones[member] = timezone

    def _set_gift(self, data: st.DataObject) -> None:
        gift = data.draw(st.sampled_from(GIFTS), label="gift")
        enabled = data.draw(st.booleans(), label="enabled")
        self.run(self.store.edit_gift(guild_id=GUILD, name=gift, enabled=enabled, at=self.model.now))
        (self.model.disabled.discard if enabled else self.model.disabled.add)(gift)

    def _set_creator(self, data: st.DataObject) -> bool:
        member, make = data.draw(members, label="member"), data.draw(st.booleans(), label="make")
        before = self.fingerprint()
        if make:
            outcome = self.attempt(
                self.store.add_creator(
                    guild_id=GUILD, user_id=member, name=f"m{member}", actor_id=MOD, at=self.model.now
                )
            )
            predicted = "AlreadyCreator" if member in self.model.creators else None
            self.model.creators.add(member)
        else:
            outcome = self.attempt(
                self.store.remove_creator(guild_id=GUILD, user_id=member, name=f"m{member}")
            )
            predicted = None if member in self.model.creators else "NotCreator"
            self.model.creators.discard(member)
        return self.expect(outcome, predicted, before)

    # -- the store -------------------------------------------------------------------------------

    def _entitlement(self, back: int) -> tuple[int, int]:
        """A new entitlement id dated `back` seconds ago (its snowflake time is the purchase time)."""
        self.entitlements += 1
        purchased = ms(self.model.now) - back * 1000
        return ((purchased - DISCORD_EPOCH_MS) << 22) | self.entitlements, purchased

    @rule(data=st.data())
    def purchase(self, data: st.DataObject) -> None:
        """A purchase arrives: riding on an interaction here, or without a guild (credited by the
        buyer's intent, else kept in their inbox), maybe made while the bot was down."""
        member = data.draw(members, label="buyer")
        sku = data.draw(st.sampled_from([*SKUS, UNSOLD_SKU]), label="sku")
        if data.draw(st.booleans(), label="saw the buy button here first"):
            self.run(
                self.store.record_intents(user_id=member, guild_id=GUILD, sku_ids=[sku], at=self.model.now)
            )
            self.model.intents.add((member, sku))
        here = data.draw(st.booleans(), label="rode on an interaction here")
        self.buy(member, sku, here, data.draw(st.sampled_from([0, 0, 3_600, 3 * 86_400]), label="bought ago"))

    def buy(self, member: int, sku: int, here: bool, back: int) -> None:
        entitlement, purchased = self._entitlement(back)
        facts = EntitlementFacts(entitlement, member, sku)
        assert ms(facts.purchased_at) == purchased
        credit = self.run(
            self.store.credit_purchase(facts=facts, guild_id=GUILD if here else None, at=self.model.now)
        )
        expected = self.model.arrive(entitlement, member, sku, purchased, here)
        assert credit.fresh and credit.purchase.status.value == expected.status
        assert (credit.purchase.coins, credit.purchase.bonus_coins) == (expected.coins, expected.bonus)
        before = self.fingerprint()
        again = self.run(self.store.credit_purchase(facts=facts, guild_id=GUILD, at=self.model.now))
        assert not again.fresh and again.purchase.status == credit.purchase.status  # delivered twice
        assert self.fingerprint() == before
        self.step("purchase")

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        buyers = sorted({p.user for p in self.model.purchases.values() if p.status == "inbox"} & set(MEMBERS))
        member = data.draw(self.likely(buyers, MEMBERS), label="member")
        waiting = sorted(
            e for e, p in self.model.purchases.items() if p.user == member and p.status == "inbox"
        )
        entitlement = data.draw(st.one_of(st.none(), st.sampled_from(waiting)) if waiting else st.none())
        before = self.fingerprint()
        outcome = self.attempt(
            self.store.claim_purchases(
                user_id=member, guild_id=GUILD, entitlement_id=entitlement, at=self.model.now
            )
        )
        self.step("claim", self.expect(outcome, self.model.claim(member, entitlement), before))

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        """Discord deletes an entitlement: a credited one (coins, bonus and diamonds clawed back), one
        in an inbox, one refunded already, or one giftbot never saw (its late creation credits nothing)."""
        known = sorted(self.model.purchases.values(), key=lambda p: p.entitlement_id)
        if known and data.draw(st.integers(0, 4), label="unseen?"):
            chosen = data.draw(st.sampled_from(known), label="purchase")
            self.refund_one(chosen.entitlement_id, chosen.user, chosen.sku, chosen.purchased_ms)
            return
        member, sku = data.draw(members, label="buyer"), data.draw(st.sampled_from(list(SKUS)), label="sku")
        entitlement, purchased = self._entitlement(0)
        self.refund_one(entitlement, member, sku, purchased)
        before = self.fingerprint()
        late = self.run(
            self.store.credit_purchase(
                facts=EntitlementFacts(entitlement, member, sku), guild_id=GUILD, at=self.model.now
            )
        )
        assert not late.fresh and self.fingerprint() == before

    def refund_one(self, entitlement: int, user: int, sku: int, purchased: int) -> None:
        facts = EntitlementFacts(entitlement, user, sku)
        self.run(self.store.refund_purchase(facts=facts, at=self.model.now))
        reclaimed = self.model.reclaimed
        self.model.refund(entitlement, user, sku, purchased)
        before = self.fingerprint()
        again = self.run(self.store.refund_purchase(facts=facts, at=self.model.now))  # delivered twice
        assert not again.fresh and self.fingerprint() == before
        self.step("refund" if self.model.reclaimed == reclaimed else "refund:diamonds clawed back")

    @rule(data=st.data())
    def promotion(self, data: st.DataObject) -> None:
        """Create a bonus event (maybe already running, maybe later), or cancel one."""
        model = self.model
        if model.promotions and data.draw(st.booleans(), label="cancel one"):
            chosen = data.draw(st.sampled_from(model.promotions), label="promotion")
            before = self.fingerprint()
            outcome = self.attempt(
                self.store.cancel_promotion(
                    guild_id=GUILD, promotion_id=chosen.id, actor_id=MOD, key=self.key(), at=model.now
                )
            )
            over = chosen.cancelled_ms is not None or chosen.ends_ms <= ms(model.now)
            refused = self.expect(outcome, "PromotionOver" if over else None, before)
            if not refused:
                chosen.cancelled_ms = ms(model.now)
            self.step("promotion:cancel", refused)
            return
        percent = data.draw(st.integers(1, 500), label="percent")
        begin = model.now + timedelta(
            seconds=data.draw(st.sampled_from([-7_200, 0, 3_600]), label="starts in")
        )
        end = begin + timedelta(hours=data.draw(st.sampled_from([1, 24, 240]), label="hours"))
        found, created = self.run(
            self.store.create_promotion(
                guild_id=GUILD,
                percent=percent,
                starts=begin,
                ends=end,
                actor_id=MOD,
                key=self.key(),
                at=model.now,
            )
        )
        assert created
        model.promotions.append(Promotion(found.id, percent, ms(begin), ms(end)))
        self.step("promotion:create")

    # -- cash-outs -------------------------------------------------------------------------------

    @rule(data=st.data())
    def cashout(self, data: st.DataObject) -> None:
        """A creator asks to cash out, often after waiting out the refund window first; or a
        moderator decides a request."""
        model = self.model
        if model.cashouts and data.draw(st.booleans(), label="decide one"):
            self.decide(data)
            return
        earners = [m for m in MEMBERS if m in model.wallets and model.wallets[m].paid_diamonds > 0]
        creator = data.draw(self.likely(earners, MEMBERS), label="creator")
        held = [
            matures for matures, amount in model.holds[creator].items() if amount and matures > model.now_ms
        ]
        if held and data.draw(st.sampled_from([True, True, False]), label="wait for the holds to mature"):
            model.advance((max(held) - model.now_ms) // 1000 + 1)
        most = max(1, model.cashable(creator))
        amount = data.draw(st.one_of(st.integers(1, most), st.integers(1, most), amounts), label="amount")
        self.request_one(creator, amount, data.draw(st.sampled_from([1, 1, 10, 1_000]), label="minimum"))

    def request_one(self, creator: int, amount: int, minimum: int) -> None:
        key, before = self.key(), self.fingerprint()
        outcome = self.attempt(
            self.store.request_cashout(
                guild_id=GUILD, creator_id=creator, amount=amount, minimum=minimum, key=key, at=self.model.now
            )
        )
        refused = self.expect(outcome, self.model.request(creator, amount, minimum), before)
        if not refused:
            self.model.cashouts[-1].id = outcome.cashout.id
            before = self.fingerprint()
            again = self.run(  # the same interaction delivered twice
                self.store.request_cashout(
                    guild_id=GUILD,
                    creator_id=creator,
                    amount=amount,
                    minimum=minimum,
                    key=key,
                    at=self.model.now,
                )
            )
            assert again.replayed and again.cashout.id == outcome.cashout.id and self.fingerprint() == before
        self.step("cashout", refused)

    def decide(self, data: st.DataObject) -> None:
        """Approve, reject or freeze a request; deciding twice, or one's own, changes nothing."""
        open_ones = [i for i, c in enumerate(self.model.cashouts) if c.open]
        index = data.draw(self.likely(open_ones, range(len(self.model.cashouts))), label="request")
        action = data.draw(st.sampled_from(["approve", "reject", "freeze"]), label="action")
        if action == "freeze":
            self.freeze_one(index)
            return
        self.decide_one(
            index, data.draw(st.sampled_from(APPROVERS), label="moderator"), approve=action == "approve"
        )

    def decide_one(self, index: int, moderator: int, *, approve: bool) -> None:
        cashout_id = self.model.cashouts[index].id
        before = self.fingerprint()
        decide = self.store.approve_cashout if approve else self.store.reject_cashout
        text = {"reference": "paid"} if approve else {"reason": "no"}
        outcome = self.attempt(
            decide(guild_id=GUILD, cashout_id=cashout_id, moderator_id=moderator, at=self.model.now, **text)
        )
        self.step(
            "decide", self.expect(outcome, self.model.decide(index, moderator, approve=approve), before)
        )

    def freeze_one(self, index: int) -> None:
        cashout = self.model.cashouts[index]
        frozen = self.run(
            self.store.freeze_cashout(guild_id=GUILD, cashout_id=cashout.id, actor_id=MOD, at=self.model.now)
        )
        assert frozen == (cashout.status == "pending")
        if frozen:
            cashout.status = "frozen"
        self.step("decide:freeze")

    # -- forgetting a member (one of the settings changes), and time ----------------------------

    def _set_forget(self, data: st.DataObject) -> None:
        """A member asks to be forgotten (`giftbot forget`): rarer than the rest, like in life."""
        member = data.draw(members, label="member")
        expected = self.run(planned(self.store, guild_id=GUILD, user_id=member))
        done = self.run(forget(self.store, guild_id=GUILD, user_id=member, at=self.model.now))
        assert done.changed == expected
        if done.tombstone is None:
            assert not self.model.holds_anything(member), "storage found nothing the model says it holds"
        else:
            self.model.forget(member, done.tombstone)
            assert self.run(self.store.db.read(lambda conn: _rows_naming(conn, member))) == 0

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Time passes: periods roll over, budgets' cooling-off ends, holds mature."""
        seconds = [1, 59, 3_600, 6 * 3_600, 86_400, 3 * 86_400, 8 * 86_400, 20 * 86_400]
        self.model.advance(data.draw(st.sampled_from(seconds), label="seconds"))
        self.step("advance")

    # -- after every step ----------------------------------------------------------------------

    @invariant()
    def books_agree_with_the_ledger_and_the_model(self) -> None:
        checked = self.derived_checked
        found = self.run(self.store.db.read(lambda conn: _books(conn, ms(self.model.now), checked)))
        self.clean_print = found.fingerprint
        self.derived_checked = found.derived_inputs
        assert found.negative == [], found.negative
        assert set(found.totals.values()) == {0}, found.totals  # per guild and currency
        assert found.balance_mismatches == [], found.balance_mismatches
        assert found.rollup_mismatches == [], found.rollup_mismatches[:5]
        assert found.counter_mismatches == [], found.counter_mismatches[:5]
        model = self.model
        for user, wallet in model.wallets.items():
            expected = Balances(
                coins=wallet.coins,
                diamonds=wallet.promo_diamonds + wallet.paid_diamonds,
                paid_coins=wallet.paid,
                paid_diamonds=wallet.paid_diamonds,
                held_diamonds=min(model.held(user), wallet.paid_diamonds),
                pending_diamonds=wallet.pending,
            )
            assert found.wallets.get(user, Balances(0, 0)) == expected, (
                user,
                found.wallets.get(user),
                expected,
            )
        strangers = {u: b for u, b in found.wallets.items() if u not in model.wallets and b != Balances(0, 0)}
        assert strangers == {}, strangers
        gift_coins = sum(g.coins for g in model.gifts)
        gift_diamonds = sum(g.diamonds for g in model.gifts)
        assert found.system["gift_sink"] == gift_diamonds
        assert found.system["platform_fee"] == gift_coins - gift_diamonds
        assert found.system["store"] == -model.sold
        assert found.system["promo_issuer"] == -model.issued_promo
        assert found.system["cashout"] == model.cashed_out
        assert found.system["diamond_issuer"] == -(gift_diamonds - model.reclaimed)
        # the all-time boards equal a sum over the model's gifts, under today's ids
        senders: dict[int, int] = {}
        received: dict[int, tuple[int, int, int]] = {}
        for g in model.gifts:
            senders[g.sender] = senders.get(g.sender, 0) + g.coins
            coins, diamonds, gifts = received.get(g.creator, (0, 0, 0))
            received[g.creator] = (coins + g.coins, diamonds + g.diamonds, gifts + 1)
        assert found.gifters == senders
        assert found.creators == received
        # each creator's supporters page, sorted or read from the rank indexes (RANK_FROM is
        # small here, so creators are ranked within a few gifts: both ways are exercised)
        supporters: dict[int, dict[int, int]] = {}
        for g in model.gifts:
            fans = supporters.setdefault(g.creator, {})
            fans[g.sender] = fans.get(g.sender, 0) + g.coins
        assert found.supporters == supporters
        assert found.other_guild_alice == 7


# -- one read hop per check ---------------------------------------------------------------------


@dataclass
class Books:
    negative: list[tuple[int, int]]
    totals: dict[tuple[int, str], int]
    balance_mismatches: list[tuple[int, int, int]]
    rollup_mismatches: list[tuple[object, ...]]
    counter_mismatches: list[tuple[object, ...]]
    wallets: dict[int, Balances]
    system: dict[str, int]
    gifters: dict[int, int]
    creators: dict[int, tuple[int, int, int]]
    supporters: dict[int, dict[int, int]]  # creator -> supporter -> all-time coins, as the page shows
    other_guild_alice: int
    fingerprint: tuple[Any, ...]
    derived_inputs: tuple[Any, ...]


_DERIVED_INPUTS = (
    "SELECT (SELECT COUNT(*) || ':' || total(entry_id) || ':' || total(coins) || ':' || total(sender_id) "
    "|| ':' || total(creator_id) FROM gift_events), "
    "(SELECT COUNT(*) || ':' || total(score * (user_id % 1009 + 1)) || ':' || total(diamonds) || ':' "
    "|| total(gifts) || ':' || total(last_entry_id) || ':' || total(period_start % 100003) "
    "FROM leaderboard_totals), "
    "(SELECT COUNT(*) || ':' || total(spent * (period_start % 1009 + 1)) || ':' || total(user_id) "
    "FROM spend_counters), "
    "(SELECT group_concat(x) FROM (SELECT guild_id || '=' || value AS x FROM guild_settings "
    "WHERE key = 'timezone' ORDER BY guild_id)), "
    "(SELECT group_concat(x) FROM (SELECT user_id || '=' || COALESCE(timezone, '') AS x FROM member_prefs "
    "ORDER BY guild_id, user_id))"
)


def _books(conn: sqlite3.Connection, now_ms: int, checked: tuple[Any, ...] | None) -> Books:
    """Everything the invariant compares, in one hop. Rollups and spend counters are recomputed
    from the ledger unless nothing they derive from (gifts, timezones) or hold changed since the
    last recomputation agreed with them: the same inputs give the same recomputation."""
    derived_inputs = tuple(conn.execute(_DERIVED_INPUTS).fetchone())
    unchanged = derived_inputs == checked
    owners = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT owner_id FROM accounts WHERE guild_id = ? AND owner_id <> 0", (GUILD,)
        )
    ]
    return Books(
        negative=reads.negative_member_accounts(conn),
        totals={
            (g, c): int(t)
            for g, c, t in conn.execute(
                "SELECT guild_id, currency, SUM(balance) FROM accounts GROUP BY guild_id, currency"
            )
        },
        balance_mismatches=reads.balance_mismatches(conn),
        rollup_mismatches=[] if unchanged else reads.rollup_mismatches(conn),
        counter_mismatches=[] if unchanged else budget_ops.counter_mismatches(conn),
        wallets={owner: reads.balances(conn, GUILD, owner, now_ms) for owner in owners},
        system=dict(
            conn.execute(
                "SELECT code, balance FROM accounts WHERE guild_id = ? AND owner_id = 0", (GUILD,)
            ).fetchall()
        ),
        gifters=dict(
            conn.execute(
                "SELECT user_id, score FROM leaderboard_totals "
                "WHERE guild_id = ? AND board = 'gifters' AND period = 'all'",
                (GUILD,),
            ).fetchall()
        ),
        creators={
            user: (score, diamonds, gifts)
            for user, score, diamonds, gifts in conn.execute(
                "SELECT user_id, score, diamonds, gifts FROM leaderboard_totals "
                "WHERE guild_id = ? AND board = 'creators' AND period = 'all'",
                (GUILD,),
            )
        },
        supporters=_supporters(conn),
        other_guild_alice=reads.balances(conn, OTHER_GUILD, ALICE).coins,
        fingerprint=_fingerprint(conn),
        derived_inputs=derived_inputs,
    )


def _supporters(conn: sqlite3.Connection) -> dict[int, dict[int, int]]:
    """Every creator's all-time supporters page, as /leaderboard reads it."""
    creators = [
        r[0]
        for r in conn.execute(
            "SELECT user_id FROM board_current WHERE guild_id = ? AND board = 'creators'", (GUILD,)
        )
    ]
    pages = {}
    for creator in creators:
        rows, _ = reads.board_page(
            conn,
            guild_id=GUILD,
            board="supporters",
            creator_id=creator,
            period="all",
            period_start=0,
            limit=100,
            offset=0,
        )
        pages[creator] = {row.user_id: row.score for row in rows}
    return pages


def _fingerprint(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """Counts and weighted sums of every table an operation writes: any change shows."""
    return conn.execute(
        "SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM transfers), "
        "(SELECT COUNT(*) || ':' || total(balance * (id % 1009 + 1)) FROM accounts), "
        "(SELECT COUNT(*) FROM gift_events), (SELECT COUNT(*) FROM outbox), "
        "(SELECT COUNT(*) || ':' || total(score) || ':' || total(gifts) || ':' || total(last_entry_id) "
        "FROM leaderboard_totals), "
        "(SELECT COUNT(*) || ':' || total(spent * (period_start % 1009 + 1)) FROM spend_counters), "
        "(SELECT COUNT(*) || ':' || total(amount * (matures_at % 1009 + 1)) FROM diamond_holds), "
        "(SELECT group_concat(status) FROM (SELECT status FROM cashouts ORDER BY id)), "
        "(SELECT group_concat(status) FROM (SELECT status FROM purchases ORDER BY entitlement_id)), "
        "(SELECT COUNT(*) FROM refund_clawbacks), (SELECT COUNT(*) FROM creators), "
        "(SELECT COUNT(*) FROM promotions WHERE cancelled_at IS NOT NULL)"
    ).fetchone()


# Every column in which a member's id may appear, in tables scoped to one guild.
_NAMING = (
    "SELECT (SELECT COUNT(*) FROM accounts WHERE guild_id = ?1 AND owner_id = ?2) "
    "+ (SELECT COUNT(*) FROM entries WHERE guild_id = ?1 AND actor_id = ?2) "
    "+ (SELECT COUNT(*) FROM gift_events WHERE guild_id = ?1 AND (sender_id = ?2 OR creator_id = ?2)) "
    "+ (SELECT COUNT(*) FROM leaderboard_totals WHERE guild_id = ?1 AND (user_id = ?2 OR creator_id = ?2)) "
    "+ (SELECT COUNT(*) FROM spend_counters WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM diamond_holds WHERE guild_id = ?1 AND creator_id = ?2) "
    "+ (SELECT COUNT(*) FROM purchases WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM purchase_intents WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM cashouts WHERE guild_id = ?1 AND (creator_id = ?2 OR decided_by = ?2)) "
    "+ (SELECT COUNT(*) FROM member_names WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM member_prefs WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM budgets WHERE guild_id = ?1 AND user_id = ?2) "
    "+ (SELECT COUNT(*) FROM creators WHERE guild_id = ?1 AND (user_id = ?2 OR added_by = ?2)) "
    "+ (SELECT COUNT(*) FROM outbox WHERE guild_id = ?1 AND user_id = ?2)"
)


def _rows_naming(conn: sqlite3.Connection, member: int) -> int:
    return int(conn.execute(_NAMING, (GUILD, member)).fetchone()[0])


# -- the test ---------------------------------------------------------------------------------------


def test_the_economy_keeps_its_invariants_under_random_interleavings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A creator's supporters join the rank indexes from their 3rd gift, not their 1,000th, so
    # runs cross the threshold amid bursts, forgetting, timezone changes and refunds.
    monkeypatch.setattr(rollups, "RANK_FROM", 3)
    profile = os.environ.get("GIFTBOT_FUZZ_PROFILE", "ci")
    chosen, min_steps = PROFILES[profile]
    config = settings(
        chosen,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        database=None,
        print_blob=True,
    )
    started, steps_before = time.perf_counter(), ECONOMY.steps
    EconomyMachine.counting = True
    try:
        # Hypothesis decides how many steps each run takes; keep running until enough were.
        while ECONOMY.steps - steps_before < min_steps:
            run_state_machine_as_test(EconomyMachine, settings=config)
            ECONOMY.runs += 1
    finally:
        EconomyMachine.counting = False
        ECONOMY.seconds += time.perf_counter() - started
    assert ECONOMY.steps - steps_before >= min_steps


def test_the_model_and_storage_agree_on_a_hand_written_story() -> None:
    """A readable example of what the machine checks, in case the random search ever gets lost."""
    machine = EconomyMachine()
    try:
        machine.books_agree_with_the_ledger_and_the_model()
        machine.grant_one(ALICE, 1_000)
        machine.buy(ALICE, 222, here=True, back=0)  # 388 paid coins
        machine.send_one(ALICE, CAROL, "Confetti", 12, 50, 14)  # 1,000 promo first, then 200 paid
        machine.books_agree_with_the_ledger_and_the_model()
        assert machine.model.wallets[CAROL].paid_diamonds == 100
        machine.request_one(CAROL, 100, 1)  # still held: refused
        machine.model.advance(15 * 86_400)
        machine.request_one(CAROL, 100, 1)
        machine.decide_one(0, CAROL, approve=True)  # her own: refused
        machine.decide_one(0, MOD, approve=True)
        (bought,) = machine.model.purchases.values()
        machine.refund_one(bought.entitlement_id, ALICE, 222, bought.purchased_ms)  # 188 back; 200 were spent
        machine.run(forget(machine.store, guild_id=GUILD, user_id=ALICE, at=machine.model.now))
        machine.model.forget(ALICE, -1)
        machine.books_agree_with_the_ledger_and_the_model()
        assert machine.model.cashed_out == 100 and machine.model.wallets[-1].paid == 0
    finally:
        machine.teardown()
