"""The offline model: a deterministic stand-in for a provider.

It answers ``Echo: <text of the last user message>`` (plus one line per tool
result), so a test sees which variables arrived. A token is a whitespace
separated word. It honours max tokens, ``stop``, ``n``, ``seed``, ``logprobs``,
tools and ``response_format`` (on chat and text completions alike), and streams in
OpenAI's chunk format.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .tools import message_text, plan_tool_calls, sample_schema, tool_results

__all__ = ["DEFAULT_MODEL", "chat_chunks", "chat_completion", "text_chunks", "text_completion"]

DEFAULT_MODEL = "portkey-local"
SYSTEM_FINGERPRINT = "fp_portkey_local"
_PIECE_RE = re.compile(r"\s*\S+")
_FRAGMENT = 12


# --- planning ------------------------------------------------------------------


@dataclass
class _Choice:
    pieces: list[str] = field(default_factory=list)
    finish: str = "stop"
    tool_calls: list[dict[str, Any]] | None = None

    @property
    def tokens(self) -> int:
        if self.tool_calls is not None:
            return sum(len(c["function"]["arguments"].split()) for c in self.tool_calls)
        return len(self.pieces)


def _pieces(text: str) -> list[str]:
    """Words with their leading whitespace; trailing whitespace joins the last one."""
    pieces = _PIECE_RE.findall(text)
    tail = text[sum(map(len, pieces)) :]
    if pieces:
        pieces[-1] += tail
    elif tail:
        pieces = [tail]
    return pieces


def _limit(text: str, stop: Any, limit: Any) -> _Choice:
    """Cut ``text`` at the first stop sequence, then at ``limit`` tokens."""
    finish = "stop"
    for seq in [stop] if isinstance(stop, str) else stop or []:
        at = text.find(seq) if seq else -1
        if at >= 0:
            text = text[:at]
    pieces = _pieces(text)
    if isinstance(limit, int) and len(pieces) > limit:
        pieces, finish = pieces[:limit], "length"
    return _Choice(pieces, finish)


_QUOTED_KEY = re.compile(r"'([A-Za-z_][\w-]*)'|\"([A-Za-z_][\w-]*)\"")


def _user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return message_text(messages[-1]) if messages else ""


def _reply(messages: list[Any], response_format: Any) -> str:
    user_text = _user_text(messages)
    text = f"Echo: {user_text}"
    for name, result in tool_results(messages):
        text += f"\n{name}: {result}"
    return _formatted(text, user_text, response_format)


def _formatted(text: str, user_text: str, response_format: Any) -> str:
    """``text`` in the ``response_format`` asked for (chat and text completions alike)."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_object":
        # Keys the user quoted ("with 'setup' and 'punchline' keys") each get the echo,
        # as a model told the format in the prompt would; otherwise one "answer" key.
        keys = _QUOTED_KEY.findall(user_text) if "key" in user_text.lower() else []
        names = [a or b for a, b in keys] or ["answer"]
        return json.dumps(dict.fromkeys(names, text), ensure_ascii=False)
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return json.dumps(
            sample_schema(schema or {"type": "object"}, user_text), ensure_ascii=False
        )
    return text


def _tool_call(tool: dict[str, Any], text: str, salt: str) -> dict[str, Any]:
    function = tool["function"]
    args = sample_schema(function.get("parameters") or {"type": "object"}, text)
    digest = hashlib.sha1(f"{salt}:{function['name']}".encode()).hexdigest()[:24]
    return {
        "id": f"call_{digest}",
        "type": "function",
        "function": {
            "name": function["name"],
            "arguments": json.dumps(args, ensure_ascii=False, separators=(",", ":")),
        },
    }


