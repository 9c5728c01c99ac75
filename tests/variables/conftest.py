from __future__ import annotations

import pytest

from portkey_integrations._templates.cache import prompt_cache
from portkey_integrations.server import LocalPortkeyServer


@pytest.fixture
def server(portkey_local: LocalPortkeyServer) -> LocalPortkeyServer:
    prompt_cache.clear()  # every test sees its own first fetch
    portkey_local.register(
        "pp-objects",
        template=[
            {"role": "user", "content": "Hi {{user.name}}. Docs: {{#docs}}{{title}};{{/docs}}"}
        ],
    )
    return portkey_local
