"""Paths and file names: Unix, Windows, UNC, file:// URLs, relative paths, bare file names.

The whole path goes, file name included, except the part after an installed-library root
(see ``path_placeholder``).
"""

from __future__ import annotations

import re

from core.privacy.rules.base import Replacement, Replacer, Rule, whole

_FILE_EXTENSIONS = (
    "py|pyc|pyw|pyx|ipynb|js|mjs|cjs|jsx|ts|tsx|vue|svelte|java|kt|scala|rb|go|rs|c|cc|cpp|cxx|h|hpp|cs"
    "|swift|m|php|pl|lua|r|sh|bash|zsh|ps1|bat|cmd|json|jsonl|yaml|yml|toml|ini|cfg|conf|env|lock|txt|md"
    "|rst|csv|tsv|xml|html|htm|css|scss|sql|db|sqlite|sqlite3|log|pem|key|crt|p12|pfx|zip|tar|gz|whl"
    "|exe|dll|so|dylib|jar|docx?|xlsx?|pptx?|pdf|png|jpe?g|gif|svg"
)
# Well-known names that look like file names but are product names ("Node.js").
_NOT_FILE_NAMES = frozenset(
    {"node.js", "vue.js", "next.js", "nuxt.js", "react.js", "express.js", "angular.js", "d3.js",
     "three.js", "chart.js", "socket.io", "ember.js", "backbone.js", "deno.land", "nest.js", "p5.js"}
)  # fmt: skip

# One segment of a path; inner segments (followed by a separator) may hold single spaces
# ("/Users/Bob Smith/My Project/app.py"), the last one may not.
_UNIX_SEGMENT = r"[^\s/\\<>\"'`:;,|()\[\]{}*?]+"
_UNIX_INNER = rf"{_UNIX_SEGMENT}(?: {_UNIX_SEGMENT})*/"
_WIN_SEGMENT = r"[^\s/\\<>\"'`:;,|*?]+"
_WIN_INNER = rf"{_WIN_SEGMENT}(?: {{1,2}}{_WIN_SEGMENT})*\\"

_QUOTED_PATH = re.compile(
    r"(?P<quote>['\"])(?P<path>(?:[A-Za-z]:[\\/]|\\\\|~[/\\]|/|\.{1,2}[/\\]|file://)[^'\"\n<>]*)(?P=quote)"
)
_FILE_URL = re.compile(r"\bfile://[^\s'\"<>)]+")
_WINDOWS_PATH = re.compile(
    rf"(?=[A-Za-z]:\\|\\\\|%)(?<![\w])(?:[A-Za-z]:\\|\\\\[\w.$-]+\\)(?:{_WIN_INNER})*(?:{_WIN_SEGMENT})?|%(?:USERPROFILE|APPDATA|LOCALAPPDATA|HOMEPATH|TEMP)%(?:\\{_WIN_SEGMENT})*",
    re.IGNORECASE,
)
# Request lines ("GET /v1/me HTTP/1.1") hold URL paths, not file paths.
_NOT_AFTER_HTTP_METHOD = "(?<!GET )(?<!PUT )(?<!POST )(?<!HEAD )(?<!PATCH )(?<!DELETE )(?<!OPTIONS )"
_UNIX_PATH = re.compile(
    rf"(?=[/~.$])(?<![\w.:/\\<>@%+-])(?:"
    # Home and mount points may hold folder names with spaces ("/Users/Bob Smith/My Project/a.py").
    rf"/(?:Users|home|Volumes|mnt|media)/(?:{_UNIX_INNER})*(?:{_UNIX_SEGMENT})?"
    rf"|{_NOT_AFTER_HTTP_METHOD}(?:~[\w.-]*|\.{{1,2}})?/(?:{_UNIX_SEGMENT}/)+(?:{_UNIX_SEGMENT})?"
    rf"|(?:~|\$HOME|\$\{{HOME\}})(?=/|\b)(?:/{_UNIX_SEGMENT})*"
    rf"|/(?:home|Users|root|tmp|var|etc|opt|srv|mnt|private|Volumes|usr)\b/?(?:{_UNIX_SEGMENT})?"
    rf")"
)
# Both searched from ".ext" (a literal start is fast to search); the name before it is found by
# walking back over name characters, and over separators for a relative path.
_FILE_EXTENSION = re.compile(rf"\.(?:{_FILE_EXTENSIONS})\b(?![\w/\\.-])", re.IGNORECASE)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_PATH_CHARS = _NAME_CHARS | {"/", "\\"}
_NOT_BEFORE_NAME = frozenset("./\\<>:@%+-")


