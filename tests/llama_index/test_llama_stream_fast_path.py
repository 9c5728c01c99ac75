"""A streamed chat answer's text-only events take a short path; it must give exactly the
response the general one gives, whatever came before (roles, tool calls, reasoning,
guardrail results, usage, text-shaped choices)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from portkey_integrations._response import CompletionChunk, ResponseInfo
from portkey_integrations.llama_index._responses import ChatStream

_text = st.text(alphabet=st.sampled_from('ab é😀"\\\n'), max_size=5)
_call = st.fixed_dictionaries(
    {"index": st.integers(0, 1), "function": st.fixed_dictionaries({"arguments": _text})}
)


@st.composite
def _chunk(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "text", "text", "role", "tool", "think", "usage", "odd"]))
    delta: dict[str, Any] = {"content": draw(_text)}
    extra: dict[str, Any] = {}
    if kind == "role":
        delta["role"] = "assistant"
    elif kind == "tool":
        delta["tool_calls"] = [draw(_call)]
    elif kind == "think":
        delta["reasoning_content"] = draw(_text)
    elif kind == "usage":
        return {"choices": [], "usage": {"prompt_tokens": 1, "total_tokens": 2}}
    elif kind == "odd":
        if draw(st.booleans()):
            return {"choices": [{"index": 0, "text": draw(_text)}]}
        extra["hook_results"] = {"before_request_hooks": []}
    return {"id": "c1", "choices": [{"index": 0, "delta": delta}], **extra}


def _seen(response: Any) -> Any:
    if response is None:
        return None
    return (
        response.message.model_dump(),
        response.delta,
        response.raw.json,
        response.additional_kwargs,
    )


@settings(max_examples=300, deadline=None, database=None)
@given(chunks=st.lists(_chunk(), max_size=12), prompt=st.sampled_from([None, ("pp-a", "3")]))
def test_feed_gives_what_the_general_path_gives(
    chunks: list[dict[str, Any]], prompt: tuple[str, str] | None
) -> None:
    info = ResponseInfo(trace_id="t", provider="openai")
    fast, general = ChatStream(info, prompt), ChatStream(info, prompt)
    for data in chunks:
        chunk = CompletionChunk.model_validate(data)
        raw = chunk.model_dump_json(exclude_unset=True)
        assert _seen(fast.feed(chunk, raw)) == _seen(general.feed_any(chunk, raw))
    assert (fast.text, fast.yielded) == (general.text, general.yielded)
