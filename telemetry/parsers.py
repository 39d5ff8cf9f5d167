"""JSON bodies parsed with orjson: a 1000-learning batch parses several times faster; checked as every
API's are (core.parsers). orjson refuses a lone surrogate itself (``"\\ud800"``, or such bytes), so
only the depth is left to check."""

from __future__ import annotations

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.parsers import JsonBodyError, checked_depth


class OrjsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return checked_depth(orjson.loads(stream.read()))
        except (orjson.JSONDecodeError, JsonBodyError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
