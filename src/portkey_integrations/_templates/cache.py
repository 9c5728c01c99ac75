"""A per-process cache of saved prompt templates, for checks made before a call.

:func:`get_template` (and :func:`aget_template`) fetch a prompt's version through the
admin API once per (base URL, prompt id, version reference), keep it for a TTL
(5 minutes by default) and share one fetch among every thread and task asking at the
same time. The fetch is short (2 s per request, no retries) and never raises: a
missing scope, an unknown id, a server without the admin routes or a network failure
gives ``None``, logged at debug level and remembered for a shorter TTL (30 s), so a
check that cannot be made costs one quick request now and then, not one per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from .._base_client import BaseClient
from .._errors import (
    APIResponseValidationError,
    APIStatusError,
    PortkeyConfigError,
    PortkeyError,
)
from ..resources._models import Prompt
from ..resources._steps import run_async, run_sync
from ..resources.partials import retrieve_partial
from ..resources.prompts import Steps, parse_ref, resolve_prompt

if TYPE_CHECKING:
    from .._client import AsyncPortkeyClient, PortkeyClient
    from .analysis import TemplateInfo

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
DEFAULT_FETCH_TIMEOUT = 2.0
MAX_PARTIALS = 8
"""Partials fetched per template; a template naming more gets the first ones only."""

_C = TypeVar("_C", bound=BaseClient)


@dataclass(frozen=True)
class PromptTemplate:
    """What a saved prompt version holds, for checking variables before a call."""

    prompt_id: str
    """The reference asked for (``pp-x``, ``pp-x@2``, ``pp-x@production``)."""
    template: str
    """The template text: a JSON messages array (chat) or plain text, with Mustache tags."""
    kind: Literal["chat", "text"]
    model: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """The saved hyperparameters (``temperature``, ``max_tokens``, ...)."""
    tools: list[Any] | None = None
    version: int | None = None
    virtual_key: str | None = None
    partials: Mapping[str, str] = field(default_factory=dict)
    """The text of each partial the template names statically (``{{>pp-part}}``) that
    could be fetched, by the name used in the template."""
    unresolved_partials: tuple[str, ...] = ()
    """Partials named in the template whose text was not fetched."""

    @property
    def info(self) -> TemplateInfo | None:
        """What the template and its fetched partials read (``None`` if it cannot be
        analysed); see :class:`~portkey_integrations._templates.analysis.TemplateInfo`."""
        from .checks import template_info

        return template_info(self)


def _template_of(
    ref: str, prompt: Prompt, partials: dict[str, str], names: list[str]
) -> PromptTemplate:
    return PromptTemplate(
        prompt_id=ref,
        template=prompt.string or "",
        kind=prompt.kind,
        model=prompt.model,
        parameters=dict(prompt.parameters or {}),
        tools=prompt.tools,
        version=prompt.prompt_version,
        virtual_key=prompt.virtual_key,
        partials=partials,
        unresolved_partials=tuple(n for n in names if n not in partials),
    )


def template_steps(client: BaseClient, ref: str) -> Steps[PromptTemplate]:
    """The requests that read one prompt version and its partials (written once for
    both clients)."""
    prompt: Prompt = yield from resolve_prompt(client, ref)
    # The renderer's own tokens: a partial inside a comment is none, one after a
    # set-delimiter tag is one.
    names = list(prompt.template_info.partials)
    partials: dict[str, str] = {}
    for name in names[:MAX_PARTIALS]:
        if "@" in name:
            continue  # a pinned partial version costs a listing; the check can do without
        try:
            partial = yield from retrieve_partial(client, name)
        except (APIStatusError, APIResponseValidationError):
            continue
        if partial.string is not None:
            partials[name] = partial.string
    return _template_of(ref, prompt, partials, names)


class _Flight:
    """One fetch in progress: threads wait on ``done``, tasks on futures of their loop."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: PromptTemplate | None = None
        self.waiters = 0
        self.thread = threading.get_ident()
        self.futures: list[asyncio.Future[PromptTemplate | None]] = []


def _resolve_future(future: asyncio.Future[PromptTemplate | None], value: Any) -> None:
    if not future.done():
        future.set_result(value)


