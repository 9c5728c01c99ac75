"""What counts as a secret, and its masked copy for every surface a value can be shown on.

A secret is anything that authenticates: the three key fields (``SecretStr`` already),
any ``api_key`` / ``*_key`` / ``token`` / ``secret`` / ``password`` / ``credentials``
entry of a config (inline dict, targets and nested dicts included), and auth-like
headers (``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie``,
``x-*-key``, anything naming a key, token or secret). Masking never changes what is
sent: it makes a copy for reprs, dumps, serialized models, callbacks, events and
chained errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "MASK",
    "is_secret_header",
    "is_secret_name",
    "mask_config",
    "mask_headers",
    "scrub_transport_error",
    "without_secret_headers",
]

MASK = "**********"
"""What a masked secret shows (pydantic's ``SecretStr`` mask)."""

# Name parts that make an entry a secret: "api_key", "aws_session_token", "x-api-key".
_SECRET_PARTS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "credential", "credentials"}
)
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-portkey-api-key"}
)
_CONFIG_HEADER = "x-portkey-config"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[-_.\s]+")


def is_secret_name(name: object) -> bool:
    """Whether a config entry named ``name`` authenticates (``api_key``, ``virtual_key``,
    ``aws_session_token``, ``client_secret``, ``apiKey``; not ``max_tokens``)."""
    if not isinstance(name, str):
        return False
    parts = _SPLIT.split(_CAMEL.sub("_", name).lower())
    return any(part in _SECRET_PARTS for part in parts)


def is_secret_header(name: str) -> bool:
    """Whether a header named ``name`` carries a credential."""
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or "auth" in lowered or is_secret_name(lowered)


def mask_config(value: Any) -> Any:
    """A copy of a config (a ``pc-...`` id, an inline dict or JSON text, or anything
    nested in one) with every secret entry's value replaced by :data:`MASK`."""
    if isinstance(value, Mapping):
        return {k: MASK if is_secret_name(k) else mask_config(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_config(item) for item in value]
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return _mask_json(value)
    return value


def _mask_json(text: str) -> str:
    try:
        parsed = json.loads(text)
    except ValueError:
        return MASK  # not JSON after all: show nothing of it
    return json.dumps(mask_config(parsed), separators=(",", ":"))


def mask_headers(headers: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``headers`` with every credential's value replaced by :data:`MASK` (an
    inline config sent as ``x-portkey-config`` keeps only its non-secret entries)."""
    if headers is None:
        return None
    return {name: _mask_header(name, value) for name, value in headers.items()}


def _mask_header(name: str, value: Any) -> Any:
    if is_secret_header(name):
        return MASK
    if name.lower() == _CONFIG_HEADER:
        return mask_config(value)
    return value


def scrub_transport_error(exc: httpx.TransportError) -> httpx.TransportError:
    """``exc`` with its request replaced by a copy whose credentials are masked.

    The package's connection errors chain from the transport error (its text is the
    cause), and ``exc.request.headers`` would otherwise hold every key. The request
    sent is never touched: only the exception's reference to it is replaced.
    """
    try:
        request = exc.request
    except RuntimeError:  # no request attached
        return exc
    masked = mask_headers(dict(request.headers.items())) or {}
    url = request.url.copy_with(userinfo=b"") if request.url.userinfo else request.url
    exc.request = httpx.Request(request.method, url, headers=masked)
    return exc


def without_secret_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` lower-cased, without any that can carry a credential (an inline
    config may hold provider keys): what an error keeps of a response's headers, since
    a proxy may echo request headers back."""
    if not headers:
        return {}
    return {
        name: value
        for name, value in ((k.lower(), v) for k, v in headers.items())
        if name != _CONFIG_HEADER and not is_secret_header(name)
    }
