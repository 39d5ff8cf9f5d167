"""A local fake Kubo node: a real HTTP server on 127.0.0.1 answering the two RPC calls pinning uses.

- ``POST /api/v0/block/put``: reads the multipart file and answers ``{"Key": <CIDv1 raw sha2-256 of
  the bytes it received>, "Size": n}``, as Kubo does with ``cid-codec=raw&mhtype=sha2-256``.
- ``POST /api/v0/add``: reads the multipart file and answers one JSON line ``{"Name", "Hash",
  "Size"}``. The ``Hash`` stands in for the UnixFS root of a multi-block file: a CIDv1 ``dag-pb``
  sha2-256 CID derived from the bytes (not Kubo's real DAG, whose layout is not the fake's business;
  what matters here is that it differs from the raw CID of the whole file, as Kubo's does).

``mode``: ``"honest"``, ``"corrupt"`` (block/put answers the CID of other bytes), ``"error"``
(500 with Kubo's error body), ``"refuse"`` (400 with Kubo's error body). Every request is recorded
(path, query, bytes received).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from multiformats import CID, multihash

from core import storage


@dataclass
class ReceivedRequest:
    path: str
    query: dict[str, str]
    filename: str
    content: bytes
    authorization: str | None


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(handler.rfile.readline().strip(), 16)
            if size == 0:
                handler.rfile.readline()
                return body
            body += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length", 0)))


def _multipart_file(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The first file part of a multipart/form-data body: (filename, bytes)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        headers, _, content = part.partition(b"\r\n\r\n")
        disposition = next(
            (line for line in headers.split(b"\r\n") if line.lower().startswith(b"content-disposition")), b""
        )
        if b"filename=" in disposition:
            filename = disposition.split(b'filename="', 1)[1].split(b'"', 1)[0].decode()
            return filename, content.removesuffix(b"\r\n")
    raise ValueError("no file part")


def dag_pb_stand_in(content: bytes) -> str:
    return str(CID("base32", 1, "dag-pb", multihash.wrap(hashlib.sha256(b"unixfs:" + content).digest(), "sha2-256")))


class FakeKubo:
    def __init__(self) -> None:
        self.mode = "honest"
        self.requests: list[ReceivedRequest] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                url = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                filename, content = _multipart_file(self.headers["Content-Type"], _read_body(self))
                fake.requests.append(
                    ReceivedRequest(url.path, query, filename, content, self.headers.get("Authorization"))
                )
                if fake.mode == "error":
                    self._answer(
                        500, json.dumps({"Message": "blockstore is closed", "Code": 0, "Type": "error"}).encode()
                    )
                elif fake.mode == "refuse":
                    error = {"Message": "unrecognized option", "Code": 1, "Type": "error"}
                    self._answer(400, json.dumps(error).encode())
                elif url.path == "/api/v0/block/put":
                    key = storage.cid_for_bytes(content + (b"!" if fake.mode == "corrupt" else b""))
                    self._answer(200, json.dumps({"Key": key, "Size": len(content)}).encode())
                elif url.path == "/api/v0/add":
                    line = {"Name": filename, "Hash": dag_pb_stand_in(content), "Size": str(len(content) + 14)}
                    self._answer(200, json.dumps(line).encode() + b"\n", "application/x-ndjson")
                else:
                    self._answer(404, b"404 page not found", "text/plain")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKubo:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]
