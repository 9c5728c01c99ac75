"""The Portkey clients: one request builder and parser, a sync and an async transport.

:class:`PortkeyClient` and :class:`AsyncPortkeyClient` share everything in
:class:`~._base_client.BaseClient`: configuration, request building, response parsing,
error mapping and retry decisions. They differ only in how bytes are sent and how long
they sleep. Both send through the process's shared pools (``_pools.py``) unless given an
``http_client``, which then carries every request with all its features (auth, event
hooks, mounts, proxies).
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx

from ._base_client import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    LOCAL,
    BaseClient,
    client_method,
)
from ._pools import async_sender, sync_sender
from ._response import Completion, RenderedPrompt
from ._retry import is_success
from ._streaming import AsyncStream, Stream
from ._transport import aread, read
from .resources.embeddings import EmbeddingResponse, embeddings_request, parse_embeddings

if TYPE_CHECKING:
    from ._templates.cache import PromptTemplate
    from .resources._faces import (
        AsyncLabels,
        AsyncPartials,
        AsyncPrompts,
        Labels,
        Partials,
        Prompts,
    )
    from .resources.feedback import AsyncFeedback, Feedback

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOCAL",
    "AsyncPortkeyClient",
    "PortkeyClient",
]

_T = TypeVar("_T")
_R = TypeVar("_R")


class _Lazy(Generic[_R]):
    """A resource built on first access (its module imported then, not with the core)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name, self.attr = module, name, ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, client: None, owner: type) -> _Lazy[_R]: ...
    @overload
    def __get__(self, client: BaseClient, owner: type) -> _R: ...
    def __get__(self, client: BaseClient | None, owner: type) -> _R | _Lazy[_R]:
        if client is None:
            return self
        module = importlib.import_module(f"{__package__}.{self.module}")
        resource: _R = getattr(module, self.name)(client)
        client.__dict__[self.attr] = resource  # later reads skip the descriptor
        return resource