class PromptCache:
    """Prompt templates by (base URL, id, version reference), with single-flight fetches.

    ``ttl``: seconds a fetched template is kept; ``miss_ttl``: seconds a failed fetch is
    remembered; ``fetch_timeout``: the timeout of each request of a fetch.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        miss_ttl: float = DEFAULT_MISS_TTL,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        max_entries: int = 1024,
    ) -> None:
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.fetch_timeout = fetch_timeout
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str, str], tuple[float, PromptTemplate | None]] = {}
        self._flights: dict[tuple[str, str, str], _Flight] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"PromptCache(ttl={self.ttl}, miss_ttl={self.miss_ttl}, entries={len(self._entries)})"
        )

    def clear(self) -> None:
        """Forget every cached template and miss (fetches in flight still finish)."""
        with self._lock:
            self._entries.clear()

    # --- the shared logic ---------------------------------------------------------

    def _key(self, client: BaseClient, ref: str) -> tuple[str, str, str] | None:
        try:
            prompt_id, selector = parse_ref(ref)
            return (client.base_url, prompt_id, selector)
        except PortkeyError as exc:
            logger.debug("prompt template %r not checked: %s", ref, exc)
            return None

    def _begin(self, key: tuple[str, str, str]) -> tuple[bool, Any]:
        """``(True, value)`` from the cache, else ``(False, flight)`` with ``flight``
        ``None`` when this caller must fetch (a new flight is then registered)."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return True, entry[1]
        flight = self._flights.get(key)
        if flight is None:
            self._flights[key] = _Flight()
        else:
            flight.waiters += 1
        return False, flight

    def _probe(self, client: _C) -> _C:
        # The same configuration and transport, but quick and without retries: the
        # check must never delay a call for long.
        probe = copy.copy(client)
        probe.max_retries = 0
        probe._timeout_ext = {"timeout": httpx.Timeout(self.fetch_timeout).as_dict()}
        return probe

    def _finish(
        self, key: tuple[str, str, str], value: PromptTemplate | None, *, remember: bool = True
    ) -> None:
        with self._lock:
            flight = self._flights.pop(key, None)
            if remember:
                ttl = self.ttl if value is not None else self.miss_ttl
                if len(self._entries) >= self.max_entries:
                    self._evict()
                self._entries[key] = (time.monotonic() + ttl, value)
        if flight is None:
            return
        flight.result = value
        flight.done.set()
        for future in flight.futures:
            with contextlib.suppress(RuntimeError):  # a waiter's loop already closed
                future.get_loop().call_soon_threadsafe(_resolve_future, future, value)

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]

    @staticmethod
    def _failed(ref: str, exc: BaseException) -> None:
        logger.debug("prompt template %r not fetched (%s: %s)", ref, type(exc).__name__, exc)

    def peek(self, client: BaseClient, ref: str) -> PromptTemplate | None:
        """The template last fetched for ``ref``, even past its TTL; never fetches.

        For what must not do I/O (a LlamaIndex model's ``metadata``): the version an
        earlier call read, or ``None`` when none did.
        """
        key = self._key(client, ref)
        entry = self._entries.get(key) if key is not None else None
        return entry[1] if entry is not None else None

    # --- the two transports -------------------------------------------------------

    def get(self, client: PortkeyClient, ref: str) -> PromptTemplate | None:
        """The template ``ref`` names, or ``None`` when it cannot be had (never raises)."""
        key = self._key(client, ref)
        if key is None:
            return None
        with self._lock:
            cached, value = self._begin(key)
        if cached:
            return value  # type: ignore[no-any-return]
        if value is not None:
            flight: _Flight = value
            if flight.thread != threading.get_ident():
                flight.done.wait(self.fetch_timeout * (MAX_PARTIALS + 4))
                return flight.result
            # A task of this thread's own loop is fetching: waiting would block it.
            return self._fetch_sync(client, ref)
        result: PromptTemplate | None = None
        remember = False  # an interrupted fetch is no verdict on the prompt (as in aget)
        try:
            result = self._fetch_sync(client, ref)
            remember = True
        finally:
            self._finish(key, result, remember=remember)
        return result

    def _fetch_sync(self, client: PortkeyClient, ref: str) -> PromptTemplate | None:
        try:
            probe = self._probe(client)
            return run_sync(probe, template_steps(probe, ref))
        except Exception as exc:
            self._failed(ref, exc)
            return None

    async def aget(self, client: AsyncPortkeyClient, ref: str) -> PromptTemplate | None:
        """Async :meth:`get`: tasks share one fetch with each other and with threads."""
        key = self._key(client, ref)
        if key is None:
            return None
        with self._lock:
            cached, value = self._begin(key)
            if not cached and value is not None:
                future: asyncio.Future[PromptTemplate | None] = (
                    asyncio.get_running_loop().create_future()
                )
                value.futures.append(future)
        if cached:
            return value  # type: ignore[no-any-return]
        if value is not None:
            return await future
        result: PromptTemplate | None = None
        remember = True
        try:
            probe = self._probe(client)
            result = await run_async(probe, template_steps(probe, ref))
        except asyncio.CancelledError:
            remember = False  # not a verdict on the prompt: let the next caller fetch
            raise
        except Exception as exc:
            self._failed(ref, exc)
        finally:
            self._finish(key, result, remember=remember)
        return result


prompt_cache = PromptCache()
"""The process-wide cache the model classes use."""


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
) -> None:
    """Change the process cache's TTLs (seconds) or per-request fetch timeout."""
    for name, value in (("ttl", ttl), ("miss_ttl", miss_ttl), ("fetch_timeout", fetch_timeout)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise PortkeyConfigError(f"{name} must be a number of seconds >= 0, not {value!r}")
            setattr(prompt_cache, name, float(value))
