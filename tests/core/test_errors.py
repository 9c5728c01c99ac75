"""Error classes from every status and body shape Portkey and providers send, the prompt id
and URL they name, and the secrets they never hold."""

from __future__ import annotations

import asyncio
import json
import pickle
import re
import socket
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from portkey_integrations import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncPortkeyClient,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    GuardrailError,
    InternalServerError,
    MissingVariableError,
    NotFoundError,
    PermissionDeniedError,
    PortkeyClient,
    PortkeyError,
    PromptNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    TemplateError,
    _errors,
)
from portkey_integrations._error_mapping import (
    make_status_error,
    make_stream_error,
    status_error_class,
)
from portkey_integrations._errors import TemplateRenderError
from portkey_integrations.server import Fault, LocalPortkeyServer


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (
            404,
            '{"status":"failure","message":"Invalid prompt id"}',
            PromptNotFoundError,
            "Invalid prompt id",
        ),
        (404, '{"error":{"message":"no such model"}}', NotFoundError, "no such model"),
        (
            400,
            '{"status":"failure","message":"Missing variable partials: x"}',
            MissingVariableError,
            "Missing variable partials: x",
        ),
        (
            400,
            '{"status":"failure","message":"Missing prompt partials: pp-y"}',
            TemplateError,
            "Missing prompt partials: pp-y",
        ),
        (
            400,
            '{"status":"failure","message":"Error in parsing prompt template: bad"}',
            TemplateError,
            "Error in parsing prompt template: bad",
        ),
        (
            500,
            '{"status":"failure","message":"Unexpected token } in JSON at position 4"}',
            InternalServerError,
            "Unexpected token",
        ),
        (
            400,
            '{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}',
            BadRequestError,
            "bad temperature",
        ),
        (
            401,
            '{"status":"failure","message":"Portkey Error: Invalid API Key. Error Code: 03"}',
            AuthenticationError,
            "Invalid API Key",
        ),
        (403, '{"status":"failure","message":"Forbidden!"}', PermissionDeniedError, "Forbidden!"),
        (
            408,
            '{"error":{"message":"timeout","type":"timeout_error"}}',
            RequestTimeoutError,
            "timeout",
        ),
        (409, "{}", ConflictError, "HTTP 409"),
        (
            412,
            '{"status":"failure","message":"budget","error":{"message":"Budget exhausted","code":"04"}}',
            BudgetExceededError,
            "Budget exhausted",
        ),
        (
            429,
            '{"status":"failure","message":"Rate limit exceeded","error":{"code":"05"}}',
            RateLimitError,
            "Rate limit exceeded",
        ),
        (446, '{"error":{"message":"denied","code":"hooks_failed"}}', GuardrailError, "denied"),
        (
            502,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            InternalServerError,
            "502 Bad Gateway",
        ),
        (
            500,
            '{"html-message":"upstream unreachable"}',
            InternalServerError,
            "upstream unreachable",
        ),
        (418, "", APIStatusError, "HTTP 418"),
    ],
)
def test_status_errors(status: int, body: str, cls: type[APIStatusError], message: str) -> None:
    error = make_status_error(status, body, {"x-portkey-trace-id": "trace-9"})
    assert type(error) is cls
    assert isinstance(error, PortkeyError)
    assert message in error.message
    assert error.status_code == status
    assert error.trace_id == "trace-9"
    assert str(status) in str(error) and "trace-9" in str(error)


def test_error_keeps_code_param_and_body() -> None:
    error = make_status_error(
        400,
        '{"error":{"message":"bad","type":"invalid_request_error","param":"n","code":"x1"}}',
    )
    assert (error.code, error.type, error.param) == ("x1", "invalid_request_error", "n")
    assert error.body == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "n", "code": "x1"}
    }
    budget = make_status_error(412, '{"status":"failure","message":"m","error":{"code":"04"}}')
    assert budget.code == "04"


