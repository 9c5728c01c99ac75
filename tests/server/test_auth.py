"""A server started with an API key accepts only requests that carry it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

from .conftest import SSL_CONTEXT
from .helpers import chat

KEY = "pk-local-secret"
INVALID = {"status": "failure", "message": "Portkey Error: Invalid API Key. Error Code: 03"}


@pytest.fixture(scope="module")
def keyed(server_factory: Callable[..., LocalPortkeyServer]) -> LocalPortkeyServer:
    return server_factory(api_key=KEY)


@pytest.fixture(scope="module")
def http(keyed: LocalPortkeyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed.base_url, timeout=5.0, verify=SSL_CONTEXT) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-portkey-api-key": "wrong"}, {"authorization": "Bearer wrong"}, {"authorization": KEY}],
)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/prompts/pp-joke/completions", {"variables": {}}),
        ("/prompts/pp-joke/render", {"variables": {}}),
        ("/chat/completions", chat("x")),
        ("/completions", {"prompt": "x"}),
    ],
)
def test_missing_or_wrong_key(
    http: httpx.Client, headers: dict[str, str], path: str, body: dict[str, object]
) -> None:
    r = http.post(path, json=body, headers=headers)
    assert (r.status_code, r.json()) == (401, INVALID)
    assert r.headers["x-portkey-trace-id"]


@pytest.mark.parametrize(
    "headers", [{"x-portkey-api-key": KEY}, {"authorization": f"Bearer {KEY}"}]
)
def test_right_key(http: httpx.Client, headers: dict[str, str]) -> None:
    r = http.post("/prompts/pp-joke/completions", json={"variables": {}}, headers=headers)
    assert r.status_code == 200


def test_listing_and_control_routes_need_the_key_but_health_does_not(
    keyed: LocalPortkeyServer, http: httpx.Client
) -> None:
    assert http.get("/prompts").status_code == 401
    assert http.get("/prompts", headers={"x-portkey-api-key": KEY}).status_code == 200
    assert http.post(f"{keyed.url}/_local/faults", json={"kind": "slow"}).status_code == 401
    assert http.get(f"{keyed.url}/health").status_code == 200


def test_unauthorized_requests_are_still_recorded(
    keyed: LocalPortkeyServer, http: httpx.Client
) -> None:
    keyed.clear_requests()
    http.post("/chat/completions", json=chat("x"), headers={"x-portkey-api-key": "wrong"})
    assert (
        keyed.last_request is not None
        and keyed.last_request.headers["x-portkey-api-key"] == "wrong"
    )
