"""The one request pipeline: every API route is logged, authorised and answered the same way."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

from .conftest import SSL_CONTEXT
from .helpers import chat

KEY = "pk-pipeline"
INVALID = {"status": "failure", "message": "Portkey Error: Invalid API Key. Error Code: 03"}
ROUTING = {"x-portkey-provider": "openai"}

# Every /v1 route that is not an admin route: (method, path, body).
API_ROUTES = [
    ("POST", "/v1/chat/completions", chat("x")),
    ("POST", "/v1/completions", {"model": "m", "prompt": "x"}),
    ("POST", "/v1/embeddings", {"model": "m", "input": "x"}),
    ("POST", "/v1/prompts/pp-joke/completions", {"variables": {}}),
    ("POST", "/v1/prompts/pp-joke/render", {"variables": {}}),
    ("POST", "/v1/feedback", {"trace_id": "t", "value": 1}),
    ("PUT", "/v1/feedback/nope", {"value": 1}),
]
ADMIN_ROUTES = [
    ("GET", "/v1/prompts", None),
    ("GET", "/v1/prompts/partials", None),
    ("GET", "/v1/labels", None),
    ("GET", "/v1/prompts/pp-joke/versions", None),
]


@pytest.fixture(scope="module")
def keyed() -> Iterator[LocalPortkeyServer]:
    with LocalPortkeyServer(api_key=KEY) as server:
        yield server


@pytest.fixture
def http(keyed: LocalPortkeyServer) -> Iterator[httpx.Client]:
    keyed.reset()
    with httpx.Client(base_url=keyed.url, timeout=5.0, verify=SSL_CONTEXT) as client:
        yield client


def _send(
    http: httpx.Client, method: str, path: str, body: object, **headers: str
) -> httpx.Response:
    return http.request(method, path, json=body, headers={**ROUTING, **headers})


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
def test_every_api_route_is_logged_even_when_refused(
    keyed: LocalPortkeyServer, http: httpx.Client, method: str, path: str, body: object
) -> None:
    refused = _send(http, method, path, body)
    assert (refused.status_code, refused.json()) == (401, INVALID)
    answered = _send(http, method, path, body, **{"x-portkey-api-key": KEY})
    assert answered.status_code in (200, 404), answered.text  # 404: feedback "nope"
    logged = [(r.method, r.path, r.body) for r in keyed.requests]
    assert logged == [(method, path, body)] * 2
    over_http = http.get("/_local/requests", headers={"x-portkey-api-key": KEY}).json()
    assert [(r["method"], r["path"]) for r in over_http["requests"]] == [(method, path)] * 2
    assert keyed.admin_requests == []


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_have_their_own_log_shown_at_local_requests(
    keyed: LocalPortkeyServer, http: httpx.Client, method: str, path: str, body: object
) -> None:
    assert _send(http, method, path, body).status_code == 401
    assert _send(http, method, path, body, **{"x-portkey-api-key": KEY}).status_code == 200
    assert [(r.method, r.path) for r in keyed.admin_requests] == [(method, path)] * 2
    assert keyed.requests == []
    over_http = http.get("/_local/requests", headers={"x-portkey-api-key": KEY}).json()
    assert [(r["method"], r["path"]) for r in over_http["admin_requests"]] == [(method, path)] * 2


def test_feedback_lives_on_the_server_state(keyed: LocalPortkeyServer, http: httpx.Client) -> None:
    auth = {"x-portkey-api-key": KEY}
    saved = http.post("/v1/feedback", json=[{"trace_id": "a", "value": 2}], headers=auth).json()
    [feedback_id] = saved["feedback_ids"]
    assert http.put(f"/v1/feedback/{feedback_id}", json={"value": -3}, headers=auth).is_success
    assert keyed.state.feedback.list() == [
        {"id": feedback_id, "trace_id": "a", "value": -3, "weight": 1.0}
    ]
    assert http.get("/_local/feedback", headers=auth).json()["feedback"] == (
        keyed.state.feedback.list()
    )
    assert [r.method for r in keyed.requests] == ["POST", "PUT"]
    # A second server keeps its own feedback.
    with LocalPortkeyServer() as other:
        assert other.state.feedback.list() == []
    keyed.reset()
    assert keyed.state.feedback.list() == [] and keyed.requests == []


def test_control_routes_need_the_key_and_stay_out_of_the_log(
    keyed: LocalPortkeyServer, http: httpx.Client
) -> None:
    for path in ("/_local/requests", "/_local/faults", "/_local/feedback"):
        assert http.get(path).status_code == 401
        assert http.get(path, headers={"x-portkey-api-key": KEY}).status_code == 200
    assert keyed.requests == [] and keyed.admin_requests == []


def test_a_scope_is_checked_after_the_key_and_before_the_body(
    keyed: LocalPortkeyServer, http: httpx.Client
) -> None:
    keyed.set_api_keys({"pk-reader": ["prompts.read"]})
    try:
        reader = {"x-portkey-api-key": "pk-reader"}
        bad_body = http.post("/v1/prompts", content=b"{not json", headers=reader)
        assert (bad_body.status_code, bad_body.json()["message"]) == (403, "Forbidden!")
        assert http.get("/v1/prompts/pp-joke", headers=reader).status_code == 200
        assert len(keyed.admin_requests) == 2
    finally:
        keyed.set_api_keys({})
