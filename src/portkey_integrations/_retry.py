"""Retry decisions and timing, shared by the sync and async clients."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = [
    "initial_retry_delay",
    "is_success",
    "retry_delay",
    "set_initial_retry_delay",
    "should_retry",
]

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
