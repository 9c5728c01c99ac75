"""The prompt cache's book-keeping: its entries, their fresh and stale windows, and the
fetches in flight that readers share.

:class:`CacheBook` records what a fetch brought (:meth:`CacheBook._finish`: the new
entry, or the last good copy kept after a failed refresh, and every waiter woken) and
evicts past ``max_entries``. It does no I/O: :class:`~.cache.PromptCache` decides what a
read does and runs the sync and async fetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .template import PortkeyTemplate

__all__ = ["CacheBook", "Entry", "Flight", "Key", "Outcome"]

Key = tuple[str, str, str]
"""(base URL, prompt id, version or label; ``""`` for the published version)."""
Outcome = tuple["PortkeyTemplate | None", "BaseException | None"]


@dataclass
class Entry:
    value: PortkeyTemplate | None
    error: BaseException | None
    fresh_until: float
    stale_until: float
    """The value may be served, while one refresh runs, until then."""
    fetched_at: float = float("-inf")
    """When the value was fetched."""


class Flight:
    """One fetch in progress: threads wait on ``done``, tasks on futures of their loop."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome = (None, None)
        self.waiters = 0
        self.thread = threading.get_ident()
        self.futures: list[asyncio.Future[Outcome]] = []


def _resolve_future(future: asyncio.Future[Outcome], value: Outcome) -> None:
    if not future.done():
        future.set_result(value)


class CacheBook:
    """Entries by key and the fetches in flight, under one lock; see :class:`~.cache.PromptCache`
    for what the settings mean."""

    def __init__(
        self,
        *,
        ttl: float,
        miss_ttl: float,
        max_entries: int,
        stale_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.max_entries = max_entries
        self.stale_ttl = stale_ttl
        self.clock = clock
        self._entries: dict[Key, Entry] = {}
        self._flights: dict[Key, Flight] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached template and miss (fetches in flight still finish)."""
        with self._lock:
            self._entries.clear()

    def _entry_for(self, key: Key, value: PortkeyTemplate | None, error: Any) -> Entry:
        now = self.clock()
        previous = self._entries.get(key)
        if value is not None:
            return Entry(value, None, now + self.ttl, now + self.ttl + self.stale_ttl, now)
        if previous is not None and previous.value is not None and previous.stale_until > now:
            # A failed refresh keeps serving the last good copy; try again later.
            return Entry(
                previous.value,
                None,
                now + self.miss_ttl,
                previous.stale_until,
                previous.fetched_at,
            )
        return Entry(None, error, now + self.miss_ttl, now + self.miss_ttl)

    def _finish(
        self,
        key: Key,
        value: PortkeyTemplate | None,
        error: BaseException | None = None,
        *,
        remember: bool = True,
    ) -> Outcome:
        outcome: Outcome = (value, error)
        with self._lock:
            flight = self._flights.pop(key, None)
            if remember:
                entry = self._entry_for(key, value, error)
                if len(self._entries) >= self.max_entries and key not in self._entries:
                    self._evict()
                self._entries[key] = entry
                outcome = (entry.value, entry.error)
        if flight is not None:
            flight.outcome = outcome
            flight.done.set()
            for future in flight.futures:
                with contextlib.suppress(RuntimeError):  # a waiter's loop already closed
                    future.get_loop().call_soon_threadsafe(_resolve_future, future, outcome)
        return outcome

    def _evict(self) -> None:
        now = self.clock()
        for key in [
            k for k, e in self._entries.items() if max(e.fresh_until, e.stale_until) <= now
        ]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
