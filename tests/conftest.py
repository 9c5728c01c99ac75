"""Every test talks to the project's local Portkey-compatible server on 127.0.0.1."""

import pytest

pytest_plugins = ["portkey_integrations.testing"]


@pytest.fixture(autouse=True)
def _no_portkey_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or base URL must never leak into the suite.
    for name in (
        "PORTKEY_API_KEY",
        "PORTKEY_BASE_URL",
        "PORTKEY_VIRTUAL_KEY",
        "PORTKEY_CONFIG",
        "PORTKEY_PROVIDER",
        "PORTKEY_CUSTOM_HOST",
        "PORTKEY_PROVIDER_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
