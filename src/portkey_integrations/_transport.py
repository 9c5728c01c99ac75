"""Transport details of the clients: one attempt at sending, whether and when to send
again, how our own pools send, and when they must not.

A streamed attempt counts as sent only once its first event has arrived: the body is
read up to the end of that event before the attempt returns (:func:`first_event`), so a
connection that drops after the headers but before any chunk is a failed attempt the
client retries like any other connection error: nothing was delivered, so a retry
cannot repeat text. From the first event on, a failure is the stream's to raise. A
stream the server ends cleanly before any event is no connection error: it raises
``TruncatedStreamError``.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import logging
import random
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, cast

import httpx

from ._error_mapping import connection_error

__all__ = [
    "NoCookieJar",
    "araw_body",
    "aread",
    "asend_once",
    "first_event",
    "initial_retry_delay",
    "is_success",
    "proxies_configured",
    "raw_body",
    "read",
    "retry_delay",
    "retry_or_raise",
    "send_once",
    "set_initial_retry_delay",
    "should_retry",
]

logger = logging.getLogger("portkey_integrations")

# --- retry decisions and timing, shared by the sync and async clients --------------

# The backoff before the first retry, in seconds. Read on every retry, so a test run can
# lower it through portkey_integrations.testing.fast_retries() (set_initial_retry_delay).
_INITIAL_RETRY_DELAY = 0.5
_MAX_RETRY_DELAY = 8.0
_MAX_RETRY_AFTER = 60.0
_RETRY_STATUSES = frozenset({408, 409, 429})


def initial_retry_delay() -> float:
    """The backoff before the first retry, in seconds (later ones double it, up to a cap)."""
    return _INITIAL_RETRY_DELAY


def set_initial_retry_delay(seconds: float) -> float:
    """Set the backoff before the first retry and return the previous value.

    The public face is :func:`portkey_integrations.testing.fast_retries`; ``Retry-After``
    headers still win over this backoff.
    """
    global _INITIAL_RETRY_DELAY
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(f"the retry delay must be a number of seconds >= 0, got {seconds!r}")
    previous, _INITIAL_RETRY_DELAY = _INITIAL_RETRY_DELAY, float(seconds)
    return previous


def is_success(status: int) -> bool:
    # 246: guardrails failed but the request itself succeeded.
    return 200 <= status < 300


def should_retry(status: int) -> bool:
    return status in _RETRY_STATUSES or status >= 500


def retry_delay(attempt: int, headers: Mapping[str, str] | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    ``Retry-After`` (seconds or an HTTP date) and ``retry-after-ms`` win when they are
    sane; otherwise exponential backoff with jitter.
    """
    if headers is not None:
        ms = headers.get("retry-after-ms")
        after = headers.get("retry-after")
        seconds: float | None = None
        try:
            if ms is not None:
                seconds = float(ms) / 1000
            elif after is not None:
                seconds = float(after)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(after or "").timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None and 0 <= seconds <= _MAX_RETRY_AFTER:
            return float(seconds)
    delay = min(_INITIAL_RETRY_DELAY * 2.0 ** (attempt - 1), _MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())


def retry_or_raise(
    attempt: int, outcome: httpx.Response | httpx.TransportError, max_retries: int
) -> float | None:
    """Decide after one attempt: ``None`` means done, a float means retry after it; a
    transport error past the last retry raises the connection error it stands for."""
    if isinstance(outcome, httpx.Response):
        status = outcome.status_code
        if is_success(status) or not should_retry(status):
            return None
        headers: Mapping[str, str] | None = outcome.headers
    else:
        headers = None
    if attempt > max_retries:
        if isinstance(outcome, httpx.TransportError):
            raise connection_error(outcome) from outcome
        return None
    delay = retry_delay(attempt, headers)
    logger.info(
        "retrying request (attempt %d of %d) in %.2fs after %s",
        attempt,
        max_retries,
        delay,
        outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__,
    )
    return delay


# --- one attempt ---------------------------------------------------------------------


class NoCookieJar(http.cookiejar.CookieJar):
    """Portkey sets no cookies; not parsing responses for them saves ~0.1 ms a call."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def proxies_configured() -> bool:
    """Our own pools skip httpx.Client's per-request layers (auth, redirects, cookies,
    event hooks), none of which a Portkey call uses, and hand requests to the transport.
    With proxies in the environment they go through the client, which applies them."""
    return bool(urllib.request.getproxies())


def read(response: httpx.Response) -> None:
    """Read a response's body; release the connection if reading fails."""
    try:
        response.read()
    except BaseException:
        response.close()
        raise


async def aread(response: httpx.Response) -> None:
    """Async :func:`read`."""
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise


def send_once(
    sender: httpx.BaseTransport | httpx.Client, request: httpx.Request, *, stream: bool
) -> httpx.Response | httpx.TransportError:
    """One attempt: the response (its body read unless ``stream``), or the transport
    error it failed with; the client's retry decision takes either."""
    try:
        if isinstance(sender, httpx.Client):
            return sender.send(request, stream=stream)
        response = sender.handle_request(request)
        response.request = request
        if not stream:
            read(response)
        return response
    except httpx.TransportError as exc:
        exc.request = request  # transports raise without it; the error names the URL
        return exc


def send_stream_once(
    sender: httpx.BaseTransport | httpx.Client, request: httpx.Request
) -> httpx.Response | httpx.TransportError:
    """One streamed attempt: :func:`send_once`, then the body up to its first event
    (:func:`first_event`); a failure before that event is the attempt's."""
    outcome = send_once(sender, request, stream=True)
    if isinstance(outcome, httpx.TransportError) or not is_success(outcome.status_code):
        return outcome
    head: list[bytes] = []
    rest = iter(cast(httpx.SyncByteStream, outcome.stream))
    try:
        # A clean end before any event stays the stream's to report (truncated).
        for chunk in rest:
            head.append(chunk)
            if first_event(head, outcome):
                break
    except httpx.TransportError as exc:
        outcome.close()
        exc.request = request
        return exc
    outcome.stream = _Replay(head, rest, outcome.stream)
    return outcome


async def asend_once(
    sender: httpx.AsyncBaseTransport | httpx.AsyncClient, request: httpx.Request, *, stream: bool
) -> httpx.Response | httpx.TransportError:
    """Async :func:`send_once`."""
    try:
        if isinstance(sender, httpx.AsyncClient):
            return await sender.send(request, stream=stream)
        response = await sender.handle_async_request(request)
        response.request = request
        if not stream:
            await aread(response)
        return response
    except httpx.TransportError as exc:
        exc.request = request
        return exc


async def asend_stream_once(
    sender: httpx.AsyncBaseTransport | httpx.AsyncClient, request: httpx.Request
) -> httpx.Response | httpx.TransportError:
    """Async :func:`send_stream_once`."""
    outcome = await asend_once(sender, request, stream=True)
    if isinstance(outcome, httpx.TransportError) or not is_success(outcome.status_code):
        return outcome
    head: list[bytes] = []
    rest = outcome.stream.__aiter__()  # type: ignore[union-attr]
    try:
        # A clean end before any event stays the stream's to report (truncated).
        async for chunk in rest:
            head.append(chunk)
            if first_event(head, outcome):
                break
    except httpx.TransportError as exc:
        await outcome.aclose()
        exc.request = request
        return exc
    outcome.stream = _AsyncReplay(head, rest, outcome.stream)
    return outcome


def raw_body(response: httpx.Response) -> Iterator[bytes]:
    """The raw pieces of a streamed body. One read ahead (:func:`send_stream_once`) is
    read straight from its pieces: no ``iter_raw`` generator frame per piece."""
    stream = response.stream
    if type(stream) is not _Replay:
        return response.iter_raw()
    response.is_stream_consumed = True  # as iter_raw marks it: the body is read once
    return iter(stream)


def araw_body(response: httpx.Response) -> tuple[bytes, AsyncIterator[bytes]]:
    """Async :func:`raw_body`: the bytes read ahead, then the transport's own iterator of
    the rest, with neither ``aiter_raw``'s nor the replay's generator frame per piece
    (an async generator cannot hand its pieces on as ``itertools.chain`` does)."""
    stream = response.stream
    if type(stream) is not _AsyncReplay:
        return b"", response.aiter_raw()
    response.is_stream_consumed = True
    head, stream.head = stream.head, []
    return b"".join(head), stream.rest


def first_event(head: list[bytes], response: httpx.Response) -> bool:
    """Whether the raw bytes read so far hold a whole server-sent event (an empty line
    ends one). A compressed body cannot be scanned: its first bytes are enough."""
    if "content-encoding" in response.headers:
        return True
    data = b"".join(head) if len(head) > 1 else head[0]
    return b"\n\n" in data or b"\r\n\r\n" in data or b"\r\r" in data


class _Replay(httpx.SyncByteStream):
    """A response body whose first bytes were read ahead: those, then the rest."""

    def __init__(self, head: list[bytes], rest: Iterator[bytes], inner: Any) -> None:
        self.head, self.rest, self.inner = head, rest, inner

    def __iter__(self) -> Iterator[bytes]:
        # A C iterator, not a generator: no Python frame between httpx and the body.
        head, self.head = self.head, []
        return itertools.chain(head, self.rest)

    def close(self) -> None:
        self.inner.close()


class _AsyncReplay(httpx.AsyncByteStream):
    """Async :class:`_Replay`."""

    def __init__(self, head: list[bytes], rest: AsyncIterator[bytes], inner: Any) -> None:
        self.head, self.rest, self.inner = head, rest, inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head, self.head = self.head, []
        for chunk in head:
            yield chunk
        async for chunk in self.rest:
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()
