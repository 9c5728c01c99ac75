"""The Portkey clients: one request builder and parser, a sync and an async transport.

:class:`PortkeyClient` (here) and :class:`AsyncPortkeyClient` (``_async_client.py``)
share everything in :class:`~._base_client.BaseClient`: configuration, request building,
response parsing, error mapping and retry decisions. They differ only in how bytes are
sent and how long they sleep. Both send through the process's pools, one per origin
(``_pools.py``), unless given an ``http_client``, which then carries every request with
all its features (auth, event hooks, mounts, proxies).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

# The async client lives in its own module and is imported with this one.
from ._async_client import AsyncPortkeyClient
from ._base_client import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    LOCAL,
    BaseClient,
    LazyResource,
    prompt_cache,
    stream_types,
)
from ._call import Call, CheckMode, call_of
from ._error_mapping import status_error
from ._errors import PortkeyError
from ._options import ClientOptions, RequestOptions
from ._pools import PoolSlot, SyncSender, origin_of, pool_exhausted, sync_slot
from ._response import Completion, RenderedPrompt
from ._transport import is_success, retry_or_raise, send_once, send_stream_once

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from ._streaming import Stream
    from ._templates.cache import PromptTemplate
    from .resources.batches import Batches
    from .resources.embeddings import EmbeddingResponse, EncodingFormat
    from .resources.feedback import Feedback
    from .resources.files import Files
    from .resources.labels import Labels
    from .resources.partials import Partials
    from .resources.prompts import Prompts

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


class PortkeyClient(BaseClient):
    """A synchronous Portkey client.

    Configuration falls back to ``PORTKEY_API_KEY``, ``PORTKEY_BASE_URL``,
    ``PORTKEY_VIRTUAL_KEY``, ``PORTKEY_CONFIG``, ``PORTKEY_PROVIDER``,
    ``PORTKEY_PROVIDER_API_KEY`` and ``PORTKEY_CUSTOM_HOST``. With neither an API key nor
    a base URL the first call raises :class:`~portkey_integrations.PortkeyConfigError`;
    ``base_url="local"`` uses the embedded local Portkey-compatible server (the
    ``[server]`` extra).
    """

    def __init__(
        self, *, http_client: httpx.Client | None = None, **options: Unpack[ClientOptions]
    ) -> None:
        super().__init__(**options)
        self._http = http_client
        self._pool: PoolSlot | None = None  # the origin's shared pool, looked up once

    prompts: LazyResource[Prompts] = LazyResource("resources.prompts", "Prompts")
    """The prompt admin API: list, retrieve, versions, create, update, publish, delete."""
    partials: LazyResource[Partials] = LazyResource("resources.partials", "Partials")
    """The prompt partials admin API."""
    labels: LazyResource[Labels] = LazyResource("resources.labels", "Labels")
    """The labels admin API."""
    feedback: LazyResource[Feedback] = LazyResource("resources.feedback", "Feedback")
    """Portkey's feedback API: rate traces (create, bulk_create, update)."""
    files: LazyResource[Files] = LazyResource("resources.files", "Files")
    """The files API: upload a batch's input, read its output (create, retrieve, content)."""
    batches: LazyResource[Batches] = LazyResource("resources.batches", "Batches")
    """The batch API: create, retrieve, list, cancel, output."""

    def complete(
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
        """Run a prompt (``prompt_id``), a chat (``messages``) or a text (``prompt``)
        completion.

        ``variables`` fill the prompt's template, encoded by one rule whatever is known
        of the template (:func:`~._request.encode_value`: strings as strings, lists and
        dicts as JSON values, dates, decimals, UUIDs and enums as text;
        ``raw_variables`` is accepted for compatibility and changes nothing);
        ``hyperparameters`` and every other keyword go at the body's root; ``options``
        override the client's routing headers for this call. ``check_variables``
        (``"warn"`` or ``"error"``) fetches the prompt's template once per process and
        checks the variables against it before sending, without changing what is sent.
        """
        return self.send_call(
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

    def stream(
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
    ) -> Stream:
        """:meth:`complete`, streamed: a :class:`Stream` of chunks (close it, or use it
        as a context manager)."""
        return self.stream_call(
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

    def render(
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
        """Return what Portkey would send for this prompt and these variables
        (``/prompts/{id}/render``); the arguments as for :meth:`complete`."""
        return self.render_call(
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

    def embed(
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
        """Embed a text or a list of texts (``/embeddings``) with ``model``.

        ``dimensions`` shortens the vectors (models that support it); ``encoding_format``
        ``"base64"`` makes the answer smaller on the wire and is decoded to floats;
        every other keyword goes at the body's root; ``options`` override the client's
        routing headers for this call.
        """
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
        return self._fetch(request, parse_embeddings)

    def send_call(self, call: Call) -> Completion:
        """Run a typed :class:`~._call.Call` and return its completion."""
        request, template = self._prepare(call, stream=False)
        response = self._send(request, stream=False)
        return self._call_result(call, template, response, Completion)  # type: ignore[no-any-return]

    def stream_call(self, call: Call) -> Stream:
        """Run a typed :class:`~._call.Call` as a stream of chunks."""
        request, template = self._prepare(call, stream=True)
        response = self._send(request, stream=True)
        return stream_types()[0](response, self._stream_info(call, template, response))

    def render_call(self, call: Call) -> RenderedPrompt:
        """Render a typed prompt :class:`~._call.Call` (``/prompts/{id}/render``)."""
        request, template = self._prepare(call, stream=None)
        response = self._send(request, stream=False)
        return self._call_result(call, template, response, RenderedPrompt)  # type: ignore[no-any-return]

    def _prepare(
        self, call: Call, *, stream: bool | None
    ) -> tuple[httpx.Request, PromptTemplate | None]:
        """The request of ``call`` and the template it was checked against; a refusal
        on a cached template that may be stale is checked again on a fresh one."""
        template = self._template(call, carried=True)
        try:
            return self._build(call, template, stream), template
        except PortkeyError as exc:
            if not self._expire_if_stale(call, template, exc):
                raise
        template = self._template(call)
        return self._build(call, template, stream), template

    def _template(self, call: Call, carried: bool = False) -> PromptTemplate | None:
        ref = self._template_ref(call, carried)
        return self._prompt_template(ref) if isinstance(ref, str) else ref

    def _fetch(self, request: httpx.Request, parse: Callable[[httpx.Response], _T]) -> _T:
        """Send a non-streaming request and parse its response (the admin routes)."""
        return parse(self._send(request, stream=False))

    def _prompt_template(self, prompt_id: str) -> PromptTemplate | None:
        return prompt_cache().get(self, prompt_id)

    def _sender(self, request: httpx.Request) -> httpx.Client | SyncSender:
        """The given ``http_client``, or the shared pool of the client's origin: looked up
        on the first call (the base URL fixes the origin) and again only once closed."""
        if self._http is not None:
            return self._http
        sender = self._pool.sender if self._pool is not None else None
        while sender is None:
            self._pool = sync_slot(origin_of(request.url))
            sender = self._pool.sender
        return sender

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        sender = self._sender(request)
        attempt = 0
        while True:
            attempt += 1
            outcome = (
                send_stream_once(sender, request)
                if stream
                else send_once(sender, request, stream=False)
            )
            if isinstance(outcome, httpx.PoolTimeout):
                # Waiting again would not free a connection: say what is full, at once.
                raise pool_exhausted(outcome, request, own=self._http is None) from None
            delay = retry_or_raise(attempt, outcome, self.max_retries)
            if delay is None:
                break
            if isinstance(outcome, httpx.Response):
                outcome.close()
            time.sleep(delay)
        assert isinstance(outcome, httpx.Response)
        if not is_success(outcome.status_code):
            outcome.read()
            outcome.close()
            raise status_error(outcome)
        return outcome

    def close(self) -> None:
        """Release this client's connections.

        The origin's shared pool stays open for other clients; a given ``http_client`` is the
        caller's to close.
        """

    def __enter__(self) -> PortkeyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
