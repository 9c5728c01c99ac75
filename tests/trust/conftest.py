from __future__ import annotations

import pytest

from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> LocalPortkeyServer:
    return portkey_local
