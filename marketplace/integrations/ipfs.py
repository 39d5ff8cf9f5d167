"""A Kubo (go-ipfs) node's RPC API, over httpx: the two calls pinning a stored file needs.

- ``block_put(content)``: ``POST /api/v0/block/put?cid-codec=raw&mhtype=sha2-256&pin=true`` with the
  bytes as a multipart file. The node stores them as one raw block and answers ``{"Key": cid}``:
  the CIDv1 (raw, sha2-256) of the bytes, which is exactly how the marketplace names a file. Kubo
  refuses blocks over 1 MiB (``RAW_BLOCK_MAX_BYTES``) unless told otherwise, so larger files go
  through ``add``.
- ``add(stream, name)``: ``POST /api/v0/add?cid-version=1&raw-leaves=true&pin=true``, streamed as
  a multipart file. The node chunks the file (256 KiB by default) into a UnixFS DAG and answers
  its root CID. For a file of more than one chunk that root is a ``dag-pb`` CID and differs from
  the marketplace's CID (the raw sha2-256 CID of the whole file); both name the same bytes.

Errors: ``IpfsNodeUnavailableError`` when the node cannot be reached, times out, or answers 5xx or
429 (worth trying again later); ``IpfsNodeRefusedError`` when it answers another error or an
answer that is not what the API documents (trying again would not help).
"""

from __future__ import annotations

from typing import IO

import httpx
import orjson
from multiformats import CID

from marketplace import conf

RAW_BLOCK_MAX_BYTES = 1024 * 1024


class IpfsNodeUnavailableError(Exception):
    """The node could not be reached or failed for now."""


class IpfsNodeRefusedError(Exception):
    """The node refused the request, or answered something that is not a CID."""


def _node_message(response: httpx.Response) -> str:
    # Kubo's errors are {"Message": ..., "Code": ..., "Type": "error"}.
    try:
        message = orjson.loads(response.content).get("Message", "")
    except (orjson.JSONDecodeError, AttributeError):
        message = ""
    return f"HTTP {response.status_code}" + (f": {message}" if message else "")


def _checked_cid(value) -> str:
    if not isinstance(value, str):
        raise IpfsNodeRefusedError("the node's answer names no CID")
    try:
        CID.decode(value)
    except (ValueError, KeyError, TypeError) as exc:
        raise IpfsNodeRefusedError(f"the node answered {value[:100]!r}, which is not a CID") from exc
    return value


class KuboClient:
    def __init__(self, base_url: str | None = None, *, authorization: str | None = None) -> None:
        self.base_url = (base_url if base_url is not None else conf.IPFS_API_URL).rstrip("/")
        auth = authorization if authorization is not None else conf.IPFS_API_AUTHORIZATION
        self.headers = {"Authorization": auth} if auth else {}
        self.timeout = httpx.Timeout(conf.IPFS_TIMEOUT_SECONDS, connect=conf.IPFS_CONNECT_TIMEOUT_SECONDS)

    def _post(self, command: str, params: dict, files: dict) -> httpx.Response:
        try:
            with httpx.Client(timeout=self.timeout, headers=self.headers) as client:
                response = client.post(f"{self.base_url}/api/v0/{command}", params=params, files=files)
        except httpx.HTTPError as exc:
            raise IpfsNodeUnavailableError(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise IpfsNodeUnavailableError(_node_message(response))
        if response.status_code != 200:
            raise IpfsNodeRefusedError(_node_message(response))
        return response

    def block_put(self, content: bytes) -> str:
        """Store and pin ``content`` as one raw block; the CID the node gives it."""
        params = {"cid-codec": "raw", "mhtype": "sha2-256", "pin": "true"}
        response = self._post("block/put", params, {"file": ("block", content, "application/octet-stream")})
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise IpfsNodeRefusedError("the node's answer is not JSON") from exc
        return _checked_cid(answer.get("Key") if isinstance(answer, dict) else None)

    def add(self, stream: IO[bytes], *, name: str) -> str:
        """Add and pin a file (streamed, never read whole); the root CID of the node's DAG."""
        params = {"cid-version": "1", "raw-leaves": "true", "pin": "true", "progress": "false"}
        response = self._post("add", params, {"file": (name, stream, "application/octet-stream")})
        # JSON Lines: one object per added entry; with one file and no wrapping directory, one line.
        root = None
        for line in response.content.splitlines():
            if line.strip():
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise IpfsNodeRefusedError("the node's answer is not JSON") from exc
                if isinstance(entry, dict) and "Hash" in entry:
                    root = entry["Hash"]
        return _checked_cid(root)


def same_cid(first: str, second: str) -> bool:
    """Whether two CIDs name the same thing, whatever base they are written in."""
    try:
        return CID.decode(first) == CID.decode(second)
    except (ValueError, KeyError, TypeError):
        return False
