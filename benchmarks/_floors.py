"""Floor models: bare framework subclasses making the adapters' single httpx call.

Each one subclasses the framework's own base (LangChain ``BaseChatModel`` / ``BaseLLM``,
LlamaIndex ``LLM`` with the framework's callback decorators), sends the same body to the
same route with one pooled httpx client (default limits, as the package's), and builds a
content-only message. It is the least any adapter could cost; the adapters' target is
1.05x of it.

A stream answers as many responses as the adapters do, since the framework's work per
response (events, span ids) is most of a stream's cost: LangChain closes every stream
with a last chunk of its own, and the LlamaIndex floor answers the closing usage chunk
with one, as the adapter does (llama-index-llms-openai answers every chunk).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    LLMResult,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import LLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import PrivateAttr

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
# The provider header routes /chat/completions, as Portkey requires; the adapters send
# it from ``provider=``.
HEADERS = {
    "content-type": "application/json",
    "x-portkey-api-key": "pk-bench",
    "x-portkey-provider": "openai",
}


class _Wire:
    """The one httpx call: body building and parsing shared by sync and async."""

    base_url: str
    prompt_id: str | None
    model_name: str

    def url(self) -> str:
        if self.prompt_id:
            return f"{self.base_url}/prompts/{self.prompt_id}/completions"
        return f"{self.base_url}/chat/completions"

    def body(self, messages: list[dict[str, str]], stream: bool) -> bytes:
        payload: dict[str, Any]
        if self.prompt_id:
            payload = {"variables": {"input": messages[-1]["content"]}}
        else:
            payload = {"model": self.model_name, "messages": messages}
        if stream:
            payload["stream"] = True
            payload["stream_options"] = {"include_usage": True}
        return json.dumps(payload).encode()

    @staticmethod
    def content(response: httpx.Response) -> str:
        response.raise_for_status()
        choice = response.json()["choices"][0]
        # A text prompt answers as a text completion.
        return str((choice["message"]["content"] if "message" in choice else choice["text"]) or "")

    @staticmethod
    def delta(line: str, usage: bool = False) -> str | None:
        """The content of one SSE line; None for a line without any. With ``usage``, a
        usage chunk gives ``""``: the LlamaIndex floor answers it as the adapters do."""
        if not line.startswith("data: ") or line == "data: [DONE]":
            return None
        chunk = json.loads(line[6:])
        choices = chunk["choices"]
        if not choices:
            return "" if usage and chunk.get("usage") else None
        return choices[0]["delta"].get("content") or None


def _lc_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, m.type), "content": m.text} for m in messages]


class _LangChainWire(_Wire):
    _http: httpx.Client
    _ahttp: httpx.AsyncClient | None

    def post(self, messages: list[dict[str, str]]) -> str:
        body = self.body(messages, False)
        return self.content(self._http.post(self.url(), content=body, headers=HEADERS))

    async def apost(self, messages: list[dict[str, str]]) -> str:
        body = self.body(messages, False)
        response = await self.async_http().post(self.url(), content=body, headers=HEADERS)
        return self.content(response)

    def deltas(self, messages: list[dict[str, str]], usage: bool = False) -> Iterator[str]:
        body = self.body(messages, True)
        with self._http.stream("POST", self.url(), content=body, headers=HEADERS) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                text = self.delta(line, usage)
                if text is not None:
                    yield text

    async def adeltas(
        self, messages: list[dict[str, str]], usage: bool = False
    ) -> AsyncIterator[str]:
        body = self.body(messages, True)
        http = self.async_http()
        async with http.stream("POST", self.url(), content=body, headers=HEADERS) as r:
            r.raise_for_status()
            async for line in r.aiter_lines():
                text = self.delta(line, usage)
                if text is not None:
                    yield text

    def async_http(self) -> httpx.AsyncClient:
        # Created in the loop that uses it; the benchmarks run one loop per model.
        if self._ahttp is None:
            self._ahttp = httpx.AsyncClient()
        return self._ahttp


class FloorChatModel(_LangChainWire, BaseChatModel):
    """LangChain's ``BaseChatModel`` with one httpx call per invoke or stream."""

    base_url: str
    prompt_id: str | None = None
    model_name: str = "portkey-local"
    _http: httpx.Client = PrivateAttr(default_factory=httpx.Client)
    _ahttp: httpx.AsyncClient | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "floor-chat"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self.post(_lc_messages(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = await self.apost(_lc_messages(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for text in self.deltas(_lc_messages(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for text in self.adeltas(_lc_messages(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


class FloorLLM(_LangChainWire, BaseLLM):
    """LangChain's ``BaseLLM`` with one httpx call per prompt."""

    base_url: str
    prompt_id: str | None = None
    model_name: str = "portkey-local"
    _http: httpx.Client = PrivateAttr(default_factory=httpx.Client)
    _ahttp: httpx.AsyncClient | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "floor-llm"

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> LLMResult:
        texts = [self.post([{"role": "user", "content": p}]) for p in prompts]
        return LLMResult(generations=[[Generation(text=t)] for t in texts])


def _li_messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.content or ""} for m in messages]


class FloorLlamaLLM(_LangChainWire, LLM):
    """LlamaIndex's ``LLM`` with one httpx call per chat or completion."""

    base_url: str
    prompt_id: str | None = None
    model_name: str = "portkey-local"
    _http: httpx.Client = PrivateAttr(default_factory=httpx.Client)
    _ahttp: httpx.AsyncClient | None = PrivateAttr(default=None)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, model_name=self.model_name)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = self.post(_li_messages(messages))
        return ChatResponse(message=ChatMessage(role="assistant", content=text))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            text = ""
            for delta in self.deltas(_li_messages(messages), usage=True):
                text += delta
                yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.post([{"role": "user", "content": prompt}]))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for delta in self.deltas([{"role": "user", "content": prompt}]):
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = await self.apost(_li_messages(messages))
        return ChatResponse(message=ChatMessage(role="assistant", content=text))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        async def gen() -> ChatResponseAsyncGen:
            text = ""
            async for delta in self.adeltas(_li_messages(messages), usage=True):
                text += delta
                yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)

        return gen()

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return CompletionResponse(text=await self.apost([{"role": "user", "content": prompt}]))

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError("not benchmarked")
