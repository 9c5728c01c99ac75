"""Error construction from every body shape Portkey and providers send."""

from __future__ import annotations

import pytest

from portkey_integrations import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    GuardrailError,
    InternalServerError,
    MissingVariableError,
    NotFoundError,
    PermissionDeniedError,
    PortkeyError,
    PromptNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    TemplateError,
)
from portkey_integrations._errors import make_status_error, make_stream_error


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
            TemplateError,
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
