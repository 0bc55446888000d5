"""Deployment: the production values of .env.example pass `check --deploy`, a short SECRET_KEY
is refused in production, HTTPS settings come from the environment, the production image's
build steps hold, and gunicorn's access log carries no secret. Each runs Django in a child
process with exactly the environment it names (settings are read once per process)."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LONG_KEY = "k3y-" + "abcdefghij" * 5  # 54 characters, 14 different


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def run_django(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """`code` after django.setup() in a child process with only `env` (and a PATH)."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "salesplan.settings",
            "VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_env_example_values(tmp_path):
    # given the production values of .env.example, as docker compose passes them
    values = env_example()
    assert values["DEBUG"] == "0"
    # (and a key of one's own, as .env.example says: its placeholder is refused, below)
    values["SECRET_KEY"] = LONG_KEY
    # when Django's deployment checks run
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), **values},
        capture_output=True,
        text=True,
        timeout=180,
    )
    # then nothing is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_env_example_mentions_every_deployment_setting():
    names = set(env_example())
    assert {
        "SECRET_KEY_FALLBACKS",
        "TASKS_IN_THREAD",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    } <= names


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # the old .env.example value: 33 characters
        "a" * 60,  # long, but one character
        "django-insecure-" + "x1y2z3w4v5" * 5,  # Django's generated development key
        env_example()["SECRET_KEY"],  # .env.example's placeholder: public, however long
    ],
)
def test_a_weak_secret_key_is_refused_in_production(tmp_path, key):
    result = run_django("", tmp_path, DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be at least 50" in result.stderr


def test_a_long_key_starts_and_a_short_one_is_fine_in_development(tmp_path):
    production = run_django("", tmp_path, DEBUG="0", SECRET_KEY=LONG_KEY)
    assert production.returncode == 0, production.stderr
    development = run_django("", tmp_path, DEBUG="1", SECRET_KEY="short")
    assert development.returncode == 0, development.stderr


SHOW_HTTPS = (
    "from django.conf import settings as s; print(repr((s.SECURE_PROXY_SSL_HEADER, "
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_HSTS_PRELOAD)))"
)


def test_https_settings_default_to_safe_in_production_and_follow_the_environment(tmp_path):
    production = run_django(SHOW_HTTPS, tmp_path, DEBUG="0", SECRET_KEY=LONG_KEY)
    assert production.stdout.strip() == (
        "(('HTTP_X_FORWARDED_PROTO', 'https'), True, 31536000, True, False)"
    ), production.stderr
    development = run_django(SHOW_HTTPS, tmp_path, DEBUG="1")
    assert development.stdout.strip() == (
        "(('HTTP_X_FORWARDED_PROTO', 'https'), False, 0, False, False)"
    ), development.stderr
    chosen = run_django(
        SHOW_HTTPS,
        tmp_path,
        DEBUG="0",
        SECRET_KEY=LONG_KEY,
        SECURE_PROXY_SSL_HEADER="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        SECURE_HSTS_PRELOAD="1",
    )
    assert chosen.stdout.strip() == "(None, False, 3600, False, True)", chosen.stderr


@pytest.mark.django_db
def test_the_health_check_is_not_redirected_to_https(client, settings):
    # docker compose asks http://127.0.0.1:8000/healthz from inside the container
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/api/v1/me/").status_code == 301


def test_the_dockerfile_installs_gettext_and_builds_with_a_key_production_accepts(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    # compilemessages needs GNU gettext's msgfmt, which python:3.11-slim lacks
    assert re.search(r"apt-get install[^\n]*--no-install-recommends[^\n]*\bgettext\b", dockerfile)
    assert "compilemessages" in dockerfile
    keys = set(re.findall(r"SECRET_KEY=(\S+)", dockerfile))
    assert keys, "the build steps name their throwaway key"
    for key in keys:
        result = run_django("", tmp_path, DEBUG="0", SECRET_KEY=key)
        assert result.returncode == 0, (key, result.stderr)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_logs_no_webhook_secret_nor_invitation_token(tmp_path):
    # given gunicorn started as the image starts it (gunicorn.conf.py is read from the cwd)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "salesplan.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env={
                "PATH": os.environ["PATH"],
                "VAR_DIR": str(tmp_path),
                "DEBUG": "1",
                "TASKS_IN_THREAD": "0",
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        urls = [
            f"http://127.0.0.1:{port}/api/v1/integrations/amocrm/am0-s3cret-1/",
            f"http://127.0.0.1:{port}/api/v1/integrations/bitrix24/b24-s3cret-2/",
            f"http://127.0.0.1:{port}/invite/inv1te-t0ken-3/",
        ]
        deadline = time.monotonic() + 120
        answered: list[str] = []
        while len(answered) < len(urls) and time.monotonic() < deadline:
            url = urls[len(answered)]
            request = urllib.request.Request(
                url,
                data=b"x=1" if "integrations" in url else None,
                headers={"Referer": f"http://127.0.0.1:{port}/invite/ref-t0ken-4/"},
            )
            try:
                urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError:
                pass  # any answer is a line in the access log
            except OSError:  # not listening yet (URLError, ConnectionError, a timeout)
                time.sleep(0.2)
                continue
            answered.append(url)
        assert len(answered) == len(urls), log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # then every request is in the access log, masked, and no secret anywhere in the output
    text = log.read_text()
    assert '"POST /api/v1/integrations/amocrm/***/ HTTP/1.1"' in text, text
    assert '"POST /api/v1/integrations/bitrix24/***/ HTTP/1.1"' in text, text
    assert '"GET /invite/***/ HTTP/1.1"' in text, text
    for secret in ("am0-s3cret-1", "b24-s3cret-2", "inv1te-t0ken-3", "ref-t0ken-4"):
        assert secret not in text, text
