"""What ``PortkeyChatModel`` and ``PortkeyPromptLLM`` share beyond the core settings:
streaming flags, LangChain serialization and identity, and request finishing."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from .._client import DEFAULT_TIMEOUT
from .._settings import PortkeySettings

__all__ = ["LC_SECRETS", "PortkeyLangChainBase"]

LC_SECRETS = {
    "api_key": "PORTKEY_API_KEY",
    "virtual_key": "PORTKEY_VIRTUAL_KEY",
    "provider_api_key": "PORTKEY_PROVIDER_API_KEY",
}


class PortkeyLangChainBase(PortkeySettings):
    """Fields and LangChain plumbing common to both LangChain classes."""

    timeout: float | None = Field(default=DEFAULT_TIMEOUT, alias="request_timeout")
    """Read timeout in seconds; ``request_timeout`` is ChatOpenAI's name for it. (The
    gateway's own timeout is ``gateway_timeout_ms``.)"""
    streaming: bool = False
    """Stream every call, ``invoke`` included (callbacks get tokens as they arrive)."""
    stream_usage: bool = True
    """Ask for usage in streams (``stream_options: {"include_usage": true}``)."""

    # defer_build: the validator is built on first instantiation, not at import.
    model_config = ConfigDict(
        populate_by_name=True,
        protected_namespaces=(),
        arbitrary_types_allowed=True,
        defer_build=True,
    )

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return cls.__module__.split(".")

    @property
    def lc_secrets(self) -> dict[str, str]:
        return dict(LC_SECRETS)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_id": self.full_prompt_id, **self.default_params()}

    def _dict_for_compat(self) -> dict[str, Any]:
        # The base class calls the deprecated dict() under a warnings filter, in case a
        # subclass overrode it; these classes do not, and the filter costs more per call
        # than everything else in building the invocation parameters.
        asdict: dict[str, Any] = self.asdict()  # type: ignore[attr-defined]
        return asdict

    def _with_stream_usage(
        self, request: dict[str, Any], stream_usage: bool | None
    ) -> dict[str, Any]:
        """Ask for the usage chunk unless the call or the model said otherwise."""
        if stream_usage is None:
            stream_usage = self.stream_usage
        if stream_usage and "stream_options" not in request:
            request["stream_options"] = {"include_usage": True}
        return request
