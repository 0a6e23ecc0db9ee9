"""Audit posts as moderators read them, for every event, whoever queued it: the moderator's
mention, the amount in its unit, the reason escaped, the ledger entry, and readable details."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.audit import audit_embed, notice_embed
from bot.economy.cashouts import CashoutStatus

AT = datetime(2026, 1, 1, tzinfo=UTC)


def fields(embed) -> dict[str, str]:
    return {field.name: field.value for field in embed.fields}


def test_a_grant_names_the_moderator_member_amount_reason_and_entry():
    payload = {
        "event": "grant",
        "actor_id": 10,
        "subject_id": 11,
        "amount": 1_500,
        "currency": "coin",
        "reason": "**launch** @everyone",
        "entry_id": 7,
        "details": {},
    }
    embed = audit_embed(payload, ref="ref ABC", at=AT)
    assert embed.title == "🪙 Promo coins granted"
    assert fields(embed) == {
        "Moderator": "<@10>",
        "Member": "<@11>",
        "Amount": "🪙 1,500",
        "Reason": "\\*\\*launch\\*\\* @\u200beveryone",
        "Ledger entry": "#7",
    }
    assert embed.footer.text == "ref ABC" and embed.timestamp == AT


def test_a_purchase_is_by_the_member_and_its_details_read_well():
    payload = {
        "event": "purchase",
        "actor_id": 11,
        "subject_id": 11,
        "amount": 388,
        "currency": "coin",
        "reason": None,
        "entry_id": 9,
        "details": {
            "entitlement_id": 123456789,
            "bonus_entry_id": 10,
            "paid_coins": 1_388,
            "promotion_id": None,
        },
    }
    embed = audit_embed(payload, ref="ref X", at=AT)
    shown = fields(embed)
    assert shown["By"] == "<@11>" and "Moderator" not in shown
    assert shown["Details"].splitlines() == [
        "entitlement id: 123456789",
        "bonus entry id: #10",
        "paid coins: 1,388",
    ]


def test_a_refund_lists_the_diamonds_taken_back_per_creator():
    payload = {
        "event": "refund",
        "actor_id": 11,
        "amount": 70,
        "currency": "coin",
        "details": {"coins_unrecovered": 20, "diamonds_by_creator": {"13": 25}},
    }
    shown = fields(audit_embed(payload, ref="r", at=AT))
    assert shown["Details"].splitlines() == ["coins unrecovered: 20", "diamonds by creator: <@13> 25"]


def test_a_promotion_shows_its_percent_and_window_as_timestamps():
    payload = {
        "event": "promotion_created",
        "actor_id": 10,
        "amount": 25,
        "currency": "percent",
        "details": {"promotion_id": 3, "starts_at": 1_767_225_600_000},
    }
    embed = audit_embed(payload, ref="r", at=AT)
    assert embed.title == "📣 Promotion created"
    assert fields(embed)["Amount"] == "25%"
    assert fields(embed)["Details"].splitlines() == ["promotion id: 3", "starts at: <t:1767225600:f>"]


def test_cash_out_posts_name_the_request_and_a_frozen_one_says_so():
    approved = audit_embed(
        {
            "event": "cashout_approve",
            "actor_id": 10,
            "subject_id": 13,
            "amount": 1_000,
            "currency": "diamond",
            "reason": "PayPal 1",
            "entry_id": 20,
            "details": {"cashout_id": 4, "was_frozen": True},
        },
        ref="r",
        at=AT,
    )
    assert fields(approved)["Payment reference"] == "PayPal 1"
    assert fields(approved)["Cash-out"] == "#4 (was frozen: the creator left)"
    assert fields(approved)["Amount"] == "💎 1,000"


def test_an_event_added_later_gets_a_title_from_its_name_and_giftbot_acts_as_zero():
    embed = audit_embed({"event": "store_opened", "actor_id": 0}, ref="r", at=AT)
    assert embed.title == "Store opened" and fields(embed) == {"Moderator": "giftbot"}


def test_the_creators_notice_says_what_was_decided():
    approved = notice_embed(CashoutStatus.APPROVED, amount=1_000, guild="Live", text="ref 1", cashout_id=2)
    rejected = notice_embed(CashoutStatus.REJECTED, amount=1_000, guild="Live", text="@here no", cashout_id=2)
    assert approved.title == "💎 Your cash-out was approved" and fields(approved) == {
        "Payment reference": "ref 1"
    }
    assert "back in your wallet" in rejected.description and fields(rejected) == {"Reason": "@\u200bhere no"}
