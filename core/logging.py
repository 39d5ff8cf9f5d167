"""JSON log lines carrying the request id.

Only what a caller passes is logged: never headers, query strings or client addresses. Extra
fields whose names look like credentials are masked as a second line of defence.

One record is one line, whatever the logged text holds: every character outside ASCII is written
as a JSON escape, so neither a newline nor U+0085, U+2028 or U+2029 (line breaks to
``str.splitlines`` and to many log readers) ever reaches the output raw.

Every request writes its access line, so the line is written by orjson (a quarter of a constant
answer's time in Django went to the standard library's encoder, docs/BENCHMARKS.md); a record that
orjson cannot write in ASCII, or at all (an integer beyond 64 bits), is written by the standard
library's encoder as before.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
from datetime import UTC, datetime

import orjson

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}
_SENSITIVE_NAMES = ("password", "secret", "token", "authorization", "api_key", "apikey", "cookie", "ip")


@functools.lru_cache(maxsize=1024)  # the names of extra fields, which code chooses
def _is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(
        part == lowered or lowered.endswith(f"_{part}") or lowered.startswith(f"{part}_") for part in _SENSITIVE_NAMES
    )


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for name, value in vars(record).items():
            if name in _STANDARD_ATTRIBUTES or name.startswith("_"):
                continue
            entry[name] = "[redacted]" if _is_sensitive(name) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _json_line(entry)


# Values orjson would write its own way are handed to ``default`` (str), as the standard library does.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_line(entry: dict) -> str:
    try:
        line = orjson.dumps(entry, default=str, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, say
        line = None
    if line is not None and line.isascii():
        return line.decode()
    return json.dumps(entry, default=str, ensure_ascii=True)
