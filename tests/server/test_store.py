"""Prompt files, registration and version resolution."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from portkey_integrations import PortkeyConfigError
from portkey_integrations._templates.files import load_folder
from portkey_integrations.server import PromptFileError, PromptStore, bundled_prompts_dir


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_bundled_prompts_load() -> None:
    store = PromptStore.from_dir(bundled_prompts_dir())
    assert {"pp-assistant", "pp-joke", "pp-rag-qa", "pp-text-complete"} <= set(store.ids())
    joke = store.get("pp-joke")
    assert joke is not None and joke.published == 1 and joke.labels == {"production": 2}
    assert sorted(joke.versions) == [1, 2]
    text = store.resolve("pp-text-complete")
    assert text is not None and text.kind == "text"
    assert set(store.resolve("pp-rag-qa").variables) == {"context_str", "query_str"}  # type: ignore[union-attr]


def test_full_format_with_versions_and_labels(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.json",
        {
            "id": "pp-x",
            "published": 2,
            "labels": {"staging": 3},
            "versions": [
                {"template": "one {{a}}"},
                {
                    "template": [{"role": "user", "content": "{{a}}"}],
                    "parameters": {"temperature": 1},
                },
                {
                    "version": 3,
                    "template": "[]",
                    "model": "m",
                    "tools": [],
                    "response_format": {"type": "json_object"},
                },
            ],
        },
    )
    store = PromptStore.from_dir(tmp_path)
    assert store.resolve("pp-x").version == 2  # type: ignore[union-attr]
    assert store.resolve("pp-x@1").kind == "text"  # type: ignore[union-attr]
    assert store.resolve("pp-x@latest").version == 3  # type: ignore[union-attr]
    assert store.resolve("pp-x@staging").version == 3  # type: ignore[union-attr]
    v2 = store.resolve("pp-x@2")
    assert (
        v2 is not None
        and v2.kind == "chat"
        and json.loads(v2.template) == [{"role": "user", "content": "{{a}}"}]
    )
    assert v2.parameters_object() == {"model": "portkey-local", "temperature": 1}
    v3 = store.resolve("pp-x@3")
    assert v3 is not None and v3.parameters_object() == {
        "model": "m",
        "tools": [],
        "response_format": {"type": "json_object"},
    }
    for missing in ("pp-x@4", "pp-x@production", "pp-x@", "pp-y", "pp-x@0"):
        assert store.resolve(missing) is None, missing


def test_one_version_shorthand(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.json",
        {"id": "pp-s", "template": '[{"role": "user", "content": "{{q}}"}]', "model": "gpt"},
    )
    version = PromptStore.from_dir(tmp_path).resolve("pp-s")
    assert version is not None
    assert (version.version, version.kind, version.model, version.variables) == (
        1,
        "chat",
        "gpt",
        ("q",),
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "must hold a JSON object"),
        ({"template": "x"}, "'id' must be a non-empty string"),
        ({"id": "a@b", "template": "x"}, "must not contain '@'"),
        ({"id": "p", "template": 3}, "'template' must be a string"),
        ({"id": "p", "template": "x", "kind": "image"}, "'kind' must be 'chat' or 'text'"),
        ({"id": "p", "template": "x", "parameters": []}, "'parameters' must be an object"),
        ({"id": "p", "template": "x", "tools": {}}, "'tools' must be a list"),
        ({"id": "p", "template": "x", "colour": "red"}, "unknown keys: colour"),
        ({"id": "p", "versions": []}, "'versions' must be a non-empty list"),
        ({"id": "p", "versions": [{"model": "m"}]}, "missing 'template'"),
        (
            {"id": "p", "versions": [{"template": "a"}, {"version": 1, "template": "b"}]},
            "version 1 is defined twice",
        ),
        (
            {"id": "p", "versions": [{"template": "a"}], "published": 2},
            "'published' names no version",
        ),
        (
            {"id": "p", "versions": [{"template": "a"}], "labels": {"prod": 9}},
            "label 'prod' names no version",
        ),
        (
            {"id": "p", "versions": [{"template": "a"}], "labels": {"latest": 1}},
            "would hide a version selector",
        ),
        (
            {"id": "p", "versions": [{"template": "a", "version": "two"}]},
            "'version' must be a positive integer",
        ),
    ],
)
def test_bad_prompt_files_name_path_and_reason(tmp_path: Path, content: Any, reason: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(PromptFileError) as info:
        PromptStore.from_dir(tmp_path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)
    # portkey-prompts reads the folder with the same reader: the same error.
    with pytest.raises(PromptFileError) as cli_info:
        load_folder(tmp_path)
    assert str(cli_info.value) == str(info.value)
    assert isinstance(info.value, PortkeyConfigError)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)


def test_the_cli_reads_what_the_server_writes_and_back(tmp_path: Path) -> None:
    store = PromptStore()
    store.register("pp-rt", [{"role": "user", "content": "{{a}}"}], parameters={"top_p": 0.5})
    store.register("pp-rt", "text {{b}}", publish=False, labels=["staging"], tools=[])
    store.write_to(tmp_path)
    saved = store.get("pp-rt")
    assert saved is not None
    store.save(saved)
    [local] = load_folder(tmp_path)
    assert (local.id, sorted(local.versions), local.published, local.labels) == (
        "pp-rt",
        [1, 2],
        1,
        {"staging": 2},
    )
    assert local.versions[1]["template"] == [{"role": "user", "content": "{{a}}"}]
    assert local.versions[2]["tools"] == []
    assert PromptStore.from_dir(tmp_path).get("pp-rt") == saved


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"id": "pp-d", "template": "a"})
    write(tmp_path, "b.json", {"id": "pp-d", "template": "b"})
    with pytest.raises(PromptFileError, match="also defined in"):
        PromptStore.from_dir(tmp_path)


def test_a_folder_is_required(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError, match="not a folder"):
        PromptStore.from_dir(tmp_path / "missing")


def test_user_prompts_replace_bundled_ones(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"id": "pp-assistant", "template": "mine"})
    store = PromptStore.from_dir(tmp_path, include_bundled=True)
    assert store.resolve("pp-assistant").template == "mine"  # type: ignore[union-attr]
    assert "pp-joke" in store


def test_register_versions_publish_and_labels() -> None:
    store = PromptStore()
    assert store.register("pp-r", [{"role": "user", "content": "{{a}}"}]) == 1
    assert store.register("pp-r", "text {{b}}", publish=False, labels=["staging"]) == 2
    assert (
        store.register(
            "pp-r", '[{"role": "user", "content": "3"}]', version=7, labels=("production",)
        )
        == 7
    )
    assert store.register("pp-r", "next") == 8
    prompt = store.get("pp-r")
    assert prompt is not None
    assert prompt.published == 8
    assert prompt.labels == {"staging": 2, "production": 7}
    assert store.resolve("pp-r@1").kind == "chat"  # type: ignore[union-attr]
    assert store.resolve("pp-r@2").kind == "text"  # type: ignore[union-attr]
    assert store.resolve("pp-r@7").kind == "chat"  # type: ignore[union-attr]
    assert store.resolve("pp-r@staging").template == "text {{b}}"  # type: ignore[union-attr]


def test_first_version_is_published_even_if_not_asked() -> None:
    store = PromptStore()
    store.register("pp-u", "t", publish=False)
    assert store.resolve("pp-u") is not None


def test_register_rejects_bad_input() -> None:
    store = PromptStore()
    with pytest.raises(PromptFileError):
        store.register("pp-b@1", "t")
    with pytest.raises(PromptFileError):
        store.register("pp-b", "t", kind="audio")  # type: ignore[arg-type]
    with pytest.raises(PromptFileError):
        store.register("pp-b", "t", version=0)
    assert "pp-b" not in store
