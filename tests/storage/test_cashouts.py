"""Cash-outs in storage: what a request reserves, how a decision is recorded once, what the audit
queue and the creator's notice receive, and the ledger pages and CSV exports."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.economy.cashouts import (
    AlreadyDecided,
    BelowMinimum,
    CashoutStatus,
    NotCashable,
    SelfApproval,
    UnknownCashout,
)
from bot.economy.models import EntryKind
from storage.cashout_ops import NOTICE_KIND
from tests.cashout_helpers import (
    account_balances,
    account_sums,
    buy_coins,
    member_sums,
    read_csv,
    unquote,
)
from tests.storage.books import (
    ALICE,
    BOB,
    CAROL,
    GUILD,
    MOD,
    NOW,
    assert_books_balance,
    grant,
    legs,
    rows,
    send,
    with_creators,
)

AUDIT_CHANNEL = 555_555_555_555_555_555
WINDOW = timedelta(days=14)
LATER = NOW + WINDOW + timedelta(days=1)  # every hold made at NOW has matured


async def paid_diamonds(store, creator: int = CAROL, coins: int = 4_000, *, key: str = "paid") -> None:
    """Alice buys `coins` and gifts them all to the creator: coins × 50% paid diamonds, held."""
    await with_creators(store)
    await buy_coins(store, guild_id=GUILD, user_id=ALICE, coins=coins, key=f"buy:{key}", at=NOW)
    await send(store, ALICE, creator, "Rose", coins, key=f"gift:{key}")


async def request(store, amount: int, *, key: str, creator: int = CAROL, minimum: int = 1_000, at=LATER):
    return await store.request_cashout(
        guild_id=GUILD, creator_id=creator, amount=amount, minimum=minimum, key=key, at=at
    )


async def with_audit_channel(store) -> None:
    await store.set_guild_setting(
        guild_id=GUILD, key="audit_channel", value=str(AUDIT_CHANNEL), actor_id=MOD, at=NOW
    )


async def outbox(store, kind: str) -> list[tuple]:
    return await rows(
        store, "SELECT dedupe_key, user_id, payload FROM outbox WHERE kind = ? ORDER BY id", (kind,)
    )


async def test_a_request_moves_cashable_diamonds_to_pending_at_once(store):
    await paid_diamonds(store)
    await with_audit_channel(store)

    receipt = await request(store, 1_500, key="r1")

    cashout = receipt.cashout
    assert (cashout.status, cashout.amount, cashout.creator_id, receipt.replayed) == (
        CashoutStatus.PENDING,
        1_500,
        CAROL,
        False,
    )
    wallet = receipt.balances
    assert (wallet.paid_diamonds, wallet.pending_diamonds, wallet.cashable_diamonds) == (500, 1_500, 500)
    assert await legs(store, cashout.request_entry_id) == [
        ("r1#diamonds", f"{CAROL}:diamonds_paid", f"{CAROL}:diamonds_pending", "diamond", 1_500)
    ]
    audits = await outbox(store, "audit")
    assert [key for key, _, _ in audits][-1] == f"audit:cashout:{cashout.id}:request"
    await assert_books_balance(store)


async def test_promo_diamonds_are_never_cashable(store):
    await with_creators(store)
    await grant(store, ALICE, 5_000)
    await send(store, ALICE, CAROL, "Rose", 5_000, key="promo-gift")

    with pytest.raises(NotCashable) as refused:
        await request(store, 1_000, key="r1")

    wallet = refused.value.balances
    assert (wallet.diamonds, wallet.promo_diamonds, wallet.paid_diamonds, wallet.cashable_diamonds) == (
        2_500,
        2_500,
        0,
        0,
    )
    assert await rows(store, "SELECT COUNT(*) FROM cashouts") == [(0,)]


async def test_paid_diamonds_wait_out_the_refund_window(store):
    await paid_diamonds(store)

    with pytest.raises(NotCashable) as early:
        await request(store, 1_000, key="early", at=NOW + WINDOW - timedelta(hours=1))
    assert (early.value.balances.held_diamonds, early.value.balances.cashable_diamonds) == (2_000, 0)

    receipt = await request(store, 2_000, key="late", at=LATER)
    assert receipt.balances.pending_diamonds == 2_000


async def test_below_the_minimum_is_refused(store):
    await paid_diamonds(store)
    with pytest.raises(BelowMinimum):
        await request(store, 999, key="small")


async def test_a_replayed_request_reserves_nothing_more(store):
    await paid_diamonds(store)
    first = await request(store, 1_000, key="same")
    again = await request(store, 1_000, key="same")
    assert again.replayed and again.cashout == first.cashout
    assert again.balances.pending_diamonds == 1_000


async def test_concurrent_requests_never_reserve_the_same_diamonds_twice(store):
    await paid_diamonds(store, coins=5_000)  # 2,500 paid diamonds

    results = await asyncio.gather(
        *(request(store, 1_000, key=f"race:{n}") for n in range(6)), return_exceptions=True
    )

    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(made) == 2 and all(isinstance(r, NotCashable) for r in refused)
    wallet = await store.balances(guild_id=GUILD, user_id=CAROL, at=LATER)
    assert (wallet.paid_diamonds, wallet.pending_diamonds) == (500, 2_000)
    await assert_books_balance(store)


async def test_approval_pays_out_once_and_tells_the_creator(store):
    await paid_diamonds(store)
    await with_audit_channel(store)
    cashout = (await request(store, 2_000, key="r1")).cashout

    approved = await store.approve_cashout(
        guild_id=GUILD, cashout_id=cashout.id, moderator_id=MOD, reference="PayPal 42", at=LATER
    )

    assert (approved.status, approved.decided_by, approved.reference) == (
        CashoutStatus.APPROVED,
        MOD,
        "PayPal 42",
    )
    assert await legs(store, approved.decision_entry_id) == [
        (f"cashout:{cashout.id}:approve#diamonds", f"{CAROL}:diamonds_pending", "0:cashout", "diamond", 2_000)
    ]
    wallet = await store.balances(guild_id=GUILD, user_id=CAROL, at=LATER)
    assert (wallet.diamonds, wallet.pending_diamonds) == (0, 0)
    assert [(key, user) for key, user, _ in await outbox(store, NOTICE_KIND)] == [
        (f"cashout-notice:{cashout.id}", CAROL)
    ]
    assert f"audit:cashout:{cashout.id}:decision" in [key for key, _, _ in await outbox(store, "audit")]

    for decide in (store.approve_cashout, store.reject_cashout):
        text = {"reference": "again"} if decide == store.approve_cashout else {"reason": "again"}
        with pytest.raises(AlreadyDecided) as twice:
            await decide(guild_id=GUILD, cashout_id=cashout.id, moderator_id=BOB, at=LATER, **text)
        assert twice.value.cashout.decided_by == MOD
    assert len(await outbox(store, NOTICE_KIND)) == 1
    await assert_books_balance(store)


async def test_a_creator_cannot_approve_their_own_cash_out(store):
    await paid_diamonds(store, creator=CAROL)
    cashout = (await request(store, 1_000, key="r1")).cashout
    with pytest.raises(SelfApproval):
        await store.approve_cashout(
            guild_id=GUILD, cashout_id=cashout.id, moderator_id=CAROL, reference="me", at=LATER
        )
    assert (await store.cashout(guild_id=GUILD, cashout_id=cashout.id)).status is CashoutStatus.PENDING


async def test_rejection_returns_the_diamonds_as_cashable(store):
    await paid_diamonds(store)
    cashout = (await request(store, 2_000, key="r1")).cashout

    rejected = await store.reject_cashout(
        guild_id=GUILD, cashout_id=cashout.id, moderator_id=MOD, reason="wrong account", at=LATER
    )

    assert (rejected.status, rejected.reason) == (CashoutStatus.REJECTED, "wrong account")
    wallet = await store.balances(guild_id=GUILD, user_id=CAROL, at=LATER)
    assert (wallet.cashable_diamonds, wallet.pending_diamonds) == (2_000, 0)


async def test_two_moderators_deciding_at_once_record_one_decision(store):
    await paid_diamonds(store)
    cashout = (await request(store, 2_000, key="r1")).cashout

    results = await asyncio.gather(
        store.approve_cashout(
            guild_id=GUILD, cashout_id=cashout.id, moderator_id=MOD, reference="x", at=LATER
        ),
        store.reject_cashout(guild_id=GUILD, cashout_id=cashout.id, moderator_id=BOB, reason="y", at=LATER),
        return_exceptions=True,
    )

    assert sum(isinstance(r, AlreadyDecided) for r in results) == 1
    decisions = await rows(
        store,
        "SELECT COUNT(*) FROM entries WHERE kind IN (?, ?)",
        (EntryKind.CASHOUT_APPROVE, EntryKind.CASHOUT_REJECT),
    )
    assert decisions == [(1,)]
    await assert_books_balance(store)


async def test_a_frozen_request_can_still_be_decided(store):
    await paid_diamonds(store)
    await with_audit_channel(store)
    cashout = (await request(store, 1_000, key="r1")).cashout

    assert await store.freeze_cashout(guild_id=GUILD, cashout_id=cashout.id, actor_id=MOD, at=LATER)
    assert not await store.freeze_cashout(guild_id=GUILD, cashout_id=cashout.id, actor_id=MOD, at=LATER)
    listed = await store.open_cashouts(guild_id=GUILD)
    assert [(c.id, c.status) for c in listed.items] == [(cashout.id, CashoutStatus.FROZEN)]

    approved = await store.approve_cashout(
        guild_id=GUILD, cashout_id=cashout.id, moderator_id=MOD, reference="paid", at=LATER
    )
    assert approved.status is CashoutStatus.APPROVED
    assert (await store.open_cashouts(guild_id=GUILD)).items == []
    keys = [key for key, _, _ in await outbox(store, "audit")]
    assert f"audit:cashout:{cashout.id}:freeze" in keys and f"audit:cashout:{cashout.id}:decision" in keys


async def test_deciding_another_guilds_request_is_refused(store):
    await paid_diamonds(store)
    cashout = (await request(store, 1_000, key="r1")).cashout
    with pytest.raises(UnknownCashout):
        await store.approve_cashout(
            guild_id=GUILD + 1, cashout_id=cashout.id, moderator_id=MOD, reference="x", at=LATER
        )


async def test_the_next_hold_maturity_is_the_earliest_unmatured_day(store):
    await paid_diamonds(store)
    matures = await store.next_hold_maturity(guild_id=GUILD, user_id=CAROL, at=NOW)
    assert matures is not None and NOW + WINDOW <= matures < NOW + WINDOW + timedelta(days=1)
    assert await store.next_hold_maturity(guild_id=GUILD, user_id=CAROL, at=LATER) is None


# -- the ledger for the audit trail --------------------------------------------------------------


async def busy_ledger(store) -> None:
    await paid_diamonds(store)
    await grant(store, BOB, 300, key="bob-grant")
    await send(store, BOB, CAROL, "Rose", 10, key="bob-gift")
    cashout = (await request(store, 1_500, key="r1")).cashout
    await store.approve_cashout(
        guild_id=GUILD, cashout_id=cashout.id, moderator_id=MOD, reference="=HYPERLINK(1)", at=LATER
    )
    await request(store, 500, key="r2", minimum=100)


async def test_ledger_pages_are_newest_first_and_filter_by_member(store):
    await busy_ledger(store)

    everything = await store.ledger_page(guild_id=GUILD, limit=3)
    bobs = await store.ledger_page(guild_id=GUILD, member_id=BOB, limit=10)

    ids = [e.id for e in everything.items]
    assert ids == sorted(ids, reverse=True) and everything.total == 7
    assert [e.kind for e in bobs.items] == [EntryKind.GIFT, EntryKind.GRANT]
    assert bobs.items[0].delta(BOB).coins == -10 and bobs.items[0].delta(CAROL).diamonds == 5


async def test_a_servers_entries_are_counted_only_so_far_past_the_page(store, monkeypatch):
    """A count of every entry grows with the server; the page only needs to know there are more."""
    from storage import ledger_reads

    monkeypatch.setattr(ledger_reads, "COUNT_AHEAD", 4)
    await busy_ledger(store)  # 7 entries

    first = await store.ledger_page(guild_id=GUILD, limit=2)
    later = await store.ledger_page(guild_id=GUILD, offset=2, limit=2)
    last = await store.ledger_page(guild_id=GUILD, offset=6, limit=2)
    bobs = await store.ledger_page(guild_id=GUILD, member_id=BOB, limit=1)

    assert (first.total, first.more, first.page_count) == (4, True, 2)
    assert (later.total, later.more, later.page_count) == (6, True, 3)  # the count moves on
    assert (last.total, last.more, last.page_count) == (7, False, 4)  # and ends exact
    assert [len(page.items) for page in (first, later, last)] == [2, 2, 1]
    assert (bobs.total, bobs.more) == (2, False)  # a member's entries are counted exactly


async def test_a_member_export_sums_to_their_balances(store):
    await busy_ledger(store)

    for member in (ALICE, BOB, CAROL):
        export = await store.export_member_ledger(guild_id=GUILD, user_id=member)
        wallet = await store.balances(guild_id=GUILD, user_id=member, at=LATER)
        assert not export.cut
        assert member_sums(read_csv(export.data)) == (wallet.coins, wallet.diamonds, wallet.pending_diamonds)

    carol = read_csv((await store.export_member_ledger(guild_id=GUILD, user_id=CAROL)).data)
    assert [r["kind"] for r in carol] == [
        "cashout_request",
        "cashout_approve",
        "cashout_request",
        "gift",
        "gift",
    ]
    approved = carol[1]
    assert approved["reason"] == "'=HYPERLINK(1)" and unquote(approved["reason"]) == "=HYPERLINK(1)"
    assert approved["time_utc"].endswith("Z") and approved["pending_diamonds"] == "-1500"


async def test_a_guild_export_rebuilds_every_account_balance(store):
    await busy_ledger(store)

    export = await store.export_guild_ledger(guild_id=GUILD)

    sums = account_sums(read_csv(export.data))
    balances = await account_balances(store, GUILD)
    assert all(sums.get(account, 0) == balance for account, balance in balances.items())
    assert all(balances[account] == total for account, total in sums.items())
    assert sums[(CAROL, "diamonds_pending")] == 500 and sums[(0, "cashout")] == 1_500


async def test_a_filtered_guild_export_holds_every_leg_of_the_members_entries(store):
    await busy_ledger(store)
    export = await store.export_guild_ledger(guild_id=GUILD, member_id=BOB)
    found = read_csv(export.data)
    assert {r["kind"] for r in found} == {"grant", "gift"}
    assert {r["entry_id"] for r in found} == {
        str(e.id) for e in (await store.ledger_page(guild_id=GUILD, member_id=BOB)).items
    }


@pytest.mark.parametrize("caps", [{}, {"max_rows": 5}, {"max_rows": 9}, {"max_bytes": 700}])
async def test_a_guild_export_read_in_chunks_is_the_export_read_at_once(store, monkeypatch, caps):
    """A whole server's ledger is read a few entries a hop (writes go on between hops), and
    comes out byte for byte as one read would give it, cuts included."""
    from storage import ledger_reads

    await busy_ledger(store)
    at_once = await store.export_guild_ledger(guild_id=GUILD, **caps)
    monkeypatch.setattr(ledger_reads, "EXPORT_CHUNK", 2)

    in_chunks = await store.export_guild_ledger(guild_id=GUILD, **caps)

    assert in_chunks == at_once
    assert len(read_csv(at_once.data)) == at_once.rows and at_once.rows >= 5


async def test_a_gift_committed_during_a_chunked_export_is_left_out_of_it(store, monkeypatch):
    """The export is the ledger as its first hop saw it: newer entries are never half in it."""
    from bot.economy.exports import GUILD_HEADER, CsvBuilder
    from storage import ledger_reads

    await busy_ledger(store)
    before = await store.export_guild_ledger(guild_id=GUILD)
    monkeypatch.setattr(ledger_reads, "EXPORT_CHUNK", 2)
    builder = CsvBuilder(GUILD_HEADER)
    below = await store.db.read(lambda conn: ledger_reads.export_chunk(conn, GUILD, None, builder))
    late = await send(store, BOB, CAROL, "Rose", 3, key="during-the-export", when=LATER)
    while below is not None:
        below = await store.db.read(lambda conn, b=below: ledger_reads.export_chunk(conn, GUILD, b, builder))

    assert builder.export() == before
    assert str(late.entry_id) not in {row["entry_id"] for row in read_csv(builder.export().data)}


async def test_an_export_stops_at_its_caps_and_says_so(store):
    await busy_ledger(store)
    by_rows = await store.export_guild_ledger(guild_id=GUILD, max_rows=3)
    assert (by_rows.rows, by_rows.cut, len(read_csv(by_rows.data))) == (3, True, 3)
    by_bytes = await store.export_member_ledger(guild_id=GUILD, user_id=CAROL, max_bytes=200)
    assert by_bytes.cut and len(by_bytes.data) <= 200 and len(read_csv(by_bytes.data)) == by_bytes.rows