def test_non_json_body_is_kept_raw() -> None:
    error = make_status_error(503, "Service Unavailable\n")
    assert error.body == "Service Unavailable\n"
    assert error.message == "Service Unavailable"


def test_stream_error_shapes() -> None:
    err = make_stream_error({"error": {"message": "boom", "code": "c"}}, "t", ["chunk"])
    assert "boom" in str(err) and err.code == "c" and err.chunks == ["chunk"]
    assert "oops" in str(make_stream_error("oops", None, []))
    assert "flat" in str(make_stream_error({"message": "flat"}, None, []))


# --- the status picks the class; the message only narrows it --------------------------

# The class each status must be (or subclass): written out, not read from the code.
STATUS_BASES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    412: BudgetExceededError,
    422: BadRequestError,
    429: RateLimitError,
    446: GuardrailError,
    500: InternalServerError,
    502: InternalServerError,
    503: InternalServerError,
    504: InternalServerError,
    418: APIStatusError,
    413: APIStatusError,
}
MESSAGES = [
    "Invalid prompt id",
    "Missing variable partials: x",
    "Missing prompt partials: pp-y",
    "Error in parsing prompt template: Error: Invalid tags: x",
    "Unexpected token } in JSON at position 4",
    "Unexpected end of JSON input",
    "Expecting value: line 1 column 2 (char 1)",
    "invalid json in the template partial for this prompt",
    "Portkey Error: Invalid API Key. Error Code: 03",
    "Rate limit exceeded",
    "",
]


@pytest.mark.parametrize("prompt_id", [None, "pp-joke@2"])
@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("status", sorted(STATUS_BASES))
def test_class_is_always_the_status_class_or_a_subclass(
    status: int, message: str, prompt_id: str | None
) -> None:
    body = json.dumps({"status": "failure", "message": message}) if message else ""
    error = make_status_error(status, body, prompt_id=prompt_id)
    assert isinstance(error, STATUS_BASES[status]), (status, message, type(error))
    assert error.status_code == status and error.prompt_id == prompt_id


@pytest.mark.parametrize(
    ("status", "message", "prompt_id", "cls"),
    [
        # A 500 is an InternalServerError whatever words it holds.
        (500, "Missing prompt partials: pp-y", None, InternalServerError),
        (500, "Error in parsing prompt template", "pp-a", InternalServerError),
        (500, "Invalid prompt id", "pp-a", InternalServerError),
        (500, "Unexpected token } in JSON at position 4", None, InternalServerError),
        # ... and narrows to TemplateRenderError only for a JSON parse failure on a prompt.
        (500, "Unexpected token } in JSON at position 4", "pp-a", TemplateRenderError),
        (500, "Unexpected end of JSON input", "pp-a", TemplateRenderError),
        (500, "Expecting ',' delimiter: line 1 column 9 (char 8)", "pp-a", TemplateRenderError),
        (500, "Cannot convert undefined or null to object", "pp-a", InternalServerError),
        (502, "Unexpected end of JSON input", "pp-a", InternalServerError),
        # Every 404 on a prompt route is the prompt's, whatever it says.
        (404, "Not Found", "pp-a", PromptNotFoundError),
        (404, "", "pp-a", PromptNotFoundError),
        (404, "Not Found", None, NotFoundError),
        (404, "Invalid prompt id", None, PromptNotFoundError),
        (400, "Missing variable partials: x", "pp-a", MissingVariableError),
        (422, "Missing variable partials: x", None, MissingVariableError),
        (400, "Missing prompt partials: pp-y", None, TemplateError),
        (400, "Unexpected end of JSON input", "pp-a", BadRequestError),
        (401, "Missing variable partials: x", "pp-a", AuthenticationError),
        (429, "template quota", "pp-a", RateLimitError),
    ],
)
def test_message_refinements(
    status: int, message: str, prompt_id: str | None, cls: type[APIStatusError]
) -> None:
    assert status_error_class(status, message, prompt_id=prompt_id) is cls
    assert (
        type(make_status_error(status, json.dumps({"message": message}), prompt_id=prompt_id))
        is cls
    )


