"""Render deploy/nginx.conf from the environment and run nginx in the foreground.

    .venv/bin/python -m deploy.proxy            # the Procfile's `proxy` process
    .venv/bin/python -m deploy.proxy --check    # render, then `nginx -t` only

The rendered file goes to RUNTIME_DIR/nginx.conf (var/nginx by default), beside nginx's pid file
and temporary files, so nothing outside the work tree is written and no root-owned path is needed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


@dataclass(frozen=True)
class ProxySettings:
    """Where nginx listens, where the two upstreams are, and where it keeps its files."""

    listen: str = "127.0.0.1:8000"
    wsgi_upstream: str = "127.0.0.1:8001"
    asgi_upstream: str = "127.0.0.1:8002"
    static_root: Path = BASE_DIR / "var" / "static"
    runtime_dir: Path = BASE_DIR / "var" / "nginx"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ProxySettings:
        defaults = cls()
        asgi = environ.get("ASGI_UPSTREAM") or (
            f"{environ.get('ASGI_HOST') or '127.0.0.1'}:{environ.get('ASGI_PORT') or '8002'}"
        )
        return cls(
            listen=environ.get("PROXY_LISTEN") or defaults.listen,
            wsgi_upstream=environ.get("WSGI_BIND") or defaults.wsgi_upstream,
            asgi_upstream=asgi,
            static_root=Path(environ.get("STATIC_ROOT") or defaults.static_root),
            runtime_dir=Path(environ.get("NGINX_RUNTIME_DIR") or defaults.runtime_dir),
        )

    def placeholders(self) -> dict[str, str]:
        return {
            "PROXY_LISTEN": self.listen,
            "WSGI_UPSTREAM": self.wsgi_upstream,
            "ASGI_UPSTREAM": self.asgi_upstream,
            "STATIC_ROOT": str(self.static_root.resolve()).rstrip("/"),
            "RUNTIME_DIR": str(self.runtime_dir.resolve()),
        }


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="render and validate the config, then exit")
    args = parser.parse_args(argv)
    config_path = write_nginx_config(ProxySettings.from_environment())
    try:
        command = nginx_command(config_path, check=args.check)
    except FileNotFoundError as missing:
        sys.stderr.write(f"{missing}\n")
        return 1
    # Replace this process so signals from honcho (TERM on shutdown) reach nginx directly.
    os.execv(command[0], command)  # noqa: S606 - a fixed binary and arguments, no shell
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
