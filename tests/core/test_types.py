"""``portkey_integrations.types`` holds every object a public method returns.

The walk starts at the public methods of both clients and of their resources
(``client.prompts`` ...), reads their return annotations, and follows what those
objects expose in turn (model fields, properties, methods, iteration), so a type
reached only through ``completion.choices[0].message`` counts too.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import portkey_integrations
from portkey_integrations import AsyncPortkeyClient, PortkeyClient
from portkey_integrations import types as public

PACKAGE = "portkey_integrations"
ROOT = Path(__file__).resolve().parents[2]
# A private module, or resources/ (reached through client.prompts, client.feedback ...).
PRIVATE_IMPORT = re.compile(
    r"^\s*(from|import)\s+portkey_integrations(\.\w+)*\.(_\w+|resources\b)", re.M
)
CLIENTS = (PortkeyClient, AsyncPortkeyClient)
ITERATION = ("__iter__", "__next__", "__aiter__", "__anext__")
# Annotations may name what their module imports only for type checkers.
NAMESPACE = {**vars(collections.abc), **vars(public)}


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] == PACKAGE


def _classes(tp: Any) -> Iterator[type]:
    """The classes an annotation mentions (``X | None``, ``list[X]``, ``Mapping[str, X]``)."""
    if isinstance(tp, type) and typing.get_origin(tp) is None:
        yield tp
        return
    origin = typing.get_origin(tp)
    if isinstance(origin, type):
        yield origin
    for arg in typing.get_args(tp):
        yield from _classes(arg)


def _return_annotation(function: Callable[..., Any]) -> Any:
    hint = inspect.signature(function).return_annotation
    if isinstance(hint, str):
        hint = eval(hint, {**vars(sys.modules[function.__module__]), **NAMESPACE})
    return hint


def _returns(function: Callable[..., Any]) -> Any:
    if "__signature__" in vars(function):
        # A signature borrowed from a request builder keeps the real return in
        # __signature__; read it there until every client method declares its own.
        return _return_annotation(function)
    try:
        return typing.get_type_hints(function, localns=NAMESPACE).get("return", Any)
    except NameError:
        # A parameter typed with a name imported only for type checkers; the return
        # annotation alone still resolves.
        return _return_annotation(function)


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """Our own public attributes of ``cls`` (not pydantic's or object's)."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _ours(klass):
            continue
        for name, value in vars(klass).items():
            if name in seen or (name.startswith("_") and name not in ITERATION):
                continue
            seen.add(name)
            yield name, value


def _resources(client: type) -> list[type]:
    """The classes of ``client.prompts``-style attributes, built lazily on first use."""
    found = []
    for value in vars(client).values():
        module, name = getattr(value, "module", None), getattr(value, "name", None)
        if isinstance(module, str) and isinstance(name, str):
            imported = __import__(f"{PACKAGE}.{module}", fromlist=[name])
            found.append(getattr(imported, name))
    return found


def _reached(cls: type) -> Iterator[Any]:
    """The annotations of what ``cls`` hands out: methods, properties and fields."""
    for _, value in _members(cls):
        if isinstance(value, property):
            value = value.fget
        elif isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        # pydantic puts its own functions in the class namespace too (model_post_init).
        if inspect.isfunction(value) and value.__module__.split(".")[0] == PACKAGE:
            yield _returns(value)
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        for field in cls.model_fields.values():
            yield field.annotation
    elif dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, localns=NAMESPACE)
        for field in dataclasses.fields(cls):
            yield hints[field.name]


def returned_classes() -> set[type]:
    """Every class of this package a public method of the clients may hand out."""
    roots = [*CLIENTS, *(r for client in CLIENTS for r in _resources(client))]
    found: set[type] = set()
    queue = list(roots)
    visited = set(roots)
    while queue:
        for annotation in _reached(queue.pop()):
            for cls in _classes(annotation):
                if cls in visited or not _ours(cls):
                    continue
                visited.add(cls)
                found.add(cls)
                queue.append(cls)
    return found


def test_the_walk_finds_what_the_methods_return() -> None:
    names = {cls.__name__ for cls in returned_classes()}
    expected = {
        "Completion",
        "CompletionChunk",
        "Choice",
        "Message",
        "ToolCall",
        "Usage",
        "RenderedPrompt",
        "ResponseInfo",
        "Stream",
        "AsyncStream",
        "Prompt",
        "PromptVersion",
        "PromptSummary",
        "PromptList",
        "PromptVersionList",
        "PromptPartial",
        "PromptPartialVersionList",
        "Label",
        "LabelList",
        "FeedbackResponse",
        "Embedding",
        "EmbeddingResponse",
        "TemplateInfo",
    }
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("cls", sorted(returned_classes(), key=lambda c: c.__name__), ids=str)
def test_every_returned_class_is_public(cls: type) -> None:
    assert getattr(public, cls.__name__, None) is cls, f"{cls.__qualname__} from {cls.__module__}"


def test_all_lists_exactly_the_module_names() -> None:
    names = {n for n, v in vars(public).items() if not n.startswith("_") and n != "annotations"}
    assert set(public.__all__) == names
    assert public.__all__ == sorted(public.__all__)


def test_top_level_names_are_the_same_objects() -> None:
    shared = set(public.__all__) & set(portkey_integrations.__all__)
    assert shared
    for name in shared:
        assert getattr(public, name) is getattr(portkey_integrations, name)


@pytest.mark.parametrize("resource", [r for c in CLIENTS for r in _resources(c)], ids=str)
def test_resource_methods_declare_their_own_signatures(resource: type) -> None:
    for name, method in _members(resource):
        if not inspect.isfunction(method):
            continue
        # No copied signature: what inspect shows is what the def says.
        assert "__signature__" not in vars(method), name
        assert not hasattr(method, "__wrapped__"), name
        hints = typing.get_type_hints(method, localns=NAMESPACE)
        params = [p for p in inspect.signature(method).parameters if p != "self"]
        assert params, name
        assert set(params) <= set(hints) and "return" in hints, name
        assert method.__doc__, name


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_docs_import_no_private_module(page: Path) -> None:
    # What the docs show is what users write: every name they need has a public home.
    found = [m.group(0).strip() for m in PRIVATE_IMPORT.finditer(page.read_text("utf-8"))]
    assert found == []
