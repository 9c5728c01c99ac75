"""Errors surface as langchain-core model errors, chained from the core's."""

from __future__ import annotations

import copy
import pickle
import socket
from typing import Any

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessageChunk

import portkey_integrations as pk
from portkey_integrations import _errors as core
from portkey_integrations.langchain import PortkeyChatModel, errors
from portkey_integrations.langchain._errors import raise_langchain_error, to_langchain_error
from portkey_integrations.server import Fault, LocalPortkeyServer

TOPIC = "pp-lc-topic"


def model(server: LocalPortkeyServer, **kwargs: Any) -> PortkeyChatModel:
    kwargs.setdefault("max_retries", 0)
    return PortkeyChatModel(base_url=server.base_url, api_key="pk-test", **kwargs)


@pytest.mark.parametrize(
    ("status", "lc_error", "core_error"),
    [
        (429, ModelRateLimitError, pk.RateLimitError),
        (401, ModelAuthenticationError, pk.AuthenticationError),
        (400, ModelInvalidRequestError, pk.BadRequestError),
        (503, ModelAPIError, pk.InternalServerError),
        (408, ModelTimeoutError, pk.RequestTimeoutError),
    ],
)
def test_status_errors(
    server: LocalPortkeyServer, status: int, lc_error: type, core_error: type
) -> None:
    server.add_fault(Fault(kind="status", status=status))
    with pytest.raises(lc_error) as info:
        model(server, prompt_id=TOPIC).invoke({"topic": "x"})
    error = info.value
    assert isinstance(error, core_error)
    assert isinstance(error.__cause__, core_error)
    assert error.status_code == status
    assert error.trace_id


def test_unknown_prompt_is_model_not_found(server: LocalPortkeyServer) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        model(server, prompt_id="pp-does-not-exist").invoke("hi")
    assert isinstance(info.value, pk.PromptNotFoundError)


async def test_async_errors_too(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429))
    with pytest.raises(ModelRateLimitError):
        await model(server, prompt_id=TOPIC).ainvoke({"topic": "x"})


def test_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens there any more.
    llm = PortkeyChatModel(
        model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0
    )
    with pytest.raises(ModelConnectionError) as info:
        llm.invoke("hi")
    assert isinstance(info.value.__cause__, pk.APIConnectionError)


def test_timeout_error(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="slow", delay=2.0))
    with pytest.raises(ModelTimeoutError):
        model(server, prompt_id=TOPIC, timeout=0.2).invoke({"topic": "x"})


def test_with_retry_recovers(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=429, times=2))
    retrying = model(server, prompt_id=TOPIC).with_retry(
        retry_if_exception_type=(ModelRateLimitError,),
        stop_after_attempt=3,
        wait_exponential_jitter=False,
    )
    assert "Talk about x." in retrying.invoke({"topic": "x"}).text
    assert len(server.requests) == 3


def test_with_fallbacks(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503, prompt_id=TOPIC))
    primary = model(server, prompt_id=TOPIC)
    backup = model(server, prompt_id="pp-joke")
    result = primary.with_fallbacks([backup]).invoke({"topic": "x", "adjective": "y"})
    assert result.text == "Echo: Tell me a y joke about x."


def test_core_retries_are_reported(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=503))
    result = model(server, prompt_id=TOPIC, max_retries=2).invoke({"topic": "x"})
    assert len(server.requests) == 2
    assert "Talk about x." in result.text


@pytest.mark.parametrize("kind", ["disconnect", "error_event", "error_data"])
def test_mid_stream_error_keeps_the_chunks_already_yielded(
    server: LocalPortkeyServer, kind: Any
) -> None:
    server.add_fault(Fault(kind=kind, after_chunks=3))
    received: list[AIMessageChunk] = []
    with pytest.raises(ModelAPIError) as info:
        for chunk in model(server, prompt_id=TOPIC).stream({"topic": "a long topic"}):
            received.append(chunk)
    texts = "".join(c.text for c in received)
    assert texts  # what arrived before the failure was delivered
    assert texts != "Echo: Talk about a long topic."
    assert isinstance(info.value, pk.StreamError)
    assert info.value.chunks  # and the core kept it too


async def test_mid_stream_error_async(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="disconnect", after_chunks=3))
    received = []
    with pytest.raises(ModelAPIError):
        async for chunk in model(server, prompt_id=TOPIC).astream({"topic": "t"}):
            received.append(chunk)
    assert "".join(c.text for c in received)


def test_stream_error_before_start(server: LocalPortkeyServer) -> None:
    server.add_fault(Fault(kind="status", status=401))
    with pytest.raises(ModelAuthenticationError):
        list(model(server, prompt_id=TOPIC).stream({"topic": "x"}))


def test_missing_prompt_id_for_render(server: LocalPortkeyServer) -> None:
    with pytest.raises(pk.PortkeyConfigError):
        model(server, model="m").render("hi")


# --- the twins: one real class per concrete core error ------------------------------------

