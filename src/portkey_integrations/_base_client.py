"""What the sync and async clients share: configuration, request building, response
parsing, error mapping and retry decisions.

:class:`PortkeyClient` and :class:`AsyncPortkeyClient` (``_client.py``) add only how a
built request is sent and how long they sleep between attempts.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import unquote

import httpx
from pydantic import BaseModel, SecretStr

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

if TYPE_CHECKING:
    from ._templates.cache import PromptTemplate
    from ._templates.checks import CheckMode
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOCAL",
    "BaseClient",
    "client_method",
]

logger = logging.getLogger("portkey_integrations")

DEFAULT_BASE_URL = "https://api.portkey.ai/v1"
LOCAL = "local"
"""``base_url="local"`` (or ``PORTKEY_BASE_URL=local``): the embedded local server."""
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 2
_USER_AGENT = f"portkey-integrations/{__version__}"

_NO_TARGET = (
    "no Portkey API key or base URL is configured: set PORTKEY_API_KEY (or pass "
    "api_key=...) to call Portkey, set PORTKEY_BASE_URL (or base_url=...) for a "
    'self-hosted gateway, or pass base_url="local" (PORTKEY_BASE_URL=local) to use the '
    "embedded local Portkey-compatible server"
)

_M = TypeVar("_M", bound=BaseModel)
_C = TypeVar("_C", bound="BaseClient")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class BaseClient:
    """Configuration and request building of both clients.

    Routing options are the fields of :class:`RequestOptions`, passed as keywords
    (``metadata=`` for ``x-portkey-metadata``); an unknown keyword raises
    :class:`PortkeyConfigError` naming it. Options fall back to ``PORTKEY_*`` variables.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        **options: Any,
    ) -> None:
        if default_headers is not None:
            options["extra_headers"] = default_headers
        given = {k: v for k, v in options.items() if v is not None}
        self.options = RequestOptions.make(**{**options_from_env(), **given})
        if not isinstance(max_retries, int) or max_retries < 0:
            raise PortkeyConfigError("max_retries must be an integer >= 0")
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

    def __repr__(self) -> str:
        key = "set" if self.options.api_key is not None else None
        url = self._base_url or self._configured_url
        return f"{type(self).__name__}(base_url={url!r}, api_key={key!r})"

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
        check_variables: CheckMode = "off",
        template: PromptTemplate | None = None,
        **params: Any,
    ) -> httpx.Request:
        """Run a prompt (``prompt_id``), a chat (``messages``) or a text (``prompt``)
        completion.

        ``variables`` fill the prompt's template (names in ``raw_variables`` go as JSON
        values rather than strings); ``hyperparameters`` and every other keyword go at the
        body's root; ``options`` override the client's routing headers for this call.
        ``check_variables`` (``"warn"`` or ``"error"``) fetches the prompt's template once
        per process and checks the variables against it before sending; with the
        template known, variables it reads as sections, loops or dotted names go as JSON
        values. ``stream`` returns a :class:`Stream` (``AsyncStream``) of chunks.
        """
        given = [x is not None for x in (prompt_id, messages, prompt)]
        if sum(given) != 1:
            raise PortkeyConfigError("pass exactly one of prompt_id, messages or prompt")
        route: Route
        if prompt_id is not None:
            route, path = "prompt", prompt_path(prompt_id, "completions")
            raw_variables = _checked(prompt_id, template, variables, raw_variables, check_variables)
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
        return self._request("POST", path, body, options, stream)

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
        check_variables: CheckMode = "off",
        template: PromptTemplate | None = None,
        **params: Any,
    ) -> httpx.Request:
        """Return what Portkey would send for this prompt and these variables
        (``/prompts/{id}/render``); ``check_variables`` as for ``complete``."""
        raw_variables = _checked(prompt_id, template, variables, raw_variables, check_variables)
        body = build_body(
            "render",
            params,
            stream=False,
            variables=variables,
            raw_variables=raw_variables,
            hyperparameters=hyperparameters,
        )
        return self._request("POST", prompt_path(prompt_id, "render"), body, options, False)

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
        headers = self._stream_headers if stream else self._headers
        if options is not None:
            headers = headers.copy()
            for name, value in options.headers().items():
                headers[name] = value
        content = None
        if body is not None:
            try:
                content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            except (TypeError, ValueError) as exc:
                raise PortkeyConfigError(f"request body is not JSON serializable: {exc}") from None
        url = self._url(path)
        if query:
            url = url.copy_merge_params({k: v for k, v in query.items() if v is not None})
        return httpx.Request(
            method, url, headers=headers, content=content, extensions=self._timeout_ext
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
                raise connection_error(outcome) from outcome
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
        return make_status_error(
            response.status_code,
            response.text,
            response.headers,
            prompt_id=requested_prompt_id(response.request.url),
        )

    @staticmethod
    def _info(response: httpx.Response) -> ResponseInfo:
        return ResponseInfo.from_headers(response.status_code, response.headers)

    def _parse(
        self, response: httpx.Response, model: type[Completion] | type[RenderedPrompt]
    ) -> Any:
        result = parse_model(response, model)
        extra = result.model_extra
        if isinstance(result, Completion) and not result.choices and extra and "body" in extra:
            # The OpenAPI file documents a {status, headers, body} envelope; tolerate it.
            try:
                result = model.model_validate(extra["body"])
            except ValueError as exc:
                raise APIStatusError(
                    f"response envelope's body is not a valid {model.__name__}: {exc}",
                    status_code=response.status_code,
                    body=response.text,
                    trace_id=response.headers.get("x-portkey-trace-id"),
                ) from None
        result._info = self._info(response)
        return result


def parse_model(response: httpx.Response, model: type[_M]) -> _M:
    """Validate a JSON response body as ``model``; a body that does not fit raises
    :class:`APIStatusError` (never a bare ``ValidationError``)."""
    try:
        return model.model_validate_json(response.content)
    except ValueError as exc:
        raise APIStatusError(
            f"response body is not a valid {model.__name__}: {exc}",
            status_code=response.status_code,
            body=response.text,
            trace_id=response.headers.get("x-portkey-trace-id"),
        ) from None


def requested_prompt_id(url: httpx.URL) -> str | None:
    """The prompt id a ``/prompts/{id}/completions`` (or ``/render``) URL asked for."""
    parts = url.raw_path.decode("ascii", "replace").split("?", 1)[0].split("/")
    if len(parts) >= 3 and parts[-3] == "prompts" and parts[-1] in ("completions", "render"):
        return unquote(parts[-2])
    return None


def client_method(
    build: Callable[Concatenate[Any, bool, _P], httpx.Request], *, stream: bool
) -> Callable[[Callable[[_C, httpx.Request], _T]], Callable[Concatenate[_C, _P], _T]]:
    """Give a client method the signature and docs of its request builder.

    The sync and async clients declare only how a built request is sent and parsed;
    the arguments, their checks and the request are written once, in the builder.
    """

    checks = "check_variables" in inspect.signature(build).parameters

    def decorate(run: Callable[[_C, httpx.Request], _T]) -> Callable[Concatenate[_C, _P], _T]:
        def method(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            if checks and (ref := _template_ref(args, kwargs)) is not None:
                kwargs["template"] = self._prompt_template(ref)  # type: ignore[attr-defined]
            return run(self, build(self, stream, *args, **kwargs))

        if inspect.iscoroutinefunction(run):
            # Keep the async client's methods real coroutine functions for introspection.
            async def amethod(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> Any:
                if checks and (ref := _template_ref(args, kwargs)) is not None:
                    kwargs["template"] = await self._aprompt_template(ref)  # type: ignore[attr-defined]
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


def _checked(
    prompt_id: str,
    template: PromptTemplate | None,
    variables: Mapping[str, Any] | None,
    raw: Collection[str],
    mode: CheckMode,
) -> Collection[str]:
    if template is None or mode == "off":
        return raw
    from ._templates.checks import checked_raw_variables

    return checked_raw_variables(prompt_id, template, variables or {}, raw, mode)


def _template_ref(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """The prompt whose template a call's check needs (``render`` takes it positionally)."""
    mode = kwargs.get("check_variables", "off")
    ref = kwargs.get("prompt_id", args[0] if args else None)
    if mode == "off" or ref is None or kwargs.get("template") is not None:
        return None
    from ._templates.checks import check_mode

    check_mode(mode)
    return ref  # type: ignore[no-any-return]


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """The package's error for a transport failure, naming the URL it tried."""
    try:
        url: str | None = str(exc.request.url.copy_with(userinfo=b""))
    except RuntimeError:
        url = None
    where = f" to {url}" if url else ""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request{where} timed out ({type(exc).__name__})", url=url)
    return APIConnectionError(f"connection error{where} ({type(exc).__name__}: {exc})", url=url)


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
