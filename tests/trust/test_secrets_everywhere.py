"""Secrets are masked on every surface of every model class, and still sent on the wire.

A secret is anything that authenticates (see ``portkey_integrations._secrets``): the three
key fields, the key entries of an inline config (its targets included) and auth-like
default headers. The table below is surfaces x classes; each cell must hold none of the
raw strings, and the real request to the local server must carry all of them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.llms import ChatMessage

from portkey_integrations import PortkeyClient, PortkeyConfigError, RequestOptions
from portkey_integrations._secrets import (
    MASK,
    is_secret_header,
    is_secret_name,
    mask_config,
    mask_headers,
)
from portkey_integrations.langchain import PortkeyChatModel as LCChat
from portkey_integrations.langchain import PortkeyPromptLLM as LCLLM
from portkey_integrations.langchain.embeddings import PortkeyEmbeddings as LCEmbed
from portkey_integrations.llama_index import PortkeyChatModel as LIChat
from portkey_integrations.llama_index import PortkeyEmbedding as LIEmbed
from portkey_integrations.llama_index import PortkeyPromptLLM as LILLM
from portkey_integrations.server import LocalPortkeyServer

API_KEY = "pk-secret-api-0001"
VIRTUAL_KEY = "vk-secret-virtual-0002"
PROVIDER_KEY = "sk-secret-provider-0003"
CONFIG_KEY = "sk-secret-config-0004"
TARGET_KEY = "sk-secret-target-0005"
AUTH = "Bearer secret-auth-0006"
CUSTOM_KEY = "secret-custom-header-0007"
SECRETS = (API_KEY, VIRTUAL_KEY, PROVIDER_KEY, CONFIG_KEY, TARGET_KEY, AUTH, CUSTOM_KEY)

CONFIG = {
    "api_key": CONFIG_KEY,
    "strategy": {"mode": "fallback"},
    "targets": [
        {"provider": "openai", "override_params": {"max_tokens": 9}},
        {"api_key": TARGET_KEY},
    ],
}
HEADERS = {"Authorization": AUTH, "x-custom-api-key": CUSTOM_KEY, "x-team": "blue"}

LANGCHAIN = [LCChat, LCLLM, LCEmbed]
LLAMA_INDEX = [LIChat, LILLM, LIEmbed]
CLASSES = LANGCHAIN + LLAMA_INDEX
EMBEDDINGS = (LCEmbed, LIEmbed)


def build(cls: type, base_url: str = "http://127.0.0.1:9/v1") -> Any:
    """A model of ``cls`` holding every kind of secret."""
    route = {"model": "text-embedding-3-small"} if cls in EMBEDDINGS else {}
    if cls not in EMBEDDINGS:
        route = {"prompt_id": "pp-assistant"}
    return cls(
        base_url=base_url,
        api_key=API_KEY,
        virtual_key=VIRTUAL_KEY,
        provider_api_key=PROVIDER_KEY,
        config=CONFIG,
        default_headers=HEADERS,
        **route,
    )


def _langchain_only(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda m: fn(m) if type(m) in LANGCHAIN else ""


def _llama_index_only(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda m: fn(m) if type(m) in LLAMA_INDEX else ""


SURFACES: dict[str, Callable[[Any], Any]] = {
    "repr": repr,
    "str": str,
    "model_dump": lambda m: m.model_dump(),
    "model_dump(json)": lambda m: m.model_dump(mode="json"),
    "model_dump_json": lambda m: m.model_dump_json(),
    "dumps": _langchain_only(dumps),
    "dumpd": _langchain_only(dumpd),
    "to_dict": _llama_index_only(lambda m: m.to_dict()),
    "to_json": _llama_index_only(lambda m: m.to_json()),
    "client repr": lambda m: (m.client, m.async_client),
    "options repr": lambda m: m.client.options,
}


def assert_clean(text: object, where: str) -> None:
    shown = text if isinstance(text, str) else repr(text)
    leaked = [secret for secret in SECRETS if secret in shown]
    assert not leaked, f"{where} shows {leaked}"


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__.split('.')[1]}.{c.__name__}")
def test_no_surface_shows_a_secret(cls: type, surface: str) -> None:
    model = build(cls)
    assert_clean(SURFACES[surface](model), f"{cls.__name__} {surface}")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__.split('.')[1]}.{c.__name__}")
def test_masked_surfaces_keep_what_is_not_secret(cls: type) -> None:
    dumped = build(cls).model_dump(mode="json")
    assert dumped["config"]["strategy"] == {"mode": "fallback"}
    assert dumped["config"]["targets"][0]["override_params"] == {"max_tokens": 9}
    assert dumped["config"]["api_key"] == MASK
    assert dumped["default_headers"] == {
        "Authorization": MASK,
        "x-custom-api-key": MASK,
        "x-team": "blue",
    }


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__.split('.')[1]}.{c.__name__}")
def test_the_request_still_carries_every_secret(cls: type, server: LocalPortkeyServer) -> None:
    model = build(cls, server.base_url)
    if cls is LCEmbed:
        model.embed_query("x")
    elif cls is LIEmbed:
        model.get_query_embedding("x")
    elif cls in LANGCHAIN:
        model.invoke("hello")
    else:
        model.chat([ChatMessage(role="user", content="hello")])
    headers = server.requests[-1].headers
    assert headers["x-portkey-api-key"] == API_KEY
    assert headers["x-portkey-virtual-key"] == VIRTUAL_KEY
    assert json.loads(headers["x-portkey-config"]) == CONFIG
    # A default header wins over provider_api_key's Authorization (documented).
    assert headers["authorization"] == AUTH
    assert headers["x-custom-api-key"] == CUSTOM_KEY
    # The model itself still holds the real values.
    assert model.config == CONFIG and model.default_headers == HEADERS


def test_provider_api_key_reaches_the_wire(server: LocalPortkeyServer) -> None:
    model = LCChat(
        prompt_id="pp-assistant", base_url=server.base_url, provider_api_key=PROVIDER_KEY
    )
    model.invoke("hello")
    assert server.requests[-1].headers["authorization"] == f"Bearer {PROVIDER_KEY}"


# -- callbacks and instrumentation ---------------------------------------------------------


class _Seen(BaseCallbackHandler):
    run_inline = True  # called in the event loop's thread, before astream returns

    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.payloads.append((serialized, kwargs))

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self.payloads.append((serialized, kwargs))


@pytest.mark.parametrize("cls", [LCChat, LCLLM])
@pytest.mark.parametrize("stream", [False, True])
async def test_langchain_callbacks_never_see_a_secret(
    cls: type, stream: bool, server: LocalPortkeyServer
) -> None:
    model, seen = build(cls, server.base_url), _Seen()
    config = {"callbacks": [seen]}
    if stream:
        [chunk async for chunk in model.astream("hello", config=config)]
    else:
        model.invoke("hello", config=config)
    assert seen.payloads, "no start callback"
    for serialized, kwargs in seen.payloads:
        assert serialized["kwargs"]["config"]["targets"][1]["api_key"] == MASK
        assert_clean(json.dumps(serialized), "serialized")
        assert_clean(repr(kwargs), "invocation_params / metadata")
    assert server.requests[-1].headers["x-portkey-api-key"] == API_KEY


class _Events(BaseEventHandler):
    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "SecretsTestEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.mark.parametrize("cls", LLAMA_INDEX, ids=lambda c: c.__name__)
async def test_llama_index_events_never_show_a_secret(
    cls: type, server: LocalPortkeyServer
) -> None:
    handler, root = _Events(events=[]), get_dispatcher()
    root.add_event_handler(handler)
    try:
        model = build(cls, server.base_url)
        if cls is LIEmbed:
            model.get_text_embedding_batch(["a", "b"])
            await model.aget_query_embedding("c")
        else:
            model.chat([ChatMessage(role="user", content="hello")])
            await model.acomplete("hello")
    finally:
        root.event_handlers.remove(handler)
    dicts = [e.model_dict for e in handler.events if hasattr(e, "model_dict")]
    assert dicts, "no event carried the model"
    for event in handler.events:
        assert_clean(event.model_dump_json(), type(event).__name__)
        assert_clean(repr(event), type(event).__name__)


# -- the masking rules themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("virtual_key", True),
        ("aws_secret_access_key", True),
        ("aws_session_token", True),
        ("client_secret", True),
        ("apiKey", True),
        ("token", True),
        ("password", True),
        ("provider", False),
        ("max_tokens", False),
        ("override_params", False),
        ("mode", False),
        (3, False),
    ],
)
def test_secret_names(name: object, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("Cookie", True),
        ("Set-Cookie", True),
        ("x-portkey-api-key", True),
        ("x-portkey-virtual-key", True),
        ("x-goog-api-key", True),
        ("x-amz-security-token", True),
        ("x-team", False),
        ("x-portkey-provider", False),
        ("content-type", False),
    ],
)
def test_secret_headers(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_mask_config_walks_dicts_and_lists_and_leaves_ids() -> None:
    assert mask_config("pc-abc") == "pc-abc"
    assert mask_config(None) is None
    assert mask_config({"a": [{"b": {"token": "t"}}], "n": 1}) == {
        "a": [{"b": {"token": MASK}}],
        "n": 1,
    }
    assert mask_config(CONFIG) != CONFIG and CONFIG["api_key"] == CONFIG_KEY  # a copy


def test_a_config_given_as_json_text_is_masked() -> None:
    masked = mask_config(json.dumps(CONFIG))
    assert json.loads(masked)["targets"][1]["api_key"] == MASK
    assert json.loads(masked)["strategy"] == {"mode": "fallback"}
    assert mask_config('{"api_key": "sk-broken') == MASK
    assert_clean(repr(LCChat(base_url="http://127.0.0.1:9/v1", config=json.dumps(CONFIG))), "repr")


def test_an_inline_config_header_is_masked_as_a_config() -> None:
    raw = {"x-portkey-config": json.dumps(CONFIG)}
    masked = mask_headers(raw)
    assert masked is not None
    assert json.loads(masked["x-portkey-config"])["targets"][1]["api_key"] == MASK


def test_request_options_repr_is_masked() -> None:
    options = RequestOptions.make(
        api_key=API_KEY, config=CONFIG, extra_headers=HEADERS, provider_api_key=PROVIDER_KEY
    )
    assert_clean(repr(options), "RequestOptions repr")
    assert_clean(str(options), "RequestOptions str")
    assert "strategy" in repr(options) and "x-team" in repr(options)
    assert options.headers()["x-portkey-api-key"] == API_KEY


def test_a_client_repr_is_masked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = PortkeyClient(base_url="http://127.0.0.1:9/v1", api_key=API_KEY, config=CONFIG)
    assert_clean(repr(client), "client repr")
    assert_clean(repr(client.options), "client options")


# -- masks never reach the wire, and errors never show a secret ----------------------------


@pytest.mark.parametrize("cls", [LCChat, LIChat], ids=lambda c: c.__module__.split(".")[1])
def test_a_model_rebuilt_from_its_dump_refuses_to_send_masks(
    cls: type, server: LocalPortkeyServer
) -> None:
    model = build(cls, server.base_url)
    dumped = model.to_dict() if cls is LIChat else model.model_dump(mode="json")
    dumped.pop("class_name", None)
    dumped.update(api_key=API_KEY, virtual_key=None, provider_api_key=None)
    rebuilt = cls(**dumped)
    count = len(server.requests)
    with pytest.raises(PortkeyConfigError, match="masked secret"):
        if cls is LIChat:
            rebuilt.chat([ChatMessage(role="user", content="hello")])
        else:
            rebuilt.invoke("hello")
    assert len(server.requests) == count  # nothing was sent


@pytest.mark.parametrize(
    "options",
    [
        {"api_key": "pk-secret-é-0008"},
        {"extra_headers": {"Authorization": "Bearer secret-é-0008"}},
    ],
)
def test_a_non_ascii_secret_is_refused_without_showing_it(options: dict[str, Any]) -> None:
    with pytest.raises(PortkeyConfigError, match="ASCII") as info:
        RequestOptions.make(**options).headers()
    assert "0008" not in str(info.value)


def test_a_bound_model_serializes_masked() -> None:
    bound = build(LCChat).bind(stop=["x"])
    assert_clean(dumps(bound), "dumps(model.bind(...))")