def _plan_chat(body: dict[str, Any]) -> list[_Choice]:
    messages: list[Any] = body["messages"]
    n = body.get("n") or 1
    calls = plan_tool_calls(
        messages,
        body.get("tools") or [],
        body.get("tool_choice"),
        body.get("parallel_tool_calls") is True,
    )
    if calls:
        text = _user_text(messages)
        # Ids are stable for a given conversation turn and differ between turns.
        salt = f"{len(messages)}:{text}"
        made = [_tool_call(tool, text, f"{salt}:{i}") for i, tool in enumerate(calls)]
        return [_Choice([], "tool_calls", made) for _ in range(n)]
    reply = _reply(messages, body.get("response_format"))
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    return [_limit(reply, body.get("stop"), limit) for _ in range(n)]


def _completion_id(prefix: str, body: dict[str, Any]) -> str:
    seed = body.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        # The seed's documented effect: the same seed and input give the same id.
        source = json.dumps(
            [seed, body.get("messages"), body.get("prompt")], sort_keys=True, default=str
        )
        return f"{prefix}-{hashlib.sha256(source.encode()).hexdigest()[:29]}"
    return f"{prefix}-{uuid.uuid4().hex[:29]}"


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _chat_prompt_tokens(messages: list[Any]) -> int:
    total = 0
    for message in messages:
        total += len(message_text(message).split())
        for call in message.get("tool_calls") or [] if isinstance(message, dict) else []:
            total += len(str((call.get("function") or {}).get("arguments", "")).split())
    return total


def _logprob(piece: str, position: int) -> float:
    return -round(0.001 * (1 + (sum(map(ord, piece)) + position) % 97), 4)


def _chat_logprob(piece: str, position: int, top: int) -> dict[str, Any]:
    lp = _logprob(piece, position)
    alternatives = [{"token": piece, "logprob": lp, "bytes": list(piece.encode())}]
    for j in range(1, top):
        alt = f" alt{j}"
        alternatives.append(
            {"token": alt, "logprob": round(lp - 2.0 * j, 4), "bytes": list(alt.encode())}
        )
    return {
        "token": piece,
        "logprob": lp,
        "bytes": list(piece.encode()),
        "top_logprobs": alternatives[:top],
    }


