"""Request building: prompt ids, variables, hyperparameters and Portkey headers.

Pure functions only; the clients call them and send what they return.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import uuid
from collections.abc import Collection, Iterable, Mapping
from pathlib import PurePath
from typing import Any, Literal
from urllib.parse import quote

from ._errors import PortkeyConfigError, VariableEncodingError

__all__ = [
    "Route",
    "build_body",
    "encode_variables",
    "metadata_header",
    "parse_prompt_ref",
    "prompt_path",
    "quote_segment",
    "to_jsonable",
]

Route = Literal["prompt", "render", "chat", "text"]

# Ints shorter than this always convert to text; longer ones are tried (digit limit).
_CHECK_INT_BITS = 4000
# RFC 3986 pchar minus the few characters that proxies and frameworks treat specially.
_SAFE_SEGMENT = "@-._~!$&'()*+,;=:"


def parse_prompt_ref(ref: str) -> tuple[str, str | None]:
    """Split a prompt reference into ``(id, version or label)``.

    ``"pp-abc@12"`` is ``("pp-abc", "12")``, ``"pp-abc@production"`` is
    ``("pp-abc", "production")`` and ``"pp-abc"`` (the published version) is
    ``("pp-abc", None)``. An empty id, or nothing after ``@``, raises
    :class:`PortkeyConfigError`.
    """
    if not isinstance(ref, str):
        raise PortkeyConfigError(f"a prompt reference must be a string, not {ref!r}")
    prompt_id, at, selector = ref.partition("@")
    if not prompt_id.strip():
        raise PortkeyConfigError(f"a prompt reference must be 'id' or 'id@version', not {ref!r}")
    if at and not selector:
        raise PortkeyConfigError(f"prompt reference {ref!r} has an empty version after '@'")
    return prompt_id, selector or None


def prompt_path(prompt_id: str, action: Literal["completions", "render"]) -> str:
    """Return ``/prompts/{id}/{action}`` with the id as one percent-encoded path segment.

    ``@`` (versions and labels) stays; ``/``, ``?``, ``#``, spaces and ``%`` are encoded,
    so no id can change the route.
    """
    if not isinstance(prompt_id, str) or not prompt_id.strip():
        raise PortkeyConfigError("prompt_id must be a non-empty string")
    return f"/prompts/{quote_segment(prompt_id, 'prompt_id')}/{action}"


def quote_segment(segment: str, what: str) -> str:
    """``segment`` percent-encoded as one path segment (``.`` and ``..`` escaped too);
    text that is not valid UTF-8 raises :class:`PortkeyConfigError` naming ``what``."""
    try:
        encoded = quote(segment, safe=_SAFE_SEGMENT)
    except UnicodeEncodeError:
        raise PortkeyConfigError(f"{what} {segment!r} is not valid UTF-8") from None
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def to_jsonable(value: Any) -> Any:
    """Convert pydantic models, dataclasses, dates, enums, sets and paths to JSON data."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return to_jsonable(dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, (decimal.Decimal, uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


def encode_variables(
    variables: Mapping[str, Any] | None, raw: Collection[str] = ()
) -> dict[str, Any]:
    """Encode prompt variables for the wire.

    Strings go as they are (``""`` included), numbers, booleans and ``None`` as JSON.
    Anything else is JSON-stringified, because Portkey pastes objects raw into the
    template, which breaks a template where the value sits inside a JSON string. Names
    in ``raw`` go as JSON values instead: chat history a template splices into its
    messages array.
    """
    if not variables:
        return {}
    out: dict[str, Any] = {}
    for name, value in variables.items():
        if not isinstance(name, str):
            raise PortkeyConfigError(f"prompt variable names must be strings, got {name!r}")
        try:
            if value is None or isinstance(value, bool):
                out[name] = value
            elif isinstance(value, int):
                # Beyond Python's digit limit (4,300) an int cannot be written as JSON.
                if value.bit_length() > _CHECK_INT_BITS:
                    str(value)
                out[name] = value
            elif isinstance(value, str):
                out[name] = _utf8(value)
            elif isinstance(value, float):
                if not math.isfinite(value):
                    raise ValueError(f"{value} is not valid JSON")
                out[name] = value
            else:
                jsonable = to_jsonable(value)
                # allow_nan=False: NaN and Infinity are not JSON; Portkey rejects them.
                text = _utf8(json.dumps(jsonable, ensure_ascii=False, allow_nan=False))
                out[name] = jsonable if name in raw else text
        except RecursionError:
            reason = "it is nested too deeply or contains itself (a circular reference)"
            raise VariableEncodingError(name, reason) from None
        except (TypeError, ValueError) as exc:
            raise VariableEncodingError(name, str(exc)) from None
    return out


def _utf8(text: str) -> str:
    """``text`` if it encodes as UTF-8 (a lone surrogate does not); cheap for ASCII."""
    if not text.isascii():
        text.encode("utf-8")
    return text


def build_body(
    route: Route,
    params: Mapping[str, Any],
    *,
    stream: bool,
    variables: Mapping[str, Any] | None = None,
    raw_variables: Collection[str] = (),
    hyperparameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the JSON body for a route.

    Every hyperparameter goes at the root (``hyperparameters`` is flattened, never
    nested), unknown keys pass through, ``stream`` is always explicit, prompt routes
    always carry ``variables``, and a caller's ``max_tokens`` becomes
    ``max_completion_tokens`` everywhere but ``/completions``.
    """
    body: dict[str, Any] = {}
    if route in ("prompt", "render"):
        body["variables"] = encode_variables(variables, raw_variables)
    elif variables:
        raise PortkeyConfigError("variables are only sent to prompt routes; pass a prompt_id")
    if hyperparameters:
        body.update(hyperparameters)
    body.update(params)
    if route != "text" and "max_tokens" in body:
        max_tokens = body.pop("max_tokens")
        body.setdefault("max_completion_tokens", max_tokens)
    body.pop("hyperparameters", None)
    if route != "render":
        body["stream"] = stream
        if not stream:
            body.pop("stream_options", None)
    return body


def metadata_header(metadata: Mapping[str, Any]) -> str:
    """Validate Portkey metadata (string values of at most 128 characters) as JSON."""
    if not isinstance(metadata, Mapping):
        raise PortkeyConfigError("metadata must be a dict of strings")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise PortkeyConfigError(
                f"metadata value for {key!r} must be a string, got {type(value).__name__}"
            )
        if len(value) > 128:
            raise PortkeyConfigError(
                f"metadata value for {key!r} is {len(value)} characters; Portkey allows 128"
            )
    # ASCII-only: httpx sends header values as ASCII, and Portkey decodes the \u escapes.
    return json.dumps(dict(metadata), separators=(",", ":"))


def config_header(config: str | Mapping[str, Any]) -> str:
    """A config is a ``pc-...`` id string or an inline dict sent as JSON."""
    if isinstance(config, str):
        return config
    return json.dumps(to_jsonable(config), separators=(",", ":"))


def forward_headers_header(value: str | Iterable[str]) -> str:
    return value if isinstance(value, str) else ",".join(value)


def bool_header(value: bool | str) -> str:
    if isinstance(value, str):
        return value
    return "true" if value else "false"
