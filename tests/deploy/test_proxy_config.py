"""deploy/nginx.conf rendered by deploy.proxy: routes, headers, limits, and a log without addresses."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import proxy
from deploy.proxy import ProxySettings, nginx_command, render_nginx_config, write_nginx_config


@pytest.fixture
def proxy_settings(tmp_path):
    return ProxySettings(
        listen="127.0.0.1:18080",
        wsgi_upstream="127.0.0.1:18081",
        asgi_upstream="unix:/run/platform/asgi.sock",
        static_root=tmp_path / "static",
        runtime_dir=tmp_path / "nginx",
    )


def _location(config: str, pattern: str) -> str:
    start = config.index(f"location {pattern} {{")
    return config[start : config.index("}", start)]


def test_every_placeholder_is_filled(proxy_settings, tmp_path):
    config = render_nginx_config(proxy_settings)

    code = "\n".join(line for line in config.splitlines() if not line.lstrip().startswith("#"))
    assert "${" not in code
    assert "listen 127.0.0.1:18080 default_server;" in code
    assert "server 127.0.0.1:18081 fail_timeout=0;" in code
    assert "server unix:/run/platform/asgi.sock fail_timeout=0;" in code
    assert f"alias {tmp_path / 'static'}/;" in code
    assert f"pid {tmp_path / 'nginx'}/nginx.pid;" in code


def test_websockets_and_the_chat_stream_go_to_asgi_and_the_rest_to_wsgi(proxy_settings):
    config = render_nginx_config(proxy_settings)

    websockets = _location(config, "~ ^/(coder|marketplace)/ws/?$")
    assert "proxy_pass http://asgi;" in websockets
    assert "proxy_read_timeout 3600s;" in websockets
    chat = _location(config, "~ ^/cerebro/api/chat/?$")
    assert "proxy_pass http://asgi;" in chat
    assert "proxy_buffering off;" in chat
    resumed = _location(config, "~ ^/cerebro/api/chat/[0-9a-fA-F-]+/stream/?$")
    assert "proxy_pass http://asgi;" in resumed
    assert "proxy_buffering off;" in resumed
    assert "proxy_pass http://wsgi;" in _location(config, "/")
    # Upgrade and forwarding headers are set once, at server level, so no location drops them
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header Connection $connection_upgrade;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    for location in re.findall(r"^\s*location [^{]+\{[^}]*\}", config, re.MULTILINE):
        assert "proxy_set_header" not in location
    assert "client_max_body_size 51m;" in config


def test_access_log_has_no_client_address_and_no_query_string(proxy_settings):
    config = render_nginx_config(proxy_settings)

    log_format = config[config.index("log_format privacy") : config.index("access_log /dev/stdout privacy;")]
    assert "$remote_addr" not in log_format
    assert "$http_x_forwarded_for" not in log_format
    assert "$request " not in log_format and "$request_uri" not in log_format and "$args" not in log_format
    # the path comes from $request_uri cut at the query string
    assert '"path":"$platform_log_path"' in log_format
    assert "(?<printable_path>[!->@-~]*)(\\?|$)" in config
    assert "error_log stderr crit;" in config


def test_an_unknown_placeholder_is_an_error(proxy_settings, tmp_path, monkeypatch):
    template = tmp_path / "nginx.conf"
    template.write_text("# ${ANYTHING} in a comment is fine\nlisten ${PROXY_LISTEN};\nroot ${DOCUMENT_ROOT};\n")
    monkeypatch.setattr(proxy, "TEMPLATE", template)

    with pytest.raises(KeyError, match="DOCUMENT_ROOT"):
        render_nginx_config(proxy_settings)


def test_settings_come_from_the_environment():
    settings = ProxySettings.from_environment(
        {"PROXY_LISTEN": "0.0.0.0:80", "WSGI_BIND": "unix:/run/wsgi.sock", "ASGI_HOST": "10.0.0.5", "ASGI_PORT": "9000"}
    )

    assert (settings.listen, settings.wsgi_upstream, settings.asgi_upstream) == (
        "0.0.0.0:80",
        "unix:/run/wsgi.sock",
        "10.0.0.5:9000",
    )
    assert ProxySettings.from_environment({}) == ProxySettings()


@pytest.mark.tool("nginx")
def test_nginx_accepts_the_rendered_config(proxy_settings):
    path = write_nginx_config(proxy_settings)

    checked = subprocess.run(nginx_command(path, check=True), capture_output=True, text=True, check=False)

    assert checked.returncode == 0, checked.stderr


def test_var_dir_moves_nginx_static_root_and_runtime_files_where_django_puts_them(tmp_path):
    # Given a VAR_DIR outside the checkout
    environ = {**os.environ, "VAR_DIR": str(tmp_path / "runtime")}
    environ.pop("STATIC_ROOT", None)

    # When nginx's settings and Django's are read from it
    proxy_settings = ProxySettings.from_environment(environ)
    django_static_root = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.STATIC_ROOT)"],
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    # Then nginx serves /static/ from where collectstatic writes, and keeps its files there too
    assert proxy_settings.static_root == Path(django_static_root) == tmp_path / "runtime" / "static"
    assert proxy_settings.runtime_dir == tmp_path / "runtime" / "nginx"
    assert f"alias {tmp_path / 'runtime' / 'static'}/;" in render_nginx_config(proxy_settings)


def test_a_request_id_nginx_passes_on_and_logs_has_the_form_the_application_accepts(proxy_settings):
    config = render_nginx_config(proxy_settings)

    start = config.index("map $http_x_request_id $platform_request_id {")
    request_id_map = config[start : config.index("\n    }", start)]
    assert '"~^[A-Za-z0-9._-]{1,64}$" $http_x_request_id;' in request_id_map
    assert "default $request_id;" in request_id_map


def test_load_balancers_in_front_are_believed_only_when_named(proxy_settings):
    alone = render_nginx_config(proxy_settings)
    behind = render_nginx_config(
        ProxySettings.from_environment({"PROXY_REAL_IP_FROM": "10.0.0.0/8, 192.0.2.7", "VAR_DIR": "/srv/var"})
    )

    directives = [line.strip() for line in alone.splitlines() if not line.strip().startswith("#")]
    assert not [line for line in directives if line.startswith(("set_real_ip_from", "real_ip_header"))]
    assert "set_real_ip_from 10.0.0.0/8;" in behind and "set_real_ip_from 192.0.2.7;" in behind
    assert "real_ip_header X-Forwarded-For;" in behind and "real_ip_recursive on;" in behind


@pytest.mark.tool("nginx")
def test_nginx_accepts_the_config_behind_load_balancers(tmp_path):
    settings = ProxySettings(
        static_root=tmp_path / "static", runtime_dir=tmp_path / "nginx", real_ip_from=("10.0.0.0/8",)
    )

    checked = subprocess.run(
        nginx_command(write_nginx_config(settings), check=True), capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stderr
