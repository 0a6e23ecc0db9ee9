from datetime import timedelta

import pytest

from bot.economy.retry import backoff


@pytest.mark.parametrize(
    ("attempt", "minutes"), [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (7, 60), (20, 60)]
)
def test_retries_back_off_doubling_up_to_an_hour(attempt, minutes):
    assert backoff(attempt) == timedelta(minutes=minutes)
