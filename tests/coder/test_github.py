"""Connecting GitHub (token encrypted at rest), syncing repositories page by page, branches."""

from __future__ import annotations

import threading

import httpx
import pytest
import respx
from django.db import connection

from coder import conf
from coder.models import GitHubConnection, Repository
from coder.services import github as github_services
from core.crypto import decrypt_text
from tests.coder.factories import RepositoryFactory
from tests.coder.fake_github import ACCESS_TOKEN, GOOD_CODE, repository_document

pytestmark = pytest.mark.django_db

CONNECT = "/coder/api/auth/github/connect"
SYNC = "/coder/api/repositories/sync"
REPOSITORIES = "/coder/api/repositories"


def branches_url(repository) -> str:
    return f"/coder/api/repositories/{repository.pk}/branches"


# --- Connect ----------------------------------------------------------------------------------------


def test_connect_exchanges_the_code_and_stores_the_token_encrypted(signed_in, coder_user, fake_github):
    # When the user connects with an OAuth code
    r = signed_in.post(CONNECT, {"code": GOOD_CODE, "state": "xyz"}, format="json")

    # Then GitHub's user comes back in the spec's shape
    assert r.status_code == 200, r.json()
    assert r.json()["data"] == {
        "message": "GitHub account connected successfully",
        "githubUser": {"id": 4242, "login": "octo", "name": "Octo Cat", "avatar_url": "https://avatars.example/u/4242"},
    }
    # And the code went to the OAuth endpoint with the app's credentials and the state
    exchange = fake_github.requests_to("/login/oauth/access_token", "POST")[0]
    assert exchange.body["code"] == GOOD_CODE and exchange.body["state"] == "xyz"
    assert exchange.headers["accept"] == "application/json"
    # And the token is stored encrypted, not in clear
    connection = GitHubConnection.objects.get(user=coder_user)
    assert ACCESS_TOKEN not in connection.access_token_encrypted
    assert decrypt_text(connection.access_token_encrypted) == ACCESS_TOKEN
    assert connection.login == "octo" and connection.github_user_id == 4242
    # And the profile now says GitHub is connected
    me = signed_in.get("/coder/api/users/me").json()["data"]
    assert me["isGithubConnected"] is True


