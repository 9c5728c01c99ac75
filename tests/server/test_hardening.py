"""What the server accepts, and from whom: secrets in the log it shows, the control
routes, Host / Origin checks, and hostile JSON. All over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

from .conftest import SSL_CONTEXT
from .helpers import chat

ADMIN = "pk-admin-secret-123"
SECRETS = ("pk-admin-secret-123", "sk-provider-456", "vk-virtual-789", "sk-target-abc", "sess-xyz")


@pytest.fixture(scope="module")
def keyed() -> Iterator[LocalPortkeyServer]:
    with LocalPortkeyServer(api_key=ADMIN, api_keys={"pk-read": {"prompts.read"}}) as server:
        yield server


def _secret_headers() -> dict[str, str]:
    config = {
        "api_key": "sk-provider-456",
        "targets": [{"provider": "openai", "api_key": "sk-target-abc"}],
    }
    return {
        "x-portkey-api-key": ADMIN,
        "authorization": "Bearer sk-provider-456",
        "x-portkey-virtual-key": "vk-virtual-789",
        "x-custom-key": "sk-target-abc",
        "cookie": "session=sess-xyz",
        "x-portkey-config": json.dumps(config),
    }


def test_the_request_log_shown_over_http_redacts_every_secret(keyed: LocalPortkeyServer) -> None:
    keyed.clear_requests()
    with httpx.Client(base_url=keyed.url, verify=SSL_CONTEXT) as http:
        body = {**chat("hi"), "provider_api_key": "sk-provider-456"}
        http.post("/v1/chat/completions", json=body, headers=_secret_headers())
        r = http.get("/_local/requests", headers={"x-portkey-api-key": ADMIN})
    assert r.status_code == 200
    for secret in SECRETS:
        assert secret not in r.text
    shown = r.json()["requests"][-1]
    assert shown["headers"]["authorization"] == "[redacted]"
    config = json.loads(shown["headers"]["x-portkey-config"])
    assert config["targets"][0] == {"provider": "openai", "api_key": "[redacted]"}
    assert shown["body"]["provider_api_key"] == "[redacted]"
    # The in-process log (the test's own view of the wire) keeps what was sent.
    assert keyed.requests[-1].headers["x-portkey-virtual-key"] == "vk-virtual-789"
    assert "vk-virtual-789" not in repr(keyed.requests[-1])


def test_the_embedded_server_does_not_show_the_portkey_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portkey_integrations import PortkeyClient
    from portkey_integrations.server.embedded import embedded_server

    monkeypatch.setenv("PORTKEY_API_KEY", "pk-live-embedded-secret")
    PortkeyClient(base_url="local").complete(prompt_id="pp-joke", variables={})
    server = embedded_server()
    assert server.requests[-1].headers["x-portkey-api-key"] == "pk-live-embedded-secret"
    r = httpx.get(f"{server.url}/_local/requests")
    assert r.status_code == 200 and "pk-live-embedded-secret" not in r.text


def test_the_log_is_bounded_in_bytes() -> None:
    with LocalPortkeyServer(log_bytes=3_000_000, log_body_bytes=1_000_000) as server:
        with httpx.Client(base_url=server.url) as http:
            for _ in range(8):
                http.post("/v1/chat/completions", json=chat("x" * 900_000))
            http.post("/v1/chat/completions", json=chat("y" * 1_200_000))
            shown = http.get("/_local/requests").json()["requests"]
        kept = [r for r in server.requests if not r.body_dropped]
        assert sum(r.body_bytes for r in kept) <= 3_000_000 and len(kept) == 3
        assert shown[-1]["body"] is None and shown[-1]["body_dropped"] is True
        assert shown[-1]["body_bytes"] > 1_200_000


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_local/api-keys", {"keys": {"pk-read": ["prompts.read", "prompts.delete"]}}),
        ("POST", "/_local/prompts", {"id": "pp-planted", "template": "x"}),
        ("GET", "/_local/requests", None),
        ("DELETE", "/_local/requests", None),
        ("POST", "/_local/faults", {"kind": "slow"}),
    ],
)
def test_control_routes_take_the_admin_key_only(
    keyed: LocalPortkeyServer, method: str, path: str, body: object
) -> None:
    with httpx.Client(base_url=keyed.url) as http:
        scoped = http.request(method, path, json=body, headers={"x-portkey-api-key": "pk-read"})
        anonymous = http.request(method, path, json=body)
        admin = http.request(method, path, json=body, headers={"x-portkey-api-key": ADMIN})
        assert (scoped.status_code, scoped.json()["status"]) == (403, "failure")
        assert anonymous.status_code == 401
        assert admin.status_code in (200, 201)
        keyed.set_api_keys({"pk-read": {"prompts.read"}})
        # The scoped key's own attempts changed nothing: it still cannot delete.
        r = http.delete("/v1/prompts/pp-planted", headers={"x-portkey-api-key": "pk-read"})
        assert r.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "evil.example"},
        {"host": "127.0.0.1.evil.example:80"},
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_local/prompts"),
        ("POST", "/v1/prompts/pp-joke/render"),
        ("POST", "/v1/prompts"),
        ("GET", "/_local/requests"),
        ("GET", "/health"),
    ],
)
def test_a_web_page_cannot_drive_the_server(
    server: LocalPortkeyServer, headers: dict[str, str], method: str, path: str
) -> None:
    body = {"id": "pp-from-page", "template": "x", "variables": {}}
    with httpx.Client(base_url=server.url) as http:
        r = http.request(method, path, json=body if method == "POST" else None, headers=headers)
    assert r.status_code == 403 and r.json()["status"] == "failure"
    assert "pp-from-page" not in server.store


@pytest.mark.parametrize("host", ["localhost:9", "127.0.0.1", "[::1]:8787", "LOCALHOST."])
def test_loopback_names_and_origins_are_served(server: LocalPortkeyServer, host: str) -> None:
    headers = {"host": host, "origin": "http://localhost:3000"}
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/v1/prompts/pp-joke/render", json={"variables": {}}, headers=headers)
    assert r.status_code == 200


def test_a_cross_origin_simple_request_registers_nothing(server: LocalPortkeyServer) -> None:
    text = json.dumps({"id": "pp-csrf", "template": "x"})
    with httpx.Client(base_url=server.url) as http:
        r = http.post("/_local/prompts", content=text, headers={"content-type": "text/plain"})
        admin = http.post("/v1/prompts", content=text, headers={"content-type": "text/plain"})
    assert (r.status_code, admin.status_code) == (415, 415)
    assert "pp-csrf" not in server.store


def test_control_routes_answer_only_on_loopback() -> None:
    import asyncio

    from portkey_integrations.server import create_app

    async def run() -> int:
        transport = httpx.ASGITransport(app=create_app(), client=("192.0.2.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return (await http.get("/_local/requests")).status_code

    assert asyncio.run(run()) == 403


HOSTILE = [
    b'{"variables": {"x": "\\ud800"}}',
    b'{"variables": {"\\udfff": 1}}',
    b'{"variables": {"x": "\xff\xfe"}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
]


@pytest.mark.parametrize("raw", HOSTILE, ids=["surrogate", "key", "utf8", "deep", "deep-obj"])
@pytest.mark.parametrize("path", ["/v1/prompts/pp-joke/completions", "/_local/prompts"])
def test_hostile_json_gets_a_400_and_the_server_stays_healthy(
    server: LocalPortkeyServer, raw: bytes, path: str
) -> None:
    with httpx.Client(base_url=server.url, headers={"content-type": "application/json"}) as http:
        r = http.post(path, content=raw)
        assert r.status_code == 400 and r.json()["status"] == "failure", r.text
        # Same keep-alive connection: still answered; the log and listing still serialise.
        assert http.get("/_local/requests").status_code == 200
        assert http.get("/v1/prompts").status_code == 200
        assert http.post("/v1/prompts/pp-joke/render", json={"variables": {}}).status_code == 200


def test_a_prompt_name_with_a_lone_surrogate_does_not_break_the_listing(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "pp-odd.json").write_text(
        '{"id": "pp-odd", "name": "odd \\ud800 name", "template": "x"}', encoding="utf-8"
    )
    with LocalPortkeyServer(prompts_dir=folder, include_bundled=False) as server:
        r = httpx.get(f"{server.base_url}/prompts")
        assert r.status_code == 200
        assert [p["slug"] for p in r.json()["data"]] == ["pp-odd"]
