"""The checks' per-template memo: what a saved template reads is worked out once per
template object, and a new object (a refreshed prompt) is never judged on an old one's
analysis."""

from __future__ import annotations

import warnings

import pytest

from portkey_integrations._adapters.mapping import conversation_pieces, lost_pieces, template_slots
from portkey_integrations._templates.checks import (
    PromptVariablesWarning,
    check_call_variables,
    per_template,
    template_info,
)
from portkey_integrations._templates.template import PortkeyTemplate


def _template(text: str, kind: str = "text") -> PortkeyTemplate:
    return PortkeyTemplate(prompt_id="pp-memo", template=text, kind=kind)  # type: ignore[arg-type]


def test_a_template_object_is_analysed_once() -> None:
    seen: list[PortkeyTemplate] = []

    @per_template
    def names(template: PortkeyTemplate) -> str:
        seen.append(template)
        return template.template

    one, twin = _template("{{a}}"), _template("{{a}}")
    assert [names(one), names(one), names(twin), names(twin)] == ["{{a}}"] * 4
    assert seen == [one, twin]  # equal objects are distinct entries: identity decides
    assert seen[0] is one and seen[1] is twin


@pytest.mark.parametrize(
    ("old", "new", "sent", "warns"),
    [
        ("{{a}}", "{{a}} {{b}}", {"a": 1, "b": 2}, False),  # b became a slot: no warning
        ("{{a}} {{b}}", "{{a}}", {"a": 1, "b": 2}, True),  # b was dropped: it warns now
    ],
)
def test_a_refreshed_template_is_judged_on_its_own_analysis(
    old: str, new: str, sent: dict[str, int], warns: bool
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_call_variables("pp-memo", _template(old), sent, "warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_call_variables("pp-memo", _template(new), sent, "warn")
    assert any(issubclass(w.category, PromptVariablesWarning) for w in caught) is warns


def test_the_mapping_rule_and_the_check_read_the_same_analysis() -> None:
    template = _template('[{"role": "user", "content": "{{input}}"}]', kind="chat")
    info = template_info(template)
    slots = template_slots(template)
    assert info is not None and slots is not None
    assert slots.names == frozenset(info.names) == {"input"}
    assert template_slots(template) is slots  # memoized on the object
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    pieces = conversation_pieces(
        messages, input_variable="input", history_variable="chat_history", scratchpad_variable=None
    )
    assert [p.what for p in lost_pieces(pieces, slots)] == ["the system message"]
