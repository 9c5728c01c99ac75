"""Helpers of the ``portkey-prompts`` tests: run the CLI, edit a file, and a proxy that
injects the failures and hostile names a real network and server can produce."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx

from portkey_integrations.prompts_cli import main
from portkey_integrations.server import LocalPortkeyServer

GREET_CHAT = (
    '[{"role": "system", "content": "{{>pl-tone}}"}, {"role": "user", "content": "Hi {{name}}"}]'
)


def run(base_url: str, *argv: str) -> tuple[int, str, str]:
    """Run the CLI; returns the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["--base-url", base_url, *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def add_version(path: Path, template: Any, **fields: Any) -> int:
    """Append a version to a prompt file, as a person editing it would; its number."""
    data = json.loads(path.read_text())
    number = max(v["version"] for v in data["versions"]) + 1
    data["versions"].append({"version": number, "template": template, **fields})
    path.write_text(json.dumps(data, indent=2))
    return number


def templates(server: LocalPortkeyServer, prompt_id: str) -> dict[int, str]:
    """What the server holds: version number -> template text."""
    prompt = server.store.get(prompt_id)
    return {n: v.template for n, v in sorted(prompt.versions.items())}


@dataclass
class Rule:
    """Answer ``status`` to ``times`` requests matching ``method`` and ``path`` (a regex
    searched in the upstream path); with ``commit`` the request reaches the server first,
    as when Portkey commits a write and the answer is lost."""

    method: str
    path: str
    times: int = 1
    status: int = 502
    commit: bool = False
    seen: int = 0


@dataclass
class Proxy:
    """An HTTP proxy in front of a local server: failure rules, and names renamed both
    ways (``renames``: a pattern of the server's names -> the name clients see)."""

    upstream: str
    base_url: str = ""
    rules: list[Rule] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    seen_names: dict[str, str] = field(default_factory=dict)  # shown -> real

    def fail(self, method: str, path: str, **options: Any) -> Rule:
        rule = Rule(method, path, **options)
        self.rules.append(rule)
        return rule

    def rule_for(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.method == method and re.search(rule.path, path) and rule.seen < rule.times:
                rule.seen += 1
                return rule
        return None

    def outward(self, data: Any) -> Any:
        def rename(text: str) -> str:
            for pattern, shown in self.renames.items():
                if re.fullmatch(pattern, text):
                    self.seen_names[shown] = text
                    return shown
            return text

        return _swap(data, rename)

    def inward_path(self, path: str) -> str:
        raw, _, query = path.partition("?")
        back = self.seen_names
        segments = [quote(back.get(unquote(s), unquote(s)), safe="") for s in raw.split("/")]
        return "/".join(segments) + (f"?{query}" if query else "")

    def inward_body(self, body: bytes) -> bytes:
        if not body or not self.seen_names:
            return body
        return json.dumps(_swap(json.loads(body), lambda t: self.seen_names.get(t, t))).encode()


def _swap(data: Any, rename: Callable[[str], str]) -> Any:
    if isinstance(data, str):
        return rename(data)
    if isinstance(data, list):
        return [_swap(x, rename) for x in data]
    if isinstance(data, dict):
        return {k: _swap(v, rename) for k, v in data.items()}
    return data


def handler(proxy: Proxy, client: httpx.Client) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm the body would
        # wait for the client's delayed ACK (~40 ms a response on Linux).
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = proxy.inward_body(self.rfile.read(length))
            path = proxy.inward_path(self.path)
            rule = proxy.rule_for(self.command, path)
            if rule is not None and not rule.commit:
                proxy.log.append((self.command, path, rule.status))
                return self._answer(rule.status, b'{"error": {"message": "bad gateway"}}')
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            upstream = client.request(self.command, path, headers=headers, content=body)
            proxy.log.append((self.command, path, upstream.status_code))
            if rule is not None:
                return self._answer(rule.status, b'{"error": {"message": "bad gateway"}}')
            text = upstream.content
            if (
                proxy.renames
                and text
                and upstream.headers.get("content-type", "").startswith("application/json")
            ):
                text = json.dumps(proxy.outward(json.loads(text))).encode()
            self._answer(upstream.status_code, text)

        do_GET = do_POST = do_PUT = do_DELETE = _any

    return Handler
