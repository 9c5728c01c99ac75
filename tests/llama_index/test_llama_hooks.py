"""What the adapter hooks into LlamaIndex, and when: nothing on import, one span handler
when the first model is built, one span per ``predict``; and the LlamaIndex behaviour
the ``predict`` overrides rely on, pinned (CI runs this at both ends of the range)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import LLM
from llama_index.core.prompts import PromptTemplate
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.dispatcher import DISPATCHER_SPAN_DECORATED_ATTR
from pydantic import PrivateAttr

from portkey_integrations.llama_index import PortkeyChatModel, PortkeyPromptLLM
from portkey_integrations.server import LocalPortkeyServer

_FRESH_PROCESS = textwrap.dedent(
    """
    import threading
    from llama_index_instrumentation import get_dispatcher

    root = get_dispatcher()
    before = [type(h).__name__ for h in root.span_handlers]
    import portkey_integrations.llama_index as li

    after_import = [type(h).__name__ for h in root.span_handlers]
    assert after_import == before, (before, after_import)

    def build() -> None:
        li.PortkeyChatModel(model="m", api_key="k", base_url="http://127.0.0.1:9")
        li.PortkeyPromptLLM(model="m", api_key="k", base_url="http://127.0.0.1:9")

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    build()
    after_build = [type(h).__name__ for h in root.span_handlers]
    assert after_build == before + ["TraceSpans"], (before, after_build)
    print("ok")
    """
)


@pytest.mark.slow  # a fresh interpreter importing llama-index
def test_import_adds_no_handler_and_the_first_model_adds_one() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


class _Spans(BaseSpanHandler[BaseSpan]):
    """Every span entered: ``(id, parent id)``."""

    _seen: list[tuple[str, str | None]] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "PortkeyTestSpans"

    def new_span(
        self, id_: str, bound_args: inspect.BoundArguments, *args: Any, **kwargs: Any
    ) -> BaseSpan | None:
        self._seen.append((id_, kwargs.get("parent_span_id")))
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def named(self, prefix: str) -> list[tuple[str, str | None]]:
        return [(i, p) for i, p in self._seen if i.startswith(prefix + "-")]


@pytest.fixture
def spans() -> Iterator[_Spans]:
    handler = _Spans()
    root = get_dispatcher()
    root.add_span_handler(handler)
    yield handler
    root.span_handlers.remove(handler)


TOPIC = PromptTemplate("Tell me about {topic}.")


@pytest.mark.parametrize("kind", ["chat", "text"])
def test_predict_is_one_span_around_its_call(
    kind: str,
    chat_model: Callable[..., PortkeyChatModel],
    prompt_llm: Callable[..., PortkeyPromptLLM],
    server: LocalPortkeyServer,
    spans: _Spans,
) -> None:
    make = chat_model if kind == "chat" else prompt_llm
    llm = make(prompt_id="pp-li-topic" if kind == "chat" else "pp-li-topic-text")
    name = type(llm).__name__
    llm.predict(TOPIC, topic="owls")
    [(predict, _)] = spans.named(f"{name}.predict")
    method = "chat" if kind == "chat" else "complete"
    [(_, parent)] = spans.named(f"{name}.{method}")
    assert parent == predict
    assert server.requests[-1].body["variables"]["topic"] == "owls"


async def test_the_route_is_taken_once(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    # The plain text has no slot in pp-li-topic: sent all the same, as told.
    llm = chat_model(prompt_id="pp-li-topic", check_variables="warn")
    await llm.apredict(TOPIC, topic="owls")
    assert server.requests[-1].body["variables"]["topic"] == "owls"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await llm.acomplete("plain")  # no template: the text is the input again
    assert any("'topic', which this call does not send" in str(w.message) for w in caught)
    variables = server.requests[-1].body["variables"]
    assert variables["input"] == "plain" and "topic" not in variables


# -- contract: what the overrides of predict / stream rely on -----------------------------

_OVERRIDDEN = [
    "predict",
    "apredict",
    "stream",
    "astream",
    "structured_predict",
    "astructured_predict",
    "stream_structured_predict",
    "astream_structured_predict",
]


@pytest.mark.parametrize("name", _OVERRIDDEN)
def test_llama_index_spans_the_methods_we_override(name: str) -> None:
    # LlamaIndex's own method opens the span; ours is marked so the mixin adds none.
    assert getattr(getattr(LLM, name), DISPATCHER_SPAN_DECORATED_ATTR, False)
    assert getattr(getattr(PortkeyChatModel, name), DISPATCHER_SPAN_DECORATED_ATTR, False)


def test_a_marked_function_is_not_wrapped_again() -> None:
    def f() -> None:
        return None

    setattr(f, DISPATCHER_SPAN_DECORATED_ATTR, True)
    assert get_dispatcher().span(f) is f


@pytest.mark.parametrize("name", ["predict", "apredict", "stream", "astream"])
def test_predict_signatures_are_the_ones_we_wrap(name: str) -> None:
    params = list(inspect.signature(getattr(LLM, name)).parameters.values())
    assert [(p.name, p.kind) for p in params] == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("prompt", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("prompt_args", inspect.Parameter.VAR_KEYWORD),
    ]


@pytest.mark.parametrize("name", ["_prepare_chat_with_tools", "_validate_chat_with_tools_response"])
def test_the_tool_hooks_we_implement_take_what_llama_index_passes(name: str) -> None:
    # FunctionCallingLLM's extension points (as llama-index-llms-openai implements them):
    # every parameter LlamaIndex declares is one ours accepts, under the same name.
    theirs = inspect.signature(getattr(FunctionCallingLLM, name)).parameters
    ours = inspect.signature(getattr(PortkeyChatModel, name)).parameters
    assert [p for p in theirs if p not in ours] == []
    assert all(ours[p].kind == theirs[p].kind for p in theirs)
