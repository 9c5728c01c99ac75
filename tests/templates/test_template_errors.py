"""What the offline render refuses, with Portkey's messages, and how the objects travel."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from portkey_integrations import (
    PortkeyClient,
    PortkeyConfigError,
    PortkeyTemplate,
    TemplateError,
    TemplateRenderError,
)
from portkey_integrations._templates.template import PromptRenderError
from portkey_integrations.langchain import pull_prompt as lc_pull
from portkey_integrations.server import LocalPortkeyServer

DYNAMIC = '[{"role": "user", "content": "{{>>which}}"}]'


def test_a_partial_named_by_a_variable_is_missing_offline_as_on_portkey(
    server: LocalPortkeyServer,
) -> None:
    template = PortkeyTemplate("pp-dyn", DYNAMIC, "chat")
    with pytest.raises(PromptRenderError, match="Missing variable partials: which"):
        template.render()
    with pytest.raises(PromptRenderError, match="Missing prompt partials: pl-nope") as info:
        template.render(which="pl-nope")
    assert isinstance(info.value, PortkeyConfigError) and info.value.failure == "partials"
    # The same message Portkey answers with.
    server.register("pp-tpl-dyn", DYNAMIC)
    with pytest.raises(TemplateError, match="Missing prompt partials: pl-nope"):
        PortkeyClient(base_url=server.base_url).render("pp-tpl-dyn", variables={"which": "pl-nope"})


def test_a_chat_template_that_renders_to_invalid_json_is_refused(
    server: LocalPortkeyServer,
) -> None:
    template = PortkeyTemplate("pp-bad", '[{"role": "user", "content": {{{raw}}}}]', "chat")
    with pytest.raises(PromptRenderError, match="Expecting value") as info:
        template.render(raw="not json")
    assert info.value.failure == "json"
    # Portkey answers the same message (a 500 on its prompt routes).
    server.register("pp-tpl-bad", '[{"role": "user", "content": {{{raw}}}}]')
    with pytest.raises(TemplateRenderError) as online:
        PortkeyClient(base_url=server.base_url).render("pp-tpl-bad", variables={"raw": "not json"})
    assert online.value.message == info.value.message
    assert template.render(raw='"fine"') == [{"role": "user", "content": "fine"}]


def test_errors_and_templates_pickle(pulled: Path, server: LocalPortkeyServer) -> None:
    error = PromptRenderError("Missing prompt partials: x", "partials")
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is PromptRenderError and copied.message == error.message
    assert copied.failure == "partials"
    online = lc_pull("pp-tpl-chat", base_url=server.base_url)
    restored = pickle.loads(pickle.dumps(online))
    # An unpickled online template keeps the copy it held (clients stay behind).
    assert restored.format_messages(name="A", question="Q") == online.format_messages(
        name="A", question="Q"
    )
    assert restored.pulled.client is None
    folder = lc_pull("pp-tpl-text", folder=pulled)
    assert pickle.loads(pickle.dumps(folder)).format(topic="t", n=1) == "Summarise t in 1 words."


def test_prompt_render_error_is_one_class_at_every_import_path() -> None:
    import portkey_integrations as pk
    from portkey_integrations import _errors

    assert PromptRenderError is pk.PromptRenderError is _errors.PromptRenderError
    assert issubclass(PromptRenderError, PortkeyConfigError)
