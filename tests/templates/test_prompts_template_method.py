"""``client.prompts.template(id)``: the public core template object, from the client."""

from __future__ import annotations

from portkey_integrations import AsyncPortkeyClient, PortkeyClient, PortkeyTemplate
from portkey_integrations.server import LocalPortkeyServer

VARIABLES = {"name": "Ann", "question": "Why?"}


def test_the_template_renders_offline_as_the_server_does(server: LocalPortkeyServer) -> None:
    client = PortkeyClient(base_url=server.base_url)
    template = client.prompts.template("pp-tpl-chat")
    assert isinstance(template, PortkeyTemplate)
    assert set(template.input_variables) == {"name", "question"}
    rendered = client.render("pp-tpl-chat", variables=VARIABLES)
    before = len(server.requests)
    assert template.render_messages(VARIABLES) == rendered.messages
    assert len(server.requests) == before  # the render itself sent nothing


async def test_the_async_client_gives_the_same_template(server: LocalPortkeyServer) -> None:
    client = AsyncPortkeyClient(base_url=server.base_url)
    template = await client.prompts.template("pp-tpl-chat")
    sync = PortkeyClient(base_url=server.base_url).prompts.template("pp-tpl-chat")
    assert template.render_messages(VARIABLES) == sync.render_messages(VARIABLES)
