"""The mapping rule's pure functions, by tables of cases: which pieces a conversation
carries, which a template reads, and what the error says."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from portkey_integrations import PromptMappingError
from portkey_integrations._adapters.mapping import (
    Piece,
    conversation_pieces,
    enforce_mapping,
    lost_pieces,
    message_list_pieces,
    template_slots,
    text_pieces,
)
from portkey_integrations._templates.cache import PromptTemplate

USER = {"role": "user", "content": "hi"}
SYSTEM = {"role": "system", "content": "be brief"}
AI = {"role": "assistant", "content": "hello"}
CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
}
RESULT = {"role": "tool", "content": "42", "tool_call_id": "c1"}
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}
PARTS_USER = {"role": "user", "content": [{"type": "text", "text": "look"}, IMAGE]}

NAMES = {
    "input_variable": "input",
    "history_variable": "chat_history",
    "scratchpad_variable": "agent_scratchpad",
}

# messages -> [(what, variables)] of each piece
CONVERSATIONS: list[tuple[str, list[dict[str, Any]], list[tuple[str, tuple[str, ...]]]]] = [
    ("text only", [USER], [("the user message's text", ("input",))]),
    ("empty text", [{"role": "user", "content": ""}], []),
    (
        "system",
        [SYSTEM, USER],
        [("the user message's text", ("input",)), ("the system message", ("chat_history",))],
    ),
    (
        "two systems and history",
        [SYSTEM, {"role": "developer", "content": "x"}, USER, AI, USER],
        [
            ("the user message's text", ("input",)),
            ("the 2 system messages", ("chat_history",)),
            ("the 2 earlier messages", ("chat_history",)),
        ],
    ),
    (
        "agent turn",
        [USER, CALL, RESULT],
        [
            ("the user message's text", ("input",)),
            ("the tool calls and tool results", ("agent_scratchpad",)),
        ],
    ),
    (
        "assistant after the user",
        [USER, AI],
        [
            ("the user message's text", ("input",)),
            ("the messages after the user's", ("agent_scratchpad",)),
        ],
    ),
    (
        "an image",
        [PARTS_USER],
        [
            ("the user message's text", ("input", "input_parts")),
            ("the image_url part of the user message", ("input_parts",)),
        ],
    ),
    (
        "an image and audio, no text",
        [{"role": "user", "content": [IMAGE, AUDIO, IMAGE]}],
        [("the image_url, input_audio parts of the user message", ("input_parts",))],
    ),
    ("no user message", [SYSTEM], [("the system message", ("chat_history",))]),
]


@pytest.mark.parametrize(
    ("messages", "expected"), [c[1:] for c in CONVERSATIONS], ids=[c[0] for c in CONVERSATIONS]
)
def test_conversation_pieces(
    messages: list[dict[str, Any]], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    pieces = conversation_pieces(messages, **NAMES)
    assert [(p.what, p.variables) for p in pieces] == expected
    assert [p.needs_template for p in pieces] == [
        p.what != "the user message's text" for p in pieces
    ]


def test_a_setting_of_none_leaves_the_piece_without_a_variable() -> None:
    pieces = conversation_pieces(
        [SYSTEM, USER, CALL, RESULT],
        input_variable="question",
        history_variable=None,
        scratchpad_variable=None,
    )
    assert [(p.variables, p.setting) for p in pieces] == [
        (("question",), "input_variable"),
        ((), "history_variable"),
        ((), "scratchpad_variable"),
    ]


def test_dict_and_text_pieces() -> None:
    variables = {"chat_history": [USER, AI], "empty": [], "topic": "owls"}
    [piece] = message_list_pieces(variables, ["chat_history", "empty"])
    assert (piece.what, piece.variables) == ("the 2 messages in 'chat_history'", ("chat_history",))
    assert piece.slot == "{{#chat_history}}{{{.}}},{{/chat_history}}"
    assert text_pieces("", "input") == []
    [text] = text_pieces("once", "input")
    assert (text.variables, text.needs_template) == (("input",), False)


def template(text: str, **kwargs: Any) -> PromptTemplate:
    return PromptTemplate(**{"prompt_id": "pp-t", "template": text, "kind": "chat", **kwargs})


BARE = '[{"role": "user", "content": "{{input}}"}]'
# template -> (names read, reads everything, open)
TEMPLATES: list[tuple[str, PromptTemplate, tuple[set[str], bool, bool]]] = [
    ("bare", template(BARE), ({"input"}, False, False)),
    (
        "sections and dotted names",
        template(
            '[{"role": "user", "content": {{#input_parts.0}}[{{{input_parts}}}]{{/input_parts.0}}'
            '{{^input_parts}}"{{input}}"{{/input_parts}}}]'
        ),
        ({"input", "input_parts"}, False, False),
    ),
    ("whole view", template("{{.}}", kind="text"), (set(), True, False)),
    (
        "a partial that could not be read",
        template('[{"role": "user", "content": "{{>pp-part}}"}]', unresolved_partials=("pp-part",)),
        (set(), False, True),
    ),
    (
        "a partial that was read",
        template(
            '[{"role": "user", "content": "{{>pp-part}}"}]', partials={"pp-part": "{{topic}}"}
        ),
        ({"topic"}, False, False),
    ),
]


@pytest.mark.parametrize(
    ("saved", "expected"), [c[1:] for c in TEMPLATES], ids=[c[0] for c in TEMPLATES]
)
def test_template_slots(saved: PromptTemplate, expected: tuple[set[str], bool, bool]) -> None:
    slots = template_slots(saved)
    assert slots is not None
    assert (set(slots.names), slots.reads_all, slots.open) == expected
    assert template_slots(saved) is slots  # computed once per template


def test_lost_pieces() -> None:
    pieces = conversation_pieces([SYSTEM, PARTS_USER, CALL, RESULT], **NAMES)
    lost = lost_pieces(pieces, template_slots(template(BARE)))
    assert [p.what for p in lost] == [
        "the image_url part of the user message",
        "the system message",
        "the tool calls and tool results",
    ]
    # Unknown template: all but the user's text, which goes as documented.
    assert lost_pieces(pieces, None) == [p for p in pieces if p.needs_template]
    assert lost_pieces(pieces, template_slots(template("{{.}}"))) == []


def test_the_error_names_the_piece_the_prompt_and_the_fix() -> None:
    pieces = conversation_pieces([USER, CALL, RESULT], **NAMES)
    with pytest.raises(PromptMappingError) as caught:
        enforce_mapping("pp-t@2", template(BARE), pieces, "error")
    error = caught.value
    assert (error.prompt_id, error.piece) == ("pp-t@2", "the tool calls and tool results")
    assert error.fix.startswith("add {{#agent_scratchpad}},{{{.}}}{{/agent_scratchpad}}")
    assert error.fix.endswith(
        'pass check_variables="warn" to send the call knowing the model misses it'
    )
    assert str(error) == (
        "prompt 'pp-t@2' has no slot for the tool calls and tool results (sent as "
        "'agent_scratchpad'): the template never reads it, so the model would not see it. "
        f"Fix: {error.fix}"
    )
    assert not isinstance(error, ValueError)


def test_warn_and_off() -> None:
    pieces = [Piece("the system message", ("chat_history",), "{{#chat_history}}")]
    with pytest.warns(UserWarning, match="the system message"):
        enforce_mapping("pp-t", template(BARE), pieces, "warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enforce_mapping("pp-t", template(BARE), pieces, "off")
        enforce_mapping("pp-t", None, [], "error")


def test_an_unknown_template_says_why() -> None:
    pieces = conversation_pieces([SYSTEM, USER], **NAMES)
    with pytest.raises(PromptMappingError, match="could not be read") as caught:
        enforce_mapping("pp-t", None, pieces, "error")
    assert caught.value.piece == "the system message" and "prompts.read" in caught.value.fix
    enforce_mapping("pp-t", None, conversation_pieces([USER], **NAMES), "error")  # text only


def test_a_setting_of_none_is_named_in_the_fix() -> None:
    pieces = conversation_pieces([SYSTEM, USER], **{**NAMES, "history_variable": None})
    with pytest.raises(PromptMappingError, match="set history_variable"):
        enforce_mapping("pp-t", template(BARE), pieces, "error")
