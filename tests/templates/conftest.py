"""Fixtures for the template tests: a server holding a table of templates, and its pull.

Every case is rendered by the local server's ``/render`` (the reference) and, offline,
by the templates under test, online and from a folder written by ``portkey-prompts pull``.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portkey_integrations import PortkeyClient
from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations.prompts_cli import main
from portkey_integrations.server import LocalPortkeyServer


@dataclass(frozen=True)
class Case:
    """One saved template and the variables it is rendered with."""

    id: str
    template: str | list[dict[str, Any]]
    variables: dict[str, Any]
    kind: str | None = None


HISTORY = [{"role": "user", "content": 'Say "hi"'}, {"role": "assistant", "content": "hi"}]
TOOL_HISTORY = [
    {"role": "user", "content": "Weather?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
]

CASES = [
    Case(
        "pp-tpl-chat",
        [
            {"role": "system", "content": "You are {{name}}."},
            {"role": "user", "content": "{{question}}"},
        ],
        {"name": "Ann", "question": "Why?"},
    ),
    Case("pp-tpl-text", "Summarise {{topic}} in {{n}} words.", {"topic": "cats", "n": 5}, "text"),
    Case(
        "pp-tpl-partial",
        [
            {"role": "system", "content": "{{>pl-tpl-tone}} And {{>pl-tpl-sign@1}}"},
            {"role": "user", "content": "{{question}}"},
        ],
        {"tone": 'dry "very"', "who": "Bo", "question": "Hm?"},
    ),
    Case(
        "pp-tpl-partial-text",
        "{{>pl-tpl-tone}}\nQ: {{question}}",
        {"tone": "warm", "question": "a\\b"},
        "text",
    ),
    Case(
        "pp-tpl-sections",
        [
            {
                "role": "user",
                "content": "{{#items}}- {{name}} ({{qty}})\n{{/items}}{{^empty}}none{{/empty}} {{#tags}}[{{.}}]{{/tags}}",
            }
        ],
        {"items": [{"name": "apple", "qty": 2}, {"name": "pear", "qty": 1}], "tags": ["a", "b"]},
    ),
    Case(
        "pp-tpl-sections-text",
        "{{#items}}* {{.}}\n{{/items}}",
        {"items": ["one", "two"]},
        "text",
    ),
    Case(
        "pp-tpl-dotted",
        [{"role": "user", "content": "{{user.name}} from {{user.address.city}}"}],
        {"user": {"name": "Ann", "address": {"city": "Oslo"}}},
    ),
    Case(
        "pp-tpl-quotes",
        [{"role": "user", "content": 'He said "{{said}}" \\ {{{raw}}}'}],
        {"said": 'a "quoted" <b>&amp;</b>\nline', "raw": "plain"},
    ),
    Case(
        "pp-tpl-quotes-text",
        'Quote: "{{said}}" & {{{raw}}}',
        {"said": 'a "b" <i>', "raw": "x & y"},
        "text",
    ),
    Case(
        "pp-tpl-unicode",
        [{"role": "user", "content": "Grüße, {{name}} 👋 — {{city}}"}],
        {"name": "Zoë 日本", "city": "Zürich"},
    ),
    Case(
        "pp-tpl-parts",
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look at {{what}}"},
                    {"type": "image_url", "image_url": {"url": "{{url}}", "detail": "low"}},
                ],
            }
        ],
        {"what": "the owl", "url": "https://example.org/owl.png"},
    ),
    Case(
        "pp-tpl-tools",
        '[{{#history}}{{{.}}}, {{/history}}{"role": "user", "content": "{{input}}"}]',
        {"history": TOOL_HISTORY, "input": "thanks"},
        "chat",
    ),
    Case(
        "pp-tpl-history",
        '[{"role": "system", "content": "Be brief."}, {{#history}}{{{.}}}, {{/history}}'
        '{"role": "user", "content": "{{input}}"}]',
        {"history": HISTORY, "input": "and now?"},
        "chat",
    ),
]

PARTIALS = [
    {"id": "pl-tpl-tone", "partial": True, "versions": [{"template": 'Be {{tone}}, "always".'}]},
    {
        "id": "pl-tpl-sign",
        "partial": True,
        "versions": [{"template": "sign as {{who}}"}, {"template": "SIGN {{who}}"}],
        "published": 2,
    },
]


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    # pull_prompt reads through the process cache: every test sees its own first fetch.
    prompt_cache.clear()


@pytest.fixture(scope="session")
def tpl_server() -> Iterator[LocalPortkeyServer]:
    """A server holding only this folder's prompts."""
    with LocalPortkeyServer(include_bundled=False) as server:
        for partial in PARTIALS:
            server.store.load_data(partial)
        for case in CASES:
            options = {"kind": case.kind} if case.kind else {}
            server.register(case.id, case.template, **options)
        yield server


@pytest.fixture
def server(tpl_server: LocalPortkeyServer) -> LocalPortkeyServer:
    tpl_server.reset()
    return tpl_server


@pytest.fixture(scope="session")
def pulled(tpl_server: LocalPortkeyServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by ``portkey-prompts pull`` from the server."""
    folder = tmp_path_factory.mktemp("pulled")
    out, err = io.StringIO(), io.StringIO()
    ids = [case.id for case in CASES]
    code = main(
        ["--base-url", tpl_server.base_url, "pull", *ids, "--to", str(folder)], out=out, err=err
    )
    assert code == 0, err.getvalue()
    return folder


@pytest.fixture
def client(server: LocalPortkeyServer) -> PortkeyClient:
    return PortkeyClient(base_url=server.base_url)


def reference(client: PortkeyClient, case: Case) -> list[dict[str, Any]] | str:
    """What Portkey's render (the local server's ``/render``) gives for the case."""
    rendered = client.render(case.id, variables=case.variables, check_variables="error")
    if rendered.messages is not None:
        return rendered.messages
    assert rendered.prompt is not None
    return rendered.prompt


@pytest.fixture
def closed_url() -> str:
    """A base URL nothing listens on: the prompt API is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
