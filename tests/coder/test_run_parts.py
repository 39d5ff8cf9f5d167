"""The pieces a run is made of: git with bounded, credential-safe commands; file selection; prompts."""

from __future__ import annotations

import base64
import os
import time

import pytest

from coder import conf, git
from coder.checkout import read_checkout_file
from coder.server_paths import without_server_paths
from coder.services.context import repository_context, terms_of
from coder.services.github import repository_remote_access
from coder.services.prompts import extract_diff, fence_for, summary_of
from tests.coder.factories import RepositoryFactory
from tests.coder.local_git import FILES, LOGIN_FIX_ANSWER, make_bare_repository

# --- git ------------------------------------------------------------------------------------------------


def test_clone_is_shallow_and_single_branch(tmp_path, bare_repository):
    checkout = tmp_path / "checkout"

    git.clone(git.RemoteAccess(bare_repository.url), branch="main", destination=checkout)

    assert git.run_git(["rev-list", "--count", "HEAD"], cwd=checkout).strip() == "1"
    assert (checkout / "src/auth/login.py").exists()


def test_only_http_and_allowed_file_urls_are_accepted(monkeypatch):
    monkeypatch.setattr(conf, "ALLOW_FILE_REPOSITORIES", False)
    for url in ("file:///etc", "ext::sh -c touch% /tmp/pwned", "ssh://host/repo", "/local/path", "-uevil"):
        with pytest.raises(git.GitError):
            git.check_remote_url(url)
    git.check_remote_url("https://github.com/octo/demo.git")


def test_the_github_token_goes_in_an_environment_header_never_in_config_or_arguments():
    access = git.RemoteAccess.with_github_token("https://github.com/octo/demo.git", "gho_secret")

    env = git._environment(access)

    config = {env[f"GIT_CONFIG_KEY_{n}"]: env[f"GIT_CONFIG_VALUE_{n}"] for n in range(int(env["GIT_CONFIG_COUNT"]))}
    expected = base64.b64encode(b"x-access-token:gho_secret").decode()
    assert config["http.extraHeader"] == f"Authorization: Basic {expected}"
    assert "gho_secret" not in access.url


@pytest.mark.django_db
def test_token_is_attached_only_for_the_github_host(coder_user, github_connected, settings):
    settings.GITHUB_API_URL = "https://api.github.com"
    on_github = RepositoryFactory(user=coder_user, clone_url="https://github.com/octo/demo.git")
    elsewhere = RepositoryFactory(user=coder_user, clone_url="https://gitlab.example/octo/demo.git")

    assert repository_remote_access(repository=on_github).authorization is not None
    assert repository_remote_access(repository=elsewhere).authorization is None


@pytest.mark.django_db
def test_github_enterprise_host_comes_from_the_api_url(coder_user, github_connected, settings):
    settings.GITHUB_API_URL = "https://ghe.example.com/api/v3"
    repository = RepositoryFactory(user=coder_user, clone_url="https://ghe.example.com/octo/demo.git")

    assert repository_remote_access(repository=repository).authorization is not None


def test_git_errors_do_not_leak_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(conf, "GIT_TIMEOUT_SECONDS", 10)
    access = git.RemoteAccess.with_github_token("http://127.0.0.1:9/octo/demo.git", "gho_secret")

    with pytest.raises(git.GitError) as raised:
        git.clone(access, branch="main", destination=tmp_path / "x")

    assert "gho_secret" not in str(raised.value)
    assert base64.b64encode(b"x-access-token:gho_secret").decode() not in str(raised.value)


def test_a_watched_git_command_is_stopped_with_everything_it_started(tmp_path):
    # Given a git command that would run for a minute (an alias running a shell), and a watch that
    # gives its verdict at the first look
    marker = tmp_path / "still-running"
    verdicts = []

    def watch() -> None:
        verdicts.append("too large")
        raise git.RepositoryTooLargeError("too large")

    # When git runs under that watch
    started = time.monotonic()
    with pytest.raises(git.RepositoryTooLargeError):
        git.run_git(["-c", f"alias.pause=!sleep 60 && touch {marker}", "pause"], watch=watch)

    # Then it is stopped at once, its shell and sleep too (they would otherwise leave the marker)
    assert time.monotonic() - started < 10 and verdicts == ["too large"]
    assert not marker.exists()


