"""What the sync and async clients share: configuration, request building and response
parsing.

:class:`PortkeyClient` and :class:`AsyncPortkeyClient` (``_client.py``) add only how a
built request is sent and how long they sleep between attempts; whether to send again
is one decision for both (``_transport.retry_or_raise``).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import httpx
from pydantic import SecretStr

from ._errors import APIStatusError, PortkeyConfigError
from ._options import ClientOptions, RequestOptions, options_from_env
from ._request import (
    BODY_JSON,
    CALL_PATHS,
    FRAMING_HEADERS,
    build_body,
    call_body,
    encode_headers,
    framed_request,
    overlay_headers,
    prompt_path,
)
from ._response import Completion, RenderedPrompt, ResponseInfo, parse_model, parse_result
from ._version import __version__

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from ._call import Call
    from ._streaming import AsyncStream, Stream
    from ._templates.cache import PromptCache, PromptTemplate

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOCAL",
    "BaseClient",
    "LazyResource",
    "parse_model",
    "prompt_cache",
    "stream_types",
]

logger = logging.getLogger("portkey_integrations")

DEFAULT_BASE_URL = "https://api.portkey.ai/v1"
LOCAL = "local"
"""``base_url="local"`` (or ``PORTKEY_BASE_URL=local``): the embedded local server."""
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_POOL_TIMEOUT = 30.0
"""Longest wait for a free pooled connection (never longer than the read timeout): a full
pool says so long before a read would time out."""
DEFAULT_MAX_RETRIES = 2
_USER_AGENT = f"portkey-integrations/{__version__}"

_NO_TARGET = (
    "no Portkey API key or base URL is configured: set PORTKEY_API_KEY (or pass "
    "api_key=...) to call Portkey, set PORTKEY_BASE_URL (or base_url=...) for a "
    'self-hosted gateway, or pass base_url="local" (PORTKEY_BASE_URL=local) to use the '
    "embedded local Portkey-compatible server"
)

_R = TypeVar("_R")


class BaseClient:
    """Configuration and request building of both clients.

    The options are :class:`~._options.ClientOptions`: the routing options (the fields
    of :class:`RequestOptions`, ``metadata=`` for ``x-portkey-metadata``) and the
    connection settings. An unknown keyword raises :class:`PortkeyConfigError` naming
    it. Options fall back to ``PORTKEY_*`` variables.

    A call is built by :meth:`_call_request` or :meth:`_render_request` from a
    :class:`~._call.Call` and, when the call checks its variables, the prompt's saved
    template, which the sync client fetches and the async one awaits.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        given: dict[str, Any] = dict(options)
        base_url: str | None = given.pop("base_url", None)
        timeout = given.pop("timeout", DEFAULT_TIMEOUT)
        connect_timeout = given.pop("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
        max_retries = given.pop("max_retries", DEFAULT_MAX_RETRIES)
        default_headers = given.pop("default_headers", None)
        if default_headers is not None:
            given["extra_headers"] = default_headers
        given = {k: v for k, v in given.items() if v is not None}
        self.options = RequestOptions.make(**{**options_from_env(), **given})
        if not isinstance(max_retries, int) or max_retries < 0:
            raise PortkeyConfigError("max_retries must be an integer >= 0")
        self.max_retries = max_retries
        pool = None if timeout is None else min(timeout, DEFAULT_POOL_TIMEOUT)
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout, pool=pool)
        self._timeout_ext = {"timeout": self.timeout.as_dict()}
        self._urls: dict[str, tuple[httpx.URL, bytes]] = {}
        self._headers = httpx.Headers(
            {
                "content-type": "application/json",
                "accept": "application/json",
                "user-agent": _USER_AGENT,
                **self.options.headers(),
            }
        )
        # Encoded once: each request is handed its headers as bytes pairs, which httpx
        # takes as they are instead of normalizing a dict or copying a Headers.
        self._raw = encode_headers(self._headers.items())
        self._stream_raw = encode_headers({**self._headers, "accept": "text/event-stream"}.items())
        # A Host or framing header of the caller's own: httpx then frames the requests.
        self._own_framing = not FRAMING_HEADERS.isdisjoint(self._headers.keys())
        url = base_url or os.environ.get("PORTKEY_BASE_URL") or None
        if url is None and self.options.api_key is not None:
            url = DEFAULT_BASE_URL
        self._configured_url = url
        self._base_url = None if url is None or url == LOCAL else url.rstrip("/")

    @property
    def base_url(self) -> str:
        """The Portkey base URL (the embedded local server's for ``base_url="local"``).

        Raises :class:`PortkeyConfigError` when neither a key nor a base URL is set: the
        client never falls back to the local server by itself.
        """
        if self._base_url is None:
            if self._configured_url != LOCAL:
                raise PortkeyConfigError(_NO_TARGET)
            self._base_url = _embedded_base_url()
        return self._base_url

    @property
    def api_key(self) -> SecretStr | None:
        """The Portkey API key, as a ``SecretStr``."""
        return self.options.api_key

    def __getstate__(self) -> dict[str, Any]:
        # The timeout goes by value: openai, and the copy of it inside portkey-ai, rename
        # httpx.Timeout to ``openai.Timeout`` when imported, and pickle then looks for
        # a module that may not be installed.
        return {**self.__dict__, "timeout": self.timeout.as_dict()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.timeout = httpx.Timeout(**state["timeout"])

    def __repr__(self) -> str:
        key = "set" if self.options.api_key is not None else None
        url = self._base_url or self._configured_url
        return f"{type(self).__name__}(base_url={url!r}, api_key={key!r})"

    @staticmethod
    def _template_ref(call: Call, carried: bool = False) -> str | PromptTemplate | None:
        """What the call's variables check reads: nothing, the template the call carries
        (``carried``: no read), or the prompt reference the sync client fetches and the
        async one awaits before :meth:`_call_request` / :meth:`_render_request`."""
        if call.check_variables == "off":
            return None
        if carried and call.template is not None:
            return call.template
        return call.prompt_id

    def _build(
        self, call: Call, template: PromptTemplate | None, stream: bool | None
    ) -> httpx.Request:
        """The request of ``call``: a completion (``stream`` true or false) or, with
        ``stream=None``, a render."""
        if stream is None:
            return self._render_request(call, template)
        return self._call_request(call, template, stream=stream)

    def _expire_if_stale(self, call: Call, template: PromptTemplate | None, exc: Exception) -> bool:
        """Whether the variables check refused ``call`` on a cached ``template`` that a
        moved label or a newly published version may have replaced; if so the copy is
        expired, and the caller fetches it again and checks once more, so a stale copy
        never refuses a call Portkey would run. A copy fetched a moment ago (for this
        very call) or a pinned version (``pp-x@3``, which never changes) is not fetched
        again."""
        if template is None or not isinstance(exc, APIStatusError) or exc.status_code is not None:
            return False  # not the check's refusal (it has no status: nothing was sent)
        ref = call.prompt_ref
        if ref is None or (ref[1] is not None and ref[1].isdigit() and ref[1].isascii()):
            return False
        assert call.prompt_id is not None
        return prompt_cache().expire(self, call.prompt_id, template)

    def _observe_version(
        self, call: Call, template: PromptTemplate | None, info: ResponseInfo
    ) -> None:
        """After a prompt-route response: when the call was checked against a cached
        template and the response names another version (``x-portkey-prompt-version``),
        mark the cached copy stale so the next read refreshes it (a label moved, a
        version was published). Costs a comparison when nothing changed."""
        version = info.prompt_version
        if template is None or version is None or template.version == version:
            return
        if call.prompt_id is None:
            return
        if prompt_cache().observe_version(self.base_url, call.prompt_id, version):
            logger.debug(
                "prompt %s ran version %d, the cached template holds %s: refreshing it",
                call.prompt_id,
                version,
                template.version,
            )

    def _call_request(
        self, call: Call, template: PromptTemplate | None, *, stream: bool
    ) -> httpx.Request:
        """The request of a prompt, chat or text completion; ``template`` is the prompt's
        saved template when the call checks its variables (``None`` skips the check)."""
        route, body = call_body(call, stream=stream)
        if call.prompt_id is None:
            return self._request("POST", CALL_PATHS[route], body, call.options, stream)
        _check(call, call.prompt_id, template, body["variables"])
        path = prompt_path(call.prompt_id, "completions")
        return self._request("POST", path, body, call.options, stream)

    def _render_request(self, call: Call, template: PromptTemplate | None) -> httpx.Request:
        """The request of ``/prompts/{id}/render``: what Portkey would send for the call."""
        if call.prompt_id is None:
            raise PortkeyConfigError("rendering needs a prompt_id")
        body = build_body("render", call.params, stream=False, variables=call.variables)
        _check(call, call.prompt_id, template, body["variables"])
        return self._request(
            "POST", prompt_path(call.prompt_id, "render"), body, call.options, False
        )

    def _request(
        self,
        method: str,
        path: str,
        body: Any,
        options: RequestOptions | None,
        stream: bool = False,
        query: Mapping[str, Any] | None = None,
    ) -> httpx.Request:
        """One request to ``path`` under the base URL; ``body=None`` sends none.

        Every route (completions and the admin API alike) is built here, so they share
        headers, timeouts, retries and error mapping.
        """
        raw = self._stream_raw if stream else self._raw
        own_framing = self._own_framing
        if options is not None:
            headers = options.headers()
            if headers:
                raw = overlay_headers(raw, headers)
                own_framing = own_framing or not FRAMING_HEADERS.isdisjoint(headers)
        url, host = self._url(path)
        if query:
            url = url.copy_merge_params({k: v for k, v in query.items() if v is not None})
        content = None
        if body is not None:
            try:
                content = BODY_JSON.encode(body).encode()
            except (TypeError, ValueError) as exc:
                raise PortkeyConfigError(f"request body is not JSON serializable: {exc}") from None
        if content is None or own_framing:
            return httpx.Request(
                method, url, headers=raw, content=content, extensions=self._timeout_ext
            )
        return framed_request(method, url, host, raw, content, self._timeout_ext)

    def _url(self, path: str) -> tuple[httpx.URL, bytes]:
        """The URL of ``path`` and its ``Host`` header."""
        # Parsing the URL is a measurable share of a call and routes repeat: cache them.
        found = self._urls.get(path)
        if found is None:
            if len(self._urls) > 256:
                self._urls.clear()
            url = httpx.URL(self.base_url + path)
            found = self._urls[path] = (url, url.netloc)
        return found

    @staticmethod
    def _info(response: httpx.Response) -> ResponseInfo:
        return ResponseInfo.from_headers(response.status_code, response.headers)

    def _call_result(
        self,
        call: Call,
        template: PromptTemplate | None,
        response: httpx.Response,
        model: type[Completion] | type[RenderedPrompt],
    ) -> Any:
        """The parsed answer of ``call``, having noted the version it ran."""
        result = parse_result(response, model)
        self._observe_version(call, template, result.portkey)
        return result

    def _stream_info(
        self, call: Call, template: PromptTemplate | None, response: httpx.Response
    ) -> ResponseInfo:
        """The headers of a streamed answer to ``call``, having noted the version it ran."""
        info = ResponseInfo.from_headers(response.status_code, response.headers)
        self._observe_version(call, template, info)
        return info


class LazyResource(Generic[_R]):
    """A resource built on first access (its module imported then, not with the core)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name, self.attr = module, name, ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, client: None, owner: type) -> LazyResource[_R]: ...
    @overload
    def __get__(self, client: BaseClient, owner: type) -> _R: ...
    def __get__(self, client: BaseClient | None, owner: type) -> _R | LazyResource[_R]:
        if client is None:
            return self
        resource: _R = getattr(_lazy(f".{self.module}"), self.name)(client)
        client.__dict__[self.attr] = resource  # later reads skip the descriptor
        return resource


def _check(
    call: Call, prompt_id: str, template: PromptTemplate | None, sent: Mapping[str, Any]
) -> None:
    """Check the variables about to be ``sent`` (already encoded) against ``template``;
    never changes what is sent (the encoding does not depend on the template)."""
    if template is None or call.check_variables == "off":
        return
    checks = _lazy("._templates.checks")
    checks.check_call_variables(prompt_id, template, sent, call.check_variables, mapped=call.mapped)


@functools.cache
def _lazy(module: str) -> ModuleType:
    # What only some calls need is imported with the first of them, not with the core;
    # once: an import statement on every call costs a microsecond.
    return importlib.import_module(module, __package__)


def stream_types() -> tuple[type[Stream], type[AsyncStream]]:
    """``Stream`` and ``AsyncStream``, imported with the first stream: a client that
    never streams does not load them."""
    streaming = _lazy("._streaming")
    return streaming.Stream, streaming.AsyncStream


def prompt_cache() -> PromptCache:
    """The process's prompt cache, imported with the first prompt call that checks its
    variables: the prompt API is not part of the core's import."""
    cache: PromptCache = _lazy("._templates.cache").prompt_cache
    return cache


def _embedded_base_url() -> str:
    try:
        from .server.embedded import embedded_base_url
    except ImportError as exc:
        raise PortkeyConfigError(
            'base_url="local" needs the local server: pip install '
            f"'portkey-integrations[server]' ({exc})"
        ) from None
    url: str = embedded_base_url()
    logger.info("using the embedded local Portkey-compatible server at %s", url)
    return url