# Which LangChain category each core error belongs to, written out independently of the
# module's own table: a new core class must be added here on purpose.
CATEGORY: dict[str, type[ModelError]] = {
    "APIConnectionError": ModelConnectionError,
    "APITimeoutError": ModelTimeoutError,
    "APIResponseValidationError": ModelAPIError,
    "APIStatusError": ModelError,
    "BadRequestError": ModelInvalidRequestError,
    "MissingVariableError": ModelInvalidRequestError,
    "TemplateError": ModelInvalidRequestError,
    "AuthenticationError": ModelAuthenticationError,
    "PermissionDeniedError": ModelPermissionDeniedError,
    "NotFoundError": ModelNotFoundError,
    "PromptNotFoundError": ModelNotFoundError,
    "RequestTimeoutError": ModelTimeoutError,
    "ConflictError": ModelAPIError,
    "BudgetExceededError": ModelPermissionDeniedError,
    "RateLimitError": ModelRateLimitError,
    "GuardrailError": ModelInvalidRequestError,
    "InternalServerError": ModelAPIError,
    "TemplateRenderError": ModelInvalidRequestError,
    "StreamError": ModelAPIError,
    "TruncatedStreamError": ModelAPIError,
    "PromptMappingError": ModelInvalidRequestError,
    "BatchError": ModelAPIError,
    "BatchLineError": ModelAPIError,
}


def concrete_core_errors() -> list[type[core.PortkeyError]]:
    """Every class the core defines under PortkeyError, but configuration errors."""
    found: list[type[core.PortkeyError]] = []
    pending = list(core.PortkeyError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__ == core.__name__ and not issubclass(cls, core.PortkeyConfigError):
            found.append(cls)
    return sorted(set(found), key=lambda c: c.__name__)


def sample(cls: type[core.PortkeyError]) -> core.PortkeyError:
    error: core.PortkeyError
    if issubclass(cls, core.APIStatusError):
        error = cls(
            "boom",
            status_code=499,
            body={"error": {"message": "boom"}},
            code="c1",
            type="t1",
            param="p1",
            trace_id="trace-1",
            headers={"retry-after": "2"},
            prompt_id="pp-x@3",
        )
    elif issubclass(cls, core.APIConnectionError):
        error = cls("unreachable", url="http://127.0.0.1:9/v1/chat/completions")
    elif issubclass(cls, core.APIResponseValidationError):
        error = cls("no JSON", status_code=200, body="<html>", trace_id="t", headers={"a": "b"})
    elif issubclass(cls, core.PromptMappingError):
        error = cls("no slot", prompt_id="pp-x", piece="the image", fix="add {{input_parts}}")
    elif issubclass(cls, core.BatchError):
        error = cls("ended expired", batch_id="batch_1", status="expired", errors=[{"code": "x"}])
    elif issubclass(cls, core.BatchLineError):
        error = cls("line failed", custom_id="3", code="rate_limit", status_code=429)
    elif issubclass(cls, core.StreamError):
        error = cls("broke", body={"error": "x"}, code="s1", trace_id="trace-2", chunks=[1, 2])
    else:
        raise AssertionError(f"no sample for {cls.__name__}")
    error.add_note("a note")
    return error


def test_every_concrete_core_error_has_a_category() -> None:
    assert {c.__name__ for c in concrete_core_errors()} == set(CATEGORY)
    assert set(errors.__all__) == set(CATEGORY)


@pytest.mark.parametrize("core_cls", concrete_core_errors(), ids=lambda c: c.__name__)
def test_twin_of_every_core_error(core_cls: type[core.PortkeyError]) -> None:
    original = sample(core_cls)
    twin = to_langchain_error(original)
    twin_cls = getattr(errors, core_cls.__name__)
    assert type(twin) is twin_cls
    assert twin_cls.__module__ == "portkey_integrations.langchain.errors"
    assert twin_cls.__doc__ and twin_cls.__name__ in errors.__doc__  # type: ignore[operator]
    assert issubclass(twin_cls, core_cls) and issubclass(twin_cls, CATEGORY[core_cls.__name__])
    assert twin.is_retryable is CATEGORY[core_cls.__name__].is_retryable  # type: ignore[attr-defined]
    assert vars(twin) == vars(original) and twin.args == original.args
    assert str(twin) == str(original)
    for copied in (pickle.loads(pickle.dumps(twin)), copy.deepcopy(twin)):
        assert type(copied) is twin_cls
        assert vars(copied) == vars(original) and str(copied) == str(original)


def test_unnamed_subclass_maps_to_its_nearest_base() -> None:
    class QuotaError(pk.RateLimitError):
        pass

    twin = to_langchain_error(QuotaError("slow down", status_code=429, trace_id="t"))
    assert type(twin) is errors.RateLimitError
    assert twin.trace_id == "t"  # type: ignore[attr-defined]


def test_config_errors_and_twins_come_back_as_they_are() -> None:
    config = pk.PortkeyConfigError("bad input")
    assert to_langchain_error(config) is config
    plain = pk.PortkeyError("plain")
    assert to_langchain_error(plain) is plain
    twin = to_langchain_error(pk.RateLimitError("x", status_code=429))
    assert to_langchain_error(twin) is twin  # type: ignore[arg-type]


def test_raise_chains_from_the_core_error() -> None:
    original = pk.PromptNotFoundError("gone", status_code=404, prompt_id="pp-a")
    with pytest.raises(errors.PromptNotFoundError) as info:
        raise_langchain_error(original)
    assert info.value.__cause__ is original and info.value.prompt_id == "pp-a"
    with pytest.raises(pk.PortkeyConfigError) as config:
        raise_langchain_error(pk.PortkeyConfigError("bad"))
    assert config.value.__cause__ is None


def test_a_real_twin_pickles(server: LocalPortkeyServer) -> None:
    with pytest.raises(errors.PromptNotFoundError) as info:
        model(server, prompt_id="pp-joke@999").invoke({"topic": "x"})
    error = info.value
    assert error.prompt_id == "pp-joke@999" and "pp-joke@999" in str(error)
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is errors.PromptNotFoundError
    assert isinstance(copied, ModelNotFoundError) and isinstance(copied, pk.NotFoundError)
    assert vars(copied) == vars(error) and copied.trace_id
