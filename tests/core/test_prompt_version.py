"""The version that ran: ``ResponseInfo.prompt_version`` from the local server's
``x-portkey-prompt-version``, and the template cache following it.

After a prompt-route response the clients compare that version with the template the
call was checked against: another version marks the cached copy stale, so the next
check reads the new one. A refusal of the check on a copy that may be stale is checked
again on a fresh copy: a stale template never refuses a call Portkey would run. Time is
the process cache's injected clock; no test sleeps.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from portkey_integrations import (
    AsyncPortkeyClient,
    MissingVariableError,
    PortkeyClient,
    RequestOptions,
    ResponseInfo,
)
from portkey_integrations._call import Call
from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations._templates.checks import PromptVariablesWarning
from portkey_integrations.server import LocalPortkeyServer

V1 = [{"role": "user", "content": "one {{a}}"}]
V2 = [{"role": "user", "content": "two {{b}}"}]


class Clock:
    """The process cache's time, moved by hand (never past the TTL here)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def frozen_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    prompt_cache.clear()
    monkeypatch.setattr(prompt_cache, "clock", Clock())
    monkeypatch.setattr(prompt_cache, "stale_ttl", 0.0)  # a stale copy waits for the refetch
    yield
    prompt_cache.join(10)
    prompt_cache.clear()


@pytest.fixture
def moving(server: LocalPortkeyServer, request: pytest.FixtureRequest) -> str:
    """A prompt of this test's own: v1 reads ``a`` and is ``production``; v2 reads ``b``."""
    prompt_id = f"pp-ver-{abs(hash(request.node.nodeid)) % 10**10}"
    if prompt_id not in set(server.store.ids()):  # the store outlives resets
        server.register(prompt_id, V1, labels=("production",))
        server.register(prompt_id, V2, publish=False)
    PortkeyClient(base_url=server.base_url).prompts.set_label(prompt_id, 1, "production")
    return prompt_id


def fetches(server: LocalPortkeyServer, prompt_id: str) -> int:
    """Reads of the prompt through the admin API (the template cache's fetches)."""
    return sum(
        1
        for r in server.admin_requests
        if r.method == "GET" and r.path == f"/v1/prompts/{prompt_id}"
    )


def move_label(server: LocalPortkeyServer, prompt_id: str) -> None:
    PortkeyClient(base_url=server.base_url).prompts.set_label(prompt_id, 2, "production")
    later(5)  # still within the TTL


def later(seconds: float) -> None:
    """Move the process cache's clock on."""
    assert isinstance(prompt_cache.clock, Clock)
    prompt_cache.clock.now += seconds


def call(prompt_id: str, variables: dict[str, Any], mode: str = "warn") -> Call:
    return Call(prompt_id=prompt_id, variables=variables, check_variables=mode)  # type: ignore[arg-type]


def run(client: PortkeyClient, how: str, c: Call) -> ResponseInfo:
    """One prompt-route call, as a completion, a stream or a render."""
    if how == "send":
        return client.send_call(c).portkey
    if how == "render":
        return client.render_call(c).portkey
    with client.stream_call(c) as stream:
        list(stream)
        return stream.portkey


async def arun(client: AsyncPortkeyClient, how: str, c: Call) -> ResponseInfo:
    if how == "send":
        return (await client.send_call(c)).portkey
    if how == "render":
        return (await client.render_call(c)).portkey
    stream = await client.stream_call(c)
    async with stream:
        async for _ in stream:
            pass
        return stream.portkey


def variable_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, PromptVariablesWarning)]


# --- the header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-portkey-prompt-version": "3"}, 3),
        ({}, None),
        ({"x-portkey-prompt-version": "three"}, None),
        ({"x-portkey-prompt-version": "2, 5"}, 5),  # a proxy folded two hops: ours wins
        ({"content-type": "application/json"}, None),
    ],
)
def test_response_info_reads_the_version_that_ran(
    headers: dict[str, str], expected: int | None
) -> None:
    assert ResponseInfo.from_headers(200, headers).prompt_version == expected


@pytest.mark.parametrize("how", ["send", "stream", "render"])
def test_every_prompt_route_names_the_version_that_ran(
    server: LocalPortkeyServer, client: PortkeyClient, how: str
) -> None:
    info = run(client, how, call("pp-core@staging", {"question": "q"}, "off"))
    assert info.prompt_version == 2
    assert run(client, how, call("pp-core", {"question": "q"}, "off")).prompt_version == 1
    assert server.requests[-1].prompt_id == "pp-core"


async def test_async_routes_name_the_version_that_ran(aclient: AsyncPortkeyClient) -> None:
    for how in ("send", "stream", "render"):
        info = await arun(aclient, how, call("pp-core@staging", {"question": "q"}, "off"))
        assert info.prompt_version == 2


def test_direct_routes_name_no_version(client: PortkeyClient) -> None:
    completion = client.complete(
        messages=[{"role": "user", "content": "hi"}],
        model="portkey-local",
        options=RequestOptions(provider="openai"),
    )
    assert completion.portkey.prompt_version is None


# --- the cache follows the version that ran ------------------------------------------------


@pytest.mark.parametrize("how", ["send", "stream", "render"])
def test_a_moved_label_is_seen_in_the_response_and_the_next_check_reads_it(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str, how: str
) -> None:
    ref = f"{moving}@production"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert run(client, how, call(ref, {"a": "x"})).prompt_version == 1
        assert fetches(server, moving) == 1 and not variable_warnings(record)

        move_label(server, moving)
        # Checked against the cached v1 (its TTL holds): Portkey runs v2, and says so.
        assert run(client, how, call(ref, {"a": "x"})).prompt_version == 2
        assert fetches(server, moving) == 1
        assert prompt_cache.peek(client, ref).version == 1  # type: ignore[union-attr]
        # ... so the copy is stale: the next call's check fetches and reads v2.
        record.clear()
        assert run(client, how, call(ref, {"b": "y"})).prompt_version == 2
    assert fetches(server, moving) == 2
    assert prompt_cache.peek(client, ref).version == 2  # type: ignore[union-attr]
    assert not variable_warnings(record)  # v2 reads b: nothing to say
    assert server.requests[-1].variables == {"b": "y"}