class PortkeyClient(BaseClient):
    """A synchronous Portkey client.

    Configuration falls back to ``PORTKEY_API_KEY``, ``PORTKEY_BASE_URL``,
    ``PORTKEY_VIRTUAL_KEY``, ``PORTKEY_CONFIG``, ``PORTKEY_PROVIDER``,
    ``PORTKEY_PROVIDER_API_KEY`` and ``PORTKEY_CUSTOM_HOST``. With neither an API key nor
    a base URL the first call raises :class:`~portkey_integrations.PortkeyConfigError`;
    ``base_url="local"`` uses the embedded local Portkey-compatible server (the
    ``[server]`` extra).
    """

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = http_client

    prompts: _Lazy[Prompts] = _Lazy("resources.prompts", "Prompts")
    """The prompt admin API: list, retrieve, versions, create, update, publish, delete."""
    partials: _Lazy[Partials] = _Lazy("resources.partials", "Partials")
    """The prompt partials admin API."""
    labels: _Lazy[Labels] = _Lazy("resources.labels", "Labels")
    """The labels admin API."""
    feedback: _Lazy[Feedback] = _Lazy("resources.feedback", "Feedback")
    """Portkey's feedback API: rate traces (create, bulk_create, update)."""

    @client_method(BaseClient._call_request, stream=False)
    def complete(self, request: httpx.Request) -> Completion:
        return self._parse(self._send(request, stream=False), Completion)  # type: ignore[no-any-return]

    @client_method(BaseClient._call_request, stream=True)
    def stream(self, request: httpx.Request) -> Stream:
        response = self._send(request, stream=True)
        return Stream(response, self._info(response))

    @client_method(BaseClient._render_request, stream=False)
    def render(self, request: httpx.Request) -> RenderedPrompt:
        return self._parse(self._send(request, stream=False), RenderedPrompt)  # type: ignore[no-any-return]

    @client_method(embeddings_request, stream=False)
    def embed(self, request: httpx.Request) -> EmbeddingResponse:
        return self._fetch(request, parse_embeddings)

    def _fetch(self, request: httpx.Request, parse: Callable[[httpx.Response], _T]) -> _T:
        """Send a non-streaming request and parse its response (the admin routes)."""
        return parse(self._send(request, stream=False))

    def _prompt_template(self, prompt_id: str) -> PromptTemplate | None:
        # Imported on first use: the prompt API is not part of every call's import cost.
        from ._templates.cache import get_template

        return get_template(self, prompt_id)

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        sender = self._http or sync_sender()
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | httpx.TransportError
            try:
                if isinstance(sender, httpx.Client):
                    outcome = sender.send(request, stream=stream)
                else:
                    outcome = sender.handle_request(request)
                    outcome.request = request
                    if not stream:
                        read(outcome)
            except httpx.TransportError as exc:
                exc.request = request  # transports raise without it; the error names the URL
                outcome = exc
            delay = self._retry_or_raise(attempt, outcome)
            if delay is None:
                break
            if isinstance(outcome, httpx.Response):
                outcome.close()
            time.sleep(delay)
        assert isinstance(outcome, httpx.Response)
        if not is_success(outcome.status_code):
            outcome.read()
            outcome.close()
            raise self._error(outcome)
        return outcome

    def close(self) -> None:
        """Release this client's connections.

        The shared pool stays open for other clients; a given ``http_client`` is the
        caller's to close.
        """

    def __enter__(self) -> PortkeyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPortkeyClient(BaseClient):
    """The asynchronous twin of :class:`PortkeyClient`.

    One instance may be used from several event loops (``asyncio.run`` twice): each loop
    has its own connection pool, because httpx pools are bound to the loop they run in,
    and that pool is closed when its loop shuts down.
    """

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = http_client

    prompts: _Lazy[AsyncPrompts] = _Lazy("resources.prompts", "AsyncPrompts")
    """Async :attr:`PortkeyClient.prompts`."""
    partials: _Lazy[AsyncPartials] = _Lazy("resources.partials", "AsyncPartials")
    """Async :attr:`PortkeyClient.partials`."""
    labels: _Lazy[AsyncLabels] = _Lazy("resources.labels", "AsyncLabels")
    """Async :attr:`PortkeyClient.labels`."""
    feedback: _Lazy[AsyncFeedback] = _Lazy("resources.feedback", "AsyncFeedback")
    """Async :attr:`PortkeyClient.feedback`."""

    @client_method(BaseClient._call_request, stream=False)
    async def complete(self, request: httpx.Request) -> Completion:
        return self._parse(await self._send(request, stream=False), Completion)  # type: ignore[no-any-return]

    @client_method(BaseClient._call_request, stream=True)
    async def stream(self, request: httpx.Request) -> AsyncStream:
        response = await self._send(request, stream=True)
        return AsyncStream(response, self._info(response))

    @client_method(BaseClient._render_request, stream=False)
    async def render(self, request: httpx.Request) -> RenderedPrompt:
        return self._parse(await self._send(request, stream=False), RenderedPrompt)  # type: ignore[no-any-return]

    @client_method(embeddings_request, stream=False)
    async def embed(self, request: httpx.Request) -> EmbeddingResponse:
        return await self._fetch(request, parse_embeddings)

    async def _fetch(self, request: httpx.Request, parse: Callable[[httpx.Response], _T]) -> _T:
        """Async :meth:`PortkeyClient._fetch`."""
        return parse(await self._send(request, stream=False))

    async def _aprompt_template(self, prompt_id: str) -> PromptTemplate | None:
        from ._templates.cache import aget_template

        return await aget_template(self, prompt_id)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        sender = self._http or async_sender()
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | httpx.TransportError
            try:
                if isinstance(sender, httpx.AsyncClient):
                    outcome = await sender.send(request, stream=stream)
                else:
                    outcome = await sender.handle_async_request(request)
                    outcome.request = request
                    if not stream:
                        await aread(outcome)
            except httpx.TransportError as exc:
                exc.request = request  # transports raise without it; the error names the URL
                outcome = exc
            delay = self._retry_or_raise(attempt, outcome)
            if delay is None:
                break
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await asyncio.sleep(delay)
        assert isinstance(outcome, httpx.Response)
        if not is_success(outcome.status_code):
            await outcome.aread()
            await outcome.aclose()
            raise self._error(outcome)
        return outcome

    async def aclose(self) -> None:
        """Release this client's connections (see :meth:`PortkeyClient.close`)."""

    async def __aenter__(self) -> AsyncPortkeyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
