"""What the server accepts, and from whom: secrets kept out of what it shows, the
``Host`` / ``Origin`` checks that keep a web page from driving it, and the checks
that turn hostile JSON into a 400.

Pure functions: the pipeline (:mod:`.pipeline`) calls them in order.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "LOOPBACK_HOSTS",
    "MAX_JSON_DEPTH",
    "REDACTED",
    "bad_json",
    "host_allowed",
    "is_loopback_address",
    "origin_allowed",
    "redact_body",
    "redact_headers",
    "secret_header",
    "secret_key",
]

REDACTED = "[redacted]"
"""What a secret is replaced with in the request log the server shows."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""The ``Host`` names every server answers to (any port)."""

MAX_JSON_DEPTH = 200
"""How deep a request body may nest (Portkey bodies nest a few dozen levels at most)."""

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-portkey-api-key"}
)
_SECRET_HEADER_RE = re.compile(r"^x-.*-key$|^x-.*(token|secret)", re.IGNORECASE)
_SECRET_KEY_RE = re.compile(r"(^|_)(key|token|secret)$|password", re.IGNORECASE)
# In a body, only names no template variable would plausibly use.
_SECRET_BODY_KEY_RE = re.compile(r"api_key$|secret_key$|^authorization$", re.IGNORECASE)


def secret_header(name: str) -> bool:
    """Whether a header authenticates: ``Authorization``, cookies, ``x-*-key`` and the like."""
    lower = name.lower()
    return lower in _SECRET_HEADERS or _SECRET_HEADER_RE.search(lower) is not None


def secret_key(name: str) -> bool:
    """Whether a JSON key holds a secret: ``api_key``, ``*_key``, ``token``, ``secret``..."""
    return _SECRET_KEY_RE.search(name) is not None


def _redact_json(value: Any, secret: re.Pattern[str] = _SECRET_KEY_RE) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and secret.search(k) and v
            else _redact_json(v, secret)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(item, secret) for item in value]
    return value


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with every secret replaced, inline configs included."""
    out = {}
    for name, value in headers.items():
        if secret_header(name):
            out[name] = REDACTED
        elif name.lower() == "x-portkey-config" and value.lstrip().startswith("{"):
            try:
                out[name] = json.dumps(_redact_json(json.loads(value)))
            except (ValueError, RecursionError):
                out[name] = REDACTED
        else:
            out[name] = value
    return out


def redact_body(body: Any) -> Any:
    """A copy of a JSON body with provider keys (``api_key``, ``*_api_key``) replaced."""
    try:
        return _redact_json(body, _SECRET_BODY_KEY_RE)
    except RecursionError:
        return REDACTED


def _host_name(value: str) -> str:
    # "127.0.0.1:8787" -> "127.0.0.1"; "[::1]:8787" -> "::1"; "localhost." -> "localhost".
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0].rstrip(".") if value.count(":") == 1 else value.rstrip(".")


def host_allowed(host: str | None, extra: Iterable[str] = ()) -> bool:
    """Whether a ``Host`` header names this machine's loopback (or one of ``extra``).

    A web page that rebinds its own name to 127.0.0.1 still sends its own name as
    ``Host``: refusing it is what stops DNS rebinding.
    """
    if not host:
        return False
    name = _host_name(host)
    return name in LOOPBACK_HOSTS or name in {_host_name(e) for e in extra}


def origin_allowed(origin: str | None, extra: Iterable[str] = ()) -> bool:
    """Whether an ``Origin`` header is absent (not a browser) or a loopback page's."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and host_allowed(parts.netloc, extra)


def is_loopback_address(address: str | None) -> bool:
    """Whether a peer address is this machine's loopback."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def bad_json(value: Any) -> str | None:
    """Why a decoded body cannot be served (too deep, a lone surrogate), else ``None``.

    Iterative: the check itself must not hit the recursion limit it guards against.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The request body nests deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "The request body holds a lone UTF-16 surrogate (not valid Unicode)"
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None
