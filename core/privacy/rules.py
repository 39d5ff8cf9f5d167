"""The named scrubbing rules, in priority order.

Every rule finds spans of the ORIGINAL text and says what each span becomes. The scrubber runs all
rules over the same text and resolves overlaps (see ``core.privacy.scrubber``), so a rule never
has to guard against another rule's placeholders and ``explain`` can report exact offsets.

Placeholders keep the shape of the line readable: ``<path>``, ``<file>``, ``<email>``, ``<ip>``,
``<user>``, ``<host>``, ``<credentials>``, ``<redacted>`` and ``<secret:RULE>`` for secrets, so a
reader can still tell *what kind* of thing was there.

Paths: the whole path is removed, file name included (the spec collects "no file names or
paths"), except that inside an installed-library root (``site-packages``, ``dist-packages``,
``node_modules``, the Python standard library) the part after the root is kept:
``/home/alice/.venv/lib/python3.12/site-packages/requests/adapters.py`` becomes
``<site-packages>/requests/adapters.py``. That part is public code, identical on every machine,
and it is what tells a maintainer which library failed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# A replacement: (start, end, text) in the original string. A rule returns None to skip a match.
Replacement = tuple[int, int, str]
Replacer = Callable[[re.Match], list[Replacement] | None]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    replace: Replacer
    description: str
    # Cheap pre-check: the rule runs only when one of these occurs in the lower-cased text.
    hints: tuple[str, ...] = field(default=())
    # The match must not continue a word (checked in code: a leading \\b in the pattern would
    # stop the regex engine from searching for the pattern's literal prefix).
    word_start: bool = False
    # The pattern is written in lower case and searched in the lower-cased text: much faster
    # than re.IGNORECASE on an alternation of words.
    lowered: bool = False


def _whole(placeholder: str) -> Replacer:
    def replace(match: re.Match) -> list[Replacement]:
        return [(match.start(), match.end(), placeholder)]

    return replace


def _group(group: str, placeholder: str) -> Replacer:
    """Replace one named group only, keeping the rest of the match (the key of key=value)."""

    def replace(match: re.Match) -> list[Replacement] | None:
        start, end = match.span(group)
        if start < 0 or start == end:
            return None
        value = match.group(group)
        if value.startswith("<") and value.endswith(">"):
            return None  # already a placeholder (text scrubbed twice stays the same)
        return [(start, end, placeholder)]

    return replace


def _secret(name: str) -> str:
    return f"<secret:{name}>"


# --- Secrets with a recognisable shape -------------------------------------------------------------

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.DOTALL,
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_URL_CREDENTIALS = re.compile(
    r"\b(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{1,20}://)(?P<rest>[^\s/@:'\"<>]*:[^\s/@'\"<>]*@[^\s'\"<>]*)"
)

_PROVIDER_TOKENS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (rule name, pattern, description, hints)
    ("aws_key", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b", "AWS access key id", ("a",)),
    ("github_token", r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})", "GitHub token", ("gh",)),
    ("gitlab_token", r"glpat-[A-Za-z0-9_-]{20,}", "GitLab personal access token", ("glpat-",)),
    ("slack_token", r"xox[abposre]-[A-Za-z0-9-]{10,}", "Slack token", ("xox",)),
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+",
        "Slack incoming-webhook URL",
        ("hooks.slack",),
    ),
    (
        "stripe_key",
        r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,}",
        "Stripe secret, restricted, publishable or webhook key",
        ("_live_", "_test_", "whsec_"),
    ),
    ("anthropic_key", r"sk-ant-[A-Za-z0-9_-]{20,}", "Anthropic API key", ("sk-ant-",)),
    ("openai_key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", "OpenAI API key", ("sk-",)),
    ("google_api_key", r"AIza[0-9A-Za-z_-]{35}", "Google API key", ("aiza",)),
    ("google_oauth_token", r"ya29\.[0-9A-Za-z_-]{20,}", "Google OAuth access token", ("ya29.",)),
    ("npm_token", r"npm_[A-Za-z0-9]{36}\b", "npm access token", ("npm_",)),
    ("pypi_token", r"pypi-[A-Za-z0-9_-]{50,}", "PyPI upload token", ("pypi-",)),
    ("huggingface_token", r"hf_[A-Za-z0-9]{30,}\b", "Hugging Face token", ("hf_",)),
    ("sendgrid_key", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{20,}", "SendGrid API key", ("sg.",)),
    ("twilio_key", r"SK[0-9a-f]{32}\b", "Twilio API key", ("sk",)),
    (
        "discord_webhook",
        r"https://discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]+",
        "Discord webhook",
        ("discord",),
    ),
)

_AUTHORIZATION = re.compile(
    r"\b(?P<scheme>bearer|basic|token|digest|apikey)(?P<sep>\s+|=)(?P<value>[A-Za-z0-9._~+/=-]{12,})"
)

# Keys whose value is a secret wherever they appear: KEY=value, KEY: value, "key": "value",
# {'key': 'value'}, --key value. The key must END with the sensitive word, so TokenError or
# token_count are not keys of a secret.
SENSITIVE_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|pass|secret|token|api_?key|apikey|access_?key|secret_?key"
    r"|private_?key|account_?key|auth_?key|signing_?key|encryption_?key|master_?key|client_?secret"
    r"|credentials?|cookie|session_?id|sessionid|authorization|auth|dsn|connection_?string"
)
# These words end a secret's key even glued to a prefix (csrftoken, xsrfcookie, dbpassword).
SENSITIVE_KEY_SUFFIXES = r"password|passwd|token|secret|apikey|cookie|sessionid"
_SENSITIVE_KEY_NAME = rf"(?:[\w.-]*[_.-])?(?:{SENSITIVE_KEY_WORDS})|[\w.-]*(?:{SENSITIVE_KEY_SUFFIXES})"
SENSITIVE_KEY = re.compile(rf"(?i)^(?:{_SENSITIVE_KEY_NAME})$")
# Found from the sensitive word (a literal alternation is fast to search); the rest of the key
# before it is checked in code (see _key_start) rather than by a backtracking pattern.
_PASSWORD_ASSIGNMENT = re.compile(
    rf"(?:{SENSITIVE_KEY_WORDS})(?![\w-])"
    r"(?P<quote1>['\"]?)(?P<sep>\s*[=:]\s*|\s+(?=['\"]))"
    r"(?P<value>'[^'\n]*'|\"[^\"\n]*\"|[^\s,;&'\"}\])]+)"
)
_PASSWORD_FLAG = re.compile(rf"(?<![\w-])--?(?:[\w-]*-)?(?:{SENSITIVE_KEY_WORDS})(?:=|\s+)(?P<value>[^\s-][^\s]*)")
_IDENTITY_ASSIGNMENT = re.compile(
    r"(?P<key>user|username|logname|login|hostname|computername|userdomain|host_name)"
    r"['\"]?\s*[=:]\s*(?P<value>'[^'\n]*'|\"[^\"\n]*\"|[^\s,;&'\"}\])]+)"
)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _key_start(text: str, position: int) -> int:
    """Where the key that ends with the word at ``position`` begins (walk back over [\\w.-])."""
    while position > 0 and text[position - 1] in _KEY_CHARS:
        position -= 1
    return position


def _value_span(match: re.Match) -> tuple[int, int, str] | None:
    start, end = match.span("value")
    value = match.group("value")
    if value[:1] in "'\"" and len(value) >= 2:
        start, end, value = start + 1, end - 1, value[1:-1]
    if not value or (value.startswith("<") and value.endswith(">")):
        return None
    return start, end, value


def _assignment_value(match: re.Match) -> list[Replacement] | None:
    text = match.string
    key_start = _key_start(text, match.start())
    if key_start > 0 and text[key_start - 1] == "<":
        return None  # inside a placeholder: <secret:...>
    if not SENSITIVE_KEY.match(text[key_start : match.start()] + match.group(0)[: _word_length(match)]):
        return None
    span = _value_span(match)
    if span is None:
        return None
    start, end, value = span
    if value.lower() in {"none", "null", "true", "false", "undefined", "***", "[redacted]", "[filtered]"}:
        return None
    if value.lower() in {"bearer", "basic", "token", "digest"}:
        return None  # "Authorization: Bearer <token>": the bearer_token rule takes the credential
    return [(start, end, "<redacted>")]


def _word_length(match: re.Match) -> int:
    return match.start("quote1") - match.start()


def _identity_value(match: re.Match) -> list[Replacement] | None:
    text = match.string
    before = text[match.start() - 1] if match.start() > 0 else " "
    if before in _KEY_CHARS or before == "<":
        return None
    span = _value_span(match)
    if span is None or span[2].lower() in {"none", "null"}:
        return None
    start, end, _ = span
    key = match.group("key").lower()
    placeholder = "<host>" if "host" in key or key in {"computername", "userdomain"} else "<user>"
    return [(start, end, placeholder)]


# --- Personal data ---------------------------------------------------------------------------------

# Searched from the "@" (fast), the local part is found by walking back.
_EMAIL = re.compile(r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
_EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")


def _email(match: re.Match) -> list[Replacement] | None:
    text, start = match.string, match.start()
    while start > 0 and text[start - 1] in _EMAIL_LOCAL_CHARS:
        start -= 1
    if start == match.start():
        return None  # "@decorator.name" or "user@" alone
    return [(start, match.end(), "<email>")]


# --- Paths -----------------------------------------------------------------------------------------

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


# --- Network addresses ----------------------------------------------------------------------------

_IPV4 = re.compile(
    r"(?=\d{1,3}\.)(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.]|\.\d)"
)
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?=[0-9A-Fa-f]{{0,4}}:)(?<![\w:.])(?:"
    rf"(?:{_H}:){{7}}{_H}"
    rf"|(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?"
    rf"|::(?:{_H}(?::{_H}){{0,6}})"
    rf"|(?:{_H}:){{1,6}}(?::{_H}){{1,6}}"
    rf")(?:%[\w.]+)?(?![\w:])"
)
_MAC = re.compile(r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])")

# Loopback and unspecified addresses say nothing about anyone and are useful ("connection
# refused to 127.0.0.1:6379"), so they stay.
_KEPT_ADDRESSES = frozenset({"127.0.0.1", "0.0.0.0", "::1", "::", "255.255.255.255"})  # noqa: S104


def _ipv4(match: re.Match) -> list[Replacement] | None:
    if match.group(0) in _KEPT_ADDRESSES or match.group(0).startswith("127."):
        return None
    return [(match.start(), match.end(), "<ip>")]


def _ipv6(match: re.Match) -> list[Replacement] | None:
    address = match.group(0)
    if address in _KEPT_ADDRESSES or not any(ch.isdigit() for ch in address):
        return None  # "::" alone, or C++/Rust scopes made of hex-looking letters ("add::feed")
    if address.count(":") < 2 or (":" in address and "::" not in address and address.count(":") < 7):
        return None
    return [(match.start(), match.end(), "<ip>")]


# --- Generic secrets -------------------------------------------------------------------------------

_CREDIT_CARD = re.compile(r"(?<![\w-])[3-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\w-])")
_LONG_HEX = re.compile(r"(?<![\w-])(?:0x)?[0-9a-fA-F]{32,}(?![\w-])")
_LONG_BASE64 = re.compile(r"(?<![\w+/=.-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w+/=-])")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _credit_card(match: re.Match) -> list[Replacement] | None:
    digits = re.sub(r"[ -]", "", match.group(0))
    if not 13 <= len(digits) <= 19 or not _luhn_valid(digits):
        return None
    return [(match.start(), match.end(), "<redacted>")]


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    length = len(text)
    return -sum(count / length * math.log2(count / length) for count in counts.values())


def _long_base64(match: re.Match) -> list[Replacement] | None:
    token = match.group(0).rstrip("=")
    has_digit = any(ch.isdigit() for ch in token)
    has_upper = any(ch.isupper() for ch in token)
    has_lower = any(ch.islower() for ch in token)
    if not (has_digit and has_upper and has_lower):
        return None
    # Identifiers made of words (snake_case or kebab-case with a version number) are not keys.
    if re.fullmatch(r"[A-Za-z]+(?:[_-][A-Za-z0-9]+)+", token) and not re.search(r"[A-Za-z0-9]{20}", token):
        return None
    if shannon_entropy(token) < 4.0:
        return None
    return [(match.start(), match.end(), _secret("base64_secret"))]


# --- The rule table ------------------------------------------------------------------------------------


def _build_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = [
        Rule(
            "private_key_block",
            _PRIVATE_KEY_BLOCK,
            _whole(_secret("private_key_block")),
            "PEM/OpenSSH/PGP private key blocks, up to END or the end of the text",
            ("private key",),
        ),
        Rule("jwt", _JWT, _whole(_secret("jwt")), "JSON Web Tokens (three base64url parts)", ("eyj",)),
        Rule(
            "url_credentials",
            _URL_CREDENTIALS,
            _group("rest", "<credentials>@<host>"),
            "user:password@host in URLs (postgres://, redis://, https://); host and path go too",
            ("://",),
        ),
    ]
    for name, pattern, description, hints in _PROVIDER_TOKENS:
        rules.append(Rule(name, re.compile(pattern), _whole(_secret(name)), description, hints, word_start=True))
    rules += [
        Rule(
            "bearer_token",
            _AUTHORIZATION,
            _group("value", _secret("bearer_token")),
            "Authorization values: Bearer/Basic/Token/Digest credentials",
            ("bearer", "basic", "token", "digest", "apikey"),
            lowered=True,
        ),
        Rule(
            "password_assignment",
            _PASSWORD_ASSIGNMENT,
            _assignment_value,
            "values of secret-named keys: PASSWORD=..., api_key: ..., {'token': '...'}",
            ("pass", "pwd", "secret", "token", "key", "credential", "cookie", "session", "auth", "dsn", "connection"),
            lowered=True,
        ),
        Rule(
            "password_flag",
            _PASSWORD_FLAG,
            _group("value", "<redacted>"),
            "command-line flags like --password hunter2 or -p=...",
            ("-",),
            lowered=True,
        ),
        Rule(
            "identity_assignment",
            _IDENTITY_ASSIGNMENT,
            _identity_value,
            "USER=, USERNAME=, LOGNAME=, HOSTNAME=, COMPUTERNAME= values (environment dumps)",
            ("user", "logname", "login", "host", "computername", "userdomain"),
            lowered=True,
        ),
        Rule("email", _EMAIL, _email, "e-mail addresses", ("@",)),
        Rule(
            "quoted_path",
            _QUOTED_PATH,
            _path_rule("quoted_path"),
            'a quoted absolute path, spaces included (Python tracebacks: File "...")',
            ("/", "\\", "~"),
        ),
        Rule("file_url", _FILE_URL, _whole("<path>"), "file:// URLs", ("file://",)),
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
        Rule("ipv4", _IPV4, _ipv4, "IPv4 addresses (loopback and 0.0.0.0 kept)", (".",)),
        Rule("ipv6", _IPV6, _ipv6, "IPv6 addresses (::1 kept)", (":",)),
        Rule("mac_address", _MAC, _whole("<mac>"), "hardware (MAC) addresses", (":", "-")),
        Rule("credit_card", _CREDIT_CARD, _credit_card, "payment card numbers (Luhn-checked)", ()),
        Rule("hex_secret", _LONG_HEX, _whole(_secret("hex_secret")), "hex strings of 32+ digits", ()),
        Rule(
            "base64_secret",
            _LONG_BASE64,
            _long_base64,
            "high-entropy base64/base64url strings of 32+ characters",
            (),
        ),
    ]
    return tuple(rules)


RULES: tuple[Rule, ...] = _build_rules()
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# The rule that a path replacement is reported under, refined by what the path looks like.
PATH_RULES = frozenset({"quoted_path", "windows_path", "unix_path", "relative_path", "file_url"})
