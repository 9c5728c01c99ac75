"""Request checks of the offline model: what a real provider would reject with a 400."""

from __future__ import annotations

from typing import Any

__all__ = ["ModelError", "validate"]

PROVIDER = "portkey-local"


class ModelError(Exception):
    """A request the model rejects; answered in OpenAI's error shape."""

    def __init__(self, message: str, param: str | None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status

    def body(self) -> dict[str, Any]:
        """The OpenAI-shaped error body."""
        error = {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": None,
        }
        return {"error": error, "provider": PROVIDER}


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ModelError(
            f"Invalid value for '{name}': expected a number from {low:g} to {high:g}, "
            f"got {value!r}.",
            name,
        )


def _integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> None:
    value = body.get(name)
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ModelError(
            f"Invalid value for '{name}': expected an integer {bound}, got {value!r}.", name
        )


def validate(body: dict[str, Any], *, chat: bool) -> None:
    """Reject hyperparameters a real provider would reject (raises :class:`ModelError`)."""
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _integer(body, "n", 1, 128)
    _integer(body, "max_tokens", 1)
    _integer(body, "max_completion_tokens", 1)
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str)
        or (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop))
    ):
        raise ModelError("Invalid value for 'stop': expected a string or up to 4 strings.", "stop")
    response_format = body.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("text", "json_object", "json_schema")
    ):
        raise ModelError(
            "Invalid value for 'response_format': type must be text, json_object or json_schema.",
            "response_format",
        )
    if not chat:
        _integer(body, "logprobs", 0, 5)
        prompt = body.get("prompt")
        if not isinstance(prompt, (str, list)):
            raise ModelError(
                "Missing or invalid 'prompt': expected a string or a list of strings.", "prompt"
            )
        return
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ModelError(
            "Invalid value for 'messages': expected a non-empty array of messages.", "messages"
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ModelError(
                f"Invalid message at 'messages[{i}]': expected an object with a 'role'.",
                f"messages[{i}]",
            )
    if body.get("logprobs") is not None and not isinstance(body.get("logprobs"), bool):
        raise ModelError("Invalid value for 'logprobs': expected a boolean.", "logprobs")
    _integer(body, "top_logprobs", 0, 20)
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise ModelError("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs")
    tools = body.get("tools")
    if tools is not None and (
        not isinstance(tools, list)
        or not all(
            isinstance(t, dict)
            and isinstance(t.get("function"), dict)
            and isinstance(t["function"].get("name"), str)
            for t in tools
        )
    ):
        raise ModelError("Invalid value for 'tools': expected a list of function tools.", "tools")
    choice = body.get("tool_choice")
    names = {t["function"]["name"] for t in tools or []}
    if isinstance(choice, dict):
        function = choice.get("function")
        if not isinstance(function, dict) or function.get("name") not in names:
            raise ModelError(
                "Invalid value for 'tool_choice': it names no tool of 'tools'.", "tool_choice"
            )
    elif choice not in (None, "none", "auto", "required"):
        raise ModelError(f"Invalid value for 'tool_choice': {choice!r}.", "tool_choice")
    elif choice == "required" and not names:
        raise ModelError("'tool_choice' is 'required' but no tools were given.", "tool_choice")