def test_prompt_not_found_names_the_prompt() -> None:
    error = make_status_error(
        404, '{"status":"failure","message":"Invalid prompt id"}', prompt_id="pp-joke@999"
    )
    assert isinstance(error, PromptNotFoundError)
    assert error.prompt_id == "pp-joke@999"
    assert "'pp-joke@999'" in error.message and "Invalid prompt id" in error.message
    assert "pp-joke@999" in str(error)


def test_headers_keep_only_response_headers_without_secrets() -> None:
    echoed = {
        "Content-Type": "application/json",
        "x-portkey-trace-id": "t",
        "Retry-After": "3",
        "x-portkey-api-key": "pk-echoed",
        "Authorization": "Bearer sk-echoed",
        "Set-Cookie": "session=abc",
        "x-portkey-config": '{"api_key": "sk-in-config"}',
    }
    error = make_status_error(429, "{}", httpx.Headers(echoed))
    assert error.headers == {
        "content-type": "application/json",
        "x-portkey-trace-id": "t",
        "retry-after": "3",
    }
    assert make_status_error(429, "{}", echoed).headers == error.headers


# --- over HTTP: prompt ids, URLs and secrets ----------------------------------------------


@pytest.mark.parametrize("prompt_id", ["pp-joke@999", "pp-no-such-prompt"])
def test_unknown_prompt_over_http(server: LocalPortkeyServer, prompt_id: str) -> None:
    with pytest.raises(PromptNotFoundError) as info:
        PortkeyClient(base_url=server.base_url).complete(prompt_id=prompt_id)
    assert info.value.prompt_id == prompt_id
    assert f"'{prompt_id}'" in str(info.value)
    assert info.value.status_code == 404


async def test_unknown_prompt_on_render_async(server: LocalPortkeyServer) -> None:
    client = AsyncPortkeyClient(base_url=server.base_url, max_retries=0)
    with pytest.raises(PromptNotFoundError) as info:
        await client.render("pp-joke@staging-nope")
    assert info.value.prompt_id == "pp-joke@staging-nope"
    assert "pp-joke@staging-nope" in str(info.value)


def test_any_404_on_a_prompt_route_is_the_prompts(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=404, body={"error": {"message": "gone"}}))
    with pytest.raises(PromptNotFoundError) as info:
        PortkeyClient(base_url=server.base_url).complete(prompt_id="pp-joke", variables={})
    assert info.value.prompt_id == "pp-joke" and "gone" in info.value.message


def test_404_off_prompt_routes_is_not_a_prompt_error(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=404, route="chat_completions"))
    client = PortkeyClient(base_url=server.base_url, provider="openai")
    with pytest.raises(NotFoundError) as info:
        client.complete(messages=[{"role": "user", "content": "hi"}], model="portkey-local")
    assert type(info.value) is NotFoundError and info.value.prompt_id is None


def test_rendered_template_that_is_not_json_is_a_500_render_error(
    server: LocalPortkeyServer,
) -> None:
    if "pp-err-splice" not in set(server.store.ids()):
        server.register("pp-err-splice", '[{{history}}, {"role": "user", "content": "x"}]')
    client = PortkeyClient(base_url=server.base_url, max_retries=0)
    with pytest.raises(TemplateRenderError) as info:
        client.complete(
            prompt_id="pp-err-splice", variables={"history": []}, raw_variables=["history"]
        )
    assert isinstance(info.value, InternalServerError)
    assert info.value.status_code == 500 and info.value.prompt_id == "pp-err-splice"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more


