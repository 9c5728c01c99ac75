"""Prompts and their versions: ``client.prompts`` (:class:`Prompts`, :class:`AsyncPrompts`).

Every method runs one operation of ``_prompt_ops.py``, written once as steps; the two
classes differ only in ``self._run(...)`` vs ``await self._run(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _prompt_ops as ops
from ._models import Prompt, PromptCreated, PromptList, PromptUpdated, PromptVersionList
from ._prompt_ops import resolve_prompt
from ._steps import AsyncResource, Steps, SyncResource, parse_ref

if TYPE_CHECKING:
    from .._templates.template import PortkeyTemplate

__all__ = [
    "AsyncPrompts",
    "Prompts",
    # Steps, parse_ref, resolve_prompt: _templates/ resolves a prompt reference with them
    # from here; they may import them from _prompt_ops / _steps instead.
    "Steps",
    "parse_ref",
    "resolve_prompt",
]


class Prompts(SyncResource):
    """``client.prompts``: list, read, version, publish, label and delete prompts."""

    def list(
        self,
        *,
        collection_id: str | None = None,
        workspace_id: str | None = None,
        current_page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
    ) -> PromptList:
        """List prompts, filtered and paged as the API allows."""
        return self._run(
            ops.list_prompts(
                self._client,
                collection_id=collection_id,
                workspace_id=workspace_id,
                current_page=current_page,
                page_size=page_size,
                search=search,
            )
        )

    def retrieve(self, prompt_id: str) -> Prompt:
        """A prompt (id or slug) with its published version."""
        return self._run(ops.retrieve_prompt(self._client, prompt_id))

    def versions(self, prompt_id: str) -> PromptVersionList:
        """Every version of a prompt."""
        return self._run(ops.prompt_versions(self._client, prompt_id))

    def retrieve_version(self, prompt_id: str, version_id: str) -> Prompt:
        """One version of a prompt, by its version id, with its template and settings."""
        return self._run(ops.retrieve_version(self._client, prompt_id, version_id))

    def resolve(self, ref: str) -> Prompt:
        """The version a reference names (``pp-x``, ``pp-x@3``, ``pp-x@latest``,
        ``pp-x@production``), with its template and settings."""
        return self._run(ops.resolve_prompt(self._client, ref))

    def template(self, ref: str) -> PortkeyTemplate:
        """The saved template ``ref`` names, with its partials, through the process's
        template cache: render it offline with ``.render(variables)``."""
        # Imported here: the template cache resolves references with this module's ops.
        from .._templates.sources import load_template

        return load_template(self._client, ref)

    def create(
        self,
        *,
        name: str,
        string: str,
        parameters: Mapping[str, Any],
        collection_id: str | None = None,
        virtual_key: str | None = None,
        model: str | None = None,
        functions: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        version_description: str | None = None,
        template_metadata: Mapping[str, Any] | None = None,
    ) -> PromptCreated:
        """Create a prompt whose first version is ``string`` (the template) with
        ``parameters`` (its hyperparameters)."""
        return self._run(
            ops.create_prompt(
                self._client,
                name=name,
                string=string,
                parameters=parameters,
                collection_id=collection_id,
                virtual_key=virtual_key,
                model=model,
                functions=functions,
                tools=tools,
                tool_choice=tool_choice,
                version_description=version_description,
                template_metadata=template_metadata,
            )
        )

    def update(
        self,
        prompt_id: str,
        *,
        string: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        model: str | None = None,
        virtual_key: str | None = None,
        version_description: str | None = None,
        functions: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        is_raw_template: int | None = None,
        prompt_metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        collection_id: str | None = None,
        patch: bool = False,
    ) -> PromptUpdated:
        """Make a new version of a prompt.

        Strict (``patch=False``, Portkey's default) takes the whole version: ``string``
        and ``parameters`` are required. With ``patch=True`` the omitted version fields
        are copied from the latest version first, so it also works on servers that
        ignore ``patch``.
        """
        return self._run(
            ops.update_prompt(
                self._client,
                prompt_id,
                string=string,
                parameters=parameters,
                model=model,
                virtual_key=virtual_key,
                version_description=version_description,
                functions=functions,
                tools=tools,
                tool_choice=tool_choice,
                is_raw_template=is_raw_template,
                prompt_metadata=prompt_metadata,
                name=name,
                collection_id=collection_id,
                patch=patch,
            )
        )

    def publish(self, prompt_id: str, version: int) -> None:
        """Make version number ``version`` the prompt's default (what ``pp-x`` runs)."""
        return self._run(ops.publish_prompt(self._client, prompt_id, version))

    def delete(self, prompt_id: str) -> None:
        """Delete a prompt."""
        return self._run(ops.delete_prompt(self._client, prompt_id))

    def update_version(self, prompt_id: str, version_id: str, *, label_id: str) -> None:
        """Set the label (by label id) of one version (by version id)."""
        return self._run(ops.update_version(self._client, prompt_id, version_id, label_id=label_id))

    def set_label(self, prompt_id: str, version: int, label: str) -> None:
        """Point ``label`` (a name or id) at version number ``version`` of a prompt."""
        return self._run(ops.set_label(self._client, prompt_id, version, label))


class AsyncPrompts(AsyncResource):
    """``async_client.prompts``: the coroutine twin of :class:`Prompts`."""

    async def list(
        self,
        *,
        collection_id: str | None = None,
        workspace_id: str | None = None,
        current_page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
    ) -> PromptList:
        """List prompts, filtered and paged as the API allows."""
        return await self._run(
            ops.list_prompts(
                self._client,
                collection_id=collection_id,
                workspace_id=workspace_id,
                current_page=current_page,
                page_size=page_size,
                search=search,
            )
        )

    async def retrieve(self, prompt_id: str) -> Prompt:
        """A prompt (id or slug) with its published version."""
        return await self._run(ops.retrieve_prompt(self._client, prompt_id))

    async def versions(self, prompt_id: str) -> PromptVersionList:
        """Every version of a prompt."""
        return await self._run(ops.prompt_versions(self._client, prompt_id))

    async def retrieve_version(self, prompt_id: str, version_id: str) -> Prompt:
        """One version of a prompt, by its version id, with its template and settings."""
        return await self._run(ops.retrieve_version(self._client, prompt_id, version_id))

    async def resolve(self, ref: str) -> Prompt:
        """The version a reference names (``pp-x``, ``pp-x@3``, ``pp-x@latest``,
        ``pp-x@production``), with its template and settings."""
        return await self._run(ops.resolve_prompt(self._client, ref))

    async def template(self, ref: str) -> PortkeyTemplate:
        """Async :meth:`Prompts.template`."""
        from .._templates.sources import aload_template

        return await aload_template(self._client, ref)

    async def create(
        self,
        *,
        name: str,
        string: str,
        parameters: Mapping[str, Any],
        collection_id: str | None = None,
        virtual_key: str | None = None,
        model: str | None = None,
        functions: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        version_description: str | None = None,
        template_metadata: Mapping[str, Any] | None = None,
    ) -> PromptCreated:
        """Create a prompt whose first version is ``string`` (the template) with
        ``parameters`` (its hyperparameters)."""
        return await self._run(
            ops.create_prompt(
                self._client,
                name=name,
                string=string,
                parameters=parameters,
                collection_id=collection_id,
                virtual_key=virtual_key,
                model=model,
                functions=functions,
                tools=tools,
                tool_choice=tool_choice,
                version_description=version_description,
                template_metadata=template_metadata,
            )
        )

    async def update(
        self,
        prompt_id: str,
        *,
        string: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        model: str | None = None,
        virtual_key: str | None = None,
        version_description: str | None = None,
        functions: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        is_raw_template: int | None = None,
        prompt_metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        collection_id: str | None = None,
        patch: bool = False,
    ) -> PromptUpdated:
        """Make a new version of a prompt (see :meth:`Prompts.update` for ``patch``)."""
        return await self._run(
            ops.update_prompt(
                self._client,
                prompt_id,
                string=string,
                parameters=parameters,
                model=model,
                virtual_key=virtual_key,
                version_description=version_description,
                functions=functions,
                tools=tools,
                tool_choice=tool_choice,
                is_raw_template=is_raw_template,
                prompt_metadata=prompt_metadata,
                name=name,
                collection_id=collection_id,
                patch=patch,
            )
        )

    async def publish(self, prompt_id: str, version: int) -> None:
        """Make version number ``version`` the prompt's default (what ``pp-x`` runs)."""
        return await self._run(ops.publish_prompt(self._client, prompt_id, version))

    async def delete(self, prompt_id: str) -> None:
        """Delete a prompt."""
        return await self._run(ops.delete_prompt(self._client, prompt_id))

    async def update_version(self, prompt_id: str, version_id: str, *, label_id: str) -> None:
        """Set the label (by label id) of one version (by version id)."""
        return await self._run(
            ops.update_version(self._client, prompt_id, version_id, label_id=label_id)
        )

    async def set_label(self, prompt_id: str, version: int, label: str) -> None:
        """Point ``label`` (a name or id) at version number ``version`` of a prompt."""
        return await self._run(ops.set_label(self._client, prompt_id, version, label))
