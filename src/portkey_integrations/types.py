"""Every object the clients' public methods return, importable from one public place.

Annotate with these, or ``isinstance``-check against them::

    from portkey_integrations.types import Completion, Prompt, FeedbackResponse

- completions (``client.complete``, ``client.stream``, ``client.render``):
  :class:`Completion`, :class:`Choice`, :class:`Message`, :class:`ToolCall`,
  :class:`Usage`, :class:`Stream` / :class:`AsyncStream` of :class:`CompletionChunk`,
  :class:`RenderedPrompt`, and :class:`ResponseInfo` (``.portkey`` on each);
  :class:`RawChunk`, a LlamaIndex streamed response's ``raw``;
- embeddings (``client.embed``): :class:`EmbeddingResponse` of :class:`Embedding`;
- prompts (``client.prompts``): :class:`Prompt`, :class:`PromptList`,
  :class:`PromptVersionList`, :class:`PromptCreated`, :class:`PromptUpdated`, and what a
  template reads (:class:`TemplateInfo`, :class:`VariableUse`);
- partials (``client.partials``): :class:`PromptPartial`, :class:`PromptPartialList`,
  :class:`PromptPartialVersionList`, :class:`PartialCreated`, :class:`PartialUpdated`;
- labels (``client.labels``): :class:`Label`, :class:`LabelList`;
- feedback (``client.feedback``): :class:`FeedbackResponse`;
- files and batches (``client.files``, ``client.batches``): :class:`FileObject`,
  :class:`Batch` (:data:`BatchStatus`, :class:`BatchRequestCounts`, :class:`BatchErrors`),
  :class:`BatchResult` (:class:`BatchResultResponse`, :class:`BatchResultError`), whose
  ``exception()`` returns a :class:`BatchLineError` (also importable from the package).

The classes live in private modules; this module only gathers them (a test holds it
complete), so importing it costs what importing those modules costs.
"""

from __future__ import annotations

from ._errors import BatchLineError
from ._response import (
    Choice,
    ChunkChoice,
    Completion,
    CompletionChunk,
    CompletionTokensDetails,
    Delta,
    DeltaToolCall,
    FunctionCall,
    Message,
    PromptTokensDetails,
    RawChunk,
    RenderedPrompt,
    ResponseInfo,
    ToolCall,
    Usage,
)
from ._streaming import AsyncStream, Stream
from ._templates.analysis import TemplateInfo, VariableUse
from ._templates.template import PortkeyTemplate
from .resources._batch_models import (
    Batch,
    BatchErrorItem,
    BatchErrors,
    BatchRequestCounts,
    BatchResult,
    BatchResultError,
    BatchResultResponse,
    BatchStatus,
    FileObject,
)
from .resources._models import (
    FeedbackResponse,
    Label,
    LabelList,
    PartialCreated,
    PartialUpdated,
    Prompt,
    PromptCreated,
    PromptList,
    PromptPartial,
    PromptPartialList,
    PromptPartialSummary,
    PromptPartialVersion,
    PromptPartialVersionList,
    PromptSummary,
    PromptUpdated,
    PromptVersion,
    PromptVersionList,
    TemplateKind,
)
from .resources.embeddings import Embedding, EmbeddingResponse, EncodingFormat

__all__ = [
    "AsyncStream",
    "Batch",
    "BatchErrorItem",
    "BatchErrors",
    "BatchLineError",
    "BatchRequestCounts",
    "BatchResult",
    "BatchResultError",
    "BatchResultResponse",
    "BatchStatus",
    "Choice",
    "ChunkChoice",
    "Completion",
    "CompletionChunk",
    "CompletionTokensDetails",
    "Delta",
    "DeltaToolCall",
    "Embedding",
    "EmbeddingResponse",
    "EncodingFormat",
    "FeedbackResponse",
    "FileObject",
    "FunctionCall",
    "Label",
    "LabelList",
    "Message",
    "PartialCreated",
    "PartialUpdated",
    "PortkeyTemplate",
    "Prompt",
    "PromptCreated",
    "PromptList",
    "PromptPartial",
    "PromptPartialList",
    "PromptPartialSummary",
    "PromptPartialVersion",
    "PromptPartialVersionList",
    "PromptSummary",
    "PromptTokensDetails",
    "PromptUpdated",
    "PromptVersion",
    "PromptVersionList",
    "RawChunk",
    "RenderedPrompt",
    "ResponseInfo",
    "Stream",
    "TemplateInfo",
    "TemplateKind",
    "ToolCall",
    "Usage",
    "VariableUse",
]
