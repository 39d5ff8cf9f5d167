"""JSON bodies parsed with orjson: a 1000-learning batch parses several times faster; checked as every
API's are (core.parsers)."""

from __future__ import annotations

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.parsers import JsonBodyError, checked_json


class OrjsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return checked_json(orjson.loads(stream.read()))
        except (orjson.JSONDecodeError, JsonBodyError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
