"""The ``portkey-local`` entry point: says what to install when the ``server`` extra is missing.

The console script points here rather than at :mod:`portkey_integrations.server.cli` so that
a plain ``pip install portkey-integrations`` gets one readable line instead of a traceback
from the Starlette or uvicorn import.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["INSTALL_HINT", "main"]

INSTALL_HINT = "portkey-local needs the server extra: pip install 'portkey-integrations[server]'"
"""The line printed when Starlette or uvicorn cannot be imported."""

# Only these missing modules mean "the extra is not installed"; any other ImportError is a bug
# and must surface with its traceback.
_SERVER_EXTRA_MODULES = frozenset({"starlette", "uvicorn"})


def _is_missing_server_extra(exc: ImportError) -> bool:
    top_level = (exc.name or "").partition(".")[0]
    return top_level in _SERVER_EXTRA_MODULES


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``portkey-local``; returns the exit status (1 when the ``server`` extra is missing)."""
    try:
        from ..server import cli
    except ImportError as exc:
        if not _is_missing_server_extra(exc):
            raise
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
