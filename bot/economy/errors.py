"""Domain errors: each carries the sentence a member sees.

The single `tree.on_error` handler shows `user_message` ephemerally, so raising one of these
is the whole job of a rule that refuses something.
"""

from __future__ import annotations

import re

QUOTE_LIMIT = 64
_MARKUP = re.compile(r"^[>#-]|[\\*_~`|\[\]<]")  # `>`, `#` and `-` only at the start of a line
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Member-typed text (a name, a search) inside a refusal: one line, at most `limit` characters,
    and inert on Discord (markup escaped, mentions and bidi overrides broken), so it reads as typed
    and can never make the reply too long for Discord."""
    text = " ".join(text.translate(_BIDI_CONTROLS).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKUP.sub(r"\\\g<0>", text).replace("@", "@\u200b")


class EconomyError(Exception):
    """A refusal the member should read; nothing was changed."""

    user_message: str = "That can't be done."

    def __init__(self, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(self.user_message)


class InsufficientCoins(EconomyError):
    def __init__(self, *, balance: int, needed: int) -> None:
        self.balance = balance
        self.needed = needed
        super().__init__(
            f"You need {needed:,} coin{'' if needed == 1 else 's'} but have {balance:,}. "
            "Buy a coin package or ask a moderator about promotions."
        )


class NotACreator(EconomyError):
    def __init__(self, name: str = "That member") -> None:
        super().__init__(f"{quoted(name)} is not a creator here, so they can't receive gifts.")


class SelfGift(EconomyError):
    user_message = "You can't send a gift to yourself."


class RecipientIsBot(EconomyError):
    user_message = "Bots can't receive gifts."


class UnknownGift(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no gift called “{quoted(name)}”. Use /gifts to see the catalogue.")


class GiftDisabled(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{quoted(name)} is not available right now.")


class AmountOutOfRange(EconomyError):
    def __init__(self, *, amount: int, maximum: int) -> None:
        self.amount = amount
        self.maximum = maximum
        if amount <= 0:
            message = "The amount must be at least 1."
        else:
            message = f"{amount:,} is more than the {maximum:,} allowed in one operation."
        super().__init__(message)


class CatalogueConflict(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"The catalogue already has a gift called “{quoted(name)}”.")


class InvalidSetting(EconomyError):
    """A /config value that does not fit its setting."""


class AlreadyCreator(EconomyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{quoted(name)} is already a creator.")
