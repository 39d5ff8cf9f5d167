"""Render deploy/nginx.conf from the environment and run nginx in the foreground.

    .venv/bin/python -m deploy.proxy            # the supervisord program `proxy` (deploy/supervisord.conf)
    .venv/bin/python -m deploy.proxy --check    # render, then `nginx -t` only

The rendered file goes to RUNTIME_DIR/nginx.conf ($VAR_DIR/nginx by default), beside nginx's pid
file and temporary files, so nothing outside VAR_DIR is written and no root-owned path is needed.

Before nginx starts routing, this waits until both application servers answer (any HTTP answer to
``/health``), so a stack that is still booting refuses connections instead of answering 502; and it
stops the workers a killed nginx master left behind (deploy.orphans), which would otherwise keep
the listening socket and the old configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import errors
from core.envelopes import ENVELOPES, PLATFORM, Envelope
from deploy import paths
from deploy.orphans import stop_orphans

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
# The largest body any API accepts (a 50 MB file upload and its multipart envelope, rounded up);
# each API enforces its own limit below it.
CLIENT_MAX_BODY_MEGABYTES = 51


@dataclass(frozen=True)
class ProxySettings:
    """Where nginx listens, where the two upstreams are, and where it keeps its files."""

    listen: str = "127.0.0.1:8000"
    wsgi_upstream: str = "127.0.0.1:8001"
    asgi_upstream: str = "127.0.0.1:8002"
    static_root: Path = paths.BASE_DIR / "var" / "static"
    runtime_dir: Path = paths.BASE_DIR / "var" / "nginx"
    # Seconds a REST answer may take before nginx gives up with a 504.
    read_timeout: int = 60
    # Load balancers in front of this nginx (addresses or CIDR ranges) whose X-Forwarded-For is
    # believed: the client's address is then the one they saw, not theirs (docs/scaling.md).
    real_ip_from: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ProxySettings:
        asgi = environ.get("ASGI_UPSTREAM") or (
            f"{environ.get('ASGI_HOST') or '127.0.0.1'}:{environ.get('ASGI_PORT') or '8002'}"
        )
        runtime_dir = environ.get("NGINX_RUNTIME_DIR")
        return cls(
            listen=environ.get("PROXY_LISTEN") or cls.listen,
            wsgi_upstream=environ.get("WSGI_BIND") or cls.wsgi_upstream,
            asgi_upstream=asgi,
            static_root=paths.static_root(environ),
            runtime_dir=Path(runtime_dir).resolve() if runtime_dir else paths.var_dir(environ) / "nginx",
            read_timeout=int(environ.get("PROXY_READ_TIMEOUT") or cls.read_timeout),
            real_ip_from=tuple(
                address.strip() for address in (environ.get("PROXY_REAL_IP_FROM") or "").split(",") if address.strip()
            ),
        )

    def placeholders(self) -> dict[str, str]:
        return {
            "PROXY_LISTEN": self.listen,
            "WSGI_UPSTREAM": self.wsgi_upstream,
            "ASGI_UPSTREAM": self.asgi_upstream,
            "STATIC_ROOT": str(self.static_root.resolve()).rstrip("/"),
            "RUNTIME_DIR": str(self.runtime_dir.resolve()),
            "PROXY_READ_TIMEOUT": f"{self.read_timeout}s",
            "CLIENT_MAX_BODY_SIZE": f"{CLIENT_MAX_BODY_MEGABYTES}m",
            "PROXY_ERROR_BODIES": proxy_error_bodies(),
            "PROXY_REAL_IP": self.real_ip_directives(),
        }

    def real_ip_directives(self) -> str:
        if not self.real_ip_from:
            return "# no load balancer in front (PROXY_REAL_IP_FROM unset): the peer is the client"
        lines = [f"set_real_ip_from {address};" for address in self.real_ip_from]
        lines += ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;"]
        return "\n    ".join(lines)


# --- Errors nginx answers itself, in the envelope of the API the path belongs to ------------------

# status -> (generic code, message). The upstream being down or slow is the service being
# unavailable to the client, whatever the status nginx reports; each envelope words the code its way.
PROXY_ERRORS: dict[int, tuple[str, str]] = {
    502: (errors.SERVICE_UNAVAILABLE.code, "The API server is not answering; retry in a few seconds"),
    504: (errors.SERVICE_UNAVAILABLE.code, "The API server did not answer in time"),
    413: (
        errors.PAYLOAD_TOO_LARGE.code,
        f"Request body too large: no API accepts more than {CLIENT_MAX_BODY_MEGABYTES} MB",
    ),
}
# nginx's time of the request stands in for the timestamp an envelope carries (marketplace).
_REQUEST_TIME = "$time_iso8601"


def _with_request_time(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: _REQUEST_TIME if key == "timestamp" else _with_request_time(value) for key, value in body.items()}
    return body


def proxy_error_body(envelope: Envelope, status: int) -> str:
    """The JSON body nginx sends for ``status`` on a path of ``envelope``'s API (nginx variables inside)."""
    code, message = PROXY_ERRORS[status]
    return json.dumps(_with_request_time(envelope.render_error(status, code, message)), separators=(",", ":"))


