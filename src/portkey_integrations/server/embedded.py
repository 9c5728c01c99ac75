"""The embedded server: one local Portkey-compatible server per process, started on first use.

Clients and models use it only when asked for: ``base_url="local"`` or
``PORTKEY_BASE_URL=local``; it is never a silent fallback.
It serves the bundled prompts plus the prompt files of the folder named by
``PORTKEY_LOCAL_PROMPTS``.
"""

from __future__ import annotations

import os
import threading

from .runner import LocalPortkeyServer

__all__ = ["PROMPTS_ENV", "embedded_base_url", "embedded_server"]

PROMPTS_ENV = "PORTKEY_LOCAL_PROMPTS"

_lock = threading.Lock()
_server: LocalPortkeyServer | None = None
_pid = 0


def embedded_server() -> LocalPortkeyServer:
    """The process's embedded server, started (once, thread-safely) on first call."""
    global _server, _pid
    server = _server
    # A forked child inherits the object but not the thread serving it.
    if server is not None and _pid == os.getpid():
        return server
    with _lock:
        if _server is None or _pid != os.getpid():
            prompts = os.environ.get(PROMPTS_ENV) or None
            _server = LocalPortkeyServer(prompts_dir=prompts).start()
            _pid = os.getpid()
        return _server


def embedded_base_url() -> str:
    """The embedded server's base URL (``http://127.0.0.1:<port>/v1``), starting it if needed."""
    return embedded_server().base_url