def test_a_clone_over_the_size_cap_leaves_nothing(tmp_path, file_repositories_allowed, monkeypatch):
    # Given a repository whose objects alone (random bytes, which do not compress) are over the cap
    monkeypatch.setattr(conf, "CLONE_MAX_BYTES", 256 * 2**10)
    bare = make_bare_repository(tmp_path / "git", {"data/noise.bin": os.urandom(2 * 2**20)})
    checkout = tmp_path / "checkout"

    # When it is cloned
    with pytest.raises(git.RepositoryTooLargeError) as raised:
        git.clone(git.RemoteAccess(bare.url), branch="main", destination=checkout)

    # Then the clone is refused and nothing of it is left on disk
    assert str(raised.value) == "the repository takes more than 256 KiB, the most a task may clone"
    assert not checkout.exists()


def test_a_clone_within_the_caps_holds_every_file(tmp_path, file_repositories_allowed, monkeypatch):
    # Given caps the repository fits in, a file of exactly the per-file cap among them
    monkeypatch.setattr(conf, "CLONE_MAX_BYTES", 1 * 2**20)
    monkeypatch.setattr(conf, "CLONE_MAX_FILE_BYTES", 64 * 2**10)
    bare = make_bare_repository(tmp_path / "git", {**FILES, "data/edge.bin": os.urandom(64 * 2**10)})
    checkout = tmp_path / "checkout"

    # When it is cloned
    git.clone(git.RemoteAccess(bare.url), branch="main", destination=checkout)

    # Then every file is checked out, on the branch
    assert (checkout / "data/edge.bin").stat().st_size == 64 * 2**10
    assert (checkout / "src/auth/login.py").read_text() == FILES["src/auth/login.py"]
    assert git.run_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=checkout).strip() == "main"
    assert git.changed_files(checkout) == []


# --- reading the checkout ---------------------------------------------------------------------------------


@pytest.fixture
def checkout(tmp_path):
    """A checkout holding a regular file, links of every kind, a FIFO and a 2000-byte file."""
    root = tmp_path / "checkout"
    (root / "src").mkdir(parents=True)
    (root / "src/app.py").write_text("print('hi')\n")
    (root / "big.txt").write_text("x" * 2000)
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "zero.txt").symlink_to("/dev/zero")
    (root / "etc").symlink_to("/etc")
    (root / "inner").symlink_to("src")
    os.mkfifo(root / "pipe")
    return root


def test_only_regular_files_inside_the_checkout_are_read(checkout):
    assert read_checkout_file(checkout, "src/app.py", max_bytes=1000) == b"print('hi')\n"
    for refused in ("passwd.txt", "zero.txt", "etc/passwd", "inner/app.py", "pipe", "src", "../checkout/src/app.py",
                    "src/../src/app.py", "/etc/passwd", "src//app.py", "missing.txt"):  # fmt: skip
        assert read_checkout_file(checkout, refused, max_bytes=1000) is None, refused


def test_the_size_cap_holds(checkout):
    assert read_checkout_file(checkout, "big.txt", max_bytes=1999) is None
    assert read_checkout_file(checkout, "big.txt", max_bytes=2000) == b"x" * 2000


def test_tracked_files_are_regular_files_only(tmp_path, file_repositories_allowed):
    bare = make_bare_repository(tmp_path / "git", symlinks={"docs/users.txt": "/etc/passwd"})
    checkout = tmp_path / "checkout"

    git.clone(git.RemoteAccess(bare.url), branch="main", destination=checkout)

    assert "docs/users.txt" not in git.tracked_files(checkout) and "src/auth/login.py" in git.tracked_files(checkout)
    assert not (checkout / "docs/users.txt").is_symlink()  # checked out as a plain file (core.symlinks=false)


def test_git_output_keeps_the_hosts_remote_lines():
    output = "\n".join([
        "remote: error: GH013: rule violations", "remote: ", "remote: - Cannot create ref", "To x",
        " ! [remote rejected] HEAD -> b (push declined)", "error: failed to push some refs",
    ])  # fmt: skip

    assert git._reason(output).splitlines() == [
        "remote: error: GH013: rule violations", "remote: - Cannot create ref",
        " ! [remote rejected] HEAD -> b (push declined)", "error: failed to push some refs",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("Cloning into '/tmp/async-coder-k2j3/repository'...", "Cloning into '<checkout>'..."),
        ("error: patch failed: /var/tmp/async-coder-x_1/repository/src/a.py:3", "error: patch failed: src/a.py:3"),
        ("can't open patch '/tmp/async-coder-9/change.patch'", "can't open patch 'change.patch'"),
        ("failed to push some refs to 'file:///srv/git/demo.git'", "failed to push some refs to '<local repository>'"),
        ("fatal: '/srv/git/demo.git' does not appear", "fatal: '<server path>' does not appear"),
        ("error: src/auth/login.py: patch does not apply", "error: src/auth/login.py: patch does not apply"),
        ("HEAD -> async-coder/1f2e (see https://github.com/octo/demo/pull/1)",
         "HEAD -> async-coder/1f2e (see https://github.com/octo/demo/pull/1)"),
    ],
)  # fmt: skip
def test_server_paths_are_taken_out_of_messages(message, shown):
    assert without_server_paths(message) == shown
    assert without_server_paths(shown) == shown


