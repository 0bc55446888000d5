import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    """A process's one-time costs at start, not in its first requests (a fresh process's first
    /plans/ cost ~590 ms of CPU, 166 ms after this): the URLconf imports every view and the
    API, `holidays` imports every country's module on the first calendar lookup, the base
    templates compile. No database query (safe before gunicorn forks its workers)."""
    from datetime import date

    from django.template.loader import get_template
    from django.urls import get_resolver

    from salesplan.planning import RUSSIAN_CALENDAR

    get_resolver().url_patterns  # noqa: B018 (importing the views is the point)
    today = date.today()
    RUSSIAN_CALENDAR.is_working_day(today)
    RUSSIAN_CALENDAR.is_working_day(date(today.year + 1, 1, 1))
    for name in ("base.html", "plans/list.html", "plans/detail.html"):
        get_template(name)


_warm_up()
