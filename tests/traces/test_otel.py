"""W3C traceparent from OpenTelemetry, when it is installed and a span is current."""

from __future__ import annotations

import pytest

from portkey_integrations.langchain import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer

from .conftest import SECRET, trace_headers

pytest.importorskip("opentelemetry.sdk.trace")


def test_traceparent_of_the_current_span(server: LocalPortkeyServer) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("tests")
    model = PortkeyChatModel(prompt_id="pp-assistant", base_url=server.base_url, api_key=SECRET)
    with tracer.start_as_current_span("outer") as span:
        model.invoke("hi")
    model.invoke("no span")
    inside, outside = trace_headers(server)
    context = span.get_span_context()
    assert (
        inside["traceparent"]
        == f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
    )
    assert "traceparent" not in outside
