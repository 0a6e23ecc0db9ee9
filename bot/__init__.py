"""giftbot: a TikTok-LIVE-style coin economy for Discord communities."""

__version__ = "0.1.0"
