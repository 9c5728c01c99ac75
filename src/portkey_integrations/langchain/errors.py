"""The errors the LangChain models raise: the core's, classified as LangChain model errors.

Each class here inherits from the core class of the same name (so
``except portkey_integrations.RateLimitError`` still works, as does catching a core base
such as ``NotFoundError``) and from the matching ``langchain_core.exceptions.Model*Error``
(so ``with_retry``, ``with_fallbacks`` and agent middleware can classify it and read its
``is_retryable``). The models raise them chained from the core error (``raise ... from``),
with the same attributes::

    core class              LangChain class (this module)      also a
    APIConnectionError      APIConnectionError                 ModelConnectionError
    APITimeoutError         APITimeoutError                    ModelTimeoutError
    APIResponseValidationError  APIResponseValidationError     ModelAPIError
    APIStatusError          APIStatusError (other statuses)    ModelError
    BadRequestError         BadRequestError                    ModelInvalidRequestError
    MissingVariableError    MissingVariableError               ModelInvalidRequestError
    TemplateError           TemplateError                      ModelInvalidRequestError
    AuthenticationError     AuthenticationError                ModelAuthenticationError
    PermissionDeniedError   PermissionDeniedError              ModelPermissionDeniedError
    NotFoundError           NotFoundError                      ModelNotFoundError
    PromptNotFoundError     PromptNotFoundError                ModelNotFoundError
    RequestTimeoutError     RequestTimeoutError                ModelTimeoutError
    ConflictError           ConflictError                      ModelAPIError
    BudgetExceededError     BudgetExceededError                ModelPermissionDeniedError
    RateLimitError          RateLimitError                     ModelRateLimitError
    GuardrailError          GuardrailError                     ModelInvalidRequestError
    InternalServerError     InternalServerError                ModelAPIError
    TemplateRenderError     TemplateRenderError                ModelInvalidRequestError
    StreamError             StreamError                        ModelAPIError
    TruncatedStreamError    TruncatedStreamError               ModelAPIError
    PromptMappingError      PromptMappingError                 ModelInvalidRequestError
    BatchError              BatchError                         ModelAPIError
    BatchLineError          BatchLineError                     ModelAPIError

The classes are flat, as langchain-openai's are: a LangChain ``PromptNotFoundError`` is
a core ``NotFoundError`` but not this module's ``NotFoundError``; catch the core class
for the Portkey hierarchy and the ``Model*Error`` for the category. Configuration errors
(``PortkeyConfigError``, a ``ValueError``) have no twin: they are bugs in the call and
are raised as they are. Every class pickles with all its attributes.
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from .. import _errors as core

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchError",
    "BatchLineError",
    "BudgetExceededError",
    "ConflictError",
    "GuardrailError",
    "InternalServerError",
    "MissingVariableError",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptMappingError",
    "PromptNotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "StreamError",
    "TemplateError",
    "TemplateRenderError",
    "TruncatedStreamError",
]


class APIConnectionError(core.APIConnectionError, ModelConnectionError):
    """Portkey could not be reached, classified as a LangChain model error."""


class APITimeoutError(core.APITimeoutError, ModelTimeoutError):
    """The connect or read timeout expired, classified as a LangChain model error."""


class APIResponseValidationError(core.APIResponseValidationError, ModelAPIError):
    """A 2xx response whose body does not parse, classified as a retryable LangChain API
    error (a proxy's page or a gateway fault may not repeat)."""


class APIStatusError(core.APIStatusError, ModelError):
    """An error status with no more specific class, classified as a LangChain model error."""


class BadRequestError(core.BadRequestError, ModelInvalidRequestError):
    """400 or 422, classified as a LangChain model error."""


class MissingVariableError(core.MissingVariableError, ModelInvalidRequestError):
    """A variable the prompt needs was not supplied, classified as a LangChain model error."""


class TemplateError(core.TemplateError, ModelInvalidRequestError):
    """The prompt template could not be rendered, classified as a LangChain model error."""


class AuthenticationError(core.AuthenticationError, ModelAuthenticationError):
    """401, classified as a LangChain model error."""


class PermissionDeniedError(core.PermissionDeniedError, ModelPermissionDeniedError):
    """403, classified as a LangChain model error."""


class NotFoundError(core.NotFoundError, ModelNotFoundError):
    """404, classified as a LangChain model error."""


class PromptNotFoundError(core.PromptNotFoundError, ModelNotFoundError):
    """404 for an unknown prompt id, version or label, classified as a LangChain model
    error."""


class RequestTimeoutError(core.RequestTimeoutError, ModelTimeoutError):
    """408 (the gateway or provider timed out), classified as a LangChain model error."""


class ConflictError(core.ConflictError, ModelAPIError):
    """409, classified as a retryable LangChain API error."""


class BudgetExceededError(core.BudgetExceededError, ModelPermissionDeniedError):
    """412: the key's budget is exhausted. Someone must raise the budget, so it is
    classified as a permission error, which is not retried."""


class RateLimitError(core.RateLimitError, ModelRateLimitError):
    """429, classified as a LangChain model error."""


class GuardrailError(core.GuardrailError, ModelInvalidRequestError):
    """446: a guardrail denied the request. The content is at fault and a retry would be
    denied again, so it is classified as an invalid request."""


class InternalServerError(core.InternalServerError, ModelAPIError):
    """5xx, classified as a LangChain model error."""


class TemplateRenderError(core.TemplateRenderError, ModelInvalidRequestError):
    """500: the prompt rendered to invalid JSON. The variables are at fault and a retry
    fails the same way, so it is classified as an invalid request."""


class StreamError(core.StreamError, ModelAPIError):
    """An error event inside a stream, classified as a LangChain API error."""


class TruncatedStreamError(core.TruncatedStreamError, ModelAPIError):
    """A stream that ended without ``[DONE]``, classified as a LangChain API error."""


class PromptMappingError(core.PromptMappingError, ModelInvalidRequestError):
    """Content LangChain handed the model has no slot in the prompt, raised before
    sending. The template is at fault and a retry fails the same way, so it is
    classified as an invalid request (not retried by agent middleware); like the core
    class it is no ``ValueError``."""


class BatchError(core.BatchError, ModelAPIError):
    """A Batch API job that ended failed, expired or cancelled, classified as a
    LangChain API error."""


class BatchLineError(core.BatchLineError, ModelAPIError):
    """One line of a Batch API job that failed, classified as a LangChain API error."""
