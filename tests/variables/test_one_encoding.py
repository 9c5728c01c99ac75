"""One encoding: a call sends the same body whether or not its template can be read.

A run-only key (no ``prompts.read``) cannot fetch the template; the variables check is
then skipped, and nothing else changes: lists and objects still go as JSON values, so
sections loop and dotted names read on Portkey with or without the template.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    InternalServerError,
    PortkeyClient,
    TemplateRenderError,
)
from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations._templates.checks import PromptVariablesWarning
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.server import LocalPortkeyServer

FULL, RUN_ONLY = "pk-full", "pk-run-only"
VARIABLES: dict[str, Any] = {
    "user": {"name": "Ann"},
    "docs": [{"title": "A"}, {"title": "B"}],
}
RENDERED = "Hi Ann. Docs: A;B;"


class Status(enum.Enum):
    OPEN = "open"


@pytest.fixture
def keys(server: LocalPortkeyServer) -> Iterator[LocalPortkeyServer]:
    server.state.set_api_keys({FULL: ["prompts.read", "completions.write"], RUN_ONLY: []})
    server.store.register(
        "pp-invoice",
        template=[{"role": "user", "content": "Total: {{total}} EUR due {{due}} ({{status}})"}],
    )
    server.store.register("pp-in-string", template=[{"role": "user", "content": "Data: {{data}}"}])
    try:
        yield server
    finally:
        server.state.set_api_keys({})


def _run(kind: str, key: str, server: LocalPortkeyServer, method: str, **kw: Any) -> Any:
    prompt_cache.clear()  # each key makes its own first fetch
    if kind == "sync":
        with PortkeyClient(base_url=server.base_url, api_key=key, max_retries=0) as client:
            return getattr(client, method)(**kw)

    async def go() -> Any:
        async with AsyncPortkeyClient(
            base_url=server.base_url, api_key=key, max_retries=0
        ) as client:
            return await getattr(client, method)(**kw)

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("mode", ["warn", "error", "off"])
def test_the_same_call_sends_the_same_body_with_or_without_the_template(
    kind: str, mode: str, keys: LocalPortkeyServer
) -> None:
    bodies, replies = [], []
    for key in (FULL, RUN_ONLY):
        keys.reset()
        result = _run(
            kind,
            key,
            keys,
            "complete",
            prompt_id="pp-objects",
            variables=VARIABLES,
            check_variables=mode,
        )
        fetched = [r for r in keys.admin_requests if r.method == "GET"]
        if mode != "off":  # the run-only key was refused the template (403), FULL was not
            assert len(fetched) == 1
        bodies.append(keys.requests[-1].body)
        replies.append(result.choices[0].message.content)
    assert bodies[0] == bodies[1]
    assert bodies[0]["variables"] == VARIABLES  # objects as objects, lists as lists
    assert replies[0] == replies[1] and RENDERED in replies[0]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_render_renders_the_same_with_or_without_the_template(
    kind: str, keys: LocalPortkeyServer
) -> None:
    rendered = [
        _run(
            kind,
            key,
            keys,
            "render",
            prompt_id="pp-objects",
            variables=VARIABLES,
            check_variables="warn",
        )
        for key in (FULL, RUN_ONLY)
    ]
    assert rendered[0].messages == rendered[1].messages
    assert rendered[0].messages[-1]["content"] == RENDERED


@pytest.mark.parametrize("key", [FULL, RUN_ONLY])
def test_dates_decimals_and_enums_render_as_text(key: str, keys: LocalPortkeyServer) -> None:
    model = LCChat(prompt_id="pp-invoice", base_url=keys.base_url, api_key=key)
    prompt_cache.clear()
    invoice = {"total": Decimal("9.99"), "due": datetime.date(2024, 1, 2), "status": Status.OPEN}
    rendered = model.render(invoice).messages
    assert rendered is not None
    assert rendered[-1]["content"] == "Total: 9.99 EUR due 2024-01-02 (Status.OPEN)"
    assert keys.requests[-1].body["variables"] == {
        "total": "9.99",
        "due": "2024-01-02",
        "status": "Status.OPEN",
    }


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_object_inside_a_json_string_fails_the_same_way_every_time(
    kind: str, keys: LocalPortkeyServer
) -> None:
    call = {"prompt_id": "pp-in-string", "variables": {"data": {"k": "v"}}}
    keys.reset()
    # The template is known, check "error": refused before sending, naming the variable
    # and the fix.
    with pytest.raises(TemplateRenderError, match=r"'data'.*json\.dumps") as before:
        _run(kind, FULL, keys, "complete", check_variables="error", **call)
    assert before.value.status_code is None and before.value.param == "data"
    assert keys.requests == []
    # Check "warn": a warning, then the same body goes and Portkey's render fails (500);
    # a run-only key (template unknown) gets the very same 500.
    for key in (FULL, RUN_ONLY):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(TemplateRenderError) as after:
                _run(kind, key, keys, "complete", check_variables="warn", **call)
        assert isinstance(after.value, InternalServerError) and after.value.status_code == 500
        assert keys.requests[-1].body["variables"] == {"data": {"k": "v"}}
        warned = [str(w.message) for w in caught if w.category is PromptVariablesWarning]
        assert bool(warned) is (key == FULL)
    # As text it renders: the caller says so with json.dumps.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reply = _run(
            kind,
            FULL,
            keys,
            "render",
            prompt_id="pp-in-string",
            variables={"data": '{"k": "v"}'},
            check_variables="warn",
        )
    assert reply.messages[-1]["content"] == 'Data: {"k": "v"}'


def test_a_list_of_numbers_inside_a_json_string_is_not_refused(
    keys: LocalPortkeyServer,
) -> None:
    # Portkey renders it as "1,2,3": valid JSON, so the check lets it through.
    rendered = _run(
        "sync",
        FULL,
        keys,
        "render",
        prompt_id="pp-in-string",
        variables={"data": [1, 2, 3]},
        check_variables="error",
    )
    assert rendered.messages[-1]["content"] == "Data: 1,2,3"
