"""Retry timing: Retry-After wins when sane, otherwise exponential backoff with jitter."""

from __future__ import annotations

import email.utils
import time

import pytest

from portkey_integrations import _retry
from portkey_integrations._retry import _MAX_RETRY_DELAY, retry_delay


def test_retry_after_seconds_and_ms() -> None:
    assert retry_delay(1, {"retry-after": "3"}) == 3.0
    assert retry_delay(1, {"retry-after": "0.25"}) == 0.25
    assert retry_delay(1, {"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 7 <= retry_delay(1, {"retry-after": when}) <= 10


@pytest.mark.parametrize("value", ["-1", "3600", "soon", ""])
def test_unusable_retry_after_falls_back_to_backoff(value: str) -> None:
    delay = retry_delay(1, {"retry-after": value})
    assert 0.75 * _retry._INITIAL_RETRY_DELAY <= delay <= _retry._INITIAL_RETRY_DELAY


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    delays = [retry_delay(attempt, None) for attempt in (1, 2, 3)]
    for attempt, delay in zip((1, 2, 3), delays, strict=True):
        nominal = _retry._INITIAL_RETRY_DELAY * 2 ** (attempt - 1)
        assert 0.75 * nominal <= delay <= nominal
    assert retry_delay(20, None) <= _MAX_RETRY_DELAY
    assert len({retry_delay(3, None) for _ in range(20)}) > 1  # jittered
