"""A fresh giftbot database file per test, opened through the real `Storage`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import Storage


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Storage]:
    opened = Storage(tmp_path / "x.sqlite3")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
