"""deploy/nginx.conf rendered by deploy.proxy: routes, headers, limits, and a log without addresses."""

import re
import subprocess

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
    assert "client_max_body_size 50m;" in config


def test_access_log_has_no_client_address_and_no_query_string(proxy_settings):
    config = render_nginx_config(proxy_settings)

    log_format = config[config.index("log_format privacy") : config.index("access_log /dev/stdout privacy;")]
    assert "$remote_addr" not in log_format
    assert "$http_x_forwarded_for" not in log_format
    assert "$request " not in log_format and "$request_uri" not in log_format and "$args" not in log_format
    assert "$uri" in log_format
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
