"""The asynchronous Portkey client, the twin of :class:`~._client.PortkeyClient`: the
same requests, built and parsed by :class:`~._base_client.BaseClient`, sent with
``await``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._base_client import BaseClient, LazyResource, prompt_cache, stream_types
from ._call import Call, CheckMode, call_of
from ._error_mapping import status_error
from ._errors import PortkeyError
from ._options import ClientOptions, RequestOptions
from ._pools import async_sender, origin_of, pool_exhausted
from ._response import Completion, RenderedPrompt
from ._transport import asend_once, asend_stream_once, is_success, retry_or_raise

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from ._streaming import AsyncStream
    from ._templates.cache import PromptTemplate
    from .resources.batches import AsyncBatches
    from .resources.embeddings import EmbeddingResponse, EncodingFormat
    from .resources.feedback import AsyncFeedback
    from .resources.files import AsyncFiles
    from .resources.labels import AsyncLabels
    from .resources.partials import AsyncPartials
    from .resources.prompts import AsyncPrompts

__all__ = ["AsyncPortkeyClient"]

_T = TypeVar("_T")


class AsyncPortkeyClient(BaseClient):
    """The asynchronous twin of :class:`PortkeyClient`.

    One instance may be used from several event loops (``asyncio.run`` twice): each loop
    has its own connection pool, because httpx pools are bound to the loop they run in,
    and that pool is closed when its loop shuts down.
    """

    def __init__(
        self, *, http_client: httpx.AsyncClient | None = None, **options: Unpack[ClientOptions]
    ) -> None:
        super().__init__(**options)
        self._http = http_client

    prompts: LazyResource[AsyncPrompts] = LazyResource("resources.prompts", "AsyncPrompts")
    """Async :attr:`PortkeyClient.prompts`."""
    partials: LazyResource[AsyncPartials] = LazyResource("resources.partials", "AsyncPartials")
    """Async :attr:`PortkeyClient.partials`."""
    labels: LazyResource[AsyncLabels] = LazyResource("resources.labels", "AsyncLabels")
    """Async :attr:`PortkeyClient.labels`."""
    feedback: LazyResource[AsyncFeedback] = LazyResource("resources.feedback", "AsyncFeedback")
    """Async :attr:`PortkeyClient.feedback`."""
    files: LazyResource[AsyncFiles] = LazyResource("resources.files", "AsyncFiles")
    """Async :attr:`PortkeyClient.files`."""
    batches: LazyResource[AsyncBatches] = LazyResource("resources.batches", "AsyncBatches")
    """Async :attr:`PortkeyClient.batches`."""

    async def complete(
        self,
        *,
        prompt_id: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        prompt: str | None = None,
        variables: Mapping[str, Any] | None = None,
        raw_variables: Collection[str] = (),
        hyperparameters: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        check_variables: CheckMode = "off",
        **params: Any,
    ) -> Completion:
        """Async :meth:`PortkeyClient.complete`."""
        return await self.send_call(
            call_of(
                prompt_id=prompt_id,
                messages=messages,
                prompt=prompt,
                variables=variables,
                raw_variables=raw_variables,
                hyperparameters=hyperparameters,
                options=options,
                check_variables=check_variables,
                params=params,
            )
        )

    async def stream(
        self,
        *,
        prompt_id: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        prompt: str | None = None,
        variables: Mapping[str, Any] | None = None,
        raw_variables: Collection[str] = (),
        hyperparameters: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        check_variables: CheckMode = "off",
        **params: Any,
    ) -> AsyncStream:
        """Async :meth:`PortkeyClient.stream`: an :class:`AsyncStream` of chunks."""
        return await self.stream_call(
            call_of(
                prompt_id=prompt_id,
                messages=messages,
                prompt=prompt,
                variables=variables,
                raw_variables=raw_variables,
                hyperparameters=hyperparameters,
                options=options,
                check_variables=check_variables,
                params=params,
            )
        )

    async def render(
        self,
        prompt_id: str,
        *,
        variables: Mapping[str, Any] | None = None,
        raw_variables: Collection[str] = (),
        hyperparameters: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        check_variables: CheckMode = "off",
        **params: Any,
    ) -> RenderedPrompt:
        """Async :meth:`PortkeyClient.render`."""
        return await self.render_call(
            call_of(
                prompt_id=prompt_id,
                messages=None,
                prompt=None,
                variables=variables,
                raw_variables=raw_variables,
                hyperparameters=hyperparameters,
                options=options,
                check_variables=check_variables,
                params=params,
            )
        )

    async def embed(
        self,
        input: str | Sequence[str],
        *,
        model: str,
        dimensions: int | None = None,
        encoding_format: EncodingFormat | None = None,
        user: str | None = None,
        options: RequestOptions | None = None,
        **params: Any,
    ) -> EmbeddingResponse:
        """Async :meth:`PortkeyClient.embed`."""
        # The embeddings module (its response models) loads with the first embedding.
        from .resources.embeddings import embeddings_request, parse_embeddings

        request = embeddings_request(
            self,
            False,
            input,
            model=model,
            dimensions=dimensions,
            encoding_format=encoding_format,
            user=user,
            options=options,
            **params,
        )
        return await self._fetch(request, parse_embeddings)

    async def send_call(self, call: Call) -> Completion:
        """Async :meth:`PortkeyClient.send_call`."""
        request, template = await self._prepare(call, stream=False)
        response = await self._send(request, stream=False)
        return self._call_result(call, template, response, Completion)  # type: ignore[no-any-return]

    async def stream_call(self, call: Call) -> AsyncStream:
        """Async :meth:`PortkeyClient.stream_call`."""
        request, template = await self._prepare(call, stream=True)
        response = await self._send(request, stream=True)
        return stream_types()[1](response, self._stream_info(call, template, response))

    async def render_call(self, call: Call) -> RenderedPrompt:
        """Async :meth:`PortkeyClient.render_call`."""
        request, template = await self._prepare(call, stream=None)
        response = await self._send(request, stream=False)
        return self._call_result(call, template, response, RenderedPrompt)  # type: ignore[no-any-return]

    async def _prepare(
        self, call: Call, *, stream: bool | None
    ) -> tuple[httpx.Request, PromptTemplate | None]:
        """Async :meth:`PortkeyClient._prepare`."""
        template = await self._template(call, carried=True)
        try:
            return self._build(call, template, stream), template
        except PortkeyError as exc:
            if not self._expire_if_stale(call, template, exc):
                raise
        template = await self._template(call)
        return self._build(call, template, stream), template

    async def _template(self, call: Call, carried: bool = False) -> PromptTemplate | None:
        ref = self._template_ref(call, carried)
        return await self._aprompt_template(ref) if isinstance(ref, str) else ref

    async def _fetch(self, request: httpx.Request, parse: Callable[[httpx.Response], _T]) -> _T:
        """Async :meth:`PortkeyClient._fetch`."""
        return parse(await self._send(request, stream=False))

    async def _aprompt_template(self, prompt_id: str) -> PromptTemplate | None:
        return await prompt_cache().aget(self, prompt_id)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        # Looked up per call, not kept as the sync client keeps its pool: async pools
        # belong to an event loop, and one client may run in several.
        sender = self._http or async_sender(origin_of(request.url))
        attempt = 0
        while True:
            attempt += 1
            outcome = (
                await asend_stream_once(sender, request)
                if stream
                else await asend_once(sender, request, stream=False)
            )
            if isinstance(outcome, httpx.PoolTimeout):
                # Waiting again would not free a connection: say what is full, at once.
                raise pool_exhausted(outcome, request, own=self._http is None) from None
            delay = retry_or_raise(attempt, outcome, self.max_retries)
            if delay is None:
                break
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await asyncio.sleep(delay)
        assert isinstance(outcome, httpx.Response)
        if not is_success(outcome.status_code):
            await outcome.aread()
            await outcome.aclose()
            raise status_error(outcome)
        return outcome

    async def aclose(self) -> None:
        """Release this client's connections (see :meth:`PortkeyClient.close`)."""

    async def __aenter__(self) -> AsyncPortkeyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
