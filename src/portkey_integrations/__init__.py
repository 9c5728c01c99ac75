"""Portkey prompts as first-class LangChain and LlamaIndex models.

The core is framework-free: :class:`PortkeyClient` and :class:`AsyncPortkeyClient`
run Portkey prompts (``/prompts/{id}/completions``), render them, and call the
OpenAI-compatible chat and text completion routes. The adapters live in
``portkey_integrations.langchain`` and ``portkey_integrations.llama_index``; importing
this package imports neither framework.

A call is a typed :class:`Call` (prompt reference, variables, messages, parameters,
options) that ``send_call`` / ``stream_call`` / ``render_call`` run; ``complete``,
``stream`` and ``render`` take the same fields as keywords.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._call import Call
from ._client import DEFAULT_BASE_URL, AsyncPortkeyClient, PortkeyClient
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchError,
    BatchLineError,
    BudgetExceededError,
    ConflictError,
    GuardrailError,
    InternalServerError,
    MissingVariableError,
    NotFoundError,
    PermissionDeniedError,
    PortkeyConfigError,
    PortkeyError,
    PromptMappingError,
    PromptNotFoundError,
    PromptRenderError,
    RateLimitError,
    RequestTimeoutError,
    StreamError,
    TemplateError,
    TemplateRenderError,
    TruncatedStreamError,
    VariableEncodingError,
)
from ._options import ClientOptions, RequestOptions
from ._response import (
    Choice,
    ChunkChoice,
    Completion,
    CompletionChunk,
    Delta,
    DeltaToolCall,
    FunctionCall,
    Message,
    RenderedPrompt,
    ResponseInfo,
    ToolCall,
    Usage,
)
from ._version import __version__

if TYPE_CHECKING:
    # Imported on first use (see __getattr__); named here for editors and type checkers.
    from ._streaming import AsyncStream, Stream
    from ._templates.cache import configure_prompt_cache
    from ._templates.sources import (
        aload_template,
        load_template,
        observe_prompt_version,
        template_from_folder,
    )
    from ._templates.template import PortkeyTemplate
    from .resources.embeddings import Embedding, EmbeddingResponse

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPortkeyClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BatchError",
    "BatchLineError",
    "BudgetExceededError",
    "Call",
    "Choice",
    "ChunkChoice",
    "ClientOptions",
    "Completion",
    "CompletionChunk",
    "ConflictError",
    "Delta",
    "DeltaToolCall",
    "Embedding",
    "EmbeddingResponse",
    "FunctionCall",
    "GuardrailError",
    "InternalServerError",
    "Message",
    "MissingVariableError",
    "NotFoundError",
    "PermissionDeniedError",
    "PortkeyClient",
    "PortkeyConfigError",
    "PortkeyError",
    "PortkeyTemplate",
    "PromptMappingError",
    "PromptNotFoundError",
    "PromptRenderError",
    "RateLimitError",
    "RenderedPrompt",
    "RequestOptions",
    "RequestTimeoutError",
    "ResponseInfo",
    "Stream",
    "StreamError",
    "TemplateError",
    "TemplateRenderError",
    "ToolCall",
    "TruncatedStreamError",
    "Usage",
    "VariableEncodingError",
    "__version__",
    "aload_template",
    "configure_prompt_cache",
    "load_template",
    "observe_prompt_version",
    "template_from_folder",
]

_LAZY = {
    # What only some programs use loads with its first use, not with the package: the
    # template machinery (Mustache, the prompt API), streams, embeddings.
    "AsyncStream": "._streaming",
    "Stream": "._streaming",
    "Embedding": ".resources.embeddings",
    "EmbeddingResponse": ".resources.embeddings",
    "PortkeyTemplate": "._templates.template",
    "aload_template": "._templates.sources",
    "configure_prompt_cache": "._templates.cache",
    "load_template": "._templates.sources",
    "observe_prompt_version": "._templates.sources",
    "template_from_folder": "._templates.sources",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later reads skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
