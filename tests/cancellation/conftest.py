"""Fixtures for the cancellation tests: the local server and a count of our sockets to it.

The count comes from the kernel, not from httpx internals: the TCP sockets among this
process's file descriptors whose peer is the server's port and that are still open on
our side (established, or closed by the server but not by us).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from portkey_integrations.server import LocalPortkeyServer

_OPEN_STATES = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT


def _socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def sockets_to(port: int) -> int:
    """How many of this process's TCP sockets are open to 127.0.0.1:``port``."""
    mine = _socket_inodes()
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] in _OPEN_STATES and fields[9] in mine:
                count += 1
    return count


@pytest.fixture
def open_sockets(server: LocalPortkeyServer) -> Callable[[], int]:
    """Count this process's open connections to the server."""
    return lambda: sockets_to(server.port)
