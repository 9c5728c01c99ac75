"""Feedback over Portkey's /feedback routes, checked before sending, stored by the server."""

from __future__ import annotations

import httpx
import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient, PortkeyConfigError
from portkey_integrations.resources.feedback import AsyncFeedback, Feedback
from portkey_integrations.server import LocalPortkeyServer

from .conftest import SECRET


def _stored(server: LocalPortkeyServer) -> list[dict[str, object]]:
    response = httpx.get(server.base_url.removesuffix("/v1") + "/_local/feedback")
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["feedback"]
    return items


@pytest.fixture
def feedback(server: LocalPortkeyServer) -> Feedback:
    httpx.delete(server.base_url.removesuffix("/v1") + "/_local/feedback")
    return Feedback(PortkeyClient(base_url=server.base_url, api_key=SECRET))


def test_create_a_trace_feedback(feedback: Feedback, server: LocalPortkeyServer) -> None:
    reply = PortkeyClient(base_url=server.base_url, api_key=SECRET).complete(
        prompt_id="pp-assistant", variables={"input": "hi"}
    )
    trace = reply.portkey.trace_id
    assert trace is not None
    saved = feedback.create(trace_id=trace, value=5, weight=0.5, metadata={"by": "qa"})
    assert saved.status == "success" and len(saved.feedback_ids) == 1
    [item] = _stored(server)
    assert item == {
        "id": saved.feedback_ids[0],
        "trace_id": trace,
        "value": 5,
        "weight": 0.5,
        "metadata": {"by": "qa"},
    }


def test_bulk_create_and_update(feedback: Feedback, server: LocalPortkeyServer) -> None:
    saved = feedback.bulk_create(
        [{"trace_id": "t-1", "value": 1}, {"trace_id": "t-2", "value": -3}]
    )
    assert len(saved.feedback_ids) == 2
    feedback.update(saved.feedback_ids[1], value=10, weight=0.0)
    items = {i["trace_id"]: i for i in _stored(server)}
    assert items["t-1"]["value"] == 1 and items["t-1"]["weight"] == 1.0
    assert items["t-2"]["value"] == 10 and items["t-2"]["weight"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"value": 11}, "value"),
        ({"value": -11}, "value"),
        ({"value": 1.5}, "value"),
        ({"value": True}, "value"),
        ({"value": 1, "weight": 1.5}, "weight"),
        ({"value": 1, "weight": -0.1}, "weight"),
    ],
)
def test_bad_values_are_refused_before_sending(
    feedback: Feedback, server: LocalPortkeyServer, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(PortkeyConfigError, match=f"feedback {field}"):
        feedback.create(trace_id="t", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(PortkeyConfigError, match=f"feedback {field}"):
        feedback.bulk_create([{"trace_id": "t", **kwargs}])
    assert not server.requests and not server.admin_requests
    assert _stored(server) == []


def test_server_refuses_bad_values_too(server: LocalPortkeyServer) -> None:
    response = httpx.post(server.base_url + "/feedback", json={"trace_id": "t", "value": 42})
    assert response.status_code == 400 and "value" in response.json()["message"]


async def test_async_feedback(feedback: Feedback, server: LocalPortkeyServer) -> None:
    feedback = AsyncFeedback(AsyncPortkeyClient(base_url=server.base_url, api_key=SECRET))
    saved = await feedback.create(trace_id="t-async", value=-10)
    await feedback.update(saved.feedback_ids[0], value=3, metadata={"fixed": "yes"})
    [item] = _stored(server)
    assert item["trace_id"] == "t-async" and item["value"] == 3
    assert item["metadata"] == {"fixed": "yes"}
