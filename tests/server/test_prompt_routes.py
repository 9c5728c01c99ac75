"""The prompt routes: rendering, versions, overrides, errors, headers and recording."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from portkey_integrations.server import LocalPortkeyServer

INVALID_ID = {"status": "failure", "message": "Invalid prompt id"}


def test_chat_prompt_completion_echoes_the_variables(client: httpx.Client) -> None:
    r = client.post(
        "/prompts/pp-joke/completions", json={"variables": {"adjective": "dry", "topic": "taxes"}}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "portkey-local"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Echo: Tell me a dry joke about taxes.",
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("ref", "ending"),
    [
        ("pp-joke", "about tax."),
        ("pp-joke@1", "about tax."),
        ("pp-joke@2", "about tax, please."),
        ("pp-joke@latest", "about tax, please."),
        ("pp-joke@production", "about tax, please."),
    ],
)
def test_versions_and_labels(client: httpx.Client, ref: str, ending: str) -> None:
    r = client.post(
        f"/prompts/{ref}/completions", json={"variables": {"adjective": "odd", "topic": "tax"}}
    )
    assert r.json()["choices"][0]["message"]["content"].endswith(ending)


@pytest.mark.parametrize("ref", ["pp-nope", "pp-joke@3", "pp-joke@staging", "pp-joke@"])
@pytest.mark.parametrize("action", ["completions", "render"])
def test_unknown_prompt_version_or_label(client: httpx.Client, ref: str, action: str) -> None:
    r = client.post(f"/prompts/{ref}/{action}", json={"variables": {}})
    assert (r.status_code, r.json()) == (404, INVALID_ID)


@pytest.mark.parametrize("body", [{}, {"variables": None}, {"temperature": 1}])
def test_missing_variables_crash_like_portkey(
    client: httpx.Client, body: dict[str, object]
) -> None:
    r = client.post("/prompts/pp-joke/completions", json=body)
    assert r.status_code == 500
    assert r.json() == {
        "status": "failure",
        "message": "Cannot convert undefined or null to object",
    }


def test_render_merges_saved_parameters_and_overrides(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.register(
        "pp-params",
        [{"role": "user", "content": "{{q}}"}],
        parameters={"temperature": 0.3, "top_p": 0.9, "stream": True, "max_completion_tokens": 50},
    )
    r = client.post(
        "/prompts/pp-params/render",
        json={
            "variables": {"q": "hi"},
            "temperature": 1.5,
            "top_p": None,
            "hyperparameters": {"temperature": 0},
            "messages": [{"role": "user", "content": "ignored"}],
            "seed": 7,
        },
    )
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "data": {
            "model": "portkey-local",
            "temperature": 1.5,
            "top_p": None,
            "max_completion_tokens": 50,
            "seed": 7,
            "messages": [{"role": "user", "content": "hi"}],
        },
    }


def test_stream_comes_only_from_the_request(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.register("pp-streamy", [{"role": "user", "content": "x"}], parameters={"stream": True})
    r = client.post("/prompts/pp-streamy/completions", json={"variables": {}})
    assert r.headers["content-type"] == "application/json"
    r = client.post("/prompts/pp-streamy/completions", json={"variables": {}, "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")


def test_text_prompt_render_and_completion(client: httpx.Client) -> None:
    r = client.post(
        "/prompts/pp-text-complete/render", json={"variables": {"input": 'say "hi"'}, "prompt": "x"}
    )
    assert r.json()["data"] == {"model": "portkey-local", "prompt": 'say "hi"'}
    r = client.post(
        "/prompts/pp-text-complete/completions", json={"variables": {"input": "Once upon a time"}}
    )
    body = r.json()
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "Echo: Once upon a time"


@pytest.mark.parametrize(
    "history",
    [
        [],
        [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": 'a "quoted"\nanswer'},
        ],
    ],
)
def test_assistant_prompt_splices_chat_history(
    client: httpx.Client, history: list[dict[str, str]]
) -> None:
    r = client.post(
        "/prompts/pp-assistant/render",
        json={"variables": {"input": "now", "chat_history": history}},
    )
    assert r.json()["data"]["messages"] == [
        {"role": "system", "content": "You are a helpful assistant."},
        *history,
        {"role": "user", "content": "now"},
    ]


def test_rag_prompt_carries_context_and_query(client: httpx.Client) -> None:
    variables = {"context_str": "Paris is in France.", "query_str": "Where is Paris?"}
    content = client.post("/prompts/pp-rag-qa/completions", json={"variables": variables}).json()
    text = content["choices"][0]["message"]["content"]
    assert "Paris is in France." in text and "Query: Where is Paris?" in text


@pytest.mark.parametrize(
    "value", ['quote " here', "back\\slash", "new\nline\ttab", "unicode é 世界", "{{x}}"]
)
def test_string_variables_reach_the_model_intact(client: httpx.Client, value: str) -> None:
    r = client.post("/prompts/pp-assistant/completions", json={"variables": {"input": value}})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == f"Echo: {value}"


def test_percent_encoded_ids_are_decoded(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.register("pp-a/b c?d", [{"role": "user", "content": "slashy {{v}}"}])
    r = client.post("/prompts/pp-a%2Fb%20c%3Fd/completions", json={"variables": {"v": 1}})
    assert r.json()["choices"][0]["message"]["content"] == "Echo: slashy 1"
    r = client.post("/prompts/pp-joke%40production/completions", json={"variables": {}})
    assert r.json()["choices"][0]["message"]["content"].endswith("please.")
    received = server.requests
    assert [q.prompt_id for q in received] == ["pp-a/b c?d", "pp-joke@production"]
    assert received[0].path == "/v1/prompts/pp-a%2Fb%20c%3Fd/completions"


def test_partials_render_inside_json_strings(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.register("pp-part", 'Be {{tone}}.\nSay "hi".', kind="text")
    server.register("pp-part", "Version two", kind="text")
    server.register(
        "pp-uses-part",
        [
            {"role": "system", "content": "{{>pp-part@1}} / {{>>style}}"},
            {"role": "user", "content": "{{q}}"},
        ],
    )
    r = client.post(
        "/prompts/pp-uses-part/render",
        json={"variables": {"tone": "kind", "q": "go", "style": "pp-part"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["messages"][0]["content"] == 'Be kind.\nSay "hi". / Version two'


def test_missing_partials(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.register("pp-needs", [{"role": "user", "content": "{{>pp-absent}} {{>pp-gone@2}}"}])
    r = client.post("/prompts/pp-needs/completions", json={"variables": {}})
    assert (r.status_code, r.json()) == (
        400,
        {"status": "failure", "message": "Missing prompt partials: pp-absent, pp-gone@2"},
    )
    server.register("pp-needs-var", [{"role": "user", "content": "{{>>which}} {{>>other}}"}])
    r = client.post("/prompts/pp-needs-var/completions", json={"variables": {"other": "pp-joke"}})
    assert (r.status_code, r.json()) == (
        400,
        {"status": "failure", "message": "Missing variable partials: which"},
    )
    r = client.post(
        "/prompts/pp-needs-var/completions",
        json={"variables": {"which": "pp-none", "other": "pp-joke"}},
    )
    assert r.json() == {"status": "failure", "message": "Missing prompt partials: pp-none"}


def test_template_parse_error(server: LocalPortkeyServer, client: httpx.Client) -> None:
    server.register("pp-badtags", "{{=x=}}", kind="text")
    r = client.post("/prompts/pp-badtags/completions", json={"variables": {}})
    assert r.status_code == 400
    assert r.json() == {
        "status": "failure",
        "message": "Error in parsing prompt template: Error: Invalid tags: x",
    }


def test_rendered_chat_template_that_is_not_json(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    # Splicing an empty list leaves a trailing comma, as on Portkey.
    server.register("pp-splice", '[{{history}}, {"role": "user", "content": "x"}]', kind="chat")
    r = client.post("/prompts/pp-splice/completions", json={"variables": {"history": []}})
    assert r.status_code == 500
    body = r.json()
    assert body["status"] == "failure" and "Expecting value" in body["message"]
    ok = client.post(
        "/prompts/pp-splice/completions",
        json={"variables": {"history": [{"role": "user", "content": "a"}]}},
    )
    assert ok.status_code == 200


def test_list_prompts_and_health(server: LocalPortkeyServer, client: httpx.Client) -> None:
    listing = client.get("/prompts").json()
    assert listing["object"] == "list"
    joke = next(p for p in listing["data"] if p["slug"] == "pp-joke")
    assert joke["object"] == "prompt" and joke["model"] == "portkey-local"
    versions = client.get("/prompts/pp-joke/versions").json()["data"]
    assert [v["prompt_version"] for v in versions] == [1, 2]
    assert versions[1]["labels"] == ["production"]
    assert client.get(f"/prompts/{joke['id']}").json()["prompt_version"] == 1
    assert client.get(f"{server.url}/health").json() == {"status": "ok"}


def test_portkey_response_headers(client: httpx.Client) -> None:
    body = {"variables": {"input": "x"}}
    r = client.post("/prompts/pp-assistant/completions", json=body)
    uuid.UUID(r.headers["x-portkey-trace-id"])
    assert r.headers["x-portkey-retry-attempt-count"] == "0"
    assert r.headers["x-portkey-cache-status"] == "DISABLED"
    assert r.headers["x-portkey-provider"] == "portkey-local"
    assert "x-portkey-last-used-option-index" not in r.headers
    r = client.post(
        "/prompts/pp-assistant/completions",
        json=body,
        headers={
            "x-portkey-trace-id": "trace-1",
            "x-portkey-cache-force-refresh": "true",
            "x-portkey-config": "pc-abc",
        },
    )
    assert r.headers["x-portkey-trace-id"] == "trace-1"
    assert r.headers["x-portkey-cache-status"] == "REFRESH"
    assert r.headers["x-portkey-last-used-option-index"] == "config"
    config = {"cache": {"mode": "simple"}, "targets": [{"provider": "openai"}]}
    r = client.post(
        "/prompts/pp-nope/completions", json=body, headers={"x-portkey-config": json.dumps(config)}
    )
    assert r.status_code == 404
    assert r.headers["x-portkey-cache-status"] == "MISS"
    assert r.headers["x-portkey-last-used-option-index"] == "config.targets[0]"
    trace = "0af7651916cd43dd8448eb211c80319c"
    r = client.post(
        "/chat/completions",
        json={"messages": [{"role": "user", "content": "x"}]},
        headers={"traceparent": f"00-{trace}-b7ad6b7169203331-01"},
    )
    assert r.headers["x-portkey-trace-id"] == trace


def test_requests_are_recorded(server: LocalPortkeyServer, client: httpx.Client) -> None:
    client.post(
        "/prompts/pp-joke@2/completions",
        json={"variables": {"adjective": "a", "topic": "t"}, "temperature": 0},
        headers={"X-Portkey-Metadata": '{"_user": "u"}'},
    )
    client.post("/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
    first, second = server.requests
    assert (first.method, first.prompt_id, first.variables) == (
        "POST",
        "pp-joke@2",
        {"adjective": "a", "topic": "t"},
    )
    assert first.body["temperature"] == 0
    assert first.headers["x-portkey-metadata"] == '{"_user": "u"}'
    assert (second.path, second.prompt_id, second.variables) == ("/v1/chat/completions", None, None)
    assert server.last_request == second
    server.clear_requests()
    assert server.requests == []


def test_unknown_routes_and_bad_bodies(client: httpx.Client) -> None:
    assert client.post("/nope", json={}).json() == {"status": "failure", "message": "Not Found"}
    assert client.post("/prompts/pp-joke/explain", json={}).status_code == 404
    assert client.get("/chat/completions").status_code == 405
    r = client.post(
        "/prompts/pp-joke/completions",
        content=b"{broken",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["message"].startswith("Invalid JSON body")
    r = client.post("/chat/completions", json=[1, 2])
    assert r.status_code == 400 and r.json()["status"] == "failure"


def test_assistant_prompt_appends_the_agent_scratchpad(client: httpx.Client) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    scratchpad = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    body = {"variables": {"input": "use f", "agent_scratchpad": scratchpad}}
    rendered = client.post("/prompts/pp-assistant/render", json=body).json()["data"]
    assert [m["role"] for m in rendered["messages"]] == ["system", "user", "assistant", "tool"]
    assert rendered["messages"][2:] == scratchpad
