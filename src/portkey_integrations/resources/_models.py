"""Typed objects of Portkey's admin APIs: prompts, versions, partials, labels, feedback.

Every model keeps the fields it does not declare (``extra="allow"``), so a newer server
adds fields without breaking an older client. List responses are accepted both as a
bare JSON array (what the OpenAPI file documents for versions and partials) and as a
``{"object": "list", "total": ..., "data": [...]}`` wrapper (what servers also send).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._templates.analysis import TemplateInfo, VariableUse

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = [
    "AdminModel",
    "FeedbackResponse",
    "Label",
    "LabelList",
    "PartialCreated",
    "PartialUpdated",
    "Prompt",
    "PromptCreated",
    "PromptList",
    "PromptPartial",
    "PromptPartialList",
    "PromptPartialSummary",
    "PromptPartialVersion",
    "PromptPartialVersionList",
    "PromptSummary",
    "PromptUpdated",
    "PromptVersion",
    "PromptVersionList",
    "template_kind",
]

TemplateKind = Literal["chat", "text"]


class AdminModel(BaseModel):
    """Base of the admin API's objects: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def template_kind(template: str | None, declared: Any = None) -> TemplateKind:
    """``chat`` for a JSON messages-array template, else ``text`` (``declared`` wins)."""
    if declared in ("chat", "text"):
        return declared  # type: ignore[no-any-return]
    return "chat" if template is not None and template.lstrip().startswith("[") else "text"


class _Versioned(AdminModel):
    """What prompts and prompt versions share: the saved template and its settings."""

    string: str | None = None
    parameters: dict[str, Any] | None = None
    model: str | None = None
    virtual_key: str | None = None
    functions: list[Any] | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    template_metadata: dict[str, Any] | None = None
    is_raw_template: bool | int | None = None

    @property
    def kind(self) -> TemplateKind:
        """Whether the template is a chat (messages array) or a text template."""
        return template_kind(self.string, (self.model_extra or {}).get("kind"))

    @property
    def template_info(self) -> TemplateInfo:
        """What the template reads: each variable's uses (plain value, section, loop,
        dotted name, splice), the partials it names and ``{{>>var}}`` partial names.
        Partials are listed, not followed: ``PromptTemplate.info`` (the prompt cache)
        folds them in."""
        from .._templates.analysis import analyze_template

        return analyze_template(self.string or "", chat=self.kind == "chat")

    @property
    def variables(self) -> Mapping[str, tuple[VariableUse, ...]]:
        """The variables the template reads, each with how it reads them."""
        return self.template_info.variables


class PromptSummary(AdminModel):
    """One prompt as ``GET /prompts`` lists it."""

    id: str
    slug: str | None = None
    name: str | None = None
    collection_id: str | None = None
    model: str | None = None
    status: str | None = None
    created_at: str | None = None
    last_updated_at: str | None = None
    object: str | None = None


class Prompt(_Versioned):
    """A prompt with one of its versions (the published one, from ``GET /prompts/{id}``)."""

    id: str
    slug: str | None = None
    name: str | None = None
    collection_id: str | None = None
    prompt_version: int | None = None
    prompt_version_id: str | None = None
    prompt_version_status: str | None = None
    prompt_version_description: str | None = None
    prompt_version_label_id: str | None = None
    status: str | None = None
    created_at: str | None = None
    last_updated_at: str | None = None

    @property
    def ref(self) -> str:
        """The slug if the server gave one, else the id."""
        return self.slug or self.id


_TEMPLATE_FIELDS = (
    "string",
    "parameters",
    "model",
    "virtual_key",
    "functions",
    "tools",
    "tool_choice",
    "template_metadata",
    "is_raw_template",
)


class PromptVersion(_Versioned):
    """One version of a prompt as ``GET /prompts/{id}/versions`` lists it.

    The version's template fields may sit in ``prompt_template`` (as the OpenAPI file
    documents) or at the root; both are read, the root winning.
    """

    id: str
    prompt_id: str | None = None
    prompt_template: Any = None
    prompt_version: int
    prompt_description: str | None = None
    label_id: str | None = None
    created_at: str | None = None
    status: str | None = None
    object: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_template(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        inner = data.get("prompt_template")
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except ValueError:
                inner = {"string": inner}
        if not isinstance(inner, dict):
            return data
        lifted = {k: inner[k] for k in _TEMPLATE_FIELDS if k in inner}
        return {**lifted, **{k: v for k, v in data.items() if v is not None}}


_T = TypeVar("_T", bound=BaseModel)


class _List(AdminModel, Generic[_T]):
    """A list response; a bare JSON array is read as ``{"data": [...]}``."""

    data: list[_T]
    total: int | None = None
    object: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        return {"data": data, "total": len(data)} if isinstance(data, list) else data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> _T:
        return self.data[index]


class PromptList(_List[PromptSummary]):
    """The prompts of ``GET /prompts``."""


class PromptVersionList(_List[PromptVersion]):
    """The versions of ``GET /prompts/{id}/versions``."""


class PromptCreated(AdminModel):
    """``POST /prompts``: the new prompt's id, slug and first version id."""

    id: str
    slug: str | None = None
    version_id: str | None = None
    object: str | None = None


class PromptUpdated(AdminModel):
    """``PUT /prompts/{id}``: the prompt and its new version's id."""

    id: str | None = None
    slug: str | None = None
    prompt_version_id: str | None = None


class PromptPartialSummary(AdminModel):
    """One partial as ``GET /prompts/partials`` lists it."""

    id: str
    slug: str | None = None
    name: str | None = None
    collection_id: str | None = None
    created_at: str | None = None
    last_updated_at: str | None = None
    status: str | None = None
    object: str | None = None


class PromptPartial(AdminModel):
    """A partial with its published version (``GET /prompts/partials/{id}``)."""

    id: str
    slug: str | None = None
    name: str | None = None
    collection_id: str | None = None
    string: str | None = None
    version: int | None = None
    version_description: str | None = None
    prompt_partial_version_id: str | None = None
    created_at: str | None = None
    last_updated_at: str | None = None
    status: str | None = None


class PromptPartialVersion(AdminModel):
    """One version of a partial (the OpenAPI file types ``version`` as a string)."""

    prompt_partial_id: str | None = None
    prompt_partial_version_id: str | None = None
    slug: str | None = None
    version: int
    string: str | None = None
    description: str | None = None
    created_at: str | None = None
    prompt_version_status: str | None = None
    object: str | None = None


class PromptPartialList(_List[PromptPartialSummary]):
    """The partials of ``GET /prompts/partials``."""


class PromptPartialVersionList(_List[PromptPartialVersion]):
    """The versions of ``GET /prompts/partials/{id}/versions``."""


class PartialCreated(AdminModel):
    """``POST /prompts/partials``: the new partial's id, slug and version id."""

    id: str
    slug: str | None = None
    version_id: str | None = None


class PartialUpdated(AdminModel):
    """``PUT /prompts/partials/{id}``: the new version's id."""

    prompt_partial_version_id: str | None = None


class Label(AdminModel):
    """A label (``production``, ``staging``, ``development`` or one of your own)."""

    id: str
    name: str
    description: str | None = None
    color_code: str | None = None
    organisation_id: str | None = None
    workspace_id: str | None = None
    is_universal: bool | None = None
    created_at: str | None = None
    last_updated_at: str | None = None
    status: str | None = None


class LabelList(_List[Label]):
    """The labels of ``GET /labels``."""


class FeedbackResponse(AdminModel):
    """What the feedback routes answer: the status and the ids of the feedback saved."""

    status: str | None = None
    message: str | None = None
    feedback_ids: list[str] = []
