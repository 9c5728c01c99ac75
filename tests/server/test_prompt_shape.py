"""``GET /prompts/{id}`` answers in Portkey's shape, the virtual key it runs on included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from portkey_integrations.server import LOCAL_VIRTUAL_KEY, LocalPortkeyServer
from portkey_integrations.server.admin_files import prompt_to_data

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
# The properties of the ``Prompt`` schema of Portkey's OpenAPI file, with their types.
PROMPT_FIELDS = {
    "id": "string",
    "slug": "string",
    "name": "string",
    "collection_id": "string",
    "string": "string",
    "parameters": "object",
    "prompt_version": "number",
    "prompt_version_id": "string",
    "prompt_version_status": "string",
    "prompt_version_description": "string",
    "prompt_version_label_id": "string",
    "virtual_key": "string",
    "model": "string",
    "functions": "array",
    "tools": "array",
    "tool_choice": "object",
    "template_metadata": "object",
    "is_raw_template": "boolean",
    "status": "string",
    "created_at": "string",
    "last_updated_at": "string",
}
# Fields a prompt without them answers with null (as Portkey does for unset ones).
NULLABLE = {"prompt_version_label_id", "functions", "tools", "tool_choice", "template_metadata"}


def _check_shape(prompt: dict[str, Any]) -> None:
    assert set(prompt) == set(PROMPT_FIELDS)
    for name, kind in PROMPT_FIELDS.items():
        value = prompt[name]
        if value is None:
            assert name in NULLABLE, f"{name} is null"
            continue
        ok = isinstance(value, _TYPES[kind]) and not (kind != "boolean" and isinstance(value, bool))
        assert ok, f"{name}: {value!r} is not a {kind}"


@pytest.mark.parametrize("ref", ["pp-joke", "pp-rag-qa", "pp-text-complete", "pp-refine"])
def test_bundled_prompts_answer_in_portkeys_shape_with_a_virtual_key(
    ref: str, client: httpx.Client
) -> None:
    prompt = client.get(f"/prompts/{ref}").json()
    _check_shape(prompt)
    assert prompt["virtual_key"] == LOCAL_VIRTUAL_KEY
    versions = client.get(f"/prompts/{ref}/versions").json()["data"]
    assert {v["prompt_template"]["virtual_key"] for v in versions} == {LOCAL_VIRTUAL_KEY}


def test_registered_prompts_carry_a_virtual_key(
    server: LocalPortkeyServer, client: httpx.Client
) -> None:
    server.store.register("pp-shape-default", template="Say {{x}}")
    server.store.register("pp-shape-own", template="Say {{x}}", virtual_key="vk-openai-prod")
    assert client.get("/prompts/pp-shape-default").json()["virtual_key"] == LOCAL_VIRTUAL_KEY
    assert client.get("/prompts/pp-shape-own").json()["virtual_key"] == "vk-openai-prod"
    created = client.post(
        "/prompts",
        json={"name": "shape", "collection_id": "c", "string": "Hi", "parameters": {}},
    ).json()
    answer = client.get(f"/prompts/{created['slug']}").json()
    _check_shape(answer)
    assert answer["virtual_key"] == LOCAL_VIRTUAL_KEY


def test_the_default_virtual_key_stays_out_of_prompt_files(server: LocalPortkeyServer) -> None:
    prompt = server.store.get("pp-joke")
    assert prompt is not None
    assert all("virtual_key" not in v for v in prompt_to_data(prompt)["versions"])
    server.store.register("pp-shape-file", template="Hi", virtual_key="vk-x")
    saved = server.store.get("pp-shape-file")
    assert saved is not None
    assert prompt_to_data(saved)["versions"][0]["virtual_key"] == "vk-x"
