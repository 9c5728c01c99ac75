"""Every client option is reachable from all four model classes, under one name."""

from __future__ import annotations

from typing import Any

import pytest

from portkey_integrations import PortkeyClient, PortkeyConfigError
from portkey_integrations._adapters.settings import CLIENT_FIELDS
from portkey_integrations._options import MODEL_FIELD_ALIASES, OPTION_NAMES, ClientOptions
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyEmbedding
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

MODELS = [LCChat, LCLLM, LIChat, LILLM]
EMBEDDINGS = [PortkeyEmbeddings, PortkeyEmbedding]
# The client options that are no routing option: base_url, default_headers, timeouts, ...
CONNECTION = [name for name in ClientOptions.__annotations__ if name not in OPTION_NAMES]

# A value for every option, and the header it must produce.
VALUES: dict[str, tuple[Any, str, str]] = {
    "api_key": ("pk-opt", "x-portkey-api-key", "pk-opt"),
    "virtual_key": ("vk-opt", "x-portkey-virtual-key", "vk-opt"),
    "config": ("pc-opt", "x-portkey-config", "pc-opt"),
    "provider": ("openai", "x-portkey-provider", "openai"),
    "provider_api_key": ("sk-opt", "authorization", "Bearer sk-opt"),
    "custom_host": ("http://127.0.0.1:9/v1", "x-portkey-custom-host", "http://127.0.0.1:9/v1"),
    "trace_id": ("tr-opt", "x-portkey-trace-id", "tr-opt"),
    "metadata": ({"team": "a"}, "x-portkey-metadata", '{"team":"a"}'),
    "cache_force_refresh": (True, "x-portkey-cache-force-refresh", "true"),
    "cache_namespace": ("ns", "x-portkey-cache-namespace", "ns"),
    "gateway_timeout_ms": (1500, "x-portkey-request-timeout", "1500"),
    "forward_headers": (["x-a"], "x-portkey-forward-headers", "x-a"),
    "strict_open_ai_compliance": (False, "x-portkey-strict-open-ai-compliance", "false"),
    "extra_headers": ({"x-extra": "1"}, "x-extra", "1"),
}

# pp-joke's own variables: a LlamaIndex call that gives none would lose its message
# (pp-joke has no input slot) and fail before sending.
JOKE = {"adjective": "dry", "topic": "owls"}


def test_the_table_covers_every_option() -> None:
    assert set(VALUES) == set(OPTION_NAMES)


@pytest.mark.parametrize("cls", MODELS + EMBEDDINGS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_client_option_is_a_field_of_every_model(cls: type) -> None:
    fields = cls.model_fields  # type: ignore[attr-defined]
    for option in OPTION_NAMES:
        assert MODEL_FIELD_ALIASES.get(option, option) in fields, option
    for name in CONNECTION:
        assert name in fields, name
    assert set(CLIENT_FIELDS) <= set(fields)


@pytest.mark.parametrize("cls", MODELS + EMBEDDINGS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_option_reaches_the_wire_from_every_model(
    cls: type, server: LocalPortkeyServer
) -> None:
    kwargs = {MODEL_FIELD_ALIASES.get(k, k): v for k, (v, _, _) in VALUES.items()}
    if cls in EMBEDDINGS:
        model = cls(model="text-embedding-3-small", base_url=server.base_url, **kwargs)
    else:
        # The options are under test, not the variables pp-joke reads.
        model = cls(prompt_id="pp-joke", base_url=server.base_url, check_variables="off", **kwargs)
    if cls in EMBEDDINGS:
        (model.embed_query if cls is PortkeyEmbeddings else model.get_query_embedding)("x")
    elif cls in (LCChat, LCLLM):
        model.invoke({"topic": "owls"})
    else:
        model.complete("owls", variables=JOKE)
    headers = server.requests[-1].headers  # what reached the server
    for option, (_, header, expected) in VALUES.items():
        assert headers[header] == expected, option


def test_the_client_rejects_an_unknown_option_by_name() -> None:
    with pytest.raises(PortkeyConfigError, match=r"'virtual_kye'.*'virtual_key'"):
        PortkeyClient(virtual_kye="vk")


@pytest.mark.parametrize("cls", [LCChat, LCLLM])
def test_request_timeout_is_chatopenais_seconds_alias(cls: type) -> None:
    model = cls(prompt_id="pp-joke", base_url="local", request_timeout=30)
    assert model.timeout == 30
    assert model.client.timeout.read == 30
    assert "x-portkey-request-timeout" not in model.client._headers


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_typo_of_a_field_raises_naming_it(cls: type) -> None:
    with pytest.raises(PortkeyConfigError, match=r"'temprature'.*'temperature'"):
        cls(prompt_id="pp-joke", temprature=0.1)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_an_unknown_keyword_is_warned_and_sent(cls: type, server: LocalPortkeyServer) -> None:
    with pytest.warns(UserWarning, match="'max_completion_tokens' is not a field of"):
        model = cls(
            prompt_id="pp-joke",
            base_url=server.base_url,
            max_completion_tokens=3,
            check_variables="off",  # the keyword is under test, not the variables
        )
    assert model.model_kwargs == {"max_completion_tokens": 3}
    if cls in (LCChat, LCLLM):
        model.invoke({"topic": "owls"})
    else:
        model.complete("owls", variables=JOKE)
    assert server.requests[-1].body["max_completion_tokens"] == 3
