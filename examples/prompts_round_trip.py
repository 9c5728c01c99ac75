"""Prompts as code, round trip: pull prompts into a folder, serve the folder offline,
check it renders as the source does, add a version, test it, push it back.

1. ``portkey-prompts pull`` writes every version, label and published pointer to files.
2. A second ``LocalPortkeyServer(prompts_dir=folder)`` serves those files; every
   version and label renders exactly as on the source.
3. A new version is added to a file and tested offline on the folder.
4. ``portkey-prompts push`` makes it a new version on the source (labelled ``staging``),
   a second push changes nothing, and ``diff`` says the two are in sync.

Run it as it is: with no ``PORTKEY_API_KEY``, a ``LocalPortkeyServer`` stands in for
Portkey and the whole round trip runs offline. With a key it pulls from Portkey the
prompts named in ``PORTKEY_PROMPT_IDS`` (comma-separated; default every prompt) and
only prints the push plan; pass ``--push`` to really push the new version.
``prompts_cli.main([...])`` is what the ``portkey-prompts`` command runs.

    python examples/prompts_round_trip.py
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from portkey_integrations import PortkeyClient
from portkey_integrations.prompts_cli import main as portkey_prompts
from portkey_integrations.server import LocalPortkeyServer

OFFLINE = not os.environ.get("PORTKEY_API_KEY")
if OFFLINE:
    print("PORTKEY_API_KEY is not set: running offline, a local server stands in for Portkey")

# Variables for rendering any of the prompts; ones a template does not use are ignored.
SAMPLE = {"adjective": "dry", "topic": "owls", "input": "hello", "query_str": "why?"}


@contextlib.contextmanager
def source() -> Iterator[str | None]:
    """The base URL to pull from and push to: a stand-in offline, Portkey with a key."""
    if OFFLINE:
        with LocalPortkeyServer() as stand_in:
            yield stand_in.base_url
    else:
        yield os.environ.get("PORTKEY_BASE_URL")


def cli(base_url: str | None, *args: str) -> int:
    print(f"$ portkey-prompts {' '.join(args)}")
    return portkey_prompts([*(["--base-url", base_url] if base_url else []), *args])


def prompt_files(folder: Path) -> list[Path]:
    """The pulled prompt files (partials and the labels file left out)."""
    files = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "versions" in data and not data.get("partial"):
            files.append(path)
    return files


def refs(folder: Path) -> list[str]:
    """Every version and label of every pulled prompt, as prompt ids."""
    out = []
    for path in prompt_files(folder):
        data = json.loads(path.read_text())
        out += [f"{data['id']}@{v['version']}" for v in data["versions"]]
        out += [f"{data['id']}@{label}" for label in sorted(data.get("labels", {}))]
    return out


def rendered(client: PortkeyClient, ref: str) -> str:
    return json.dumps(client.render(ref, variables=SAMPLE).data, sort_keys=True)


def main() -> int:
    ids = [i for i in os.environ.get("PORTKEY_PROMPT_IDS", "").split(",") if i]
    if OFFLINE:
        ids = ["pp-joke", "pp-assistant"]
    with tempfile.TemporaryDirectory(prefix="prompts-") as tmp, source() as base_url:
        return round_trip(Path(tmp), base_url, ids)


def round_trip(folder: Path, base_url: str | None, ids: list[str]) -> int:
    remote = PortkeyClient(base_url=base_url)
    if cli(base_url, "pull", *ids, "--to", str(folder)) != 0 or not prompt_files(folder):
        return 1

    # 2. The folder, served offline, renders every version and label identically.
    with LocalPortkeyServer(prompts_dir=folder, include_bundled=False) as offline:
        local = PortkeyClient(base_url=offline.base_url)
        for ref in refs(folder):
            same = rendered(remote, ref) == rendered(local, ref)
            print(f"  {ref:<28} {'renders identically' if same else 'DIFFERS'}")
            if not same:
                return 1

    # 3. A new version, tested offline before it goes anywhere.
    path = prompt_files(folder)[-1]
    data = json.loads(path.read_text())
    newest = max(v["version"] for v in data["versions"])
    version = {**data["versions"][-1], "version": newest + 1}
    version["template"] = [{"role": "user", "content": "One {{adjective}} line on {{topic}}."}]
    data["versions"].append(version)
    path.write_text(json.dumps(data, indent=2))
    prompt_id = data["id"]
    with LocalPortkeyServer(prompts_dir=folder, include_bundled=False) as offline:
        test = PortkeyClient(base_url=offline.base_url)
        reply = test.complete(prompt_id=f"{prompt_id}@latest", variables=SAMPLE)
        print(f"new version {newest + 1}, tested offline: {reply.content}")

    # 4. Push: the plan first, then one new version, then nothing more to do.
    if not OFFLINE and "--push" not in sys.argv:
        return 0 if cli(base_url, "push", str(folder), "--dry-run") == 0 else 1
    steps = [
        (("diff", str(folder)), 1),
        (("push", str(folder), "--label", "staging"), 0),
        (("push", str(folder)), 0),
        (("diff", str(folder)), 0),
    ]
    for args, expected in steps:
        code = cli(base_url, *args)
        if code != expected:
            print(f"exit code {code}, expected {expected}", file=sys.stderr)
            return 1
    print(f"on the source, {prompt_id}@staging: {rendered(remote, f'{prompt_id}@staging')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