# --- relevant files ---------------------------------------------------------------------------------------


def test_terms_split_camel_and_snake_case_and_drop_stopwords():
    assert terms_of("Fix the loginHandler in user_session.py") == {"login", "handler", "user", "session"}


def test_files_named_or_matching_the_task_come_first_within_the_budget(tmp_path):
    files = {
        "src/auth/login.py": "def login(user):\n    return check_password(user)\n",
        "src/auth/password.py": "def check_password(user):\n    return True\n",
        "src/billing/invoice.py": "def invoice():\n    pass\n" * 50,
        "assets/logo.png": "binary",
        "node_modules/lib/login.js": "login()",
    }
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)

    context = repository_context(
        root=tmp_path,
        paths=list(files),
        task_text="check_password in src/auth/password.py is wrong for login",
        token_budget=1000,
        whole_files_only=True,
    )

    assert [file.path for file in context.files] == ["src/auth/password.py", "src/auth/login.py"]
    assert "assets/logo.png" not in context.tree and "node_modules/lib/login.js" not in context.tree


def test_a_file_over_the_budget_is_skipped_for_changes_but_truncated_for_answers(tmp_path):
    (tmp_path / "big_login.py").write_text("login = 1\n" * 2000)
    (tmp_path / "login_small.py").write_text("login = 2\n")

    for_changes = repository_context(
        root=tmp_path, paths=["big_login.py", "login_small.py"], task_text="login", token_budget=500,
        whole_files_only=True,
    )  # fmt: skip
    for_answers = repository_context(
        root=tmp_path, paths=["big_login.py", "login_small.py"], task_text="login", token_budget=500,
        whole_files_only=False,
    )  # fmt: skip

    assert [file.path for file in for_changes.files] == ["login_small.py"]
    assert any(file.truncated for file in for_answers.files)
    assert for_answers.tokens <= 500


# --- prompts --------------------------------------------------------------------------------------------


def test_diff_is_read_from_a_fenced_block():
    diff = extract_diff(LOGIN_FIX_ANSWER)

    assert diff.startswith("--- a/src/auth/login.py\n+++ b/src/auth/login.py\n@@")
    assert diff.endswith("password == password\n")


def test_bare_diff_and_unlabelled_fences_are_found():
    bare = "Here:\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    unlabelled = "Fix:\n```\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n```"

    assert extract_diff(bare).startswith("diff --git a/x b/x")
    assert extract_diff(unlabelled).startswith("--- a/x")
    assert extract_diff("No changes needed.") is None
    assert extract_diff("```python\nprint('hi')\n```") is None


def test_a_fence_closes_only_at_the_start_of_a_line_with_as_many_backticks():
    inner_fence = "```diff\n--- a/R.md\n+++ b/R.md\n@@ -1,3 +1,3 @@\n ```sh\n-a\n+b\n ```\n```\nDone."
    longer_fence = "````diff\n--- a/R.md\n+++ b/R.md\n@@ -1,2 +1,2 @@\n-```\n+~~~\n```\n````\n"
    unclosed = "```diff\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"

    assert extract_diff(inner_fence) == "--- a/R.md\n+++ b/R.md\n@@ -1,3 +1,3 @@\n ```sh\n-a\n+b\n ```\n"
    assert extract_diff(longer_fence).endswith("+~~~\n```\n")
    assert extract_diff(unclosed).endswith("+b\n")


def test_a_file_is_shown_in_a_fence_it_cannot_close():
    assert fence_for("no fence") == "```"
    assert fence_for("```sh\nls\n```") == "````"


def test_summary_is_the_prose_before_the_code():
    assert summary_of(LOGIN_FIX_ANSWER) == (
        "The login check assigned the password instead of comparing it; it now compares with ==."
    )
    assert len(summary_of("word " * 200)) <= 280
