"""The client options: one list of names, visible to editors and mypy.

Each option is written three times, for three readers: :class:`ClientOptions` (what a
caller may pass a client), :class:`RequestOptions` (what a client holds and turns into
headers) and the pydantic fields of the model classes (``PortkeyClientSettings``). Python
offers no way to derive one from another that an editor or mypy still sees, so these
tests hold the three together.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from typing import Any

import pytest

from portkey_integrations import AsyncPortkeyClient, PortkeyClient, RequestOptions
from portkey_integrations._adapters.settings import CLIENT_FIELDS, PortkeyClientSettings
from portkey_integrations._options import (
    CONNECTION_OPTIONS,
    MODEL_FIELD_ALIASES,
    OPTION_NAMES,
    ClientOptions,
)
from portkey_integrations.server import LocalPortkeyServer

if sys.version_info >= (3, 11):
    from typing import Unpack
else:
    from typing_extensions import Unpack

client_options = set(ClientOptions.__annotations__)


def test_client_options_are_the_request_options_and_the_connection_settings() -> None:
    assert set(OPTION_NAMES) == {f.name for f in dataclasses.fields(RequestOptions)}
    assert client_options == {*OPTION_NAMES, *CONNECTION_OPTIONS, "default_headers"}
    assert ClientOptions.__required_keys__ == frozenset()


def test_every_client_option_is_a_settings_field_under_one_name() -> None:
    # ``extra_headers`` and ``default_headers`` are one option, named after httpx on models.
    on_models = {MODEL_FIELD_ALIASES.get(name, name) for name in client_options}
    assert on_models == set(CLIENT_FIELDS)
    assert on_models == set(PortkeyClientSettings.model_fields)


def test_settings_build_clients_with_client_options_only() -> None:
    kwargs = PortkeyClientSettings(base_url="http://127.0.0.1:9/v1").client_kwargs()
    assert set(kwargs) <= client_options


def test_every_option_is_documented_where_it_is_declared() -> None:
    for name, field in PortkeyClientSettings.model_fields.items():
        assert field.description or _attribute_documented(PortkeyClientSettings, name), name
    for cls in (ClientOptions, RequestOptions):
        for name in cls.__annotations__:
            assert _attribute_documented(cls, name), f"{cls.__name__}.{name}"


@pytest.mark.parametrize("cls", [PortkeyClient, AsyncPortkeyClient])
def test_constructor_declares_its_options(cls: type) -> None:
    """``**options: Unpack[ClientOptions]`` resolves at run time too (3.10 included)."""
    hints = typing.get_type_hints(cls.__init__, include_extras=True)
    assert hints["options"] == Unpack[ClientOptions]
    assert "http_client" in inspect.signature(cls).parameters


@pytest.mark.parametrize("cls", [PortkeyClient, AsyncPortkeyClient])
def test_every_connection_option_reaches_the_client(cls: Any, server: LocalPortkeyServer) -> None:
    client = cls(
        base_url=server.base_url,
        api_key="pk",
        timeout=7.0,
        connect_timeout=2.0,
        max_retries=0,
        default_headers={"x-team": "core"},
    )
    assert client.base_url == server.base_url
    assert (client.timeout.read, client.timeout.connect) == (7.0, 2.0)
    assert client.max_retries == 0
    assert client._headers["x-team"] == "core"


def _attribute_documented(cls: type, name: str) -> bool:
    """Whether ``name`` is followed by a docstring in ``cls``' source."""
    lines = inspect.getsource(cls).splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.strip().startswith(f"{name}:"):
            return lines[number + 1].strip().startswith('"""')
    return False
