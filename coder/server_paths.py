"""Taking the server's own paths out of what a user is told about a task.

Git and the file system name the run's work folder, the server's checkout and local remotes in
their messages ("Cloning into '/tmp/async-coder-x1/repository'...", "failed to push some refs to
'file:///srv/mirrors/demo.git'"). ``task_settle`` passes every error it records through
``without_server_paths``: paths inside the run's checkout become repository-relative, the rest
become placeholders, and the useful words around them stay.
"""

from __future__ import annotations

import re

from coder import conf

_SEGMENT = r"[^\s'\"`:;,|()\[\]{}<>*?/]+"
_FILE_URL = re.compile(r"\bfile://[^\s'\"`<>)]*")
# The run's folder (``<tmp>/async-coder-<random>``) and the checkout in it, wherever the temp dir is.
_RUN_FOLDER = re.compile(
    rf"(?<![\w.:/~$<>@%+\\-])(?:/{_SEGMENT})*/{re.escape(conf.RUN_DIRECTORY_PREFIX)}{_SEGMENT}(?:/{re.escape(conf.CHECKOUT_DIRECTORY)})?"
    r"(?P<inside>/)?"
)
# Any other absolute path with a directory in it, unless it continues a word, a URL or a placeholder.
_ABSOLUTE_PATH = re.compile(rf"(?<![\w.:/~$<>@%+\\-])(?:/{_SEGMENT})+/{_SEGMENT}/?|(?<![\w.:/~$<>@%+\\-])/{_SEGMENT}/")


def without_server_paths(text: str) -> str:
    """``text`` with no path of the server in it (idempotent; repository-relative paths are kept)."""
    if not text or "/" not in text:
        return text
    text = _FILE_URL.sub("<local repository>", text)
    text = _RUN_FOLDER.sub(lambda match: "" if match.group("inside") else "<checkout>", text)
    return _ABSOLUTE_PATH.sub("<server path>", text)
