"""The prompt store: prompts with versions, a published version and labels.

Prompts come from JSON files (one per prompt, format in ``docs/local-server.md``)
or from :meth:`PromptStore.register`. A reference such as ``pp-x``, ``pp-x@12``,
``pp-x@latest`` or ``pp-x@production`` resolves to one :class:`PromptVersion`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .mustache import MustacheError, template_details

__all__ = ["Prompt", "PromptFileError", "PromptStore", "PromptVersion", "bundled_prompts_dir"]

PromptKind = Literal["chat", "text"]
DEFAULT_MODEL = "portkey-local"

_VERSION_KEYS = frozenset(
    {"version", "template", "model", "parameters", "tools", "response_format", "kind"}
)
_FILE_KEYS = frozenset({"id", "description", "versions", "published", "labels"})


def bundled_prompts_dir() -> Path:
    """The folder of prompts shipped with the package."""
    return Path(__file__).parent / "prompts"


class PromptFileError(ValueError):
    """A prompt file (or prompt data) that cannot be loaded; names the source and the reason."""

    def __init__(self, source: str | Path, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = str(source)
        self.reason = reason


@dataclass(frozen=True)
class PromptVersion:
    """One saved version of a prompt."""

    prompt_id: str
    version: int
    template: str
    kind: PromptKind
    model: str = DEFAULT_MODEL
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: list[Any] | None = None
    response_format: dict[str, Any] | None = None
    partials: tuple[str, ...] = ()
    variable_partials: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()

    def parameters_object(self) -> dict[str, Any]:
        """The saved request parameters, as Portkey stores them beside the template."""
        params: dict[str, Any] = {"model": self.model, **self.parameters}
        if self.tools is not None:
            params["tools"] = self.tools
        if self.response_format is not None:
            params["response_format"] = self.response_format
        return params


@dataclass
class Prompt:
    """A prompt: its versions, the published one and its labels."""

    id: str
    versions: dict[int, PromptVersion] = field(default_factory=dict)
    published: int | None = None
    labels: dict[str, int] = field(default_factory=dict)
    description: str = ""

    @property
    def latest(self) -> int:
        """The newest version number."""
        return max(self.versions)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (what ``GET /v1/prompts`` lists)."""
        current = self.versions[self.published or self.latest]
        return {
            "id": self.id,
            "description": self.description,
            "kind": current.kind,
            "model": current.model,
            "versions": sorted(self.versions),
            "published": self.published,
            "latest": self.latest,
            "labels": dict(self.labels),
            "variables": list(current.variables),
        }


def infer_kind(template: Any) -> PromptKind:
    """``chat`` for a list or JSON-array text, else ``text``."""
    if isinstance(template, list) or (
        isinstance(template, str) and template.lstrip().startswith("[")
    ):
        return "chat"
    return "text"


def _check_id(prompt_id: Any, source: str | Path) -> str:
    if not isinstance(prompt_id, str) or not prompt_id.strip():
        raise PromptFileError(source, "'id' must be a non-empty string")
    if "@" in prompt_id:
        raise PromptFileError(
            source, f"'id' {prompt_id!r} must not contain '@' (it selects versions)"
        )
    return prompt_id


