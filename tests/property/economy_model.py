"""A plain-Python model of one guild's economy, written from the rules (README, issue 5), not from
storage's code: what every wallet, hold, purchase and cash-out should be after each operation.

The stateful test (test_economy_stateful.py) applies each operation to the model and to the real
storage, and after every step compares the two. The model only predicts; it never reads storage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.economy.budget import Budget, BudgetState, Mode
from bot.economy.clock import from_millis
from bot.economy.periods import window, zone

DAY_MS = 86_400_000
MAX_OPERATION = 1_000_000


@dataclass
class Wallet:
    promo: int = 0
    paid: int = 0
    promo_diamonds: int = 0
    paid_diamonds: int = 0
    pending: int = 0

    @property
    def coins(self) -> int:
        return self.promo + self.paid


@dataclass
class Gift:
    entry_key: str
    sender: int
    creator: int
    coins: int
    diamonds: int
    paid_coins: int
    paid_diamonds: int
    at_ms: int
    order: int
    clawed_coins: int = 0
    clawed_diamonds: int = 0


@dataclass
class Purchase:
    entitlement_id: int
    user: int
    sku: int
    purchased_ms: int
    status: str  # "inbox", "credited", "refunded"
    coins: int = 0
    bonus: int = 0
    credited_ms: int | None = None


@dataclass
class Promotion:
    id: int
    percent: int
    starts_ms: int
    ends_ms: int
    cancelled_ms: int | None = None

    def ran_at(self, at_ms: int) -> bool:
        """Running at a purchase's moment; one cancelled later still ran then."""
        cancelled = self.cancelled_ms is not None and self.cancelled_ms <= at_ms
        return self.starts_ms <= at_ms < self.ends_ms and not cancelled


@dataclass
class Cashout:
    creator: int
    amount: int
    status: str = "pending"
    id: int = 0

    @property
    def open(self) -> bool:
        return self.status in ("pending", "frozen")


