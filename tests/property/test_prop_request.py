"""Properties of request building: variables, prompt-id paths and routing headers.

Every value a caller can pass either becomes a strict-JSON request (and strict-ASCII,
line-break-free headers) or raises the package's own error naming what was wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portkey_integrations import (
    PortkeyClient,
    PortkeyError,
    PromptNotFoundError,
    RequestOptions,
    VariableEncodingError,
)
from portkey_integrations._call import Call
from portkey_integrations._request import prompt_path
from portkey_integrations.server import LocalPortkeyServer

# No example database: nothing is written into the working tree.
FEW = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MANY = settings(max_examples=300, deadline=None, database=None)


class Colour(enum.Enum):
    RED = "red"
    LEVEL = 3


@dataclasses.dataclass
class Point:
    x: int
    label: str


class Opaque:
    """An object with no JSON form at all."""


TEXT_SCALARS = (enum.Enum, datetime.date, datetime.time, decimal.Decimal, uuid.UUID, PurePosixPath)


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON; Portkey's JSON.parse rejects it")


# Finite floats and surrogate-free text: the domain that must encode today. The
# values outside it are pinned one by one in the tests below.
finite = st.floats(allow_nan=False, allow_infinity=False)
text = st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | finite
    | text
    | st.binary(max_size=6)
    | st.datetimes()
    | st.dates()
    | st.times()
    | st.decimals()
    | st.uuids()
    | st.sampled_from(list(Colour))
    | st.builds(Point, st.integers(), text)
    | st.builds(PurePosixPath, text)
    | st.just(Opaque())
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers() | text, max_size=3)
        | st.dictionaries(text | st.integers() | st.booleans(), inner, max_size=4)
    ),
    max_leaves=10,
)
names = st.text(max_size=10)


@pytest.fixture(scope="module")
def builder() -> Iterator[PortkeyClient]:
    """A client used only to build requests; nothing is sent."""
    with PortkeyClient(base_url="http://127.0.0.1:9/v1", api_key="pk-unused") as client:
        yield client


def encode_one(client: PortkeyClient, name: Any, value: Any, raw: bool) -> Any:
    """The wire value of one variable, parsed back as strict JSON."""
    call = Call(
        prompt_id="pp-x", variables={name: value}, raw_variables=frozenset({name} if raw else ())
    )
    request = client._call_request(call, None, stream=False)
    body = json.loads(request.content.decode("utf-8"), parse_constant=_reject_constant)
    return body["variables"][name]


def assert_names(exc: PortkeyError, name: Any) -> None:
    if isinstance(exc, VariableEncodingError):
        assert exc.variable == name
    assert repr(name) in str(exc)


@pytest.mark.slow  # a heavy property run
@MANY
@given(name=names, value=values, raw=st.booleans())
def test_any_variable_encodes_or_raises_naming_it(
    builder: PortkeyClient, name: str, value: Any, raw: bool
) -> None:
    try:
        sent = encode_one(builder, name, value, raw)
    except PortkeyError as exc:
        assert_names(exc, name)
        return
    # One rule whatever ``raw`` says (it is kept for compatibility and changes nothing).
    assert sent == encode_one(builder, name, value, not raw)
    if isinstance(value, TEXT_SCALARS):
        assert sent == format(value, "")  # as an f-string renders it, never JSON-quoted
    elif isinstance(value, bytes):
        assert sent == value.decode("utf-8")
    elif value is None or isinstance(value, (str, int, float)):
        # bool is an int: True stays True, 1 stays 1.
        assert sent == value and type(sent) is type(value)
    else:
        assert isinstance(sent, (list, dict))  # a JSON value, never JSON text


@pytest.mark.slow  # a heavy property run
@MANY
@given(name=st.integers() | st.none() | st.tuples(st.integers()), value=values)
def test_a_non_string_variable_name_is_a_package_error(
    builder: PortkeyClient, name: Any, value: Any
) -> None:
    with pytest.raises(PortkeyError) as info:
        encode_one(builder, name, value, raw=False)
    assert repr(name) in str(info.value)


def _circular() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1.0, float("-inf")]])
def test_non_finite_floats_are_rejected_naming_the_variable(
    builder: PortkeyClient, value: Any
) -> None:
    try:
        encode_one(builder, "score", value, raw=True)
    except PortkeyError as exc:
        assert_names(exc, "score")
    else:
        raise AssertionError("a non-finite float reached the wire")


@pytest.mark.parametrize("value", ["bad \ud800 text", {"nested": "\udfff"}])
def test_unencodable_text_is_rejected_naming_the_variable(
    builder: PortkeyClient, value: Any
) -> None:
    with pytest.raises(PortkeyError) as info:
        encode_one(builder, "topic", value, raw=False)
    assert_names(info.value, "topic")


def test_a_circular_value_is_a_package_error(builder: PortkeyClient) -> None:
    with pytest.raises(PortkeyError) as info:
        encode_one(builder, "history", _circular(), raw=False)
    assert_names(info.value, "history")


# --- prompt ids ----------------------------------------------------------------------

prompt_ids = st.text(min_size=1, max_size=24).filter(str.strip)
TRICKY_IDS = [
    "pp-joke",
    "pp-joke@2",
    "pp-joke@production",
    "pp a/../b",
    "../../chat/completions",
    "..",
    ".",
    "%2e%2e",
    "pp?x=1#frag",
    "pp%2Fx",
    "pp\\x",
    "ünï-cødé@läbel",
    "pp;x=1",
    "pp\tx",
    "100%",
    "//",
]


@pytest.mark.slow  # a heavy property run
@MANY
@given(prompt_id=prompt_ids)
def test_a_prompt_id_is_always_one_path_segment(prompt_id: str) -> None:
    for action in ("completions", "render"):
        path = prompt_path(prompt_id, action)
        empty, prompts, segment, last = path.split("/")
        assert (empty, prompts, last) == ("", "prompts", action)
        assert segment not in ("", ".", "..")
        assert unquote(segment, errors="strict") == prompt_id
        # httpx normalizes dot segments and encodings: the route must survive it too.
        raw = httpx.URL("http://127.0.0.1:1/v1" + path).raw_path.decode("ascii")
        assert raw == "/v1" + path


@pytest.mark.parametrize("prompt_id", ["", " ", "\t\n", None, 42])
def test_blank_or_non_string_prompt_ids_are_package_errors(prompt_id: Any) -> None:
    with pytest.raises(PortkeyError, match="prompt_id"):
        prompt_path(prompt_id, "completions")


def test_an_unencodable_prompt_id_is_a_package_error() -> None:
    with pytest.raises(PortkeyError, match="prompt_id"):
        prompt_path("pp-\ud800", "completions")


def test_the_server_receives_exactly_the_id_sent(portkey_local: LocalPortkeyServer) -> None:
    odd = "pp odd/../id?x#y"
    portkey_local.store.register(odd, template="Say {{word}}", model="portkey-local")
    with PortkeyClient(base_url=portkey_local.base_url, api_key="pk-x", max_retries=0) as client:
        answer = client.complete(prompt_id=odd, variables={"word": "hi"})
        assert "Say hi" in answer.content
        for prompt_id in TRICKY_IDS:
            # Known ids answer, unknown ones are 404s: either way the id reached the server.
            with contextlib.suppress(PromptNotFoundError):
                client.complete(prompt_id=prompt_id, variables={"adjective": "a", "topic": "b"})
    received = portkey_local.requests
    assert [r.prompt_id for r in received] == [odd, *TRICKY_IDS]
    for request in received:
        assert request.path.startswith("/v1/prompts/")
        assert request.path.endswith("/completions")
        assert request.path.count("/") == 4


def test_an_id_with_a_newline_reaches_the_server(portkey_local: LocalPortkeyServer) -> None:
    with (
        PortkeyClient(base_url=portkey_local.base_url, api_key="pk-x", max_retries=0) as client,
        contextlib.suppress(PromptNotFoundError),
    ):
        client.complete(prompt_id="pp\nx", variables={})
    assert [r.prompt_id for r in portkey_local.requests] == ["pp\nx"]


# --- headers -------------------------------------------------------------------------

STRING_OPTIONS = (
    "api_key",
    "virtual_key",
    "config",
    "provider",
    "provider_api_key",
    "custom_host",
    "trace_id",
    "cache_namespace",
    "forward_headers",
)
hostile = st.text(alphabet=st.sampled_from("ab -:\r\n\x00\x0b\x85\u2028é"), max_size=12)


def _options(field: str, value: str) -> dict[str, Any]:
    if field == "metadata":
        return {"metadata": {"user": value}}
    if field == "extra_headers":
        return {"extra_headers": {"x-extra": value}}
    if field == "extra_header_name":
        return {"extra_headers": {value: "v"}}
    return {field: value}


def assert_clean(headers: dict[str, str] | httpx.Headers) -> None:
    for name, value in headers.items():
        for text_ in (name, value):
            assert "\r" not in text_ and "\n" not in text_ and "\x00" not in text_


@MANY
@given(
    field=st.sampled_from([*STRING_OPTIONS, "metadata", "extra_headers"]),
    value=hostile,
)
def test_no_option_value_puts_a_line_break_in_a_header(field: str, value: str) -> None:
    try:
        headers = RequestOptions.make(**_options(field, value)).headers()
    except PortkeyError:
        return
    assert_clean(headers)


@MANY
@given(value=hostile.filter(lambda v: "\r" in v or "\n" in v))
def test_no_header_name_carries_a_line_break(value: str) -> None:
    try:
        headers = RequestOptions.make(**_options("extra_header_name", value)).headers()
    except PortkeyError:
        return
    assert_clean(headers)


def _client_headers(**options: Any) -> httpx.Headers:
    client = PortkeyClient(base_url="http://127.0.0.1:9/v1", **options)
    client.close()
    return client._headers


@FEW
@given(field=st.sampled_from(STRING_OPTIONS), value=hostile.filter(str.isascii))
def test_a_client_built_with_any_ascii_option_is_clean_or_refused(field: str, value: str) -> None:
    try:
        headers = _client_headers(**_options(field, value))
    except PortkeyError:
        return
    assert_clean(headers)


@pytest.mark.parametrize(
    "options", [{"metadata": {"user": "José"}}, {"trace_id": "trace-é"}], ids=["metadata", "trace"]
)
def test_non_ascii_options_encode_or_raise_a_package_error(options: dict[str, Any]) -> None:
    try:
        headers = _client_headers(**options)
    except PortkeyError:
        return
    if "metadata" in options:
        assert json.loads(headers["x-portkey-metadata"]) == options["metadata"]
