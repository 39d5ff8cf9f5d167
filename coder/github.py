"""GitHub over HTTP: the OAuth code exchange and the REST calls Async Coder makes.

The base URLs are settings (``GITHUB_API_URL``, ``GITHUB_OAUTH_URL``), so GitHub Enterprise and
local fakes work the same way. Lists follow the ``Link: <...>; rel="next"`` header page by page,
and only to the API's own host, so a token is never sent anywhere else. Every failure ends as a
domain error; no token ever appears in one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings

from coder import conf
from coder.errors import GITHUB_AUTHORIZATION_REVOKED, GITHUB_UNAVAILABLE
from core import errors

API_VERSION = "2022-11-28"
USER_AGENT = "async-coder"
PAGE_SIZE = 100


@dataclass(frozen=True)
class OAuthGrant:
    access_token: str
    scopes: str


def web_host() -> str:
    """The host of GitHub's web and git endpoints: github.com for api.github.com, else the API's host."""
    host = urlsplit(settings.GITHUB_API_URL).hostname or ""
    return "github.com" if host == "api.github.com" else host


def exchange_oauth_code(*, code: str, state: str | None = None, redirect_uri: str | None = None) -> OAuthGrant:
    """Trade an OAuth ``code`` for an access token at ``GITHUB_OAUTH_URL``."""
    if not settings.GITHUB_CLIENT_ID or not settings.GITHUB_CLIENT_SECRET:
        raise errors.SERVICE_UNAVAILABLE("GitHub sign-in is not configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)")
    form = {"client_id": settings.GITHUB_CLIENT_ID, "client_secret": settings.GITHUB_CLIENT_SECRET, "code": code}
    if state:
        form["state"] = state
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    try:
        response = httpx.post(
            settings.GITHUB_OAUTH_URL,
            data=form,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=conf.GITHUB_TIMEOUT_SECONDS,
        )
        answer = response.json()
    except (httpx.HTTPError, ValueError):
        raise GITHUB_UNAVAILABLE("GitHub's OAuth endpoint could not be reached")
    if response.status_code >= 500:
        raise GITHUB_UNAVAILABLE("GitHub's OAuth endpoint failed")
    if not isinstance(answer, dict) or not answer.get("access_token"):
        reason = answer.get("error", "unknown_error") if isinstance(answer, dict) else "unknown_error"
        raise errors.VALIDATION(
            "GitHub did not accept the authorization code", details={"code": [f"GitHub answered {reason}"]}
        )
    return OAuthGrant(access_token=answer["access_token"], scopes=str(answer.get("scope", "")))


class GitHubClient:
    """The REST calls of one signed-in GitHub user."""

    def __init__(self, token: str, *, api_url: str | None = None, timeout: float | None = None) -> None:
        self.api_url = (api_url or settings.GITHUB_API_URL).rstrip("/")
        self._api_host = urlsplit(self.api_url).netloc
        self._client = httpx.Client(
            base_url=self.api_url,
            timeout=timeout or conf.GITHUB_TIMEOUT_SECONDS,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self._client.close()

    # --- calls ----------------------------------------------------------------------------------

    def user(self) -> dict[str, Any]:
        return self._request("GET", "/user").json()

    def repositories(self, *, max_pages: int | None = None) -> list[dict[str, Any]]:
        """Every repository the user can reach (own, collaborator, organisation member)."""
        params = {"per_page": PAGE_SIZE, "sort": "full_name", "affiliation": "owner,collaborator,organization_member"}
        return list(self._paginate("/user/repos", params, max_pages=max_pages or conf.GITHUB_MAX_PAGES))

    def branches(self, full_name: str) -> list[dict[str, Any]]:
        return list(self._paginate(f"/repos/{_repo_path(full_name)}/branches", {"per_page": PAGE_SIZE}, max_pages=10))

    def create_pull_request(self, full_name: str, *, head: str, base: str, title: str, body: str) -> dict[str, Any]:
        """Open a pull request; when one already exists for ``head`` (a re-run), return that one."""
        payload = {"title": title, "head": head, "base": base, "body": body, "maintainer_can_modify": True}
        response = self._request("POST", f"/repos/{_repo_path(full_name)}/pulls", json=payload, allow={422})
        if response.status_code != 422:
            return response.json()
        owner = full_name.split("/", 1)[0]
        existing = self._request(
            "GET", f"/repos/{_repo_path(full_name)}/pulls", params={"head": f"{owner}:{head}", "state": "all"}
        ).json()
        if existing:
            return existing[0]
        raise GITHUB_UNAVAILABLE(
            _with_reason("GitHub refused to open the pull request", response), details=_error_details(response)
        )

    # --- plumbing -------------------------------------------------------------------------------

    def _paginate(self, path: str, params: dict[str, Any], *, max_pages: int) -> Iterator[dict[str, Any]]:
        url: str | None = path
        page_params: dict[str, Any] | None = params
        for _ in range(max_pages):
            if url is None:
                return
            response = self._request("GET", url, params=page_params)
            items = response.json()
            if not isinstance(items, list):
                raise GITHUB_UNAVAILABLE("GitHub answered a list request with something else")
            yield from items
            url = self._next_page_url(response)
            page_params = None  # the next link carries its own query string

    def _next_page_url(self, response: httpx.Response) -> str | None:
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return None
        if urlsplit(next_url).netloc not in ("", self._api_host):
            raise GITHUB_UNAVAILABLE("GitHub pointed the next page at another host; not following it")
        return next_url

    def _request(self, method: str, url: str, *, allow: set[int] = frozenset(), **kwargs) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError:
            raise GITHUB_UNAVAILABLE("GitHub could not be reached")
        status = response.status_code
        if status in allow or status < 300:
            return response
        if status == 401:
            raise GITHUB_AUTHORIZATION_REVOKED()
        if status == 404:
            raise errors.NOT_FOUND("GitHub has no such resource, or the token cannot see it")
        if status in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0":
            raise GITHUB_UNAVAILABLE("GitHub's rate limit for this account is exhausted; try again later")
        if status == 403:
            raise errors.FORBIDDEN(
                _with_reason("GitHub refused the request with this account's permissions", response),
                details=_error_details(response),
            )
        raise GITHUB_UNAVAILABLE(_with_reason(f"GitHub answered {status}", response), details=_error_details(response))


def _repo_path(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _github_reason(response: httpx.Response) -> str:
    """GitHub's own words for a refusal: its ``message`` and each entry of its ``errors`` list."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "").strip()]
    listed = body.get("errors")
    for error in listed if isinstance(listed, list) else []:
        if isinstance(error, dict):
            described = " ".join(str(error[key]) for key in ("resource", "field", "code") if error.get(key))
            parts.append(str(error.get("message") or described).strip())
        else:
            parts.append(str(error).strip())
    return "; ".join(part for part in parts if part)[:500]


def _with_reason(message: str, response: httpx.Response) -> str:
    reason = _github_reason(response)
    return f"{message}: {reason}" if reason else message


def _error_details(response: httpx.Response) -> dict[str, Any] | None:
    reason = _github_reason(response)
    return {"githubMessage": reason} if reason else None
