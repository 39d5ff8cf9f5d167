"""A repository is hostile input: what a task reads, runs and reports when the repository (or its
host) is built to hurt the server. Every test goes through ``POST /coder/api/tasks``; the run
happens in-process (the embedded default) against a local bare repository, the fake
OpenAI-compatible server and the fake GitHub, and is read back with ``GET /coder/api/tasks/:id``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from coder import conf
from coder.models import CoderAccount, CreditTransaction, Task
from tests.coder.factories import RepositoryFactory
from tests.coder.local_git import FILES, LOGIN_FIX_ANSWER, make_bare_repository

pytestmark = pytest.mark.django_db

TASKS = "/coder/api/tasks"
SECRET_MARKER = "SERVER-SECRET-7f3a9c"
FIFO_MARKER = "FIFO-MARKER-2b8e"


@pytest.fixture
def run_task(signed_in, ai_model, django_capture_on_commit_callbacks):
    """``run_task(repository, **fields)``: POST the task, let its run happen (in-process, once the
    creation commits), and return the task as ``GET /coder/api/tasks/:id`` shows it."""

    def run(repository, **fields) -> dict:
        body = {
            "repositoryId": str(repository.pk),
            "aiModelId": str(ai_model.pk),
            "title": fields.pop("title", "Look into the repository"),
            "prompt": fields.pop("prompt", "Explain the repository"),
            "type": fields.pop("type", "ask"),
            **fields,
        }
        with django_capture_on_commit_callbacks(execute=True):
            r = signed_in.post(TASKS, body, format="json")
        assert r.status_code == 201, r.json()
        return task_detail(signed_in, r.json()["data"]["id"])

    return run


def task_detail(signed_in, task_id: str) -> dict:
    r = signed_in.get(f"{TASKS}/{task_id}")
    assert r.status_code == 200, r.json()
    return r.json()["data"]


def local_repository_of(user, bare) -> object:
    return RepositoryFactory(
        user=user, github_id=None, full_name="mallory/demo", name="demo", clone_url=bare.url, url=""
    )


def prompt_sent(model_server) -> str:
    return "\n".join(message["content"] for message in model_server.requests[-1].json["messages"])


def balance(user) -> int:
    return CoderAccount.objects.get(user=user).credits


def assert_no_server_path(text: str, *paths: Path) -> None:
    for path in (tempfile.gettempdir(), str(django_settings.BASE_DIR), *map(str, paths)):
        assert path not in text, text
    assert conf.RUN_DIRECTORY_PREFIX not in text and "file://" not in text, text


# --- what a task reads ---------------------------------------------------------------------------------


def test_symbolic_links_out_of_the_checkout_are_never_read(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed
):
    # Given a repository whose files are links to the server's password file, to the server's own
    # settings, to a secret outside the checkout (absolute and relative) and to a directory
    secret = tmp_path / "server-secret.txt"
    secret.write_text(f"{SECRET_MARKER}\n")
    server_settings = Path(django_settings.BASE_DIR) / "config" / "settings.py"
    links = {
        "docs/users.txt": "/etc/passwd",
        "config/settings.py": str(server_settings),
        "notes/secret.txt": str(secret),
        "notes/relative.txt": "../" * 20 + str(secret).lstrip("/"),
        "linked": "/etc",
    }
    bare = make_bare_repository(tmp_path / "git", symlinks=links)
    llm_endpoint_configured.reply("Nothing worth reading.", usage=(100, 10))

    # When an ask task names every one of them
    task = run_task(
        local_repository_of(coder_user, bare),
        prompt="Explain docs/users.txt, config/settings.py, notes/secret.txt, notes/relative.txt and linked",
    )

    # Then the task completes, and nothing outside the checkout reached the model
    assert task["status"] == "completed", task["errorMessage"]
    sent = prompt_sent(llm_endpoint_configured)
    assert "root:x:0:0" not in sent
    assert SECRET_MARKER not in sent
    assert "CELERY_TASK_ALWAYS_EAGER" not in sent  # a line of the server's config/settings.py
    assert not set(task["results"][0]["metadata"]["files"]) & set(links)
    assert "src/auth/login.py" in sent  # the repository's real files are still listed


class FifoWatch:
    """Watches a FIFO from the writing side: if anyone opens it to read, they get a marker and EOF
    (so a reader that blocks on it is released) and ``opened_by_a_reader`` is set."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened_by_a_reader = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> FifoWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # nobody has it open for reading
                    continue
                raise
            self.opened_by_a_reader = True
            with contextlib.suppress(OSError):
                os.write(descriptor, FIFO_MARKER.encode())
            os.close(descriptor)
            return


