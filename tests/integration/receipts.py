"""Receipts as a partner subscribed to ``ks.receipts.>`` collects them."""

from __future__ import annotations

import asyncio
from typing import Any


class Receipts:
    """Collects receipts as a partner subscribed to ks.receipts.> would."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    async def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        async def enough() -> None:
            while len(self.items) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(enough(), timeout)
        return self.items
