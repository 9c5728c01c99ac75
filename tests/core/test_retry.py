"""Retry timing: Retry-After wins when sane, otherwise exponential backoff with jitter;
``testing.fast_retries`` sets the first backoff."""

from __future__ import annotations

import email.utils
import time

import pytest

from portkey_integrations import PortkeyClient, _transport
from portkey_integrations._transport import _MAX_RETRY_DELAY, retry_delay
from portkey_integrations.server import Fault, LocalPortkeyServer
from portkey_integrations.testing import fast_retries


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
    assert 0.75 * _transport.initial_retry_delay() <= delay <= _transport.initial_retry_delay()


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    delays = [retry_delay(attempt, None) for attempt in (1, 2, 3)]
    for attempt, delay in zip((1, 2, 3), delays, strict=True):
        nominal = _transport.initial_retry_delay() * 2 ** (attempt - 1)
        assert 0.75 * nominal <= delay <= nominal
    assert retry_delay(20, None) <= _MAX_RETRY_DELAY
    assert len({retry_delay(3, None) for _ in range(20)}) > 1  # jittered


def test_fast_retries_sets_the_first_backoff_and_restores_it() -> None:
    before = _transport.initial_retry_delay()
    with fast_retries(0.02):
        assert _transport.initial_retry_delay() == 0.02
        assert 0.015 <= retry_delay(1, None) <= 0.02
        with fast_retries(0.0):
            assert retry_delay(3, None) == 0.0
        assert _transport.initial_retry_delay() == 0.02
    assert _transport.initial_retry_delay() == before


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_fast_retries_refuses_a_negative_delay(bad: float) -> None:
    with pytest.raises(ValueError, match="retry delay"), fast_retries(bad):
        pass


def test_the_client_waits_the_knobs_backoff_between_real_retries(
    server: LocalPortkeyServer,
) -> None:
    server.add_fault(Fault(kind="status", status=503, times=2))
    with (
        fast_retries(0.1),
        PortkeyClient(base_url=server.base_url, api_key="pk-x", max_retries=2) as client,
    ):
        started = time.monotonic()
        reply = client.complete(prompt_id="pp-core", variables={"topic": "t", "question": "q"})
        waited = time.monotonic() - started
    assert reply.choices
    # Three requests reached the server: two 503s, then the answer.
    assert [r.prompt_id for r in server.requests] == ["pp-core"] * 3
    # Backoffs of about 0.1 s then 0.2 s, jittered down by at most a quarter.
    assert waited >= 0.75 * (0.1 + 0.2)
