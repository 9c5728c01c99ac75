"""How a batch job is waited for: :class:`BatchPolling`, apart from the runner
(:mod:`.batch`) so that a model whose field it is does not load the runner on import."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import PortkeyConfigError

if TYPE_CHECKING:
    from ..types import Batch

__all__ = ["BatchPolling"]


@dataclasses.dataclass(frozen=True)
class BatchPolling:
    """How to wait for a batch job: exponential backoff, progress, a time limit."""

    initial_delay: float = 1.0
    """Seconds before the second poll (the first is at once)."""
    max_delay: float = 60.0
    """The cap of the wait between polls, in seconds."""
    factor: float = 2.0
    """How much each wait grows over the one before."""
    jitter: float = 0.1
    """Up to this fraction is taken off each wait at random."""
    timeout: float | None = None
    """Give up waiting (``TimeoutError``; the job runs on) after this many seconds;
    ``None`` waits until the job ends (its completion window is 24 hours)."""
    on_progress: Callable[[Batch], None] | None = None
    """Called with the job after every poll (status, ``request_counts``)."""

    def __post_init__(self) -> None:
        timeout = 0 if self.timeout is None else self.timeout
        delays = self.initial_delay >= 0 and self.max_delay >= 0 and timeout >= 0  # no NaN
        if not (delays and self.factor >= 1 and 0 <= self.jitter <= 1):
            raise PortkeyConfigError(
                "batch polling needs delays and timeout >= 0, factor >= 1, 0 <= jitter <= 1"
            )
