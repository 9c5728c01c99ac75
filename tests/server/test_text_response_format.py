"""The offline model honours ``response_format`` on text prompts as on chat prompts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations.server import LocalPortkeyServer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "year": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "year", "tags"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "book", "schema": SCHEMA}}


def _matches(value: Any) -> None:
    assert set(value) == {"title", "year", "tags"}
    assert isinstance(value["title"], str) and isinstance(value["year"], int)
    assert all(isinstance(t, str) for t in value["tags"])


def test_a_text_prompt_answers_json_matching_the_schema(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url, api_key="pk-test", max_retries=0)
    reply = client.complete(
        prompt_id="pp-text-complete",
        variables={"input": "Dune, 1965"},
        response_format=JSON_SCHEMA,
    )
    _matches(json.loads(reply.choices[0].text))
    assert reply.object == "text_completion"
    (sent,) = server.requests
    assert sent.body["response_format"] == JSON_SCHEMA  # it reached the model's request


async def test_async_and_streamed_text_prompts_answer_json_too(
    server: LocalPortkeyServer,
) -> None:
    async with AsyncPortkeyClient(
        base_url=server.base_url, api_key="pk-test", max_retries=0
    ) as client:
        stream = await client.stream(
            prompt_id="pp-text-complete",
            variables={"input": "say it with 'verdict' key"},
            response_format={"type": "json_object"},
        )
        text = ""
        async with stream:
            async for chunk in stream:
                text += "".join(c.text or "" for c in chunk.choices)
    assert json.loads(text) == {"verdict": "Echo: say it with 'verdict' key"}


@pytest.mark.parametrize(
    ("response_format", "check"),
    [
        ({"type": "json_object"}, lambda v: v == {"answer": "Echo: hello"}),
        (JSON_SCHEMA, _matches),
        ({"type": "text"}, None),
    ],
)
def test_the_text_route_honours_response_format(
    response_format: dict[str, Any], check: Any, client: httpx.Client
) -> None:
    body = {"model": "portkey-local", "prompt": "hello", "response_format": response_format}
    out = client.post("/completions", json=body).json()
    text = out["choices"][0]["text"]
    if check is None:
        assert text == "Echo: hello"
    else:
        result = check(json.loads(text))
        assert result is None or result is True


def test_a_bad_response_format_is_refused_on_the_text_route(client: httpx.Client) -> None:
    body = {"model": "portkey-local", "prompt": "hi", "response_format": {"type": "yaml"}}
    r = client.post("/completions", json=body)
    assert r.status_code == 400 and r.json()["error"]["param"] == "response_format"
