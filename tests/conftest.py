"""Shared fixtures. Services (Redis + a Celery worker, Chromium) are real: a test that needs one
skips with the reason on a bare laptop, and fails instead when REQUIRE_SERVICES=1 (CI)."""

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from salesplan.celery import app as celery_app
from salesplan.models import Role
from tests import fuzzing
from tests.factories import PASSWORD, FunnelFactory, MembershipFactory, OrganizationFactory
from tests.workers import Workers

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


FUZZ_STARTED = pytest.StashKey[float]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FUZZ_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The fuzzers' counts (tests/fuzzing.py): requests tried and 5xx seen, per suite."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller sums them up
        return
    for line in fuzzing.summary(since=config.stash[FUZZ_STARTED]):
        terminalreporter.write_line(line)


def service_missing(reason: str) -> None:
    """Skip on a laptop without the service, fail in CI where it must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def clear_own_cache() -> None:
    """Forget this test process's cache entries (debounce marks, throttles) and nobody
    else's. `cache.clear()` on Redis is FLUSHDB: it would wipe the other parallel workers'
    keys and the Celery queues of a worker test running beside this one (their jobs vanished
    and their debounce marks with them: two flaky tests)."""
    from django.core.cache import cache

    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        cache.clear()  # local memory: this process's own
        return
    redis_client = client.get_client(write=True)
    keys = list(redis_client.scan_iter(match=cache.make_key("*"), count=1000))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # PBKDF2 costs ~0.3 s a user by design; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Rates no test reaches by accident (the throttles' counts live in the cache, shared by the
# tests of a process, and in CI by every worker through Redis); tests of throttling lower them.
UNTHROTTLED = "100000/minute"


@pytest.fixture(autouse=True)
def _api_throttles_out_of_reach(settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], UNTHROTTLED
        ),
    }


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # Django keeps the last request's language active in the thread: every test starts in
    # the default language (Russian), whatever the test before it asked for.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _webhooks_may_call_the_local_fakes(settings) -> None:
    """The fake receivers listen on 127.0.0.1: a test of the private-address guard turns it
    back off. (Worker processes started by tests read the environment variable.)"""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    os.environ["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = "1"


@pytest.fixture(autouse=True)
def _tasks_inline_by_default(settings) -> Iterator[None]:
    # Unit tests run tasks inline (not in the embedded default's background thread); the
    # `celery_worker` fixture switches to the real queue.
    settings.TASKS_IN_THREAD = False
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def organization():
    return OrganizationFactory(name="Acme")


@pytest.fixture
def make_member(organization):
    def make(role: str = Role.OWNER, org=None, **kwargs: Any):
        return MembershipFactory(organization=org or organization, role=role, **kwargs)

    return make


@pytest.fixture
def owner(make_member):
    return make_member(Role.OWNER)


@pytest.fixture
def head(make_member):
    """A head of sales of `organization` (who may plan, import and edit funnels)."""
    return make_member(Role.HEAD_OF_SALES)


@pytest.fixture
def funnel(organization):
    """The worked example's funnel (tests/worked_example.py) in `organization`."""
    return FunnelFactory(organization=organization, name="B2B")


@pytest.fixture
def funnel_id(funnel) -> int:
    return funnel.pk


@pytest.fixture
def api(api_for, head):
    """The head of sales' API client."""
    return api_for(head)


@pytest.fixture
def client_for(client):
    """A browser-like client signed in as a membership."""

    def sign_in(membership):
        client.force_login(membership.user)
        return client

    return sign_in


@pytest.fixture
def api_for():
    """An API client with a real token of the membership's user."""

    def make(membership) -> APIClient:
        api = APIClient()
        token, _ = Token.objects.get_or_create(user=membership.user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return make


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def redis_url() -> str:
    url = settings.REDIS_URL
    if not url:
        service_missing("REDIS_URL is not set, so there is no Redis to talk to")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        service_missing(f"Redis at {url} does not answer: {error}")
    return url


@pytest.fixture
def celery_workers(redis_url, transactional_db) -> Iterator[Workers]:
    """Real Celery worker processes on the test database and a queue of their own: start
    them with `.start()`, kill one with `.kill(process)`; all are stopped at the end."""
    with Workers(redis_url).routed() as workers:
        yield workers


@pytest.fixture
def celery_worker(celery_workers) -> subprocess.Popen:
    """A real Celery worker process on the test database and a queue of its own."""
    return celery_workers.start()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        service_missing(f"Chromium is not installed at {path} (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the same thread
    # (for fixtures) is safe here because nothing else runs concurrently on that loop.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
