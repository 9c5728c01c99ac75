"""A local Portkey-compatible server: prompt store, Mustache renderer, offline model, faults.

Needs the ``server`` extra (Starlette and uvicorn)::

    from portkey_integrations.server import LocalPortkeyServer

    with LocalPortkeyServer() as server:
        print(server.base_url)  # http://127.0.0.1:<port>/v1
"""

from .._templates.files import PromptFileError
from .app import ReceivedRequest, ServerState, create_app, get_state
from .embedded import embedded_base_url, embedded_server
from .faults import ROUTES, Fault, FaultKind
from .records import LOCAL_VIRTUAL_KEY, StoredLabel, StoredPrompt, StoredVersion
from .runner import LocalPortkeyServer
from .store import PromptStore, bundled_prompts_dir

__all__ = [
    "LOCAL_VIRTUAL_KEY",
    "ROUTES",
    "Fault",
    "FaultKind",
    "LocalPortkeyServer",
    "PromptFileError",
    "PromptStore",
    "ReceivedRequest",
    "ServerState",
    "StoredLabel",
    "StoredPrompt",
    "StoredVersion",
    "bundled_prompts_dir",
    "create_app",
    "embedded_base_url",
    "embedded_server",
    "get_state",
]