def test_connection_error_names_the_url() -> None:
    base = closed_port_url()
    client = PortkeyClient(base_url=base, max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        client.complete(prompt_id="pp-joke", variables={})
    url = f"{base}/prompts/pp-joke/completions"
    assert url in str(info.value) and info.value.url == url


async def test_async_connection_error_names_the_url() -> None:
    base = closed_port_url()
    client = AsyncPortkeyClient(base_url=base, max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        await client.complete(messages=[{"role": "user", "content": "x"}], model="m")
    url = f"{base}/chat/completions"
    assert url in str(info.value) and info.value.url == url


SECRET = "pk-err-secret-4411"
PROVIDER_SECRET = "sk-prov-secret-7733"


def raised(call: Callable[[], object]) -> PortkeyError:
    with pytest.raises(PortkeyError) as info:
        call()
    return info.value


def secret_free(error: BaseException) -> None:
    shown = [str(error), repr(error), repr(vars(error)), *traceback.format_exception(error)]
    for text in shown:
        assert SECRET not in text and PROVIDER_SECRET not in text
    assert SECRET.encode() not in pickle.dumps(error)
    for name in getattr(error, "headers", {}):
        # Response headers only: never what the client sent.
        assert name not in ("x-portkey-api-key", "authorization", "cookie")


def test_errors_never_show_the_keys(server: LocalPortkeyServer) -> None:
    keys: dict[str, Any] = {"api_key": SECRET, "provider_api_key": PROVIDER_SECRET}
    client = PortkeyClient(base_url=server.base_url, max_retries=0, **keys)
    errors: list[PortkeyError] = []
    for status in (400, 401, 404, 429, 500, 503):
        server.add_fault(Fault(kind="status", status=status, retry_after=1))
        errors.append(raised(lambda: client.complete(prompt_id="pp-joke", variables={})))
    errors.append(raised(lambda: client.complete(prompt_id="pp-missing", variables={})))
    server.add_fault(Fault(kind="error_event", after_chunks=1))
    errors.append(raised(lambda: list(client.stream(prompt_id="pp-joke", variables={}))))
    offline = PortkeyClient(base_url=closed_port_url(), max_retries=0, **keys)
    errors.append(raised(lambda: offline.complete(prompt_id="pp-joke", variables={})))
    with LocalPortkeyServer(api_key="pk-right") as guarded:
        wrong = PortkeyClient(base_url=guarded.base_url, max_retries=0, **keys)
        errors.append(raised(lambda: wrong.complete(prompt_id="pp-joke", variables={})))
    assert [type(e).__name__ for e in errors] == [
        "BadRequestError",
        "AuthenticationError",
        "PromptNotFoundError",
        "RateLimitError",
        "InternalServerError",
        "InternalServerError",
        "PromptNotFoundError",
        "StreamError",
        "APIConnectionError",
        "AuthenticationError",
    ]
    for error in errors:
        secret_free(error)
    status_errors = [e for e in errors if isinstance(e, APIStatusError)]
    assert all(e.headers.get("x-portkey-trace-id") == e.trace_id for e in status_errors)
    assert status_errors[3].headers["retry-after"] == "1"


# --- a 2xx body that does not parse -------------------------------------------------------


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_2xx_body_that_does_not_parse_is_a_response_validation_error(
    face: str, server: LocalPortkeyServer
) -> None:
    server.add_fault(Fault(kind="non_json", status=200))
    kwargs: dict[str, Any] = {"base_url": server.base_url, "api_key": "pk", "max_retries": 0}
    with pytest.raises(APIResponseValidationError, match="not a valid Completion") as info:
        if face == "sync":
            PortkeyClient(**kwargs).complete(prompt_id="pp-joke", variables={"topic": "t"})
        else:
            call = AsyncPortkeyClient(**kwargs).complete(prompt_id="pp-joke", variables={})
            asyncio.run(call)
    error = info.value
    assert not isinstance(error, APIStatusError)  # the server reported no error
    assert error.status_code == 200 and "<html>" in error.body
    assert error.trace_id and error.trace_id in str(error)
    assert "x-portkey-api-key" not in error.headers
    assert server.requests[-1].prompt_id == "pp-joke"  # it was sent; the answer was bad


def test_the_module_docstring_draws_every_class() -> None:
    drawn = re.findall(r"(?m)^[ │├└─]+(\w+)", _errors.__doc__ or "")
    assert set(drawn) >= set(_errors.__all__)
