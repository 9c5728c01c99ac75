"""The Portkey clients: one request builder and parser, a sync and an async transport.

:class:`PortkeyClient` and :class:`AsyncPortkeyClient` share everything in
:class:`_BaseClient`: configuration, request building, response parsing, error mapping
and retry decisions. They differ only in how bytes are sent and how long they sleep.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx
from pydantic import SecretStr

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    PortkeyConfigError,
    make_status_error,
)
from ._options import RequestOptions, options_from_env
from ._request import Route, build_body, prompt_path
from ._response import Completion, RenderedPrompt, ResponseInfo
from ._retry import is_success, retry_delay, should_retry
from ._streaming import AsyncStream, Stream
from ._transport import NoCookieJar, aread, proxies_configured, read

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncPortkeyClient",
    "PortkeyClient",
]

logger = logging.getLogger("portkey_integrations")

DEFAULT_BASE_URL = "https://api.portkey.ai/v1"
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
_USER_AGENT = "portkey-integrations/0.1"


_C = TypeVar("_C", bound="_BaseClient")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class _BaseClient:
    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        virtual_key: str | SecretStr | None = None,
        config: str | Mapping[str, Any] | None = None,
        provider: str | None = None,
        provider_api_key: str | SecretStr | None = None,
        custom_host: str | None = None,
        trace_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        cache_force_refresh: bool | None = None,
        cache_namespace: str | None = None,
        request_timeout: int | None = None,
        forward_headers: str | Iterable[str] | None = None,
        strict_open_ai_compliance: bool | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        given = {
            "api_key": api_key,
            "virtual_key": virtual_key,
            "config": config,
            "provider": provider,
            "provider_api_key": provider_api_key,
            "custom_host": custom_host,
            "trace_id": trace_id,
            "metadata": metadata,
            "cache_force_refresh": cache_force_refresh,
            "cache_namespace": cache_namespace,
            "request_timeout": request_timeout,
            "forward_headers": forward_headers,
            "strict_open_ai_compliance": strict_open_ai_compliance,
            "extra_headers": default_headers,
        }
        fields = {**options_from_env(), **{k: v for k, v in given.items() if v is not None}}
        self.options = RequestOptions.make(**fields)
        if max_retries < 0:
            raise PortkeyConfigError("max_retries must be >= 0")
        self.max_retries = max_retries
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._timeout_ext = {"timeout": self.timeout.as_dict()}
        self._urls: dict[str, httpx.URL] = {}
        self._headers = httpx.Headers(
            {
                "content-type": "application/json",
                "accept": "application/json",
                "user-agent": _USER_AGENT,
                **self.options.headers(),
            }
        )
        # Copying prepared Headers is far cheaper than normalizing a dict per call.
        self._stream_headers = httpx.Headers({**self._headers, "accept": "text/event-stream"})
        url = base_url or os.environ.get("PORTKEY_BASE_URL")
        if url is None and self.options.api_key is not None:
            url = DEFAULT_BASE_URL
        self._base_url = url.rstrip("/") if url else None

    @property
    def base_url(self) -> str:
        """The Portkey base URL; the embedded local server when no key or URL is set."""
        if self._base_url is None:
            self._base_url = _embedded_base_url()
        return self._base_url

    @property
    def api_key(self) -> SecretStr | None:
        return self.options.api_key

    def __repr__(self) -> str:
        key = "set" if self.options.api_key is not None else None
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key={key!r})"

    def _call_request(
        self,
        stream: bool,
        /,
        *,
        prompt_id: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        prompt: str | None = None,
        variables: Mapping[str, Any] | None = None,
        raw_variables: Collection[str] = (),
        hyperparameters: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        **params: Any,
    ) -> httpx.Request:
        """Run a prompt (``prompt_id``), a chat (``messages``) or a text (``prompt``)
        completion.

        ``variables`` fill the prompt's template (names in ``raw_variables`` go as JSON
        values rather than strings); ``hyperparameters`` and every other keyword go at the
        body's root; ``options`` override the client's routing headers for this call.
        ``stream`` returns a :class:`Stream` (``AsyncStream``) of chunks.
        """
        given = [x is not None for x in (prompt_id, messages, prompt)]
        if sum(given) != 1:
            raise PortkeyConfigError("pass exactly one of prompt_id, messages or prompt")
        route: Route
        if prompt_id is not None:
            route, path = "prompt", prompt_path(prompt_id, "completions")
        elif messages is not None:
            route, path = "chat", "/chat/completions"
            params["messages"] = messages
        else:
            route, path = "text", "/completions"
            params["prompt"] = prompt
        body = build_body(
            route,
            params,
            stream=stream,
            variables=variables,
            raw_variables=raw_variables,
            hyperparameters=hyperparameters,
        )
        return self._request(path, body, options, stream)

    def _render_request(
        self,
        stream: bool,
        prompt_id: str,
        /,
        *,
        variables: Mapping[str, Any] | None = None,
        raw_variables: Collection[str] = (),
        hyperparameters: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
        **params: Any,
    ) -> httpx.Request:
        """Return what Portkey would send for this prompt and these variables
        (``/prompts/{id}/render``)."""
        body = build_body(
            "render",
            params,
            stream=False,
            variables=variables,
            raw_variables=raw_variables,
            hyperparameters=hyperparameters,
        )
        return self._request(prompt_path(prompt_id, "render"), body, options, False)

    def _request(
        self, path: str, body: dict[str, Any], options: RequestOptions | None, stream: bool
    ) -> httpx.Request:
        headers = self._stream_headers if stream else self._headers
        if options is not None:
            headers = httpx.Headers({**headers, **options.headers()})
        try:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise PortkeyConfigError(f"request body is not JSON serializable: {exc}") from None
        return httpx.Request(
            "POST",
            self._url(path),
            headers=headers,
            content=content,
            extensions=self._timeout_ext,
        )

    def _url(self, path: str) -> httpx.URL:
        # Parsing the URL is a measurable share of a call and routes repeat: cache them.
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) > 256:
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self.base_url + path)
        return url

    def _retry_or_raise(
        self, attempt: int, outcome: httpx.Response | httpx.TransportError
    ) -> float | None:
        """Decide after one attempt: ``None`` means done, a float means retry after it."""
        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            if is_success(status) or not should_retry(status):
                return None
            headers: Mapping[str, str] | None = outcome.headers
        else:
            headers = None
        if attempt > self.max_retries:
            if isinstance(outcome, httpx.TransportError):
                raise _connection_error(outcome) from outcome
            return None
        delay = retry_delay(attempt, headers)
        logger.info(
            "retrying request (attempt %d of %d) in %.2fs after %s",
            attempt,
            self.max_retries,
            delay,
            outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__,
        )
        return delay

    @staticmethod
    def _error(response: httpx.Response) -> APIStatusError:
        return make_status_error(response.status_code, response.text, response.headers)

    @staticmethod
    def _info(response: httpx.Response) -> ResponseInfo:
        return ResponseInfo.from_headers(response.status_code, response.headers)

    def _parse(
        self, response: httpx.Response, model: type[Completion] | type[RenderedPrompt]
    ) -> Any:
        try:
            result = model.model_validate_json(response.content)
        except ValueError as exc:
            raise APIStatusError(
                f"response body is not a valid {model.__name__}: {exc}",
                status_code=response.status_code,
                body=response.text,
                trace_id=response.headers.get("x-portkey-trace-id"),
            ) from None
        extra = result.model_extra
        if isinstance(result, Completion) and not result.choices and extra and "body" in extra:
            # The OpenAPI file documents a {status, headers, body} envelope; tolerate it.
            result = model.model_validate(extra["body"])
        result._info = self._info(response)
        return result


def _call(
    build: Callable[Concatenate[_BaseClient, bool, _P], httpx.Request], *, stream: bool
) -> Callable[[Callable[[_C, httpx.Request], _T]], Callable[Concatenate[_C, _P], _T]]:
    """Give a client method the signature and docs of its request builder.

    The sync and async clients declare only how a built request is sent and parsed;
    the arguments, their checks and the request are written once, in the builder.
    """

    def decorate(run: Callable[[_C, httpx.Request], _T]) -> Callable[Concatenate[_C, _P], _T]:
        def method(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            return run(self, build(self, stream, *args, **kwargs))

        if inspect.iscoroutinefunction(run):
            # Keep the async client's methods real coroutine functions for introspection.
            async def amethod(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> Any:
                return await run(self, build(self, stream, *args, **kwargs))

            method = amethod  # type: ignore[assignment]

        params = list(inspect.signature(build).parameters.values())
        del params[1]  # the stream flag is the method's, not the caller's
        method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            params, return_annotation=inspect.signature(run).return_annotation
        )
        method.__name__ = method.__qualname__ = run.__name__
        method.__doc__ = build.__doc__
        method.__module__ = run.__module__
        return method

    return decorate


def _connection_error(exc: httpx.TransportError) -> APIConnectionError:
    try:
        url: str | None = str(exc.request.url)
    except RuntimeError:
        url = None
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out ({type(exc).__name__})", url=url)
    return APIConnectionError(f"connection error ({type(exc).__name__}: {exc})", url=url)


class PortkeyClient(_BaseClient):
    """A synchronous Portkey client.

    Configuration falls back to ``PORTKEY_API_KEY``, ``PORTKEY_BASE_URL``,
    ``PORTKEY_VIRTUAL_KEY``, ``PORTKEY_CONFIG``, ``PORTKEY_PROVIDER``,
    ``PORTKEY_PROVIDER_API_KEY`` and ``PORTKEY_CUSTOM_HOST``. With neither an API key nor
    a base URL, requests go to the embedded local Portkey-compatible server (the
    ``[server]`` extra).
    """

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._transport: httpx.BaseTransport | None = None
        if http_client is None and not proxies_configured():
            self._transport = httpx.HTTPTransport()
            http_client = httpx.Client(timeout=self.timeout, transport=self._transport)
        self._http = http_client or httpx.Client(timeout=self.timeout, cookies=NoCookieJar())

    @_call(_BaseClient._call_request, stream=False)
    def complete(self, request: httpx.Request) -> Completion:
        return self._parse(self._send(request, stream=False), Completion)  # type: ignore[no-any-return]

    @_call(_BaseClient._call_request, stream=True)
    def stream(self, request: httpx.Request) -> Stream:
        response = self._send(request, stream=True)
        return Stream(response, self._info(response))

    @_call(_BaseClient._render_request, stream=False)
    def render(self, request: httpx.Request) -> RenderedPrompt:
        return self._parse(self._send(request, stream=False), RenderedPrompt)  # type: ignore[no-any-return]

    def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | httpx.TransportError
            try:
                if self._transport is None:
                    outcome = self._http.send(request, stream=stream)
                else:
                    outcome = self._transport.handle_request(request)
                    outcome.request = request
                    if not stream:
                        read(outcome)
            except httpx.TransportError as exc:
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
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> PortkeyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPortkeyClient(_BaseClient):
    """The asynchronous twin of :class:`PortkeyClient`.

    One instance may be used from several event loops (``asyncio.run`` twice): each loop
    gets its own connection pool, because httpx pools are bound to the loop they run in.
    """

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._given_http = http_client
        self._pools: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, httpx.AsyncBaseTransport | None]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _pool(self) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport | None]:
        if self._given_http is not None:
            return self._given_http, None
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            with self._lock:
                pool = self._pools.get(loop)
                if pool is None:
                    transport = None if proxies_configured() else httpx.AsyncHTTPTransport()
                    http = httpx.AsyncClient(
                        timeout=self.timeout, transport=transport, cookies=NoCookieJar()
                    )
                    pool = self._pools[loop] = (http, transport)
        return pool

    @_call(_BaseClient._call_request, stream=False)
    async def complete(self, request: httpx.Request) -> Completion:
        return self._parse(await self._send(request, stream=False), Completion)  # type: ignore[no-any-return]

    @_call(_BaseClient._call_request, stream=True)
    async def stream(self, request: httpx.Request) -> AsyncStream:
        response = await self._send(request, stream=True)
        return AsyncStream(response, self._info(response))

    @_call(_BaseClient._render_request, stream=False)
    async def render(self, request: httpx.Request) -> RenderedPrompt:
        return self._parse(await self._send(request, stream=False), RenderedPrompt)  # type: ignore[no-any-return]

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        http, transport = self._pool()
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | httpx.TransportError
            try:
                if transport is None:
                    outcome = await http.send(request, stream=stream)
                else:
                    outcome = await transport.handle_async_request(request)
                    outcome.request = request
                    if not stream:
                        await aread(outcome)
            except httpx.TransportError as exc:
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
        """Close the connection pool of the running loop (and the given client, if any)."""
        if self._given_http is not None:
            await self._given_http.aclose()
            return
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool[0].aclose()

    async def __aenter__(self) -> AsyncPortkeyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _embedded_base_url() -> str:
    try:
        from .server.embedded import embedded_base_url
    except ImportError as exc:
        raise PortkeyConfigError(
            "no Portkey API key or base URL is configured: set PORTKEY_API_KEY (or pass "
            "api_key=...), set PORTKEY_BASE_URL, or install portkey-integrations[server] "
            f"to use the embedded local Portkey-compatible server ({exc})"
        ) from None
    global _warned_embedded
    url: str = embedded_base_url()
    if not _warned_embedded:
        _warned_embedded = True
        logger.warning(
            "PORTKEY_API_KEY is not set: using the embedded local Portkey-compatible server at %s",
            url,
        )
    return url


_warned_embedded = False
