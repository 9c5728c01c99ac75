"""Framework-free tracing helpers: run metadata for ``x-portkey-metadata``, the span
headers of one call, hook results and the W3C ``traceparent`` of OpenTelemetry.

The adapters find a call's trace, span and parent span in their framework (LangChain's
run tree, LlamaIndex's instrumentation) and hand them to :func:`trace_options`, which
turns them into the per-call :class:`~._options.RequestOptions`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from typing import Any

from .._options import RequestOptions

__all__ = [
    "PARENT_SPAN_HEADER",
    "SPAN_HEADER",
    "SPAN_NAME_HEADER",
    "hook_results_dict",
    "hook_results_of",
    "merge_metadata",
    "run_metadata",
    "trace_options",
    "traceparent",
]

logger = logging.getLogger("portkey_integrations")

SPAN_HEADER = "x-portkey-span-id"
PARENT_SPAN_HEADER = "x-portkey-parent-span-id"
SPAN_NAME_HEADER = "x-portkey-span-name"
_MAX_VALUE = 128

# Keys the frameworks put into a run's metadata for their own bookkeeping: LangSmith's
# model params, LangGraph's step and checkpoint, LangChain's private ones (any "_" one).
_INTERNAL_PREFIXES = ("ls_", "langgraph_", "checkpoint_", "lc_", "_")
_INTERNAL_KEYS = frozenset({"checkpoint_ns", "checkpoint_id", "thread_ts", "run_attempt"})


def _is_internal(key: str) -> bool:
    if key == "_user":
        return False  # Portkey's own key for the end user
    return key.startswith(_INTERNAL_PREFIXES) or key in _INTERNAL_KEYS


def _metadata_value(key: str, value: Any) -> str | None:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        logger.debug("metadata %r left out of x-portkey-metadata: not a string", key)
        return None
    if len(text) > _MAX_VALUE:
        logger.debug("metadata %r left out of x-portkey-metadata: over 128 characters", key)
        return None
    return text


def run_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """A framework run's metadata as Portkey metadata: internal keys left out, numbers
    and booleans as strings, anything else (or over 128 characters) dropped."""
    if not metadata:
        return {}
    out: dict[str, str] = {}
    for key, value in metadata.items():
        # Most keys of a model run are LangSmith's ls_* ones: the cheap test first.
        if not isinstance(key, str) or key.startswith("ls_") or _is_internal(key):
            continue
        text = _metadata_value(key, value)
        if text is not None:
            out[key] = text
    return out


def merge_metadata(
    run: Mapping[str, Any] | None, model: Mapping[str, str] | None
) -> dict[str, str] | None:
    """The run's metadata under the model's ``portkey_metadata`` (which wins on a clash);
    ``None`` when the run adds nothing, so the model's header goes out as it is."""
    extra = run_metadata(run)
    if not extra:
        return None
    if model:
        extra.update(model)
    return extra


def _header_text(value: str) -> str:
    # A span name is user text (a run name) going into a header: keep it printable ASCII.
    if value.isascii() and value.isprintable():
        return value[:_MAX_VALUE]
    cleaned = "".join(c if c.isascii() and c.isprintable() else "?" for c in value)
    return cleaned[:_MAX_VALUE]


def trace_options(
    *,
    trace_id: str | None,
    span_id: str | None,
    parent_span_id: str | None = None,
    span_name: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> RequestOptions:
    """The per-call options of one traced call (``trace_id=None`` keeps the client's)."""
    headers: dict[str, str] = {}
    if span_id is not None:
        headers[SPAN_HEADER] = span_id
    if parent_span_id is not None:
        headers[PARENT_SPAN_HEADER] = parent_span_id
    if span_name:
        headers[SPAN_NAME_HEADER] = _header_text(span_name)
    parent = traceparent()
    if parent is not None:
        headers["traceparent"] = parent
    return RequestOptions._traced(trace_id, metadata, headers or None)


def hook_results_of(extra: Mapping[str, Any] | None) -> Any:
    """The ``hook_results`` of a completion or chunk's extra fields (``None`` if none)."""
    if not extra:
        return None
    return extra.get("hook_results")


def hook_results_dict(extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"hook_results": ...}`` when a completion or chunk carries guardrail results."""
    hooks = hook_results_of(extra)
    return {} if hooks is None else {"hook_results": hooks}


# --- OpenTelemetry ------------------------------------------------------------------

_OTEL: Any = None
"""``opentelemetry.trace`` once imported; ``False`` when it is not installed."""


def _otel_trace() -> Any:
    global _OTEL
    if _OTEL is None:
        # find_spec looks for the package without importing it: a process without
        # OpenTelemetry never imports it, one with it imports it on the first call.
        if importlib.util.find_spec("opentelemetry") is None:
            _OTEL = False
        else:
            try:
                from opentelemetry import trace
            except ImportError:
                _OTEL = False
            else:
                _OTEL = trace
    return _OTEL


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current OpenTelemetry span, if one is recording."""
    trace = _otel_trace()
    if not trace:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
