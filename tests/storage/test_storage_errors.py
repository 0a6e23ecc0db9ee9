"""Refusals raised by storage itself read as plainly as the domain's own."""

from __future__ import annotations

import pytest

from bot.economy.errors import EconomyError
from storage.catalogue_ops import NotCreator
from storage.ledger import InsufficientDiamonds
from storage.money_ops import NothingToRevoke

EXAMPLES: list[EconomyError] = [
    NothingToRevoke(),
    NotCreator("carol"),
    InsufficientDiamonds(balance=1_000, needed=25_000),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_storage_refusals_are_plain_sentences(error):
    message = error.user_message
    assert message.strip() and str(error) == message
    assert not any(marker in message for marker in ("Error", "Exception", "sqlite", "Traceback"))


def test_diamond_refusals_show_both_numbers():
    assert EXAMPLES[2].user_message == "You need 25,000 diamonds but have 1,000."