def test_a_symbolic_link_to_a_fifo_is_never_opened(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed
):
    # Given a FIFO on the server and a repository whose file is a link to it
    fifo = tmp_path / "server.fifo"
    os.mkfifo(fifo)
    bare = make_bare_repository(tmp_path / "git", symlinks={"docs/pipe.txt": str(fifo)})
    llm_endpoint_configured.reply("Nothing there.", usage=(100, 10))

    # When a task names that file (a reader of the FIFO would block until a writer came)
    with FifoWatch(fifo) as watch:
        task = run_task(local_repository_of(coder_user, bare), prompt="Explain docs/pipe.txt")

    # Then nobody ever opened the FIFO, and the run completed without it
    assert not watch.opened_by_a_reader
    assert task["status"] == "completed", task["errorMessage"]
    assert FIFO_MARKER not in prompt_sent(llm_endpoint_configured)


@pytest.fixture
def address_space_capped():
    """This process may map at most 512 MiB more than it does now, so a read that never ends fails
    with MemoryError instead of taking the machine's memory (the soft limit is restored after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    cap = in_use + 512 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_a_symbolic_link_to_a_device_is_never_read(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed, address_space_capped
):
    # Given a repository whose file is a link to an endless device (its size says 0 bytes)
    bare = make_bare_repository(tmp_path / "git", symlinks={"docs/zero.txt": "/dev/zero"})
    llm_endpoint_configured.reply("Nothing there.", usage=(100, 10))

    # When a task names it
    task = run_task(local_repository_of(coder_user, bare), prompt="Explain docs/zero.txt")

    # Then the device was not read, and the run completed
    assert task["status"] == "completed", task["errorMessage"]
    assert "docs/zero.txt" not in task["results"][0]["metadata"]["files"]


def test_file_names_that_are_not_utf8_do_not_break_the_run(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed
):
    # Given a repository with a file whose name is Latin-1 bytes (written here as surrogate escapes)
    bare = make_bare_repository(tmp_path / "git", {**FILES, "docs/caf\udce9-login.txt": "login notes\n"})
    llm_endpoint_configured.reply("Login compares passwords.", usage=(100, 10))

    # When a task reads the repository
    task = run_task(local_repository_of(coder_user, bare), prompt="Explain how login works")

    # Then it completes with the readable files
    assert task["status"] == "completed", task["errorMessage"]
    assert "src/auth/login.py" in task["results"][0]["metadata"]["files"]


def test_reading_the_repository_has_a_time_limit_and_a_slow_read_costs_nothing(
    run_task, coder_user, llm_endpoint_configured, local_repository, monkeypatch
):
    # Given a file step limit the run cannot meet
    monkeypatch.setattr(conf, "REPOSITORY_READ_TIMEOUT_SECONDS", 0)

    # When a task runs
    task = run_task(local_repository, prompt="Explain how login works")

    # Then it fails cleanly before the model, refunded in full
    assert task["status"] == "failed"
    assert task["errorMessage"] == "Could not read the repository: reading the repository took longer than 0s"
    assert llm_endpoint_configured.requests == [] and balance(coder_user) == 100


def test_filters_and_hooks_configured_on_the_server_never_run_for_a_repository(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed, monkeypatch
):
    # Given a repository whose .gitattributes asks for a filter driver, and a server whose git
    # configuration (the user's ~/.gitconfig) defines that driver and a hooks folder, as git-lfs does
    bare = make_bare_repository(tmp_path / "git", {**FILES, ".gitattributes": "*.txt filter=probe\n"})
    ran = tmp_path / "ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\necho hook >> {ran}\n")
    (hooks / "post-checkout").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[filter "probe"]\n\tsmudge = "echo filter >> {ran}; cat"\n\tclean = cat\n[core]\n\thooksPath = {hooks}\n'
    )
    monkeypatch.setenv("HOME", str(home))
    llm_endpoint_configured.reply("Notes.", usage=(100, 10))

    # When a task clones and reads it
    task = run_task(local_repository_of(coder_user, bare), prompt="Explain docs/notes.txt")

    # Then neither the filter nor the hook ran
    assert task["status"] == "completed", task["errorMessage"]
    assert not ran.exists(), ran.read_text()
    assert "Nothing about the task here." in prompt_sent(llm_endpoint_configured)


# --- what a task clones ---------------------------------------------------------------------------------


@pytest.fixture
def run_directory(tmp_path, monkeypatch) -> Path:
    """Where runs make their clones, so a test can see what a run leaves behind."""
    directory = tmp_path / "runs"
    directory.mkdir()
    monkeypatch.setattr(conf, "WORK_DIR", str(directory))
    return directory


def test_a_file_over_the_per_file_cap_fails_the_task_free_and_leaves_nothing(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed, monkeypatch, run_directory
):
    # Given a per-file cap of 64 KiB and a repository holding a 200 KiB file
    monkeypatch.setattr(conf, "CLONE_MAX_FILE_BYTES", 64 * 2**10)
    bare = make_bare_repository(tmp_path / "git", {**FILES, "assets/video.bin": os.urandom(200 * 2**10)})

    # When a task runs on it
    task = run_task(local_repository_of(coder_user, bare))

    # Then the task fails as a clone failure, before the model, refunded, with nothing left on disk
    assert task["status"] == "failed"
    assert task["errorMessage"] == (
        "Could not clone branch main: assets/video.bin is 200 KiB, over the 64 KiB a task may clone in one file"
    )
    assert llm_endpoint_configured.requests == [] and balance(coder_user) == 100
    assert list(run_directory.iterdir()) == []


def test_a_checkout_that_would_unfold_past_the_cap_fails_the_task(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed, monkeypatch, run_directory
):
    # Given a 1 MiB cap and a repository whose objects are small (its files compress well) but whose
    # files add up to 4 MiB once checked out
    monkeypatch.setattr(conf, "CLONE_MAX_BYTES", 2**20)
    files = {f"generated/part{index}.txt": f"line {index}\n" * 40_000 for index in range(16)}
    bare = make_bare_repository(tmp_path / "git", {**FILES, **files})

    # When a task runs on it
    task = run_task(local_repository_of(coder_user, bare))

    # Then the task fails as a clone failure, free, with nothing left on disk
    assert task["status"] == "failed"
    assert task["errorMessage"] == (
        "Could not clone branch main: the repository takes more than 1 MiB, the most a task may clone"
    )
    assert llm_endpoint_configured.requests == [] and balance(coder_user) == 100
    assert list(run_directory.iterdir()) == []


# --- what a task writes back ---------------------------------------------------------------------------

README_WITH_A_FENCE = "# Demo\n\nInstall:\n\n```sh\npip install demo\n```\n\nRun it with `demo --help`.\n"
README_FIXED = (
    "# Demo\n\nInstall:\n\n```sh\npip install demo\n```\n\nRun it with `demo --help`, or test it with `pytest`.\n"
)
# Context lines of empty lines are a single space, written out so no editor strips them.
README_DIFF_ANSWER = "\n".join(
    [
        "The README now says how to run the tests.",
        "",
        "```diff",
        "--- a/README.md",
        "+++ b/README.md",
        "@@ -4,6 +4,6 @@ Install:",
        " ",
        " ```sh",
        " pip install demo",
        " ```",
        " ",
        "-Run it with `demo --help`.",
        "+Run it with `demo --help`, or test it with `pytest`.",
        "```",
        "",
    ]
)


def test_a_markdown_diff_with_a_fence_in_a_context_line_applies(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed
):
    # Given a Markdown file holding a code fence, and a model whose correct diff shows that fence
    # in its context lines
    bare = make_bare_repository(tmp_path / "git", {"README.md": README_WITH_A_FENCE})
    llm_endpoint_configured.reply(README_DIFF_ANSWER, usage=(1000, 100))

    # When the debug task runs
    task = run_task(
        local_repository_of(coder_user, bare), type="debug", title="Document the tests", prompt="README.md: add pytest"
    )

    # Then the whole diff applied and the change is on the task's branch
    assert task["status"] == "completed", task["errorMessage"]
    assert bare.show(f"async-coder/{task['id']}", "README.md") == README_FIXED
    # And the file reached the model inside a fence its own fence cannot close
    assert "````\n# Demo" in prompt_sent(llm_endpoint_configured)


GH013_HOOK = """#!/bin/sh
cat > /dev/null
echo "error: GH013: Repository rule violations found for refs/heads/async-coder." >&2
echo "Review all repository rules at https://github.com/octo/demo/rules?ref=refs%2Fheads%2Fasync-coder" >&2
echo "" >&2
echo "- Cannot create ref due to creations being restricted." >&2
exit 1
"""


def test_a_push_refused_by_the_host_keeps_its_reason(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed
):
    # Given a host whose pre-receive hook refuses the push with GitHub's GH013 rule-violation lines
    bare = make_bare_repository(tmp_path / "git")
    bare.install_hook("pre-receive", GH013_HOOK)
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))

    # When a debug task's change is pushed
    task = run_task(local_repository_of(coder_user, bare), type="debug", prompt="Fix login in src/auth/login.py")

    # Then the task failed with the host's own words, and no server path
    assert task["status"] == "failed"
    message = task["errorMessage"]
    assert message.startswith(f"Could not push branch async-coder/{task['id']}: git push failed:")
    assert "remote: error: GH013: Repository rule violations found" in message
    assert "remote: - Cannot create ref due to creations being restricted." in message
    assert "(pre-receive hook declined)" in message
    assert_no_server_path(message, tmp_path)
    assert_no_server_path(task["results"][0]["summary"], tmp_path)
    # And, the model having done its work, its tokens were charged (3 credits) and the rest refunded
    assert task["creditsUsed"] == 3 and balance(coder_user) == 97


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_hung_git_step_is_stopped_at_its_time_limit_with_everything_it_started(
    run_task, coder_user, llm_endpoint_configured, tmp_path, file_repositories_allowed, monkeypatch
):
    # Given a host whose pre-receive hook never finishes, and a 3 s limit per git step
    pid_file = tmp_path / "hook.pid"
    bare = make_bare_repository(tmp_path / "git")
    bare.install_hook("pre-receive", f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    monkeypatch.setattr(conf, "GIT_TIMEOUT_SECONDS", 3)
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(2500, 400))

    # When a debug task pushes
    started = time.monotonic()
    task = run_task(local_repository_of(coder_user, bare), type="debug", prompt="Fix login in src/auth/login.py")

    # Then the push is stopped at the limit and the task fails cleanly, charged as any failed push
    assert time.monotonic() - started < 20
    assert task["status"] == "failed"
    assert f"Could not push branch async-coder/{task['id']}: git push took longer than 3s" in task["errorMessage"]
    assert task["creditsUsed"] == 3 and balance(coder_user) == 97
    # And nothing the push started (the hook's process) is left running
    hook_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(hook_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(hook_pid)


# --- branches and pull requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "fields"),
    [("targetBranch", {"targetBranch": "release"}), ("branch", {"branch": "gone", "targetBranch": "main"})],
)
def test_a_branch_that_does_not_exist_is_refused_before_anything_is_charged(
    signed_in, coder_user, local_repository, ai_model, llm_endpoint_configured, field, fields
):
    # When a task names a branch the repository does not have
    body = {"repositoryId": str(local_repository.pk), "aiModelId": str(ai_model.pk), "title": "Fix",
            "prompt": "Fix login", "type": "debug", **fields}  # fmt: skip
    r = signed_in.post(TASKS, body, format="json")

    # Then it is a 400 in coder's envelope naming the field, and nothing was written or charged
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert r.json()["success"] is False and error["code"] == "VALIDATION_ERROR"
    assert error["details"] == {field: [f"Branch '{fields[field]}' does not exist in local/demo"]}
    assert not Task.objects.exists() and not CreditTransaction.objects.filter(type="debit").exists()
    assert balance(coder_user) == 100 and llm_endpoint_configured.requests == []


def test_a_repository_that_cannot_be_reached_is_refused_at_creation_without_server_paths(
    signed_in, coder_user, ai_model, tmp_path, file_repositories_allowed
):
    # Given a repository whose remote is gone
    repository = RepositoryFactory(user=coder_user, github_id=None, clone_url=(tmp_path / "gone.git").as_uri())

    body = {"repositoryId": str(repository.pk), "aiModelId": str(ai_model.pk), "title": "Fix", "prompt": "Fix",
            "type": "debug"}  # fmt: skip
    r = signed_in.post(TASKS, body, format="json")

    assert r.status_code == 502, r.json()
    message = r.json()["error"]["message"]
    assert message.startswith("The repository could not be reached: git ls-remote failed:")
    assert "does not appear to be a git repository" in message
    assert_no_server_path(message, tmp_path)
    assert not Task.objects.exists() and balance(coder_user) == 100


def test_a_pull_request_github_refuses_keeps_githubs_reason(
    run_task, coder_user, bare_repository, llm_endpoint_configured, github_connected, fake_github
):
    # Given a GitHub repository on which GitHub refuses to open the pull request
    repository = RepositoryFactory(user=coder_user, full_name="octo/demo", clone_url=bare_repository.url)
    fake_github.state.pull_request_refusal = (
        422,
        {"message": "Validation Failed", "errors": [
            {"resource": "PullRequest", "code": "custom", "message": "Pull request creation is restricted"}]},
    )  # fmt: skip
    llm_endpoint_configured.reply(LOGIN_FIX_ANSWER, usage=(1000, 200))

    task = run_task(repository, type="debug", prompt="Fix login in src/auth/login.py", targetBranch="main")

    # Then the change is on its branch, and the result says why there is no pull request, in GitHub's words
    assert task["status"] == "completed", task["errorMessage"]
    metadata = task["results"][0]["metadata"]
    assert metadata["pullRequestUrl"] is None
    assert metadata["pullRequestError"] == (
        "The branch was pushed but the pull request could not be opened: GitHub refused to open the pull request: "
        "Validation Failed; Pull request creation is restricted"
    )


def test_task_errors_never_show_server_paths(
    signed_in, coder_user, ai_model, llm_endpoint_configured, tmp_path, file_repositories_allowed,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # Given a task created on a branch that is deleted before its run clones it
    bare = make_bare_repository(tmp_path / "git", other_branches=("feature",))
    repository = local_repository_of(coder_user, bare)
    body = {"repositoryId": str(repository.pk), "aiModelId": str(ai_model.pk), "title": "Fix", "prompt": "Fix login",
            "type": "debug", "branch": "feature"}  # fmt: skip
    with django_capture_on_commit_callbacks() as run_once_committed:
        r = signed_in.post(TASKS, body, format="json")
    assert r.status_code == 201, r.json()
    bare.delete_branch("feature")

    # When the run happens
    for callback in run_once_committed:
        callback()

    # Then the error says what git said, but no path of the server
    task = task_detail(signed_in, r.json()["data"]["id"])
    assert task["status"] == "failed"
    assert task["errorMessage"].startswith("Could not clone branch feature: git clone failed:")
    assert "Remote branch feature not found in upstream origin" in task["errorMessage"]
    assert_no_server_path(task["errorMessage"], tmp_path)
    assert_no_server_path(task["results"][0]["summary"], tmp_path)
    assert balance(coder_user) == 100