@pytest.mark.parametrize("how", ["send", "stream", "render"])
async def test_async_a_moved_label_is_seen_and_the_next_check_reads_it(
    server: LocalPortkeyServer, aclient: AsyncPortkeyClient, moving: str, how: str
) -> None:
    ref = f"{moving}@production"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert (await arun(aclient, how, call(ref, {"a": "x"}))).prompt_version == 1
        move_label(server, moving)
        assert (await arun(aclient, how, call(ref, {"a": "x"}))).prompt_version == 2
        assert fetches(server, moving) == 1
        record.clear()
        assert (await arun(aclient, how, call(ref, {"b": "y"}))).prompt_version == 2
    assert fetches(server, moving) == 2
    assert not variable_warnings(record)
    assert server.requests[-1].variables == {"b": "y"}


def test_under_stale_while_revalidate_the_refresh_runs_in_the_background(
    server: LocalPortkeyServer,
    client: PortkeyClient,
    moving: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prompt_cache, "stale_ttl", 600.0)
    ref = f"{moving}@production"
    client.send_call(call(ref, {"a": "x"}))
    move_label(server, moving)
    assert client.send_call(call(ref, {"a": "x"})).portkey.prompt_version == 2
    # The next read serves the stale copy (v1, reading a) at once and refreshes it in
    # the background: a warning, never a refusal.
    with pytest.warns(PromptVariablesWarning, match="'a'"):
        client.send_call(call(ref, {"b": "y"}))
    prompt_cache.join(10)
    assert prompt_cache.peek(client, ref).version == 2  # type: ignore[union-attr]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        client.send_call(call(ref, {"b": "y"}))
    assert not variable_warnings(record)
    assert fetches(server, moving) == 2


def test_the_same_version_changes_nothing(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    for _ in range(3):
        assert client.send_call(call(ref, {"a": "x"})).portkey.prompt_version == 1
    assert fetches(server, moving) == 1


def test_without_a_check_nothing_is_fetched(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    client.send_call(call(ref, {"a": "x"}, "off"))
    move_label(server, moving)
    assert client.send_call(call(ref, {"a": "x"}, "off")).portkey.prompt_version == 2
    assert fetches(server, moving) == 0


# --- a stale copy never refuses a call Portkey would run -----------------------------------


def test_a_stale_copy_does_not_refuse_a_call_the_new_version_accepts(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    client.send_call(call(ref, {"a": "x"}, "error"))
    move_label(server, moving)
    # The cached v1 reads a, which this call does not send; v2, which runs, reads b.
    completion = client.send_call(call(ref, {"b": "y"}, "error"))
    assert completion.portkey.prompt_version == 2
    assert server.requests[-1].variables == {"b": "y"}
    assert fetches(server, moving) == 2  # checked again on a fresh copy


async def test_async_a_stale_copy_does_not_refuse(
    server: LocalPortkeyServer, aclient: AsyncPortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    await aclient.send_call(call(ref, {"a": "x"}, "error"))
    move_label(server, moving)
    stream = await aclient.stream_call(call(ref, {"b": "y"}, "error"))
    async with stream:
        assert [chunk async for chunk in stream]
    assert stream.portkey.prompt_version == 2
    assert server.requests[-1].variables == {"b": "y"}


def test_a_refusal_the_fresh_copy_confirms_still_refuses(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    client.send_call(call(ref, {"a": "x"}, "error"))
    sent = len(server.requests)
    later(5)  # a copy fetched a moment ago is not fetched again (see below)
    with pytest.raises(MissingVariableError, match="'a'") as info:
        client.send_call(call(ref, {}, "error"))
    assert info.value.status_code is None  # refused before sending
    assert len(server.requests) == sent
    assert fetches(server, moving) == 2  # one fresh look before refusing


def test_a_pinned_version_is_not_fetched_again_to_refuse(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@1"
    client.send_call(call(ref, {"a": "x"}, "error"))
    later(5)
    with pytest.raises(MissingVariableError):
        client.send_call(call(ref, {}, "error"))
    assert fetches(server, moving) == 1  # a version number never changes


def test_a_copy_fetched_a_moment_ago_is_not_fetched_again_to_refuse(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    ref = f"{moving}@production"
    with pytest.raises(MissingVariableError):
        client.send_call(call(ref, {}, "error"))
    with pytest.raises(MissingVariableError):
        client.send_call(call(ref, {}, "error"))  # the same instant, on the cache's clock
    assert fetches(server, moving) == 1
    assert not server.requests


def test_a_stale_copy_the_call_carries_does_not_refuse_either(
    server: LocalPortkeyServer, client: PortkeyClient, moving: str
) -> None:
    # The adapters hand the core the copy they read for their mapping rule: a refusal
    # on it is checked again on a fresh copy, as one the core read itself.
    ref = f"{moving}@production"
    client.send_call(call(ref, {"a": "x"}, "error"))
    carried = prompt_cache.get(client, ref)
    assert carried is not None and carried.version == 1
    move_label(server, moving)
    completion = client.send_call(
        Call(prompt_id=ref, variables={"b": "y"}, check_variables="error", template=carried)
    )
    assert completion.portkey.prompt_version == 2
    assert server.requests[-1].variables == {"b": "y"}
    assert fetches(server, moving) == 2