def test_connect_with_a_bad_code_is_a_validation_error(signed_in, coder_user, fake_github):
    r = signed_in.post(CONNECT, {"code": "wrong"}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "bad_verification_code" in str(r.json()["error"]["details"])
    assert not GitHubConnection.objects.filter(user=coder_user).exists()


def test_connect_when_github_is_down_is_502(signed_in, settings):
    settings.GITHUB_CLIENT_ID, settings.GITHUB_CLIENT_SECRET = "id", "secret"
    settings.GITHUB_OAUTH_URL = "https://github.test/login/oauth/access_token"
    with respx.mock() as router:
        router.post(settings.GITHUB_OAUTH_URL).mock(side_effect=httpx.ConnectError("down"))
        r = signed_in.post(CONNECT, {"code": "abc"}, format="json")

    assert r.status_code == 502, r.json()
    assert r.json()["error"]["code"] == "EXTERNAL_API_ERROR"


def test_connect_without_app_credentials_is_503(signed_in, settings):
    settings.GITHUB_CLIENT_ID = ""

    r = signed_in.post(CONNECT, {"code": "abc"}, format="json")

    assert r.status_code == 503, r.json()


def test_connect_requires_sign_in(api_client, db):
    r = api_client.post(CONNECT, {"code": "abc"}, format="json")

    assert r.status_code == 401, r.json()


def test_an_api_key_cannot_connect_github(api_client, coder_user, github_connected, fake_github):
    from coder.services.auth import coder_api_key_create

    issued = coder_api_key_create(user=coder_user, name="ci")

    r = api_client.post(CONNECT, {"code": GOOD_CODE}, format="json", HTTP_X_API_KEY=issued.raw_key)

    assert r.status_code == 401, r.json()
    assert fake_github.requests_to("/login/oauth/access_token", "POST") == []


# --- Sync -------------------------------------------------------------------------------------------


def test_sync_follows_link_headers_through_every_page(signed_in, coder_user, github_connected, fake_github):
    # Given 230 repositories on GitHub (3 pages of 100)
    fake_github.state.repositories = [repository_document(n) for n in range(230)]

    r = signed_in.post(SYNC, {}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["data"] == {
        "synced": 230,
        "added": 230,
        "updated": 0,
        "deactivated": 0,
        "message": "Repositories synced successfully",
    }
    pages = fake_github.requests_to("/user/repos")
    assert [request.query.get("page", ["1"])[0] for request in pages] == ["1", "2", "3"]
    assert all(request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for request in pages)
    assert Repository.objects.filter(user=coder_user).count() == 230


def test_sync_again_updates_changes_and_deactivates_removed(signed_in, coder_user, github_connected, fake_github):
    # Given a first sync of three repositories
    fake_github.state.repositories = [repository_document(n) for n in range(3)]
    signed_in.post(SYNC, {}, format="json")

    # When one is renamed, one removed and one added on GitHub
    fake_github.state.repositories = [
        repository_document(0),
        repository_document(1, name="renamed"),
        repository_document(7),
    ]
    r = signed_in.post(SYNC, {}, format="json")

    # Then the counts say so and the rows follow
    assert r.status_code == 200, r.json()
    data = r.json()["data"]
    assert (data["synced"], data["added"], data["updated"], data["deactivated"]) == (3, 1, 1, 1)
    assert Repository.objects.get(github_id=900001).full_name == "octo/renamed"
    assert Repository.objects.get(github_id=900002).is_active is False


def test_force_sync_rewrites_every_repository(signed_in, github_connected, fake_github):
    fake_github.state.repositories = [repository_document(n) for n in range(2)]
    signed_in.post(SYNC, {}, format="json")

    r = signed_in.post(SYNC, {"force": True}, format="json")

    assert r.json()["data"]["updated"] == 2


def test_a_sync_overlapping_another_adds_only_what_the_other_did_not(
    signed_in, coder_user, github_connected, fake_github, monkeypatch
):
    # Given three repositories on GitHub, and another sync of the same user that commits two of
    # them right after this one has read the user's rows (what READ COMMITTED allows)
    fake_github.state.repositories = [repository_document(n) for n in range(3)]
    fields_from_github = github_services._fields_from_github
    other_sync_done = []

    def other_sync_commits_first(document):
        if not other_sync_done:
            other_sync_done.append(True)
            for other in fake_github.state.repositories[:2]:
                Repository.objects.create(user=coder_user, github_id=other["id"], **fields_from_github(other))
        return fields_from_github(document)

    monkeypatch.setattr(github_services, "_fields_from_github", other_sync_commits_first)

    # When this sync goes on
    r = signed_in.post(SYNC, {}, format="json")

    # Then it answers, counting only the repository it added, and each repository is there once
    assert r.status_code == 200, r.json()
    data = r.json()["data"]
    assert (data["synced"], data["added"], data["updated"], data["deactivated"]) == (3, 1, 0, 0)
    assert Repository.objects.filter(user=coder_user).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_of_one_user_add_each_repository_once(
    coder_user, github_connected, fake_github, monkeypatch
):
    # Given five repositories on GitHub, and two syncs held until both have read the user's (no) rows
    fake_github.state.repositories = [repository_document(n) for n in range(5)]
    barrier = threading.Barrier(2)
    waited = threading.local()
    fields_from_github = github_services._fields_from_github

    def after_both_read(document):
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait(timeout=30)
        return fields_from_github(document)

    monkeypatch.setattr(github_services, "_fields_from_github", after_both_read)
    outcomes: list = []
    lock = threading.Lock()

    def sync():
        try:
            outcome = github_services.repositories_sync(user=coder_user)
        except Exception as error:  # the failure is the outcome under test
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    # When they run at once
    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then both succeed, the five are added once between them, and each is stored once
    assert all(isinstance(outcome, github_services.SyncOutcome) for outcome in outcomes), outcomes
    assert sum(outcome.added for outcome in outcomes) == 5
    assert Repository.objects.filter(user=coder_user).count() == 5


def test_sync_without_github_is_a_validation_error(signed_in):
    r = signed_in.post(SYNC, {}, format="json")

    assert r.status_code == 400, r.json()
    assert "GitHub" in r.json()["error"]["message"]


def test_sync_with_a_revoked_github_token_is_403(signed_in, github_connected, fake_github):
    fake_github.state.valid_tokens.clear()

    r = signed_in.post(SYNC, {}, format="json")

    assert r.status_code == 403, r.json()
    assert "connect GitHub again" in r.json()["error"]["message"]


def test_sync_refuses_a_next_page_on_another_host(signed_in, github_connected, settings):
    settings.GITHUB_API_URL = "https://api.github.test"
    with respx.mock() as router:
        router.get("https://api.github.test/user/repos").mock(
            return_value=httpx.Response(
                200, json=[repository_document(1)], headers={"Link": '<https://evil.test/steal>; rel="next"'}
            )
        )
        r = signed_in.post(SYNC, {}, format="json")

    assert r.status_code == 502, r.json()


# --- Repositories and branches ------------------------------------------------------------------------


def test_repositories_list_filters_and_paginates(signed_in, coder_user, other_user):
    RepositoryFactory(user=coder_user, name="api-server", full_name="octo/api-server")
    RepositoryFactory(user=coder_user, name="web", full_name="octo/web", description="The API client")
    RepositoryFactory(user=coder_user, name="old", full_name="octo/old", is_active=False)
    RepositoryFactory(user=other_user, name="api-secret", full_name="other/api-secret")

    everything = signed_in.get(REPOSITORIES).json()
    searched = signed_in.get(REPOSITORIES, {"search": "api"}).json()
    connected = signed_in.get(REPOSITORIES, {"connected": "true"}).json()
    disconnected = signed_in.get(REPOSITORIES, {"connected": "false"}).json()
    paged = signed_in.get(REPOSITORIES, {"page": 2, "limit": 2}).json()

    names = lambda body: [repo["fullName"] for repo in body["data"]["repositories"]]  # noqa: E731
    assert names(everything) == ["octo/api-server", "octo/old", "octo/web"]
    assert names(searched) == ["octo/api-server", "octo/web"]
    assert names(connected) == ["octo/api-server", "octo/web"]
    assert names(disconnected) == ["octo/old"]
    assert names(paged) == ["octo/web"]
    assert paged["meta"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    first = everything["data"]["repositories"][0]
    assert set(first) >= {
        "id", "githubId", "name", "fullName", "description", "isPrivate", "defaultBranch", "language", "url",
        "isActive", "createdAt",
    }  # fmt: skip


def test_repositories_limit_over_100_is_refused(signed_in):
    r = signed_in.get(REPOSITORIES, {"limit": 101})

    assert r.status_code == 400, r.json()
    assert "limit" in r.json()["error"]["details"]


def test_repositories_list_query_count(signed_in, coder_user, django_assert_max_num_queries):
    RepositoryFactory.create_batch(30, user=coder_user)

    with django_assert_max_num_queries(4):
        r = signed_in.get(REPOSITORIES, {"limit": 30})

    assert r.status_code == 200, r.json()
    assert len(r.json()["data"]["repositories"]) == 30


def test_branches_come_from_github(signed_in, repository, github_connected, fake_github):
    fake_github.state.branches[repository.full_name] = [
        {"name": f"branch-{n}", "commit": {"sha": f"{n:040x}", "url": f"https://api/commits/{n}"}, "protected": n == 0}
        for n in range(120)
    ]

    r = signed_in.get(branches_url(repository))

    assert r.status_code == 200, r.json()
    branches = r.json()["data"]["branches"]
    assert len(branches) == 120
    assert branches[0] == {
        "name": "branch-0",
        "commit": {"sha": f"{0:040x}", "url": "https://api/commits/0"},
        "protected": True,
    }


def test_branches_of_a_plain_git_repository_come_from_the_remote(signed_in, local_repository):
    r = signed_in.get(branches_url(local_repository))

    assert r.status_code == 200, r.json()
    assert [branch["name"] for branch in r.json()["data"]["branches"]] == ["main"]
    assert len(r.json()["data"]["branches"][0]["commit"]["sha"]) == 40


def test_branches_of_a_repository_whose_url_is_refused_are_a_400(signed_in, local_repository, monkeypatch):
    monkeypatch.setattr(conf, "ALLOW_FILE_REPOSITORIES", False)

    r = signed_in.get(branches_url(local_repository))

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_another_users_repository_is_404(signed_in, other_user):
    theirs = RepositoryFactory(user=other_user)

    r = signed_in.get(branches_url(theirs))

    assert r.status_code == 404, r.json()
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