class PromptStore:
    """Prompts held in memory; safe to read while another thread registers."""

    def __init__(self) -> None:
        self._prompts: dict[str, Prompt] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, path: str | Path, *, include_bundled: bool = False) -> PromptStore:
        """A store holding the prompt files of ``path`` (plus the bundled ones if asked)."""
        store = cls()
        if include_bundled:
            store.load_dir(bundled_prompts_dir())
        store.load_dir(path)
        return store

    # --- reading -----------------------------------------------------------

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self._prompts

    def __len__(self) -> int:
        return len(self._prompts)

    def __iter__(self) -> Iterator[Prompt]:
        return iter(list(self._prompts.values()))

    def ids(self) -> list[str]:
        """The ids of the prompts held, sorted."""
        return sorted(self._prompts)

    def get(self, prompt_id: str) -> Prompt | None:
        """The prompt with this id (no version suffix), if held."""
        return self._prompts.get(prompt_id)

    def resolve(self, ref: str) -> PromptVersion | None:
        """The version ``ref`` names: ``id``, ``id@N``, ``id@latest`` or ``id@label``."""
        prompt_id, _, selector = ref.partition("@")
        prompt = self._prompts.get(prompt_id)
        if prompt is None:
            return None
        if not selector:
            if "@" in ref:
                return None
            number = prompt.published
        elif selector == "latest":
            number = prompt.latest
        elif selector.isdigit() and selector.isascii():
            number = int(selector)
        else:
            number = prompt.labels.get(selector)
        return None if number is None else prompt.versions.get(number)

    # --- writing -----------------------------------------------------------

    def register(
        self,
        prompt_id: str,
        template: str | list[Any],
        *,
        model: str = DEFAULT_MODEL,
        parameters: Mapping[str, Any] | None = None,
        tools: list[Any] | None = None,
        response_format: dict[str, Any] | None = None,
        kind: PromptKind | None = None,
        version: int | None = None,
        publish: bool = True,
        labels: Iterable[str] = (),
        description: str | None = None,
    ) -> int:
        """Add a version of a prompt and return its number.

        A list template is stored as its JSON text. ``kind`` is inferred when
        omitted. ``version`` defaults to the next number; the first version of a
        prompt is always published, as on Portkey.
        """
        built = _build_version(
            prompt_id,
            {
                "template": template,
                "model": model,
                "parameters": dict(parameters or {}),
                "tools": tools,
                "response_format": response_format,
                "kind": kind,
            },
            version,
            f"prompt {prompt_id!r}",
        )
        with self._lock:
            old = self._prompts.get(prompt_id) or Prompt(prompt_id)
            # Copy, then swap in: the server thread may be reading the old one.
            prompt = replace(old, versions=dict(old.versions), labels=dict(old.labels))
            number = built.version if version is not None else (max(prompt.versions, default=0) + 1)
            prompt.versions[number] = replace(built, version=number)
            if publish or prompt.published is None:
                prompt.published = number
            for label in labels:
                prompt.labels[label] = number
            if description is not None:
                prompt.description = description
            self._prompts[prompt_id] = prompt
        return number

    def add(self, prompt: Prompt) -> None:
        """Add (or replace) a whole prompt."""
        with self._lock:
            self._prompts[prompt.id] = prompt

    def remove(self, prompt_id: str) -> None:
        """Forget a prompt; no error if it is not held."""
        with self._lock:
            self._prompts.pop(prompt_id, None)

    def load_data(self, data: Any, *, source: str | Path = "<data>") -> Prompt:
        """Add a prompt given as a decoded prompt file."""
        prompt = parse_prompt_data(data, source)
        self.add(prompt)
        return prompt

    def load_file(self, path: str | Path) -> Prompt:
        """Add the prompt of one JSON file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PromptFileError(path, f"cannot read the file: {exc}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PromptFileError(path, f"not valid JSON: {exc}") from exc
        return self.load_data(data, source=path)

    def load_dir(self, path: str | Path) -> list[str]:
        """Add every ``*.json`` prompt file of a folder; returns the ids loaded.

        All files are checked before any is added; an id found in two files of
        the folder is an error, an id already in the store is replaced.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise PromptFileError(folder, "not a folder of prompt files")
        loaded: dict[str, tuple[Path, Prompt]] = {}
        for file in sorted(folder.glob("*.json")):
            probe = PromptStore()
            prompt = probe.load_file(file)
            if prompt.id in loaded:
                raise PromptFileError(
                    file, f"prompt id {prompt.id!r} is also defined in {loaded[prompt.id][0]}"
                )
            loaded[prompt.id] = (file, prompt)
        for _, prompt in loaded.values():
            self.add(prompt)
        return list(loaded)


