"""Request building: prompt ids, variables, hyperparameters and Portkey headers.

Pure functions only; the clients call them and send what they return.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx

from ._errors import PortkeyConfigError, VariableEncodingError

if TYPE_CHECKING:
    from ._call import Call

__all__ = [
    "BODY_JSON",
    "CALL_PATHS",
    "FRAMING_HEADERS",
    "Route",
    "build_body",
    "call_body",
    "encode_headers",
    "encode_value",
    "encode_variables",
    "framed_request",
    "metadata_header",
    "overlay_headers",
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
    return _prompt_path(prompt_id, action)


@functools.lru_cache(maxsize=1024)
def _prompt_path(prompt_id: str, action: str) -> str:
    # Built on every call to a prompt: each id is quoted once.
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
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    # dict first: a dict is told apart at once, the Mapping ABC's check is slower.
    if isinstance(value, (dict, Mapping)):
        return {str(k): to_jsonable(v) for k, v in value.items()}
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


_STRICT_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
"""``json.dumps(..., ensure_ascii=False, allow_nan=False)`` without building an encoder
per call (``dumps`` builds one for any non-default argument)."""
BODY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""The request bodies' encoder, built once (see :data:`_STRICT_JSON`)."""

_TEXT_SCALARS = (
    enum.Enum,
    datetime.date,
    datetime.time,
    decimal.Decimal,
    uuid.UUID,
    PurePath,
)
"""Values sent as the text LangChain's and LlamaIndex's f-strings make of them
(``format(value, "")``): ``2024-01-02``, ``9.99``, ``Color.RED`` (a ``StrEnum`` or
``IntEnum`` gives its value), never JSON-quoted."""


def encode_value(value: Any) -> Any:
    """One prompt variable as it goes on the wire: the rule, decided without the template.

    - ``str`` as it is (``""`` included); ``None``, ``bool``, ``int`` and finite
      ``float`` as JSON scalars (Portkey renders ``42``, ``true``; booleans drive
      sections);
    - ``date``/``datetime``/``time``, ``Decimal``, ``UUID``, ``Enum`` and paths as
      plain text, the way an f-string renders them; ``bytes`` as UTF-8 text;
    - ``dict``, ``list``, ``tuple``, ``set``, pydantic models and dataclasses as JSON
      values (objects and arrays; inside them, values as pydantic's JSON mode gives
      them): Portkey's sections loop over them, dotted names read into them, a chat
      template splices them, and ``{{x}}`` renders an object as its JSON and an array
      as its items' JSON joined by ``,``.

    A JSON value read by ``{{x}}`` inside a string of a chat template breaks that
    template's JSON on Portkey: send ``json.dumps(value)`` (a string) to have the JSON
    as text there. Raises ``TypeError`` or ``ValueError`` for what JSON cannot carry.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, _TEXT_SCALARS):  # before str and int: a str or int Enum too
        return _utf8(format(value, ""))
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, int):
        # Beyond Python's digit limit (4,300) an int cannot be written as JSON.
        if value.bit_length() > _CHECK_INT_BITS:
            str(value)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not valid JSON")
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    jsonable = to_jsonable(value)
    if jsonable:  # an empty list or object (a conversation slot with no turns yet) is JSON
        # Checked now, with the variable's name at hand: NaN and Infinity are not JSON
        # (Portkey rejects them), and a lone surrogate is not UTF-8.
        _utf8(_STRICT_JSON.encode(jsonable))
    return jsonable


def encode_variables(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    """Encode prompt variables for the wire, each with :func:`encode_value`.

    The same variables always give the same body, whatever is known about the
    prompt's template. A value that cannot be sent raises
    :class:`VariableEncodingError` naming the variable.
    """
    if not variables:
        return {}
    out: dict[str, Any] = {}
    for name, value in variables.items():
        if not isinstance(name, str):
            raise PortkeyConfigError(f"prompt variable names must be strings, got {name!r}")
        try:
            out[name] = encode_value(value)
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
        body["variables"] = encode_variables(variables)
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


CALL_PATHS = {"chat": "/chat/completions", "text": "/completions"}
"""The routes, under the base URL, of the calls without a prompt id."""


def call_body(call: Call, *, stream: bool) -> tuple[Route, dict[str, Any]]:
    """The route of ``call`` (``prompt``, ``chat`` or ``text``) and its body: the
    messages or the prompt join the parameters at the root (see :func:`build_body`)."""
    route: Route
    if call.prompt_id is not None:
        route, params = "prompt", call.params
    elif call.messages is not None:
        route, params = "chat", {**call.params, "messages": call.messages}
    else:
        route, params = "text", {**call.params, "prompt": call.prompt}
    return route, build_body(route, params, stream=stream, variables=call.variables)


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


# --- the request itself ---------------------------------------------------------------

FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
"""Headers httpx writes itself: given by the caller, httpx frames the request."""

RawHeaders = list[tuple[bytes, bytes]]


def encode_headers(headers: Iterable[tuple[str, str]]) -> RawHeaders:
    """Headers as the bytes pairs httpx takes as they are (no normalizing per request).

    Names are lower case (the options' and the client's own; ``extra_headers`` are
    lowered) and values were checked ASCII (``_options._check_header_value``)."""
    return [(name.encode("ascii"), value.encode("ascii")) for name, value in headers]


def overlay_headers(raw: RawHeaders, headers: Mapping[str, str]) -> RawHeaders:
    """The client's ``raw`` headers with a call's ``headers`` replacing the same names."""
    given = encode_headers(headers.items())
    names = {name for name, _ in given}
    return [pair for pair in raw if pair[0] not in names] + given


def framed_request(
    method: str,
    url: httpx.URL,
    host: bytes,
    raw: RawHeaders,
    content: bytes,
    extensions: Mapping[str, Any],
) -> httpx.Request:
    """The request httpx would build from ``content=``, ``Host`` and ``Content-Length``
    written here (the same headers in the same order), so that httpx does not parse the
    headers again: that was a tenth of a call's cost."""
    request = httpx.Request(
        method,
        url,
        headers=[(b"Host", host), *raw, (b"Content-Length", b"%d" % len(content))],
        stream=httpx.ByteStream(content),
        extensions=extensions,
    )
    request.read()  # as httpx does for content=...: the body stays readable
    return request
