"""Portkey prompts as first-class LangChain and LlamaIndex models.

The core is framework-free: :class:`PortkeyClient` and :class:`AsyncPortkeyClient`
run Portkey prompts (``/prompts/{id}/completions``), render them, and call the
OpenAI-compatible chat and text completion routes. The adapters live in
``portkey_integrations.langchain`` and ``portkey_integrations.llama_index``; importing
this package imports neither framework.
"""

from typing import TYPE_CHECKING, Any

from ._client import DEFAULT_BASE_URL, AsyncPortkeyClient, PortkeyClient
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    GuardrailError,
    InternalServerError,
    MissingVariableError,
    NotFoundError,
    PermissionDeniedError,
    PortkeyConfigError,
    PortkeyError,
    PromptNotFoundError,
    RateLimitError,
    RequestTimeoutError,
    StreamError,
    TemplateError,
    TemplateRenderError,
    TruncatedStreamError,
    VariableEncodingError,
)
from ._options import RequestOptions
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
from ._streaming import AsyncStream, Stream
from ._templates.template import PortkeyTemplate
from ._version import __version__

if TYPE_CHECKING:
    from ._templates.cache import configure_prompt_cache
    from ._templates.sources import (
        aload_template,
        load_template,
        observe_prompt_version,
        template_from_folder,
    )
from .resources.embeddings import Embedding, EmbeddingResponse

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPortkeyClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "Choice",
    "ChunkChoice",
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
    "PromptNotFoundError",
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

_TEMPLATE_LOADERS = (
    "aload_template",
    "configure_prompt_cache",
    "load_template",
    "observe_prompt_version",
    "template_from_folder",
)


def __getattr__(name: str) -> Any:
    # The template loaders pull in the prompt API's modules: imported on first use.
    if name in _TEMPLATE_LOADERS:
        from ._templates import cache, sources

        return getattr(sources if hasattr(sources, name) else cache, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