def maturity(at_ms: int, hold_days: int) -> int:
    """Paid diamonds earned at `at_ms` are cashable `hold_days` later, from the next UTC midnight."""
    end = at_ms + hold_days * DAY_MS
    return end if end % DAY_MS == 0 else (end // DAY_MS + 1) * DAY_MS


@dataclass
class Economy:
    """One guild. Every id that ever held money has a wallet; tombstones are ordinary ids here."""

    now: datetime
    creators: set[int]
    skus: dict[int, int]  # mapped SKU -> coins a purchase credits (package coins + package bonus)
    wallets: dict[int, Wallet] = field(default_factory=lambda: defaultdict(Wallet))
    gifts: list[Gift] = field(default_factory=list)
    holds: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    purchases: dict[int, Purchase] = field(default_factory=dict)
    promotions: list[Promotion] = field(default_factory=list)
    cashouts: list[Cashout] = field(default_factory=list)
    budgets: dict[int, BudgetState] = field(default_factory=dict)  # members who saved one
    default_budget: Budget | None = None
    max_gift: int | None = None
    guild_timezone: str = "UTC"
    member_timezones: dict[int, str] = field(default_factory=dict)
    intents: set[tuple[int, int]] = field(default_factory=set)  # (user, sku) shown here
    disabled: set[str] = field(default_factory=set)
    tombstones: int = 0
    # what the system accounts should hold
    issued_promo: int = 0
    sold: int = 0
    cashed_out: int = 0
    reclaimed: int = 0  # diamonds refunds took back from creators

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    # -- reads ------------------------------------------------------------------------------

    def held(self, creator: int) -> int:
        return sum(amount for matures, amount in self.holds[creator].items() if matures > self.now_ms)

    def cashable(self, creator: int) -> int:
        wallet = self.wallets[creator]
        return wallet.paid_diamonds - min(self.held(creator), wallet.paid_diamonds)

    def budget_of(self, member: int) -> Budget | None:
        state = self.budgets.get(member, BudgetState(current=self.default_budget))
        return state.effective(self.now)

    def spent(self, member: int, budget: Budget) -> int:
        """Coins the member gifted in the budget's current period, in their timezone."""
        tz = zone(self.member_timezones.get(member) or self.guild_timezone)
        span = window(budget.period, self.now, tz)
        assert span.start is not None and span.end is not None
        start, end = int(span.start.timestamp() * 1000), int(span.end.timestamp() * 1000)
        return sum(g.coins for g in self.gifts if g.sender == member and start <= g.at_ms < end)

    # -- operations: each returns the name of the refusal it predicts, or applies the change --

    def grant(self, member: int, amount: int) -> None:
        self.wallets[member].promo += amount
        self.issued_promo += amount

    def revoke(self, member: int, amount: int) -> str | None:
        wallet = self.wallets[member]
        if wallet.promo == 0:
            return "NothingToRevoke"
        taken = min(amount, wallet.promo)
        wallet.promo -= taken
        self.issued_promo -= taken
        return None

    def gift_refusal(self, sender: int, creator: int, name: str, price: int, count: int) -> str | None:
        if name in self.disabled:
            return "GiftDisabled"
        if creator not in self.creators:
            return "NotACreator"
        cost = price * count
        if cost > MAX_OPERATION:
            return "AmountOutOfRange"
        if self.max_gift is not None and cost > self.max_gift:
            return "GiftTooLarge"
        budget = self.budget_of(sender)
        if (
            budget is not None
            and budget.mode is Mode.HARD
            and self.spent(sender, budget) + cost > budget.limit
        ):
            return "BudgetExceeded"
        if self.wallets[sender].coins < cost:
            return "InsufficientCoins"
        return None

    def over_soft_budget(self, sender: int, cost: int) -> bool:
        budget = self.budget_of(sender)
        return (
            budget is not None
            and budget.mode is Mode.SOFT
            and self.spent(sender, budget) + cost > budget.limit
        )

    def gift(self, key: str, sender: int, creator: int, cost: int, share: int, hold_days: int) -> Gift:
        """Promo coins are spent first; paid diamonds are floor(paid coins × share)."""
        wallet = self.wallets[sender]
        promo = min(cost, wallet.promo)
        paid = cost - promo
        diamonds = cost * share // 100
        paid_diamonds = paid * share // 100
        wallet.promo -= promo
        wallet.paid -= paid
        earner = self.wallets[creator]
        earner.promo_diamonds += diamonds - paid_diamonds
        earner.paid_diamonds += paid_diamonds
        if paid_diamonds:
            self.holds[creator][maturity(self.now_ms, hold_days)] += paid_diamonds
        gift = Gift(key, sender, creator, cost, diamonds, paid, paid_diamonds, self.now_ms, len(self.gifts))
        self.gifts.append(gift)
        return gift

    # -- purchases ------------------------------------------------------------------------------

    def bonus_at(self, total: int, purchased_ms: int) -> int:
        running = [p.percent for p in self.promotions if p.ran_at(purchased_ms)]
        return total * max(running) // 100 if running else 0

    def credit(self, purchase: Purchase) -> None:
        purchase.coins = self.skus[purchase.sku]
        purchase.bonus = self.bonus_at(purchase.coins, purchase.purchased_ms)
        purchase.status = "credited"
        purchase.credited_ms = self.now_ms
        wallet = self.wallets[purchase.user]
        wallet.paid += purchase.coins
        wallet.promo += purchase.bonus
        self.sold += purchase.coins
        self.issued_promo += purchase.bonus

    def arrive(self, entitlement_id: int, user: int, sku: int, purchased_ms: int, here: bool) -> Purchase:
        """A new entitlement: credited here if it rode on an interaction here or the buyer's
        intent points here (and this guild sells the SKU); else it waits in the inbox."""
        purchase = Purchase(entitlement_id, user, sku, purchased_ms, "inbox")
        self.purchases[entitlement_id] = purchase
        if sku in self.skus and (here or (user, sku) in self.intents):
            self.credit(purchase)
        return purchase

    def claim(self, user: int, entitlement_id: int | None) -> str | None:
        waiting = [
            p
            for p in self.purchases.values()
            if p.user == user and p.status == "inbox" and entitlement_id in (None, p.entitlement_id)
        ]
        if not waiting:
            return "NothingToClaim"
        sellable = [p for p in waiting if p.sku in self.skus]
        if not sellable:
            return "NotSoldHere"
        for purchase in sorted(sellable, key=lambda p: p.entitlement_id):
            self.credit(purchase)
        return None

    def refund(self, entitlement_id: int, user: int, sku: int, purchased_ms: int) -> None:
        """Take back the bought coins as far as unspent, the bonus as far as unspent, and for the
        spent part the paid diamonds the buyer's gifts since the credit made (newest first),
        held ones first, never below zero."""
        purchase = self.purchases.get(entitlement_id)
        if purchase is None:  # refunded before it was ever seen: a late delivery credits nothing
            self.purchases[entitlement_id] = Purchase(entitlement_id, user, sku, purchased_ms, "refunded")
            return
        if purchase.status == "refunded":
            return
        if purchase.status == "inbox":
            purchase.status = "refunded"
            return
        purchase.status = "refunded"
        wallet = self.wallets[purchase.user]
        took_paid = min(purchase.coins, wallet.paid)
        took_bonus = min(purchase.bonus, wallet.promo)
        wallet.paid -= took_paid
        wallet.promo -= took_bonus
        self.sold -= took_paid
        self.issued_promo -= took_bonus
        left = purchase.coins - took_paid
        due: dict[int, int] = defaultdict(int)
        assert purchase.credited_ms is not None
        made = [
            g
            for g in self.gifts
            if g.sender == purchase.user and g.at_ms >= purchase.credited_ms and g.paid_coins > 0
        ]
        for gift in sorted(made, key=lambda g: (g.at_ms, g.order), reverse=True):
            if left <= 0:
                break
            available = gift.paid_coins - gift.clawed_coins
            if available <= 0:
                continue
            take = min(left, available)
            if take == available:
                diamonds = gift.paid_diamonds - gift.clawed_diamonds
            else:
                diamonds = min(
                    gift.paid_diamonds - gift.clawed_diamonds, gift.paid_diamonds * take // gift.paid_coins
                )
            diamonds = max(0, diamonds)
            gift.clawed_coins += take
            gift.clawed_diamonds += diamonds
            due[gift.creator] += diamonds
            left -= take
        for creator, amount in due.items():
            earner = self.wallets[creator]
            take = min(amount, earner.paid_diamonds)
            if take <= 0:
                continue
            earner.paid_diamonds -= take
            self.reclaimed += take
            self._release(creator, take)

    def _release(self, creator: int, amount: int) -> None:
        """Held diamonds go first, the latest-maturing first."""
        left = amount
        for matures in sorted(self.holds[creator], reverse=True):
            if left <= 0 or matures <= self.now_ms:
                break
            take = min(left, self.holds[creator][matures])
            self.holds[creator][matures] -= take
            left -= take

    # -- cash-outs ------------------------------------------------------------------------------

    def request(self, creator: int, amount: int, minimum: int) -> str | None:
        if amount < minimum:
            return "BelowMinimum"
        if amount > self.cashable(creator):
            return "NotCashable"
        wallet = self.wallets[creator]
        wallet.paid_diamonds -= amount
        wallet.pending += amount
        self.cashouts.append(Cashout(creator, amount))
        return None

    def decide(self, index: int, moderator: int, *, approve: bool) -> str | None:
        cashout = self.cashouts[index]
        if not cashout.open:
            return "AlreadyDecided"
        if approve and moderator == cashout.creator:
            return "SelfApproval"
        wallet = self.wallets[cashout.creator]
        wallet.pending -= cashout.amount
        if approve:
            self.cashed_out += cashout.amount
            cashout.status = "approved"
        else:
            wallet.paid_diamonds += cashout.amount
            cashout.status = "rejected"
        return None

    # -- forgetting -----------------------------------------------------------------------------

    def forget(self, member: int, tombstone: int) -> None:
        """Everything the member held or did moves to the tombstone id storage chose; what only
        described them (budget, timezone, intents, being a creator) goes."""
        self.tombstones += 1
        assert tombstone == -self.tombstones, "tombstones are -1, -2, -3 … in order"
        if member in self.wallets:
            self.wallets[tombstone] = self.wallets.pop(member)
        if member in self.holds:
            self.holds[tombstone] = self.holds.pop(member)
        for gift in self.gifts:
            gift.sender = tombstone if gift.sender == member else gift.sender
            gift.creator = tombstone if gift.creator == member else gift.creator
        for purchase in self.purchases.values():
            if purchase.user == member and purchase.credited_ms is not None:  # those of this guild
                purchase.user = tombstone
        for cashout in self.cashouts:
            cashout.creator = tombstone if cashout.creator == member else cashout.creator
        self.budgets.pop(member, None)
        self.member_timezones.pop(member, None)
        self.intents = {(user, sku) for user, sku in self.intents if user != member}
        self.creators.discard(member)

    def holds_anything(self, member: int) -> bool:
        """Whether the guild stored anything about the member that forgetting would move or drop."""
        wallet = self.wallets.get(member)
        return (
            (wallet is not None and wallet != Wallet())
            or member in self.creators
            or member in self.budgets
            or member in self.member_timezones
            or any(user == member for user, _ in self.intents)
            or any(g.sender == member or g.creator == member for g in self.gifts)
        )

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def at(millis: int) -> datetime:
    return from_millis(millis)
