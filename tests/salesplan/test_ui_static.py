"""Static files in production (DEBUG off): hashed names from the manifest storage, served by
whitenoise with a cache header of a year or more and `immutable` (issue 12: plotly.js on every
chart page), so a browser fetches the chart bundle once per release."""

import shutil

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

pytestmark = pytest.mark.django_db

YEAR = 31_536_000


@pytest.fixture
def collected(settings, tmp_path):
    """The production storage over a small copy of static/ (the real stylesheet and charts.js;
    compressing the 4.8 MB plotly.js too would cost the test seconds)."""
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "js").mkdir()
    shutil.copy(settings.BASE_DIR / "static" / "css" / "app.css", source / "css" / "app.css")
    shutil.copy(settings.BASE_DIR / "static" / "js" / "charts.js", source / "js" / "charts.js")
    settings.DEBUG = False
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings


def test_a_hashed_asset_is_cached_for_a_year_and_immutable(collected):
    # given the stylesheet's URL as a page links it: a hashed name
    url = static("css/app.css")
    assert url != "/static/css/app.css" and url.startswith("/static/css/app.")
    # when a browser fetches it (a client made now: whitenoise reads STATIC_ROOT at start-up)
    response = Client().get(url)
    # then it may keep it for a year or more without asking again
    assert response.status_code == 200
    cache = dict(part.strip().partition("=")[::2] for part in response["Cache-Control"].split(","))
    assert "immutable" in cache and "public" in cache
    assert int(cache["max-age"]) >= YEAR


def test_an_unhashed_name_is_not_cached_forever(collected):
    # the unhashed copy (a link from outside the app) may change with the next release
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
