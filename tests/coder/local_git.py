"""A real git repository on disk, served as a bare ``file://`` remote, for task runs in tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOGIN_PY = '''def login(user, password):
    """Sign a user in."""
    if user is None:
        return False
    return user.password = password
'''

LOGIN_PY_FIXED = '''def login(user, password):
    """Sign a user in."""
    if user is None:
        return False
    return user.password == password
'''

FILES = {
    "README.md": "# Demo app\n\nA tiny app with an authentication module.\n",
    "src/auth/login.py": LOGIN_PY,
    "src/utils/numbers.py": "def add(a, b):\n    return a + b\n",
    "docs/notes.txt": "Nothing about the task here.\n",
}

# What a model answers for "fix the login comparison": prose, then one fenced unified diff.
LOGIN_FIX_ANSWER = """The login check assigned the password instead of comparing it; it now compares with ==.

```diff
--- a/src/auth/login.py
+++ b/src/auth/login.py
@@ -2,4 +2,4 @@ def login(user, password):
     \"\"\"Sign a user in.\"\"\"
     if user is None:
         return False
-    return user.password = password
+    return user.password == password
```
"""


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=30
    ).stdout


@dataclass(frozen=True)
class BareRepository:
    path: Path

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def branches(self) -> list[str]:
        output = git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=self.path)
        return sorted(output.split())

    def show(self, ref: str, path: str) -> str:
        return git("show", f"{ref}:{path}", cwd=self.path)

    def log_message(self, ref: str) -> str:
        return git("log", "-1", "--format=%B", ref, cwd=self.path)

    def delete_branch(self, name: str) -> None:
        git("update-ref", "-d", f"refs/heads/{name}", cwd=self.path)

    def install_hook(self, name: str, script: str) -> None:
        """An executable hook of this (receiving) repository, e.g. ``pre-receive``."""
        hook = self.path / "hooks" / name
        hook.write_text(script)
        hook.chmod(0o755)


def make_bare_repository(
    root: Path,
    files: dict[str, str | bytes] | None = None,
    branch: str = "main",
    *,
    symlinks: dict[str, str] | None = None,
    other_branches: tuple[str, ...] = (),
) -> BareRepository:
    """A bare repository at ``root/remote.git``: ``files`` (path: text or bytes) and ``symlinks`` (path:
    target, committed as links) on ``branch``, with ``other_branches`` pointing at the same commit."""
    work = root / "work"
    work.mkdir(parents=True)
    git("init", "-q", "-b", branch, cwd=work)
    for relative, content in (files or FILES).items():
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    for relative, link_target in (symlinks or {}).items():
        link = work / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_target)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "Initial commit", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", "Second commit", cwd=work)
    for name in other_branches:
        git("branch", name, cwd=work)
    bare = root / "remote.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return BareRepository(path=bare)
