"""Secrets: key blocks, tokens of the common providers, credentials in URLs and headers, values
of secret-named keys, and generic high-entropy strings."""

from __future__ import annotations

import math
import re
from collections import Counter

from core.privacy.rules.base import Replacement, Rule, group, secret, whole

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
    return [(match.start(), match.end(), secret("base64_secret"))]


def leading_rules() -> list[Rule]:
    """Shaped secrets and secret assignments: they run first."""
    rules: list[Rule] = [
        Rule(
            "private_key_block",
            _PRIVATE_KEY_BLOCK,
            whole(secret("private_key_block")),
            "PEM/OpenSSH/PGP private key blocks, up to END or the end of the text",
            ("private key",),
        ),
        Rule("jwt", _JWT, whole(secret("jwt")), "JSON Web Tokens (three base64url parts)", ("eyj",)),
        Rule(
            "url_credentials",
            _URL_CREDENTIALS,
            group("rest", "<credentials>@<host>"),
            "user:password@host in URLs (postgres://, redis://, https://); host and path go too",
            ("://",),
        ),
    ]
    for name, pattern, description, hints in _PROVIDER_TOKENS:
        rules.append(Rule(name, re.compile(pattern), whole(secret(name)), description, hints, word_start=True))
    rules += [
        Rule(
            "bearer_token",
            _AUTHORIZATION,
            group("value", secret("bearer_token")),
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
            group("value", "<redacted>"),
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
    ]
    return rules


def generic_rules() -> list[Rule]:
    """Card numbers and long hex/base64 strings: they run last, after everything with a shape."""
    return [
        Rule("credit_card", _CREDIT_CARD, _credit_card, "payment card numbers (Luhn-checked)", ()),
        Rule("hex_secret", _LONG_HEX, whole(secret("hex_secret")), "hex strings of 32+ digits", ()),
        Rule(
            "base64_secret",
            _LONG_BASE64,
            _long_base64,
            "high-entropy base64/base64url strings of 32+ characters",
            (),
        ),
    ]
