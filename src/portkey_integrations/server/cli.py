"""``portkey-local``: run the local Portkey-compatible server, or list its prompts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .app import create_app, get_state
from .runner import bind_socket, uvicorn_server
from .store import PromptFileError, PromptStore, bundled_prompts_dir

__all__ = ["main"]

DEFAULT_PORT = 8787

_EXAMPLES = """examples:
  portkey-local serve                         # the bundled prompts on :8787
  portkey-local serve --prompts ./prompts     # plus your prompt files
  portkey-local prompts --prompts ./prompts   # list what would be served
"""

_SERVE_EXAMPLES = """examples:
  portkey-local serve --prompts ./prompts --port 8787
  portkey-local serve --prompts ./prompts --write          # admin API edits saved to files
  portkey-local serve --upstream http://127.0.0.1:11434/v1 # a real model behind it
  PORTKEY_BASE_URL=http://127.0.0.1:8787/v1 python app.py  # point a client at it
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portkey-local",
        description="A local Portkey-compatible server: prompt completions and render, the "
        "prompt admin API, the OpenAI-compatible routes and an offline model.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the Portkey API on a local port",
        epilog=_SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--prompts", metavar="DIR", help="a folder of prompt files to serve")
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; 0 = any free)",
    )
    serve.add_argument(
        "--upstream", metavar="URL", help="send completions to this OpenAI-compatible base URL"
    )
    serve.add_argument(
        "--api-key", metavar="KEY", help="require this Portkey API key on every request"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="accept this Host header besides 127.0.0.1, localhost and [::1] (repeatable)",
    )
    serve.add_argument("--no-bundled", action="store_true", help="do not serve the bundled prompts")
    serve.add_argument(
        "--write",
        action="store_true",
        help="write prompts, partials and labels changed over the admin API back to --prompts",
    )
    serve.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")

    prompts = commands.add_parser("prompts", help="list the prompts the server would serve")
    prompts.add_argument("--prompts", metavar="DIR", help="a folder of prompt files")
    prompts.add_argument("--no-bundled", action="store_true", help="leave out the bundled prompts")
    prompts.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _serve(args: argparse.Namespace) -> int:
    if args.write and not args.prompts:
        print(
            "portkey-local: --write needs --prompts DIR (the folder to write to)", file=sys.stderr
        )
        return 2
    app = create_app(
        prompts_dir=args.prompts,
        api_key=args.api_key,
        upstream=args.upstream,
        include_bundled=not args.no_bundled,
        allowed_hosts=[*args.allow_host, *([] if args.host in ("0.0.0.0", "::") else [args.host])],
    )
    if args.write:
        get_state(app).store.write_to(args.prompts)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"portkey-local: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Portkey-compatible server listening on http://{host}:{port}/v1", flush=True)
    store = get_state(app).store
    ids = sorted(prompt.id for prompt in store)
    shown = ", ".join(ids[:12]) + (f", ... ({len(ids)} in all)" if len(ids) > 12 else "")
    print(f"serving {len(ids)} prompt(s): {shown or 'none'}", flush=True)
    key = "any API key" if args.api_key is None else "the --api-key key only"
    print(f"use it: PORTKEY_BASE_URL=http://{host}:{port}/v1 ({key})", flush=True)
    uvicorn_server(app, log_level=args.log_level, access_log=args.access_log).run(sockets=[sock])
    return 0


def _list(args: argparse.Namespace) -> int:
    store = PromptStore()
    if not args.no_bundled:
        store.load_dir(bundled_prompts_dir())
    if args.prompts:
        store.load_dir(args.prompts)
    summaries = [prompt.summary() for prompt in sorted(store, key=lambda p: p.id)]
    if args.json:
        print(json.dumps(summaries, indent=2))
        return 0
    width = max((len(s["id"]) for s in summaries), default=0)
    for s in summaries:
        versions = ", ".join(f"v{v}" for v in s["versions"])
        labels = "".join(f"; {label} -> v{v}" for label, v in sorted(s["labels"].items()))
        variables = ", ".join(s["variables"]) or "-"
        status = f"{versions} (published v{s['published']}{labels})"
        print(f"{s['id']:<{width}}  {s['kind']:<4}  {status}  variables: {variables}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _serve(args) if args.command == "serve" else _list(args)
    except PromptFileError as exc:
        print(f"portkey-local: bad prompt file: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