def _walk_back(text: str, position: int, allowed: frozenset) -> int:
    while position > 0 and text[position - 1] in allowed:
        position -= 1
    return position


def _relative_path(match: re.Match) -> list[Replacement] | None:
    text = match.string
    start = _walk_back(text, match.start(), _PATH_CHARS)
    while start < match.start() and text[start] in "./\\-":
        start += 1  # "./src/a.py" and "../a.py" start at the name
    candidate = text[start : match.end()]
    if "/" not in candidate and "\\" not in candidate:
        return None
    if start > 0 and text[start - 1] in _NOT_BEFORE_NAME | {"/", "\\"}:
        return None  # part of an absolute path or URL, which other rules judge
    if candidate[0] in "/\\" or "//" in candidate:
        return None
    return [(start, match.end(), path_placeholder(candidate))]


def _file_name(match: re.Match) -> list[Replacement] | None:
    text = match.string
    start = _walk_back(text, match.start(), _NAME_CHARS)
    while start < match.start() and text[start] in ".-":
        start += 1
    if start == match.start():
        return None
    if start > 0 and (text[start - 1] in _NOT_BEFORE_NAME or text[start - 1] in "/\\"):
        return None
    name = text[start : match.end()]
    if name.lower() in _NOT_FILE_NAMES:
        return None
    return [(start, match.end(), "<file>")]


_HOME_PREFIX = re.compile(
    r"(?i)^(?:~|\$HOME|\$\{HOME\}|/home/|/Users/|/root\b|%USERPROFILE%|%HOMEPATH%"
    r"|[A-Za-z]:[\\/](?:Users|Documents and Settings)[\\/])"
)
_LIBRARY_ROOT = re.compile(r"(?i)(?:^|[\\/])(?P<root>site-packages|dist-packages|node_modules)[\\/](?P<rest>.+)$")
_STDLIB_ROOT = re.compile(r"(?i)(?:^|[\\/])(?:lib[\\/]python\d(?:\.\d+)?t?|python\d{2,3}[\\/]lib)[\\/](?P<rest>.+)$")


def path_placeholder(path: str) -> str:
    """``<path>``, or ``<site-packages>/lib/file.py`` for a path inside an installed library."""
    library = _LIBRARY_ROOT.search(path)
    if library:
        rest = library.group("rest").replace("\\", "/")
        # pnpm and nested node_modules: keep from the innermost root.
        rest = rest.rsplit("/node_modules/", 1)[-1]
        return f"<{library.group('root').lower()}>/{rest}"
    stdlib = _STDLIB_ROOT.search(path)
    if stdlib:
        return f"<python>/{stdlib.group('rest').replace(chr(92), '/')}"
    return "<path>"


def _path_rule(default_name: str) -> Replacer:
    def replace(match: re.Match) -> list[Replacement] | None:
        group = "path" if "path" in match.re.groupindex else 0
        start, end = match.span(group)
        path = match.group(group)
        # Trailing sentence punctuation is not part of the path.
        while path and path[-1] in ".,":
            path, end = path[:-1], end - 1
        if len(path) < 2 or path in {"//", "/", "~"}:
            return None
        return [(start, end, path_placeholder(path))]

    return replace


def is_home_path(path: str) -> bool:
    return bool(_HOME_PREFIX.match(path))


def path_rules() -> list[Rule]:
    return [
        Rule(
            "quoted_path",
            _QUOTED_PATH,
            _path_rule("quoted_path"),
            'a quoted absolute path, spaces included (Python tracebacks: File "...")',
            ("/", "\\", "~"),
        ),
        Rule("file_url", _FILE_URL, whole("<path>"), "file:// URLs", ("file://",)),
        Rule(
            "windows_path",
            _WINDOWS_PATH,
            _path_rule("windows_path"),
            "C:\\..., \\\\server\\share\\... and %USERPROFILE%\\... paths",
            (":\\", "\\\\", "%"),
        ),
        Rule(
            "unix_path",
            _UNIX_PATH,
            _path_rule("unix_path"),
            "absolute, ~ and ./ paths with at least one directory",
            ("/", "~", "$home", "${home}"),
        ),
        Rule(
            "relative_path",
            _FILE_EXTENSION,
            _relative_path,
            "relative paths ending in a file name (src/app/handlers.py)",
            ("/", "\\"),
        ),
        Rule("file_name", _FILE_EXTENSION, _file_name, "bare file names with a known extension (settings.py)", (".",)),
    ]
