"""A real, local GitHub fake over HTTP: the OAuth code exchange and the REST calls Async Coder makes.

It listens on 127.0.0.1 (free port), so the code under test talks to it with its real httpx client,
in the test process or in a Celery worker started for an end-to-end test. Lists are paginated
like GitHub's: ``per_page`` items and a ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

GOOD_CODE = "good-oauth-code"
ACCESS_TOKEN = "gho_fakeAccessToken0123456789abcdefABCDEF"
CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fake-client-secret-value"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHubState:
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": 4242,
            "login": "octo",
            "name": "Octo Cat",
            "avatar_url": "https://avatars.example/u/4242",
        }
    )
    repositories: list[dict[str, Any]] = field(default_factory=list)
    branches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=lambda: {ACCESS_TOKEN})
    # (status, body) GitHub answers to every pull request creation instead of opening one.
    pull_request_refusal: tuple[int, dict[str, Any]] | None = None
    requests: list[Recorded] = field(default_factory=list)


def repository_document(number: int, *, owner: str = "octo", **overrides) -> dict[str, Any]:
    name = overrides.pop("name", f"repo-{number:03d}")
    document = {
        "id": 900000 + number,
        "name": name,
        "full_name": f"{owner}/{name}",
        "description": f"Repository number {number}",
        "private": number % 2 == 0,
        "default_branch": "main",
        "language": "Python",
        "html_url": f"https://github.com/{owner}/{name}",
        "clone_url": f"https://github.com/{owner}/{name}.git",
    }
    document.update(overrides)
    return document


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if "application/json" in content_type:
            return json.loads(raw or b"null")
        return {key: values[0] for key, values in parse_qs(raw.decode()).items()}

    def _record(self, body: Any) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.state.requests.append(
            Recorded(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        return parts.path, query

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.server.state.valid_tokens

    def _page(self, items: list[Any], path: str, query: dict[str, list[str]]) -> None:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            headers["Link"] = (
                f'<{base}{path}?per_page={per_page}&page={page + 1}>; rel="next", '
                f'<{base}{path}?per_page={per_page}&page={-(-len(items) // per_page)}>; rel="last"'
            )
        self._send(200, chunk, headers)

    def do_GET(self) -> None:
        path, query = self._record(None)
        if not self._authorised():
            self._send(401, {"message": "Bad credentials"})
            return
        state = self.server.state
        if path == "/user":
            self._send(200, state.user)
        elif path == "/user/repos":
            self._page(state.repositories, path, query)
        elif path.startswith("/repos/") and path.endswith("/branches"):
            full_name = path.removeprefix("/repos/").removesuffix("/branches")
            if full_name not in state.branches:
                self._send(404, {"message": "Not Found"})
            else:
                self._page(state.branches[full_name], path, query)
        elif path.startswith("/repos/") and path.endswith("/pulls"):
            full_name = path.removeprefix("/repos/").removesuffix("/pulls")
            head = query.get("head", [""])[0].split(":", 1)[-1]
            self._send(200, [p for p in state.pulls if p["_repo"] == full_name and p["head"]["ref"] == head])
        else:
            self._send(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        body = self._read_body()
        path, _ = self._record(body)
        state = self.server.state
        if path == "/login/oauth/access_token":
            if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
                self._send(200, {"error": "incorrect_client_credentials"})
            elif body.get("code") != GOOD_CODE:
                self._send(200, {"error": "bad_verification_code"})
            else:
                self._send(200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "scope": "repo,read:user"})
            return
        if not self._authorised():
            self._send(401, {"message": "Bad credentials"})
            return
        if path.startswith("/repos/") and path.endswith("/pulls"):
            full_name = path.removeprefix("/repos/").removesuffix("/pulls")
            if state.pull_request_refusal is not None:
                self._send(*state.pull_request_refusal)
                return
            if any(p["_repo"] == full_name and p["head"]["ref"] == body["head"] for p in state.pulls):
                errors = [{"message": "A pull request already exists"}]
                self._send(422, {"message": "Validation Failed", "errors": errors})
                return
            number = len(state.pulls) + 1
            pull = {
                "_repo": full_name,
                "number": number,
                "html_url": f"https://github.com/{full_name}/pull/{number}",
                "state": "open",
                "title": body["title"],
                "body": body["body"],
                "head": {"ref": body["head"]},
                "base": {"ref": body["base"]},
            }
            state.pulls.append(pull)
            self._send(201, pull)
            return
        self._send(404, {"message": "Not Found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeGitHubState


class FakeGitHub:
    def __init__(self) -> None:
        self.state = FakeGitHubState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def oauth_url(self) -> str:
        return f"{self.url}/login/oauth/access_token"

    @property
    def settings_env(self) -> dict[str, str]:
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_OAUTH_URL": self.oauth_url,
            "GITHUB_CLIENT_ID": CLIENT_ID,
            "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        }

    def requests_to(self, path: str, method: str = "GET") -> list[Recorded]:
        return [r for r in self.state.requests if r.path == path and r.method == method]


@pytest.fixture
def fake_github(settings):
    """A started fake GitHub with the settings pointing at it."""
    server = FakeGitHub().start()
    for name, value in server.settings_env.items():
        setattr(settings, name, value)
    try:
        yield server
    finally:
        server.stop()