def _build_version(
    prompt_id: str, spec: Mapping[str, Any], number: int | None, source: str | Path
) -> PromptVersion:
    template = spec.get("template")
    if isinstance(template, list):
        template = json.dumps(template, ensure_ascii=False)
    if not isinstance(template, str):
        raise PromptFileError(source, "'template' must be a string or a list of messages")
    kind = spec.get("kind") or infer_kind(template)
    if kind not in ("chat", "text"):
        raise PromptFileError(source, f"'kind' must be 'chat' or 'text', not {kind!r}")
    model = spec.get("model") or DEFAULT_MODEL
    if not isinstance(model, str):
        raise PromptFileError(source, "'model' must be a string")
    parameters = spec.get("parameters")
    parameters = {} if parameters is None else parameters
    if not isinstance(parameters, dict):
        raise PromptFileError(source, "'parameters' must be an object")
    tools = spec.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise PromptFileError(source, "'tools' must be a list")
    response_format = spec.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        raise PromptFileError(source, "'response_format' must be an object")
    if number is not None and (
        isinstance(number, bool) or not isinstance(number, int) or number < 1
    ):
        raise PromptFileError(source, f"'version' must be a positive integer, not {number!r}")
    try:
        details = template_details(template)
    except MustacheError:
        # Portkey saves such a template; rendering it is what fails (with a 400).
        details = {"partials": [], "variablePartials": [], "variables": []}
    return PromptVersion(
        prompt_id=_check_id(prompt_id, source),
        version=number or 1,
        template=template,
        kind=kind,
        model=model,
        parameters=parameters,
        tools=tools,
        response_format=response_format,
        partials=tuple(details["partials"]),
        variable_partials=tuple(details["variablePartials"]),
        variables=tuple(details["variables"]),
    )


def parse_prompt_data(data: Any, source: str | Path = "<data>") -> Prompt:
    """Check a decoded prompt file and build its :class:`Prompt`."""
    if not isinstance(data, dict):
        raise PromptFileError(source, "a prompt file must hold a JSON object")
    prompt_id = _check_id(data.get("id"), source)
    if "versions" not in data:
        # One-version shorthand: the version's fields sit beside the id.
        unknown = set(data) - _VERSION_KEYS - {"id", "description", "labels"}
        if unknown:
            raise PromptFileError(source, f"unknown keys: {', '.join(sorted(unknown))}")
        specs: list[Any] = [{k: v for k, v in data.items() if k in _VERSION_KEYS}]
        published: Any = None
    else:
        unknown = set(data) - _FILE_KEYS
        if unknown:
            raise PromptFileError(source, f"unknown keys: {', '.join(sorted(unknown))}")
        specs = data["versions"]
        if not isinstance(specs, list) or not specs:
            raise PromptFileError(source, "'versions' must be a non-empty list")
        published = data.get("published")
    prompt = Prompt(prompt_id, description=str(data.get("description") or ""))
    for position, spec in enumerate(specs, start=1):
        where = f"{source} (version #{position})"
        if not isinstance(spec, dict):
            raise PromptFileError(where, "each version must be an object")
        unknown = set(spec) - _VERSION_KEYS
        if unknown:
            raise PromptFileError(where, f"unknown keys: {', '.join(sorted(unknown))}")
        if "template" not in spec:
            raise PromptFileError(where, "missing 'template'")
        built = _build_version(prompt_id, spec, spec.get("version", position), where)
        if built.version in prompt.versions:
            raise PromptFileError(source, f"version {built.version} is defined twice")
        prompt.versions[built.version] = built
    if published is None:
        published = min(prompt.versions)
    if published not in prompt.versions or isinstance(published, bool):
        raise PromptFileError(source, f"'published' names no version: {published!r}")
    prompt.published = published
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise PromptFileError(source, "'labels' must be an object of label -> version")
    for label, number in labels.items():
        if number not in prompt.versions or isinstance(number, bool):
            raise PromptFileError(source, f"label {label!r} names no version: {number!r}")
        if label == "latest" or label.isdigit():
            raise PromptFileError(source, f"label {label!r} would hide a version selector")
        prompt.labels[label] = number
    return prompt
