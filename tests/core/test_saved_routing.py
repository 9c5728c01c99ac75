"""Routing from the saved prompt: its virtual key routes a gateway call, offline as on
Portkey, and a call with no routing at all is refused as Portkey refuses it."""

from __future__ import annotations

import asyncio

import pytest

from portkey_integrations import AsyncPortkeyClient, BadRequestError, PortkeyClient, RequestOptions
from portkey_integrations.server import LOCAL_VIRTUAL_KEY, LocalPortkeyServer

UNROUTED = "Either x-portkey-config or x-portkey-provider header is required"
MESSAGES = [{"role": "user", "content": "hi"}]


def test_the_saved_prompts_virtual_key_routes_a_chat_completion(
    server: LocalPortkeyServer,
) -> None:
    client = PortkeyClient(base_url=server.base_url, api_key="pk-test", max_retries=0)
    saved = client.prompts.retrieve("pp-rag-qa")
    assert saved.virtual_key == LOCAL_VIRTUAL_KEY
    server.reset()
    reply = client.complete(
        messages=MESSAGES,
        model=saved.model,
        options=RequestOptions.make(virtual_key=saved.virtual_key),
    )
    assert reply.choices[0].message.content == "Echo: hi"
    (sent,) = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["x-portkey-virtual-key"] == LOCAL_VIRTUAL_KEY
    with pytest.raises(BadRequestError, match=UNROUTED):
        client.complete(messages=MESSAGES, model=saved.model)


def test_async_routes_on_the_saved_virtual_key_too(server: LocalPortkeyServer) -> None:
    async def go() -> None:
        async with AsyncPortkeyClient(
            base_url=server.base_url, api_key="pk-test", max_retries=0
        ) as client:
            saved = await client.prompts.retrieve("pp-text-complete")
            assert saved.virtual_key == LOCAL_VIRTUAL_KEY
            reply = await client.complete(
                prompt="once",
                model=saved.model,
                options=RequestOptions.make(virtual_key=saved.virtual_key),
            )
            assert reply.choices[0].text == "Echo: once"
            with pytest.raises(BadRequestError, match=UNROUTED):
                await client.complete(prompt="once", model=saved.model)

    asyncio.run(go())


def test_a_registered_prompts_own_virtual_key_is_what_it_runs_on(
    server: LocalPortkeyServer,
) -> None:
    server.store.register("pp-routing-own", template="Hi {{x}}", virtual_key="vk-openai-prod")
    client = PortkeyClient(base_url=server.base_url, api_key="pk-test", max_retries=0)
    saved = client.prompts.retrieve("pp-routing-own")
    assert saved.virtual_key == "vk-openai-prod"
    client.complete(
        prompt="x", model=saved.model, options=RequestOptions.make(virtual_key=saved.virtual_key)
    )
    assert server.requests[-1].headers["x-portkey-virtual-key"] == "vk-openai-prod"
