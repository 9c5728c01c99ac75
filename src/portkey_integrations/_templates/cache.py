"""A per-process cache of saved prompt templates: for checks before a call and for templates.

:func:`get_template` (:func:`aget_template`) fetches a prompt version once per (base URL,
prompt id, version reference), one fetch shared by every thread and task asking at once.
The fetch is short (2 s per request, no retries) and never raises: a failure (missing
scope, unknown id, no admin routes, network) gives ``None``, logged at debug level and
remembered for 30 s. :meth:`PromptCache.load` raises the fetch's error instead.

Freshness:

- **TTL** (5 minutes): a template is served from memory until then.
- **Stale-while-revalidate** (``stale_ttl``, 1 hour for the process cache): after the
  TTL the stale copy is still served, at once, while one background refresh runs (a
  thread for the sync client, a task for the async one). A failed refresh keeps the last
  good copy and tries again after ``miss_ttl``; past the window a read waits for a fetch.
- **Version change**: :meth:`PromptCache.observe_version` hears that a response showed a
  reference now resolves to another version; the copy is then stale and refreshed as above.
  The clients call it after every prompt-route response whose
  ``x-portkey-prompt-version`` differs from the checked template's version.
- **Refusal**: when the variables check would refuse a call on a cached copy of a moving
  reference, the clients :meth:`PromptCache.expire` it and check again on a fresh fetch,
  so an old copy never refuses a call Portkey would run.

Times come from an injectable ``clock`` (``time.monotonic``), so tests need no sleeps.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from .._base_client import BaseClient
from .._errors import PortkeyConfigError, PortkeyError
from .._request import parse_prompt_ref
from ..resources._steps import run_async, run_sync
from .book import CacheBook, Flight, Key, Outcome
from .fetch import MAX_PARTIALS, template_steps
from .template import PortkeyTemplate

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient

__all__ = [
    "PromptCache",
    "PromptTemplate",
    "aget_template",
    "configure_prompt_cache",
    "get_template",
    "prompt_cache",
]

logger = logging.getLogger("portkey_integrations")

DEFAULT_TTL = 300.0
DEFAULT_MISS_TTL = 30.0
DEFAULT_STALE_TTL = 3600.0
DEFAULT_FETCH_TIMEOUT = 2.0
REVALIDATE_AFTER = 1.0
"""Seconds after its fetch a copy that made the variables check refuse is fetched again."""

PromptTemplate = PortkeyTemplate
"""The cached template (the name the variables check has always used)."""

_C = TypeVar("_C", bound=BaseClient)
_State = Literal["hit", "revalidate", "wait", "fetch"]


class PromptCache(CacheBook):
    """Prompt templates by (base URL, id, version reference), with single-flight fetches.

    ``ttl``: seconds a fetched template is fresh; ``stale_ttl``: seconds after that it
    is still served while one background refresh runs (0: wait for the refetch);
    ``miss_ttl``: seconds a failed fetch is remembered; ``fetch_timeout``: the timeout
    of each request of a fetch; ``clock``: the time source (seconds, monotonic).
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        miss_ttl: float = DEFAULT_MISS_TTL,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        max_entries: int = 1024,
        stale_ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            ttl=ttl, miss_ttl=miss_ttl, max_entries=max_entries, stale_ttl=stale_ttl, clock=clock
        )
        self.fetch_timeout = fetch_timeout
        self._refreshes: set[threading.Thread] = set()
        self._tasks: set[asyncio.Task[Outcome]] = set()

    def __repr__(self) -> str:
        return (
            f"PromptCache(ttl={self.ttl}, stale_ttl={self.stale_ttl}, "
            f"miss_ttl={self.miss_ttl}, entries={len(self._entries)})"
        )

    def observe_version(self, base_url: str, ref: str, version: int) -> bool:
        """A response showed that ``ref`` now resolves to ``version``: when the cached
        copy holds another one, make it stale so the next read refreshes it. Returns
        whether it did."""
        key = self._key(base_url, ref)
        with self._lock:
            entry = None if isinstance(key, PortkeyError) else self._entries.get(key)
            if entry is None or entry.value is None or entry.value.version == version:
                return False
            now = self.clock()
            entry.fresh_until = float("-inf")
            entry.stale_until = min(entry.stale_until, now + self.stale_ttl)
            return True

    def expire(
        self, client: BaseClient | str, ref: str, copy: PromptTemplate | None = None
    ) -> bool:
        """Make the cached copy of ``ref`` unservable: the next read waits for a fetch
        (a failed one gives ``None``, not the old copy). For a copy found wrong, as when
        the variables check refuses a call on it. With ``copy``, only when the cache
        still holds that copy, fetched more than ``REVALIDATE_AFTER`` seconds ago (one
        fetched for the very call that refused is as fresh as a refetch would be).
        Returns whether it expired one."""
        key = self._key(client, ref)
        with self._lock:
            entry = None if isinstance(key, PortkeyError) else self._entries.get(key)
            if entry is None:
                return False
            if copy is not None and (
                entry.value is not copy or self.clock() - entry.fetched_at < REVALIDATE_AFTER
            ):
                return False
            entry.fresh_until = entry.stale_until = float("-inf")
            return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background refreshes of sync reads (tests, shutdown)."""
        with self._lock:
            threads = list(self._refreshes)
        for thread in threads:
            thread.join(timeout)

    async def ajoin(self) -> None:
        """Wait for the background refreshes of async reads."""
        with self._lock:
            tasks = list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the shared logic ---------------------------------------------------------

    def _key(self, client: BaseClient | str, ref: str) -> Key | PortkeyError:
        try:
            base_url = client if isinstance(client, str) else client.base_url
            if not isinstance(ref, str):
                parse_prompt_ref(ref)  # raises the error that names it
            return (base_url, *_ref_key(ref))
        except PortkeyError as exc:
            logger.debug("prompt template %r not checked: %s", ref, exc)
            return exc

    def _fresh(self, key: Key) -> Outcome | None:
        """The outcome of a fresh entry for ``key``, read without the lock (``None``: the
        read must go through :meth:`_begin`). Safe because entries are replaced whole and
        only ever made staler in place: a read that races an expiry is one that came
        just before it. Nearly every checked call is such a hit."""
        entry = self._entries.get(key)
        if entry is not None and entry.fresh_until > self.clock():
            return entry.value, entry.error
        return None

    def _begin(self, key: Key) -> tuple[_State, Any]:
        """What a read does: ``hit`` (the entry), ``revalidate`` (serve the stale entry
        and refresh it in the background; the flight is registered), ``wait`` (on the
        flight) or ``fetch`` (a new flight is registered)."""
        now = self.clock()
        entry = self._entries.get(key)
        flight = self._flights.get(key)
        if entry is not None and entry.fresh_until > now:
            return "hit", entry
        if entry is not None and entry.value is not None and entry.stale_until > now:
            if flight is not None:
                return "hit", entry  # one refresh is already running
            self._flights[key] = Flight()
            return "revalidate", entry
        if flight is None:
            self._flights[key] = Flight()
            return "fetch", None
        flight.waiters += 1
        return "wait", flight

    def _probe(self, client: _C) -> _C:
        # The same configuration and transport, but quick and without retries: the
        # check must never delay a call for long.
        probe = copy.copy(client)
        probe.max_retries = 0
        probe._timeout_ext = {"timeout": httpx.Timeout(self.fetch_timeout).as_dict()}
        return probe

    @staticmethod
    def _failed(ref: str, exc: BaseException) -> None:
        logger.debug("prompt template %r not fetched (%s: %s)", ref, type(exc).__name__, exc)

    def peek(self, client: BaseClient, ref: str) -> PromptTemplate | None:
        """The template last fetched for ``ref``, even past its TTL, or ``None``; never
        fetches: for what must not do I/O (a LlamaIndex model's ``metadata``)."""
        key = self._key(client, ref)
        entry = None if isinstance(key, PortkeyError) else self._entries.get(key)
        return entry.value if entry is not None else None

    # --- the two transports -------------------------------------------------------

    def get(self, client: PortkeyClient, ref: str) -> PromptTemplate | None:
        """The template ``ref`` names, or ``None`` when it cannot be had (never raises)."""
        return self._read(client, ref)[0]

    def load(self, client: PortkeyClient, ref: str) -> PromptTemplate:
        """The template ``ref`` names; raises the fetch's error when it cannot be had."""
        value, error = self._read(client, ref)
        return _loaded(ref, value, error)

    def _read(self, client: PortkeyClient, ref: str) -> Outcome:
        key = self._key(client, ref)
        if isinstance(key, PortkeyError):
            return None, key
        if (hit := self._fresh(key)) is not None:
            return hit
        with self._lock:
            state, found = self._begin(key)
        if state in ("hit", "revalidate"):
            if state == "revalidate":
                self._spawn(client, ref, key)
            return found.value, found.error
        if state == "wait":
            flight: Flight = found
            if flight.thread != threading.get_ident():
                flight.done.wait(self.fetch_timeout * (MAX_PARTIALS + 4))
                return flight.outcome
            # A task of this thread's own loop is fetching: waiting would block it.
            return self._fetch_sync(client, ref)
        return self._fetch_and_finish(client, ref, key)

    def _fetch_and_finish(self, client: PortkeyClient, ref: str, key: Key) -> Outcome:
        outcome: Outcome = (None, None)
        remember = False  # an interrupted fetch is no verdict on the prompt (as in aget)
        try:
            outcome = self._fetch_sync(client, ref)
            remember = True
        finally:
            outcome = self._finish(key, *outcome, remember=remember)
        return outcome

    def _spawn(self, client: PortkeyClient, ref: str, key: Key) -> None:
        thread = threading.Thread(
            target=self._refresh, args=(client, ref, key), name=f"portkey-refresh:{ref}"
        )
        thread.daemon = True
        with self._lock:
            self._refreshes.add(thread)
        thread.start()

    def _refresh(self, client: PortkeyClient, ref: str, key: Key) -> None:
        try:
            self._fetch_and_finish(client, ref, key)
        finally:
            with self._lock:
                self._refreshes.discard(threading.current_thread())

    def _fetch_sync(self, client: PortkeyClient, ref: str) -> Outcome:
        try:
            probe = self._probe(client)
            return run_sync(probe, template_steps(probe, ref)), None
        except Exception as exc:
            self._failed(ref, exc)
            return None, exc

    async def aget(self, client: AsyncPortkeyClient, ref: str) -> PromptTemplate | None:
        """Async :meth:`get`: tasks share one fetch with each other and with threads."""
        return (await self._aread(client, ref))[0]

    async def aload(self, client: AsyncPortkeyClient, ref: str) -> PromptTemplate:
        """Async :meth:`load`."""
        value, error = await self._aread(client, ref)
        return _loaded(ref, value, error)

    async def _aread(self, client: AsyncPortkeyClient, ref: str) -> Outcome:
        key = self._key(client, ref)
        if isinstance(key, PortkeyError):
            return None, key
        if (hit := self._fresh(key)) is not None:
            return hit
        with self._lock:
            state, found = self._begin(key)
            if state == "wait":
                future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
                found.futures.append(future)
        if state in ("hit", "revalidate"):
            if state == "revalidate":
                task = asyncio.get_running_loop().create_task(self._afetch(client, ref, key))
                with self._lock:
                    self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return found.value, found.error
        if state == "wait":
            return await future
        return await self._afetch(client, ref, key)

    async def _afetch(self, client: AsyncPortkeyClient, ref: str, key: Key) -> Outcome:
        outcome: Outcome = (None, None)
        remember = True
        try:
            probe = self._probe(client)
            outcome = (await run_async(probe, template_steps(probe, ref)), None)
        except asyncio.CancelledError:
            remember = False  # not a verdict on the prompt: let the next caller fetch
            raise
        except Exception as exc:
            self._failed(ref, exc)
            outcome = (None, exc)
        finally:
            outcome = self._finish(key, *outcome, remember=remember)
        return outcome


@functools.lru_cache(maxsize=1024)
def _ref_key(ref: str) -> tuple[str, str]:
    # Read on every checked call: a reference is parsed once, not per call.
    prompt_id, selector = parse_prompt_ref(ref)
    return prompt_id, selector or ""


def _loaded(ref: str, value: PromptTemplate | None, error: BaseException | None) -> PromptTemplate:
    if value is not None:
        return value
    if error is not None:
        raise error
    raise PortkeyConfigError(f"prompt {ref!r} could not be fetched")


prompt_cache = PromptCache(stale_ttl=DEFAULT_STALE_TTL)
"""The process-wide cache the model classes and the pulled templates use."""


def get_template(client: PortkeyClient, prompt_id: str) -> PromptTemplate | None:
    """The saved template of ``prompt_id`` (``pp-x``, ``pp-x@2``, ...) from the process
    cache, fetched on first use; ``None`` when it cannot be fetched."""
    return prompt_cache.get(client, prompt_id)


async def aget_template(client: AsyncPortkeyClient, prompt_id: str) -> PromptTemplate | None:
    """Async :func:`get_template`."""
    return await prompt_cache.aget(client, prompt_id)


def configure_prompt_cache(
    *,
    ttl: float | None = None,
    miss_ttl: float | None = None,
    fetch_timeout: float | None = None,
    stale_ttl: float | None = None,
) -> None:
    """Change the process cache's TTLs (seconds), stale window or per-request fetch timeout."""
    given = {
        "ttl": ttl,
        "miss_ttl": miss_ttl,
        "fetch_timeout": fetch_timeout,
        "stale_ttl": stale_ttl,
    }
    for name, value in given.items():
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise PortkeyConfigError(f"{name} must be a number of seconds >= 0, not {value!r}")
            setattr(prompt_cache, name, float(value))
