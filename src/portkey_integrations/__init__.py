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

from ._call import Call
from ._client import DEFAULT_BASE_URL, AsyncPortkeyClient, PortkeyClient
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
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
    PromptMappingError,
    PromptNotFoundError,
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
from ._streaming import AsyncStream, Stream
from ._version import __version__
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
    "PromptMappingError",
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
]
