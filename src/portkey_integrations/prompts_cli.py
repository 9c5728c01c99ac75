"""``portkey-prompts``: keep Portkey prompts in a folder of files (prompts as code).

    portkey-prompts list [--json]
    portkey-prompts pull [IDS...] --to DIR [--force]
    portkey-prompts diff DIR
    portkey-prompts push DIR [--publish] [--label NAME] [--dry-run] [--force]
    portkey-prompts publish ID VERSION [--dry-run]
    portkey-prompts label ID LABEL VERSION [--dry-run]

Configuration as the client's: ``PORTKEY_API_KEY`` / ``--api-key``, ``PORTKEY_BASE_URL``
/ ``--base-url`` (``local`` for the embedded local server). Each failure has its own
exit code (:data:`~portkey_integrations._cli.errors.EXIT_CODES`, listed by ``--help``).
The commands live in :mod:`portkey_integrations._cli`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._cli.diff import diff
from ._cli.errors import EXIT_CODES, INTERNAL, INTERRUPTED, REMOTE, USAGE, CliError, UnsafePath
from ._cli.folder import shown
from ._cli.pointers import label, publish
from ._cli.pull import pull
from ._cli.push import push
from ._cli.remote import Api
from ._errors import PortkeyConfigError, PortkeyError

__all__ = ["main"]


def _list(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    listed = [api.read.prompts.retrieve(ref) for ref, _ in api.prompt_summaries()]
    if args.json:
        rows = [
            p.model_dump(include={"id", "slug", "name", "model", "prompt_version"}) for p in listed
        ]
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    for prompt in listed:
        out.write(
            f"{shown(prompt.ref)}\tv{prompt.prompt_version}\t{prompt.model or '-'}\t"
            f"{shown(prompt.name or '')}\n"
        )
    return 0


_EXAMPLES = """examples:
  portkey-prompts list
  portkey-prompts pull --to prompts/                # every prompt, version, label, partial
  portkey-prompts pull pp-joke pp-rag-qa --to prompts/
  portkey-prompts diff prompts/                     # exit 1 when not in sync
  portkey-prompts push prompts/ --dry-run           # print the plan only
  portkey-prompts push prompts/ --publish --label staging
  portkey-prompts publish pp-joke 3                 # make v3 the default
  portkey-prompts label pp-joke production 3        # move 'production' to v3
  portkey-local serve --prompts prompts/            # test the folder offline first

exit codes:
""" + "".join(f"  {code:<4}{meaning}\n" for code, meaning in EXIT_CODES)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a version number (1, 2, ...), not {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portkey-prompts",
        description="Pull, diff and push Portkey prompts as files.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--base-url", help="Portkey base URL (PORTKEY_BASE_URL; 'local' for the embedded server)"
    )
    parser.add_argument("--api-key", help="Portkey API key (PORTKEY_API_KEY)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the prompts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    pull_ = commands.add_parser(
        "pull", help="write prompts, versions, labels and partials to files"
    )
    pull_.add_argument("ids", nargs="*", help="prompt ids or slugs (default: every prompt)")
    pull_.add_argument("--to", required=True, help="the folder to write")
    pull_.add_argument(
        "--force", action="store_true", help="overwrite files holding versions Portkey lacks"
    )
    push_ = commands.add_parser("push", help="send the versions Portkey does not have yet")
    push_.add_argument("dir", help="a folder of prompt files")
    push_.add_argument(
        "--publish", action="store_true", help="make each file's newest version the default"
    )
    push_.add_argument("--label", help="move this label to each file's newest version")
    push_.add_argument("--dry-run", action="store_true", help="print the plan only")
    push_.add_argument("--collection", help="the collection of prompts created by this push")
    push_.add_argument(
        "--force", action="store_true", help="push even if Portkey moved since the pull"
    )
    diff_ = commands.add_parser("diff", help="show what differs (exit 1 when not in sync)")
    diff_.add_argument("dir", help="a folder of prompt files")
    publish_ = commands.add_parser("publish", help="make a version the default")
    publish_.add_argument("id", help="a prompt (or partial) id or slug")
    publish_.add_argument("version", type=_positive, help="the version number")
    publish_.add_argument("--dry-run", action="store_true", help="print the change only")
    label_ = commands.add_parser("label", help="point a label at a version")
    label_.add_argument("id", help="a prompt id or slug")
    label_.add_argument("label", help="the label's name (it must exist)")
    label_.add_argument("version", type=_positive, help="the version number")
    label_.add_argument("--dry-run", action="store_true", help="print the change only")
    return parser


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    api = Api(args.base_url, args.api_key, err)
    if args.command == "list":
        return _list(api, args, out)
    if args.command == "pull":
        return pull(api, args, out, err)
    if args.command == "push":
        return push(api, args, out, err)
    if args.command == "publish":
        return publish(api, args, out)
    if args.command == "label":
        return label(api, args, out)
    return diff(api, args, out)


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run ``portkey-prompts`` with ``argv`` (default: the process's); returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE
    try:
        return _run(args, out, err)
    except CliError as exc:
        err.write(f"portkey-prompts: error: {exc}\n")
        return exc.code
    except PortkeyConfigError as exc:
        err.write(f"portkey-prompts: error: {exc}\n")
        return USAGE
    except PortkeyError as exc:
        err.write(f"portkey-prompts: {exc}\n")
        return REMOTE
    except OSError as exc:
        err.write(f"portkey-prompts: error: {UnsafePath(exc)}\n")
        return UnsafePath.code
    except KeyboardInterrupt:
        err.write("portkey-prompts: interrupted\n")
        return INTERRUPTED
    except Exception as exc:  # a bug: still a distinct code, never diff's 1
        err.write(f"portkey-prompts: internal error: {type(exc).__name__}: {exc}\n")
        return INTERNAL


if __name__ == "__main__":
    sys.exit(main())