def _header(body: dict[str, Any], prefix: str, obj: str) -> dict[str, Any]:
    return {
        "id": _completion_id(prefix, body),
        "object": obj,
        "created": int(time.time()),
        "model": body.get("model") or DEFAULT_MODEL,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


# --- chat ----------------------------------------------------------------------


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A ``chat.completion`` object for a validated chat request."""
    choices = _plan_chat(body)
    top = body.get("top_logprobs") or 0
    out = []
    for index, choice in enumerate(choices):
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        logprobs = None
        if choice.tool_calls is not None:
            message["tool_calls"] = choice.tool_calls
        else:
            message["content"] = "".join(choice.pieces)
            if body.get("logprobs"):
                content = [_chat_logprob(p, i, top) for i, p in enumerate(choice.pieces)]
                logprobs = {"content": content, "refusal": None}
        out.append(
            {
                "index": index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": choice.finish,
            }
        )
    usage = _usage(_chat_prompt_tokens(body["messages"]), sum(c.tokens for c in choices))
    return {**_header(body, "chatcmpl", "chat.completion"), "choices": out, "usage": usage}


def _stream_head(body: dict[str, Any], prefix: str, kind: str) -> tuple[dict[str, Any], bool]:
    """The fields every chunk repeats, and whether a usage chunk was asked for (then
    every chunk carries ``usage: null``, as OpenAI's do)."""
    head = _header(body, prefix, kind)
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    if include_usage:
        head["usage"] = None
    return head, include_usage


def chat_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed chat request (no ``[DONE]``)."""
    choices = _plan_chat(body)
    head, include_usage = _stream_head(body, "chatcmpl", "chat.completion.chunk")
    top = body.get("top_logprobs") or 0

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        return {
            **head,
            "choices": [
                {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            ],
        }

    for index, choice in enumerate(choices):
        if choice.tool_calls is not None:
            yield chunk(index, {"role": "assistant", "content": None})
            for t, call in enumerate(choice.tool_calls):
                function = call["function"]
                first = {
                    "index": t,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": function["name"], "arguments": ""},
                }
                yield chunk(index, {"tool_calls": [first]})
                args = function["arguments"]
                for at in range(0, len(args), _FRAGMENT):
                    yield chunk(
                        index,
                        {
                            "tool_calls": [
                                {"index": t, "function": {"arguments": args[at : at + _FRAGMENT]}}
                            ]
                        },
                    )
        else:
            yield chunk(index, {"role": "assistant", "content": "", "refusal": None})
            for i, piece in enumerate(choice.pieces):
                logprobs = (
                    {"content": [_chat_logprob(piece, i, top)], "refusal": None}
                    if body.get("logprobs")
                    else None
                )
                yield chunk(index, {"content": piece}, None, logprobs)
        yield chunk(index, {}, choice.finish)
    if include_usage:
        usage = _usage(_chat_prompt_tokens(body["messages"]), sum(c.tokens for c in choices))
        yield {**head, "choices": [], "usage": usage}


# --- text ----------------------------------------------------------------------


def _prompts(body: dict[str, Any]) -> list[str]:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return list(prompt)
    if isinstance(prompt, str):
        return [prompt]
    return [json.dumps(prompt)]


def _plan_text(body: dict[str, Any]) -> list[tuple[str, _Choice]]:
    n = body.get("n") or 1
    plans: list[tuple[str, _Choice]] = []
    for prompt in _prompts(body):
        # Prompt routes carry max_completion_tokens even for text templates.
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        reply = _formatted(f"Echo: {prompt}", prompt, body.get("response_format"))
        choice = _limit(reply, body.get("stop"), limit)
        if body.get("echo") is True:
            choice.pieces.insert(0, prompt)
        plans.extend((prompt, choice) for _ in range(n))
    return plans


def _text_logprobs(pieces: list[str], top: int, offset: int, first: int = 0) -> dict[str, Any]:
    lps = [_logprob(p, i) for i, p in enumerate(pieces, start=first)]
    offsets = []
    for piece in pieces:
        offsets.append(offset)
        offset += len(piece)
    return {
        "tokens": pieces,
        "token_logprobs": lps,
        "top_logprobs": [
            {p: lp, **{f" alt{j}": round(lp - 2.0 * j, 4) for j in range(1, top)}}
            for p, lp in zip(pieces, lps, strict=True)
        ],
        "text_offset": offsets,
    }


def text_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A ``text_completion`` object for a validated completions request."""
    plans = _plan_text(body)
    top = body.get("logprobs")
    choices = []
    for index, (prompt, choice) in enumerate(plans):
        logprobs = _text_logprobs(choice.pieces, top, len(prompt)) if isinstance(top, int) else None
        choices.append(
            {
                "text": "".join(choice.pieces),
                "index": index,
                "logprobs": logprobs,
                "finish_reason": choice.finish,
            }
        )
    prompt_tokens = sum(len(p.split()) for p in _prompts(body))
    usage = _usage(prompt_tokens, sum(c.tokens for _, c in plans))
    return {**_header(body, "cmpl", "text_completion"), "choices": choices, "usage": usage}


def text_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``text_completion`` chunks of a streamed completions request (no ``[DONE]``)."""
    plans = _plan_text(body)
    head, include_usage = _stream_head(body, "cmpl", "text_completion")
    top = body.get("logprobs")
    for index, (prompt, choice) in enumerate(plans):
        offset = len(prompt)
        for i, piece in enumerate(choice.pieces):
            logprobs = _text_logprobs([piece], top, offset, i) if isinstance(top, int) else None
            offset += len(piece)
            yield {
                **head,
                "choices": [
                    {"text": piece, "index": index, "logprobs": logprobs, "finish_reason": None}
                ],
            }
        yield {
            **head,
            "choices": [
                {"text": "", "index": index, "logprobs": None, "finish_reason": choice.finish}
            ],
        }
    if include_usage:
        prompt_tokens = sum(len(p.split()) for p in _prompts(body))
        yield {
            **head,
            "choices": [],
            "usage": _usage(prompt_tokens, sum(c.tokens for _, c in plans)),
        }
