"""Structured prediction into pydantic models, with and without a Portkey prompt."""

from __future__ import annotations

from collections.abc import Callable

from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from portkey_integrations.llama_index import PortkeyChatModel
from portkey_integrations.server import LocalPortkeyServer


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int
    employed: bool


TEMPLATE = PromptTemplate("Extract the person from: {text}")


def test_structured_predict_on_chat_route(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    person = chat_model(model="portkey-local").structured_predict(Person, TEMPLATE, text="Ada, 36")
    assert isinstance(person, Person)  # the offline model's arguments, validated
    body = server.requests[-1].body
    assert body["tools"][0]["function"]["name"] == "Person"
    assert body["messages"][-1]["content"] == "Extract the person from: Ada, 36"


def test_structured_predict_sends_template_variables_to_the_prompt(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    llm = chat_model(prompt_id="pp-li-extract")
    person = llm.structured_predict(Person, TEMPLATE, text="Grace, 45")
    assert isinstance(person, Person)
    body = server.requests[-1].body
    assert body["variables"] == {"text": "Grace, 45"}
    assert body["tools"][0]["function"]["name"] == "Person"
    assert person.name == "Extract the person from: Grace, 45"  # rendered by Portkey


async def test_astructured_predict(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    person = await chat_model(prompt_id="pp-li-extract").astructured_predict(
        Person, TEMPLATE, text="Alan"
    )
    assert isinstance(person, Person)
    assert server.requests[-1].body["variables"] == {"text": "Alan"}


def test_stream_structured_predict(
    chat_model: Callable[..., PortkeyChatModel], server: LocalPortkeyServer
) -> None:
    partials = list(
        chat_model(prompt_id="pp-li-extract").stream_structured_predict(
            Person, TEMPLATE, text="Linus"
        )
    )
    assert partials
    final = partials[-1]
    assert isinstance(final.age, int) and final.employed is True
    assert server.requests[-1].body["variables"] == {"text": "Linus"}
    assert server.requests[-1].body["stream"] is True


async def test_astream_structured_predict(chat_model: Callable[..., PortkeyChatModel]) -> None:
    gen = await chat_model(model="portkey-local").astream_structured_predict(
        Person, TEMPLATE, text="Barbara"
    )
    partials = [p async for p in gen]
    assert isinstance(partials[-1].age, int)


def test_as_structured_llm(chat_model: Callable[..., PortkeyChatModel]) -> None:
    from llama_index.core.llms import ChatMessage

    structured = chat_model(model="portkey-local").as_structured_llm(Person)
    response = structured.chat([ChatMessage(role="user", content="Ada is 36")])
    assert isinstance(response.raw, Person)
    assert Person.model_validate_json(response.message.content or "") == response.raw
