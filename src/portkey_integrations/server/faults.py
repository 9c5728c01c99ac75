"""Faults on demand: make the next matching requests fail the way Portkey can.

Register a :class:`Fault` (from Python, ``POST /_local/faults``, or one request's
``x-portkey-local-fault`` header). The first registered fault that matches a
request (route, prompt id, stream or not) is applied to it and its ``times``
count goes down; at zero it is removed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, cast, get_args

from .records import split_prompt_ref

__all__ = [
    "ROUTES",
    "Fault",
    "FaultKind",
    "FaultRegistry",
    "guardrail_denied",
    "parse_fault_header",
]

FaultKind = Literal[
    "status",
    "slow",
    "stall",
    "disconnect",
    "abort",
    "error_event",
    "error_data",
    "malformed_sse",
    "non_json",
    "hook_results",
]
KINDS: tuple[str, ...] = get_args(FaultKind)
ROUTES = (
    "prompt_completions",
    "prompt_render",
    "chat_completions",
    "completions",
    "embeddings",
)
STREAM_ONLY = frozenset({"error_event", "error_data", "malformed_sse"})
MID_STREAM = frozenset({"disconnect", "abort", "error_event", "error_data", "malformed_sse"})

_DEFAULT_STATUS = {"status": 500, "non_json": 502, "hook_results": 246}
_DEFAULT_DELAY = {"slow": 0.05, "stall": 30.0}
_PORTKEY_BODIES = {
    401: "Portkey Error: Invalid API Key. Error Code: 03",
    403: "Forbidden!",
    412: "Portkey Error: Budget limit exhausted for this API key. Error Code: 04",
}
_ERROR_TYPES = {400: "invalid_request_error", 408: "timeout_error", 429: "rate_limit_error"}
HTML_BODY = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n"
    "<body>\r\n<center><h1>{status} Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    """A failure to inject.

    ``kind``: ``status`` (answer ``status`` with an error body and optional
    ``Retry-After``), ``slow`` (sleep ``delay`` before the answer / each chunk),
    ``stall`` (send headers, then nothing for ``delay`` seconds),
    ``disconnect`` (end the stream cleanly after ``after_chunks`` events, no
    ``[DONE]``), ``abort`` (drop the connection mid-body), ``error_event`` /
    ``error_data`` (an ``event: error`` or ``data: {"error": ...}`` event after
    ``after_chunks`` events), ``malformed_sse`` (a data line that is not JSON,
    then the rest), ``non_json`` (an HTML error page), ``hook_results`` (a first
    stream event with only ``hook_results``; status 246 when not streaming: a
    guardrail that warns). A ``status`` fault with status 446 answers Portkey's
    guardrail denial, its ``hook_results`` included.
    ``times`` is how many requests it affects (``None``: all); ``prompt_id`` and
    ``route`` (one of :data:`ROUTES`) narrow which; ``body`` replaces the default
    error body (or the hook results).
    """

    kind: FaultKind
    times: int | None = 1
    prompt_id: str | None = None
    route: str | None = None
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    after_chunks: int | None = None
    body: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.route is not None and self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}; one of {', '.join(ROUTES)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build from JSON fields (as ``POST /_local/faults`` receives them)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs a 'kind'")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The fault as JSON fields."""
        return asdict(self)

    @property
    def effective_status(self) -> int:
        """The status answered: ``status`` or the kind's default."""
        return self.status or _DEFAULT_STATUS.get(self.kind, 200)

    @property
    def effective_delay(self) -> float:
        """The delay used by ``slow`` and ``stall``."""
        return self.delay if self.delay is not None else _DEFAULT_DELAY.get(self.kind, 0.0)

    @property
    def chunks_before(self) -> int:
        """How many stream events go out before the fault strikes."""
        if self.after_chunks is not None:
            return self.after_chunks
        return 1 if self.kind in MID_STREAM else 0

    def matches(self, route: str, prompt_id: str | None, stream: bool) -> bool:
        """Whether this fault applies to a request."""
        if self.route is not None and self.route != route:
            return False
        if self.prompt_id is not None:
            if prompt_id is None:
                return False
            # "pp-x" matches every version of pp-x; "pp-x@2" only that reference.
            whole = split_prompt_ref(self.prompt_id)[1] is not None
            candidate = prompt_id if whole else split_prompt_ref(prompt_id)[0]
            if candidate != self.prompt_id:
                return False
        return stream or self.kind not in STREAM_ONLY

    def error_body(self) -> Any:
        """The JSON body of a ``status`` fault (Portkey's or a provider's shape)."""
        if self.body is not None:
            return self.body
        status = self.effective_status
        if status in _PORTKEY_BODIES:
            return {"status": "failure", "message": _PORTKEY_BODIES[status]}
        if status == 446:
            return guardrail_denied(self.hook_results(deny=True))
        error_type = _ERROR_TYPES.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        message = f"portkey-local error: simulated failure with status {status}"
        return {
            "error": {"message": message, "type": error_type, "param": None, "code": None},
            "provider": "portkey-local",
        }

    def stream_error(self) -> dict[str, Any]:
        """The error object sent in ``error_event`` / ``error_data`` events."""
        if isinstance(self.body, dict):
            return self.body
        message = (
            self.body
            if isinstance(self.body, str)
            else "portkey-local error: simulated stream failure"
        )
        return {"error": {"message": message, "type": "server_error", "param": None, "code": None}}

    def hook_results(self, *, deny: bool = False) -> Any:
        """The ``hook_results`` of a ``hook_results`` fault (a warning: status 246) or of
        a ``status`` fault with status 446 (``deny``: the guardrail blocked the request)."""
        if self.body is not None and not deny:
            return self.body
        check = {
            "id": "default.regexMatch",
            "verdict": False,
            "data": {"explanation": "simulated guardrail"},
        }
        hook = {
            "id": "pg-local",
            "verdict": False,
            "deny": deny,
            "async": False,
            "checks": [check],
        }
        return {"before_request_hooks": [hook], "after_request_hooks": []}


def guardrail_denied(hook_results: Any) -> dict[str, Any]:
    """Portkey's 446 body: the request was blocked by a guardrail that denies."""
    message = (
        "The guardrail checks defined in the config failed. You can find more "
        "information in the `hook_results` object."
    )
    return {
        "error": {"message": message, "type": "hooks_failed", "param": None, "code": None},
        "hook_results": hook_results,
    }


class FaultRegistry:
    """The registered faults of one server; safe across threads."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Register a fault."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        """The faults still registered."""
        with self._lock:
            return list(self._faults)

    def take(self, route: str, prompt_id: str | None, stream: bool) -> Fault | None:
        """The first fault matching a request, counted as used."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(route, prompt_id, stream):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


def parse_fault_header(value: str) -> Fault:
    """Parse an ``x-portkey-local-fault`` header value.

    Form: ``kind[;status=503][;after_chunks=2][;delay=0.5][;retry_after=1]``.
    """
    kind, *options = (part.strip() for part in value.split(";"))
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
    values: dict[str, Any] = {}
    for option in options:
        if not option:
            continue
        key, sep, raw = option.partition("=")
        key = key.strip()
        if not sep or key not in ("status", "after_chunks", "delay", "retry_after"):
            raise ValueError(f"bad fault option {option!r}")
        values[key] = float(raw) if key in ("delay", "retry_after") else int(raw)
    return Fault(kind=cast(FaultKind, kind), **values)