def _nginx_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def proxy_error_bodies() -> str:
    """nginx maps: the path's API (as core.envelopes.envelope_for_path chooses it), then one body per status."""
    lines = ["map $uri $platform_api {"]
    lines += [f"    ~^{re.escape(envelope.base_path.rstrip('/'))}(/|$) {envelope.name};" for envelope in ENVELOPES]
    lines += [f"    default {PLATFORM.name};", "}"]
    for status in PROXY_ERRORS:
        lines.append(f"map $platform_api $platform_error_{status} {{")
        lines += [f"    {envelope.name} {_nginx_string(proxy_error_body(envelope, status))};" for envelope in ENVELOPES]
        lines += [f"    default {_nginx_string(proxy_error_body(PLATFORM, status))};", "}"]
    return "\n    ".join(lines)


# --- Rendering ------------------------------------------------------------------------------------


def render_nginx_config(settings: ProxySettings) -> str:
    """The template with every ``${NAME}`` filled; an unknown name is an error, not a blank.

    Comment lines are copied as they are (they describe the placeholders by name).
    """
    values = settings.placeholders()

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"deploy/nginx.conf uses ${{{name}}}, which deploy.proxy does not know")
        return values[name]

    lines = TEMPLATE.read_text().splitlines(keepends=True)
    return "".join(line if line.lstrip().startswith("#") else _PLACEHOLDER.sub(fill, line) for line in lines)


def write_nginx_config(settings: ProxySettings) -> Path:
    """Render the config into the runtime directory (created if missing) and return its path."""
    settings.runtime_dir.mkdir(parents=True, exist_ok=True)
    path = settings.runtime_dir / "nginx.conf"
    path.write_text(render_nginx_config(settings))
    return path


def nginx_binary() -> str | None:
    return (
        os.environ.get("NGINX")
        or shutil.which("nginx")
        or next(
            (candidate for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(candidate).exists()),
            None,
        )
    )


def nginx_command(config_path: Path, *, check: bool = False) -> list[str]:
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (Debian/Ubuntu: apt-get install nginx-light)")
    command = [binary, "-p", str(config_path.parent), "-c", str(config_path), "-e", "stderr"]
    return [*command, "-t", "-q"] if check else [*command, "-g", "daemon off;"]


# --- Start-up: upstreams ready, no workers of a killed master left ----------------------------------


def upstream_answers(upstream: str, *, timeout: float = 5.0) -> bool:
    """True when the server at ``upstream`` (host:port or unix:/path) answers ``GET /health`` with any
    HTTP status: it is serving (a 503 from /health names a dependency that is down, which nginx
    cannot fix by waiting)."""
    if upstream.startswith("unix:"):
        family, address = socket.AF_UNIX, upstream.removeprefix("unix:")
    else:
        host, _, port = upstream.rpartition(":")
        family, address = socket.AF_INET, (host.strip("[]") or "127.0.0.1", int(port))
        if ":" in address[0]:
            family = socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(address)
            connection.sendall(b"GET /health HTTP/1.0\r\nHost: localhost\r\nX-Request-Id: proxy-start\r\n\r\n")
            return connection.recv(5) == b"HTTP/"
    except OSError:
        return False


def wait_for_upstreams(settings: ProxySettings, *, timeout: float) -> list[str]:
    """Wait up to ``timeout`` seconds for both upstreams to answer; return the ones that never did."""
    deadline = time.monotonic() + timeout
    waiting = [settings.wsgi_upstream, settings.asgi_upstream]
    while waiting:
        waiting = [upstream for upstream in waiting if not upstream_answers(upstream)]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    return waiting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="render and validate the config, then exit")
    parser.add_argument(
        "--wait",
        type=float,
        default=float(os.environ.get("PROXY_UPSTREAM_WAIT") or 120),
        help="seconds to wait for the upstreams to answer before nginx starts anyway (PROXY_UPSTREAM_WAIT, 120)",
    )
    args = parser.parse_args(argv)
    settings = ProxySettings.from_environment()
    config_path = write_nginx_config(settings)
    try:
        command = nginx_command(config_path, check=args.check)
    except FileNotFoundError as missing:
        sys.stderr.write(f"{missing}\n")
        return 1
    if not args.check:
        killed = stop_orphans(settings.runtime_dir / "nginx.pid", "nginx")
        if killed:
            sys.stderr.write(f"deploy.proxy: stopped {len(killed)} nginx worker(s) of a master that had died\n")
        silent = wait_for_upstreams(settings, timeout=args.wait)
        if silent:
            # Start anyway: clients get the API's own 502 instead of a refused connection.
            sys.stderr.write(f"deploy.proxy: no answer from {', '.join(silent)} after {args.wait:.0f}s; starting\n")
    # Replace this process so signals from the supervisor (QUIT on stop) reach nginx directly.
    os.execv(command[0], command)  # noqa: S606 - a fixed binary and arguments, no shell
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
