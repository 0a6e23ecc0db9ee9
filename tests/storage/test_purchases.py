"""Purchases in storage: which guild is credited, once per entitlement, the inbox and claims,
promotions by purchase time, refunds that claw back as far as they can, and audit rows."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from bot.economy.clock import to_millis
from bot.economy.models import Currency
from bot.economy.packages import CoinPackage
from bot.economy.purchases import (
    DISCORD_EPOCH_MS,
    EntitlementFacts,
    NothingToClaim,
    NotSoldHere,
    PackageConflict,
    PromotionOver,
    PurchaseStatus,
    SkuInUse,
    UnknownPackage,
    snowflake_time,
)
from storage import Storage, ledger

from .books import (
    ALICE,
    CAROL,
    DAVE,
    GUILD,
    MOD,
    NOW,
    assert_books_balance,
    at,
    grant,
    ledger_size,
    legs,
    rows,
    send,
    system_balances,
    with_creators,
)

OTHER = 2_000
SKU_SMALL, SKU_BIG = 900_001, 900_002
_ids = iter(range(1, 10_000))


def entitlement(user_id: int = ALICE, sku_id: int = SKU_SMALL, when: datetime = NOW) -> EntitlementFacts:
    """An entitlement whose id dates it at `when` (plus a counter, so ids never repeat)."""
    snowflake = ((to_millis(when) - DISCORD_EPOCH_MS) << 22) + next(_ids)
    return EntitlementFacts(id=snowflake, user_id=user_id, sku_id=sku_id)


async def package(store: Storage, guild_id: int, coins: int, bonus: int) -> CoinPackage:
    found = [p for p in await store.packages(guild_id=guild_id) if (p.coins, p.bonus) == (coins, bonus)]
    assert found, (coins, bonus)
    return found[0]


async def sell(store: Storage, guild_id: int, coins: int, bonus: int, sku_id: int) -> CoinPackage:
    """Map a default package to an SKU in that guild."""
    await store.ensure_guild(guild_id=guild_id, at=NOW)
    chosen = await package(store, guild_id, coins, bonus)
    _, after = await store.map_package(
        guild_id=guild_id,
        package_id=chosen.id,
        sku_id=sku_id,
        actor_id=MOD,
        key=f"map:{guild_id}:{sku_id}",
        at=NOW,
    )
    return after


async def coins(store: Storage, user_id: int, guild_id: int = GUILD) -> tuple[int, int]:
    """(promo, paid) coins."""
    held = await store.balances(guild_id=guild_id, user_id=user_id)
    return held.promo_coins, held.paid_coins


async def entries(store: Storage, guild_id: int = GUILD) -> list[tuple[str, str]]:
    return [
        (str(k), str(key))
        for k, key in await rows(
            store, "SELECT kind, idempotency_key FROM entries WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
    ]


async def audits(store: Storage) -> list[dict[str, object]]:
    found = await rows(store, "SELECT payload FROM outbox WHERE kind = 'audit' ORDER BY id")
    return [json.loads(payload) for (payload,) in found]


async def with_audit_channel(store: Storage, guild_id: int = GUILD) -> None:
    await store.set_guild_setting(guild_id=guild_id, key="audit_channel", value="555", actor_id=MOD, at=NOW)


def test_an_entitlement_id_dates_its_purchase():
    facts = entitlement(when=NOW)
    assert snowflake_time(facts.id) == facts.purchased_at
    assert abs((facts.purchased_at - NOW).total_seconds()) < 1


# -- which guild ------------------------------------------------------------------------------


async def test_a_purchase_goes_to_the_guild_of_the_latest_intent(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    await sell(store, OTHER, 350, 38, SKU_SMALL)
    await store.record_intents(user_id=ALICE, guild_id=GUILD, sku_ids=[SKU_SMALL], at=NOW)
    await store.record_intents(user_id=ALICE, guild_id=OTHER, sku_ids=[SKU_SMALL], at=at(60))

    credit = await store.credit_purchase(facts=entitlement(), guild_id=None, at=at(120))

    assert credit.fresh and credit.purchase.guild_id == OTHER and credit.balance == 388
    assert await coins(store, ALICE, OTHER) == (0, 388)
    assert await coins(store, ALICE, GUILD) == (0, 0)
    entry = credit.purchase.entry_id
    assert entry is not None
    assert await legs(store, entry) == [
        (f"entitlement:{credit.purchase.entitlement_id}#coins", "0:store", f"{ALICE}:coins_paid", "coin", 388)
    ]
    assert (await system_balances(store, OTHER))["store"] == -388
    await assert_books_balance(store)


async def test_the_interaction_guild_wins_over_the_intent(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    await sell(store, OTHER, 70, 0, SKU_SMALL)
    await store.record_intents(user_id=ALICE, guild_id=OTHER, sku_ids=[SKU_SMALL], at=NOW)

    credit = await store.credit_purchase(facts=entitlement(), guild_id=GUILD, at=NOW)

    assert credit.purchase.guild_id == GUILD
    assert await coins(store, ALICE, GUILD) == (0, 70)
    assert await coins(store, ALICE, OTHER) == (0, 0)


async def test_an_interaction_in_a_guild_that_does_not_sell_the_sku_falls_back_to_the_intent(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    await sell(store, OTHER, 70, 0, SKU_SMALL)
    await store.record_intents(user_id=ALICE, guild_id=OTHER, sku_ids=[SKU_SMALL], at=NOW)

    credit = await store.credit_purchase(facts=entitlement(), guild_id=GUILD, at=NOW)

    assert credit.purchase.guild_id == OTHER


async def test_without_intent_the_coins_wait_in_the_inbox_and_move_nothing(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    before = await ledger_size(store)

    credit = await store.credit_purchase(facts=entitlement(), guild_id=None, at=NOW)

    assert credit.fresh and credit.in_inbox and credit.balance is None
    assert credit.purchase.status is PurchaseStatus.INBOX and credit.purchase.guild_id is None
    assert await ledger_size(store) == before
    assert [p.entitlement_id for p in await store.inbox(user_id=ALICE)] == [credit.purchase.entitlement_id]


async def test_an_intent_guild_that_stopped_selling_the_sku_sends_the_coins_to_the_inbox(store):
    sold = await sell(store, GUILD, 70, 0, SKU_SMALL)
    await store.record_intents(user_id=ALICE, guild_id=GUILD, sku_ids=[SKU_SMALL], at=NOW)
    await store.map_package(
        guild_id=GUILD, package_id=sold.id, sku_id=None, actor_id=MOD, key="unmap", at=NOW
    )

    credit = await store.credit_purchase(facts=entitlement(), guild_id=None, at=NOW)

    assert credit.in_inbox


# -- once -----------------------------------------------------------------------------------


async def test_the_same_entitlement_twice_credits_once(store):
    await sell(store, GUILD, 700, 100, SKU_SMALL)
    facts = entitlement()

    first = await store.credit_purchase(facts=facts, guild_id=GUILD, at=NOW)
    again = await store.credit_purchase(facts=facts, guild_id=GUILD, at=at(5))
    elsewhere = await store.credit_purchase(facts=facts, guild_id=OTHER, at=at(6))

    assert first.fresh and not again.fresh and not elsewhere.fresh
    assert again.purchase == first.purchase and again.balance == 800
    assert await coins(store, ALICE) == (0, 800)
    assert await entries(store) == [("purchase", f"entitlement:{facts.id}")]
    await assert_books_balance(store)


async def test_concurrent_deliveries_credit_once(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    facts = entitlement()
    results = await asyncio.gather(
        *(store.credit_purchase(facts=facts, guild_id=GUILD, at=NOW) for _ in range(10))
    )
    assert sum(r.fresh for r in results) == 1
    assert await coins(store, ALICE) == (0, 70)


async def test_consumption_is_recorded_and_unconsumed_purchases_are_listed(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    one, two = entitlement(), entitlement()
    await store.credit_purchase(facts=one, guild_id=GUILD, at=NOW)
    await store.credit_purchase(facts=two, guild_id=None, at=NOW)  # inbox
    assert {p.entitlement_id for p in await store.unconsumed_purchases()} == {one.id, two.id}

    await store.mark_consumed(entitlement_id=one.id, at=at(1))
    await store.mark_consumed(entitlement_id=one.id, at=at(2))

    assert [p.entitlement_id for p in await store.unconsumed_purchases()] == [two.id]
    found = await store.purchase(entitlement_id=one.id)
    assert found is not None and found.consumed_at == at(1)


# -- the inbox ------------------------------------------------------------------------------


async def test_claiming_credits_the_inbox_into_a_guild_that_sells_it_under_the_same_key(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    await store.ensure_guild(guild_id=OTHER, at=NOW)
    facts = entitlement()
    await store.credit_purchase(facts=facts, guild_id=None, at=NOW)
    before = await ledger_size(store)

    with pytest.raises(NotSoldHere):
        await store.claim_purchases(user_id=ALICE, guild_id=OTHER, entitlement_id=None, at=NOW)
    assert await ledger_size(store) == before

    credits, left = await store.claim_purchases(user_id=ALICE, guild_id=GUILD, entitlement_id=None, at=at(10))

    assert left == [] and [c.purchase.status for c in credits] == [PurchaseStatus.CREDITED]
    assert credits[0].balance == 388 and credits[0].purchase.credited_at == at(10)
    assert await entries(store) == [("purchase", f"entitlement:{facts.id}")]
    assert await store.inbox(user_id=ALICE) == []
    with pytest.raises(NothingToClaim):
        await store.claim_purchases(user_id=ALICE, guild_id=GUILD, entitlement_id=None, at=at(11))
    again = await store.credit_purchase(facts=facts, guild_id=GUILD, at=at(12))
    assert not again.fresh and await coins(store, ALICE) == (0, 388)
    await assert_books_balance(store)


async def test_claiming_all_leaves_what_this_guild_does_not_sell(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    small, big = entitlement(sku_id=SKU_SMALL), entitlement(sku_id=SKU_BIG)
    for facts in (small, big):
        await store.credit_purchase(facts=facts, guild_id=None, at=NOW)

    credits, left = await store.claim_purchases(user_id=ALICE, guild_id=GUILD, entitlement_id=None, at=NOW)

    assert [c.purchase.entitlement_id for c in credits] == [small.id]
    assert [p.entitlement_id for p in left] == [big.id]
    assert [p.entitlement_id for p in await store.inbox(user_id=ALICE)] == [big.id]


async def test_nobody_claims_someone_elses_purchase(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    facts = entitlement(user_id=ALICE)
    await store.credit_purchase(facts=facts, guild_id=None, at=NOW)
    with pytest.raises(NothingToClaim):
        await store.claim_purchases(user_id=DAVE, guild_id=GUILD, entitlement_id=facts.id, at=NOW)


# -- promotions -----------------------------------------------------------------------------


async def promote(store: Storage, percent: int, start: datetime, end: datetime, key: str = "promo") -> int:
    promotion, created = await store.create_promotion(
        guild_id=GUILD, percent=percent, starts=start, ends=end, actor_id=MOD, key=key, at=NOW
    )
    assert created
    return promotion.id


async def test_a_promotion_adds_promo_coins_in_their_own_entry_only_inside_its_window(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    start, end = NOW + timedelta(hours=1), NOW + timedelta(hours=3)
    promotion_id = await promote(store, 20, start, end)
    before, during, after = (entitlement(when=t) for t in (start - timedelta(seconds=1), start, end))

    for facts in (before, during, after):
        await store.credit_purchase(facts=facts, guild_id=GUILD, at=end + timedelta(days=1))

    assert await coins(store, ALICE) == (388 * 20 // 100, 3 * 388)
    bought = await store.purchase(entitlement_id=during.id)
    assert bought is not None and bought.bonus_coins == 77 and bought.promotion_id == promotion_id
    assert bought.bonus_entry_id is not None
    assert await legs(store, bought.bonus_entry_id) == [
        (f"entitlement:{during.id}:bonus#coins", "0:promo_issuer", f"{ALICE}:coins_promo", "coin", 77)
    ]
    assert ("purchase_bonus", f"entitlement:{during.id}:bonus") in await entries(store)
    for facts in (before, after):
        outside = await store.purchase(entitlement_id=facts.id)
        assert outside is not None and outside.bonus_coins == 0 and outside.bonus_entry_id is None
    await assert_books_balance(store)


async def test_the_best_running_promotion_applies_and_promotions_never_stack(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    await promote(store, 10, NOW, NOW + timedelta(days=1), key="a")
    await promote(store, 50, NOW, NOW + timedelta(days=1), key="b")
    credit = await store.credit_purchase(facts=entitlement(when=at(60)), guild_id=GUILD, at=at(60))
    assert (
        credit.purchase.bonus_coins == 35 and credit.promotion is not None and credit.promotion.percent == 50
    )


async def test_a_cancelled_promotion_still_counts_for_purchases_made_before_the_cancel(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    promotion_id = await promote(store, 100, NOW, NOW + timedelta(days=1))
    early = entitlement(when=at(60))
    late = entitlement(when=at(7200))
    await store.cancel_promotion(
        guild_id=GUILD, promotion_id=promotion_id, actor_id=MOD, key="cancel", at=at(3600)
    )

    with pytest.raises(PromotionOver):
        await store.cancel_promotion(
            guild_id=GUILD, promotion_id=promotion_id, actor_id=MOD, key="again", at=at(3601)
        )
    first = await store.credit_purchase(facts=early, guild_id=GUILD, at=at(9000))
    second = await store.credit_purchase(facts=late, guild_id=GUILD, at=at(9000))

    assert first.purchase.bonus_coins == 70 and second.purchase.bonus_coins == 0


async def test_a_redelivered_promo_create_makes_one_promotion(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    first, created = await store.create_promotion(
        guild_id=GUILD, percent=20, starts=NOW, ends=at(60), actor_id=MOD, key="k", at=NOW
    )
    again, created_again = await store.create_promotion(
        guild_id=GUILD, percent=20, starts=NOW, ends=at(60), actor_id=MOD, key="k", at=NOW
    )
    assert created and not created_again and again == first
    assert len(await store.promotions(guild_id=GUILD)) == 1


# -- refunds --------------------------------------------------------------------------------


async def buy(
    store: Storage, coins_: int = 350, bonus: int = 38, *, when: datetime = NOW
) -> EntitlementFacts:
    facts = entitlement(when=when)
    await store.credit_purchase(facts=facts, guild_id=GUILD, at=when)
    return facts


async def test_a_refund_of_unspent_coins_takes_them_all_back(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    facts = await buy(store)

    refund = await store.refund_purchase(facts=facts, at=at(60))

    assert refund.fresh and refund.coins_recovered == 388 and refund.coins_unrecovered == 0
    assert refund.purchase.status is PurchaseStatus.REFUNDED and refund.entry_id is not None
    assert await coins(store, ALICE) == (0, 0)
    assert await legs(store, refund.entry_id) == [
        (f"refund:{facts.id}#coins", f"{ALICE}:coins_paid", "0:store", "coin", 388)
    ]
    assert (await system_balances(store))["store"] == 0
    await assert_books_balance(store)


async def test_a_refund_after_part_was_spent_claws_back_the_diamonds_and_never_goes_negative(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    await with_creators(store)
    await with_audit_channel(store)
    await grant(store, ALICE, 5)  # promo coins are spent first
    facts = await buy(store)
    # 5 promo + 295 paid coins to Carol (147 paid diamonds, floor(295 × 50%)); 40 paid to Dave.
    rose = await send(store, ALICE, CAROL, "Rose", 300, key="g1", when=at(10))
    await send(store, ALICE, DAVE, "Rose", 40, key="g2", when=at(20))
    assert (rose.paid_coins, rose.paid_diamonds) == (295, 147)
    assert await coins(store, ALICE) == (0, 388 - 335)

    refund = await store.refund_purchase(facts=facts, at=at(60))

    assert refund.coins_recovered == 53 and refund.coins_unrecovered == 335
    # Newest gift first: Dave's 40 paid coins (20 diamonds), then 295 of Carol's (147 diamonds).
    assert refund.diamonds_recovered == 20 + 147 and refund.diamonds_unrecovered == 0
    assert await coins(store, ALICE) == (0, 0)
    carol = await store.balances(guild_id=GUILD, user_id=CAROL, at=at(60))
    assert (carol.paid_diamonds, carol.held_diamonds, carol.promo_diamonds) == (0, 0, 3)
    dave = await store.balances(guild_id=GUILD, user_id=DAVE, at=at(60))
    assert (dave.paid_diamonds, dave.held_diamonds) == (0, 0)
    assert refund.entry_id is not None
    assert sorted(await legs(store, refund.entry_id)) == sorted(
        [
            (f"refund:{facts.id}#coins", f"{ALICE}:coins_paid", "0:store", "coin", 53),
            (
                f"refund:{facts.id}#diamonds:1",  # creators in id order: Carol, then Dave
                f"{CAROL}:diamonds_paid",
                "0:diamond_issuer",
                "diamond",
                147,
            ),
            (
                f"refund:{facts.id}#diamonds:2",
                f"{DAVE}:diamonds_paid",
                "0:diamond_issuer",
                "diamond",
                20,
            ),
        ]
    )
    found = await store.purchase(entitlement_id=facts.id)
    assert found is not None and found.unrecovered == 335 and found.refund_entry_id == refund.entry_id
    audit = [a for a in await audits(store) if a["event"] == "refund"]
    assert len(audit) == 1 and audit[0]["entry_id"] == refund.entry_id
    assert audit[0]["details"]["coins_unrecovered"] == 335  # type: ignore[index]
    assert audit[0]["details"]["diamonds_recovered"] == 167  # type: ignore[index]
    await assert_books_balance(store)

    again = await store.refund_purchase(facts=facts, at=at(90))
    assert not again.fresh and await coins(store, ALICE) == (0, 0)
    assert len([a for a in await audits(store) if a["event"] == "refund"]) == 1


async def test_a_refund_takes_what_diamonds_are_left_and_never_touches_pending_ones(store):
    await sell(store, GUILD, 700, 100, SKU_SMALL)
    await with_creators(store)
    facts = await buy(store, 700, 100)
    await send(store, ALICE, CAROL, "Rose", 800, key="g", when=at(10))  # 400 paid diamonds
    await park_pending(store, CAROL, 300)  # as a cash-out request would

    refund = await store.refund_purchase(facts=facts, at=at(60))

    assert refund.coins_recovered == 0 and refund.coins_unrecovered == 800
    assert (refund.diamonds_recovered, refund.diamonds_unrecovered) == (100, 300)
    carol = await store.balances(guild_id=GUILD, user_id=CAROL, at=at(60))
    assert (carol.paid_diamonds, carol.pending_diamonds) == (0, 300)
    await assert_books_balance(store)


async def test_a_refund_with_nothing_left_to_take_writes_no_empty_entry(store):
    await sell(store, GUILD, 700, 100, SKU_SMALL)
    await with_creators(store)
    facts = await buy(store, 700, 100)
    await send(store, ALICE, CAROL, "Rose", 800, key="g", when=at(10))  # 400 paid diamonds
    await park_pending(store, CAROL, 400)  # all of them promised to a cash-out

    refund = await store.refund_purchase(facts=facts, at=at(60))

    assert (refund.coins_recovered, refund.coins_unrecovered) == (0, 800)
    assert (refund.diamonds_recovered, refund.diamonds_unrecovered) == (0, 400)
    assert refund.entry_id is None
    empty = await store.db.read(
        lambda conn: conn.execute(
            "SELECT COUNT(*) FROM entries e "
            "WHERE NOT EXISTS (SELECT 1 FROM transfers t WHERE t.entry_id = e.id)"
        ).fetchone()[0]
    )
    assert empty == 0  # `giftbot check` requires every entry to move something
    again = await store.refund_purchase(facts=facts, at=at(70))
    assert not again.fresh
    await assert_books_balance(store)


async def park_pending(store: Storage, creator: int, amount: int) -> None:
    def move(conn):  # type: ignore[no-untyped-def]
        paid = ledger.member_account(conn, GUILD, creator, "diamonds_paid", to_millis(NOW))
        pending = ledger.member_account(conn, GUILD, creator, "diamonds_pending", to_millis(NOW))
        ledger.post_entry(
            conn,
            guild_id=GUILD,
            key=f"park:{creator}",
            kind="cashout_request",
            actor_id=creator,
            reason=None,
            at_ms=to_millis(NOW),
            legs=[ledger.Leg("diamonds", paid, pending, amount, Currency.DIAMOND)],
        )

    await store.db.write(move)


async def test_two_refunds_never_claw_back_the_same_gift_twice(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    await with_creators(store)
    first, second = await buy(store, 70, 0), await buy(store, 70, 0)
    await send(store, ALICE, CAROL, "Rose", 100, key="g", when=at(10))  # 100 paid coins, 50 diamonds
    await send(store, ALICE, DAVE, "Rose", 40, key="h", when=at(20))  # 40 paid coins, 20 diamonds

    one = await store.refund_purchase(facts=first, at=at(60))
    two = await store.refund_purchase(facts=second, at=at(61))

    # 140 coins spent of 140 bought: 70 each, newest gift first, and no gift counted twice.
    assert (one.coins_recovered, one.diamonds_recovered) == (0, 20 + 15)
    assert (two.coins_recovered, two.diamonds_recovered) == (0, 35)
    clawed = await rows(
        store, "SELECT gift_entry_id, SUM(coins) FROM refund_clawbacks GROUP BY gift_entry_id"
    )
    assert sorted(total for _, total in clawed) == [40, 100]
    assert (await store.balances(guild_id=GUILD, user_id=CAROL)).paid_diamonds == 0
    await assert_books_balance(store)


async def test_refunding_an_inbox_purchase_just_marks_it(store):
    facts = entitlement()
    await store.credit_purchase(facts=facts, guild_id=None, at=NOW)
    before = await ledger_size(store)

    refund = await store.refund_purchase(facts=facts, at=at(5))

    assert refund.fresh and refund.purchase.status is PurchaseStatus.REFUNDED and refund.entry_id is None
    assert await ledger_size(store) == before
    assert await store.inbox(user_id=ALICE) == []


async def test_an_entitlement_refunded_before_it_was_seen_is_never_credited(store):
    await sell(store, GUILD, 70, 0, SKU_SMALL)
    facts = entitlement()
    await store.refund_purchase(facts=facts, at=NOW)

    late = await store.credit_purchase(facts=facts, guild_id=GUILD, at=at(1))

    assert not late.fresh and late.purchase.status is PurchaseStatus.REFUNDED
    assert await coins(store, ALICE) == (0, 0)
    assert await store.unconsumed_purchases() == []


# -- packages -------------------------------------------------------------------------------


async def test_packages_can_be_added_mapped_unmapped_and_removed_with_an_audit_row_each(store):
    await with_audit_channel(store)
    added = await store.add_package(guild_id=GUILD, coins=17_500, bonus=5_500, actor_id=MOD, key="a", at=NOW)
    assert (added.coins, added.bonus, added.sku_id, added.enabled) == (17_500, 5_500, None, True)
    with pytest.raises(PackageConflict):
        await store.add_package(guild_id=GUILD, coins=17_500, bonus=5_500, actor_id=MOD, key="b", at=NOW)
    assert not await store.sells_coins(guild_id=GUILD)

    _, mapped = await store.map_package(
        guild_id=GUILD, package_id=added.id, sku_id=SKU_BIG, actor_id=MOD, key="m", at=NOW
    )
    assert mapped.sku_id == SKU_BIG and await store.sells_coins(guild_id=GUILD)
    other = await package(store, GUILD, 70, 0)
    with pytest.raises(SkuInUse):
        await store.map_package(
            guild_id=GUILD, package_id=other.id, sku_id=SKU_BIG, actor_id=MOD, key="x", at=NOW
        )
    await store.map_package(guild_id=GUILD, package_id=added.id, sku_id=None, actor_id=MOD, key="u", at=NOW)
    await store.map_package(
        guild_id=GUILD, package_id=added.id, sku_id=SKU_BIG, actor_id=MOD, key="m2", at=NOW
    )

    removed = await store.remove_package(guild_id=GUILD, package_id=added.id, actor_id=MOD, key="r", at=NOW)

    assert removed.id == added.id
    assert added.id not in [p.id for p in await store.packages(guild_id=GUILD)]
    assert not await store.sells_coins(guild_id=GUILD)
    with pytest.raises(UnknownPackage):
        await store.remove_package(guild_id=GUILD, package_id=added.id, actor_id=MOD, key="r2", at=NOW)
    revived = await store.add_package(
        guild_id=GUILD, coins=17_500, bonus=5_500, actor_id=MOD, key="c", at=NOW
    )
    assert revived.id == added.id and revived.sku_id is None
    assert [a["event"] for a in await audits(store)] == [
        "package_added",
        "package_mapped",
        "package_unmapped",
        "package_mapped",
        "package_removed",
        "package_added",
    ]


async def test_another_guilds_package_is_unknown_here(store):
    await store.ensure_guild(guild_id=GUILD, at=NOW)
    await store.ensure_guild(guild_id=OTHER, at=NOW)
    theirs = await package(store, OTHER, 70, 0)
    with pytest.raises(UnknownPackage):
        await store.map_package(
            guild_id=GUILD, package_id=theirs.id, sku_id=SKU_SMALL, actor_id=MOD, key="k", at=NOW
        )


async def test_purchases_and_promotions_owe_audit_posts_with_their_entry_ids(store):
    await sell(store, GUILD, 350, 38, SKU_SMALL)
    await with_audit_channel(store)
    promotion_id = await promote(store, 10, NOW, NOW + timedelta(days=1))
    facts = entitlement(when=at(5))
    credit = await store.credit_purchase(facts=facts, guild_id=GUILD, at=at(5))
    await store.cancel_promotion(guild_id=GUILD, promotion_id=promotion_id, actor_id=MOD, key="c", at=at(6))

    posted = await audits(store)
    assert [a["event"] for a in posted] == ["promotion_created", "purchase", "promotion_cancelled"]
    purchase = posted[1]
    assert purchase["entry_id"] == credit.purchase.entry_id and purchase["amount"] == 388 + 38
    assert purchase["details"]["bonus_entry_id"] == credit.purchase.bonus_entry_id  # type: ignore[index]
    assert posted[0]["actor_id"] == MOD and posted[0]["amount"] == 10
