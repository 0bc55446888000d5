"""Hypothesis over the pages' forms: every page of the URL conf is opened (as the owner, and
signed out), every POST form on it is read (its action and its fields' names and kinds), and
each form is posted with generated values — text huge, unicode or with NUL, numbers NaN, inf or
huge, dates of year 1 or 9999, several values for one field, fields missing — never a 5xx.
Requests and 5xx are counted (tests/fuzzing.py): the session's summary prints "page forms: N
requests, 0 5xx"."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from salesplan.models import Invitation, Role
from tests.factories import MembershipFactory
from tests.fuzzing import Tally, build_world

TALLY = Tally("page forms")
# Examples per form: each is one POST; about 40 forms stay within a minute or so.
EXAMPLES_PER_FORM = 8
# Not pages of ours, or posting there ends the session the other forms need.
SKIPPED_PREFIXES = ("admin/", "api/", "i18n/", "healthz", "logout/")


# The fields of the POST-only routes no page shows a form for.
POST_ONLY_FIELDS = {"organization_switch": {"organization": "number"}}


@pytest.fixture(scope="module", autouse=True)
def _save_tally():
    yield
    TALLY.save()


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name → kind (input type, select…)
    options: dict[str, list[str]] = field(default_factory=dict)


class FormParser(HTMLParser):
    """The POST forms of a page: action, field names, their kinds and a select's options."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.current = None
            if values.get("method", "get").lower() == "post":
                self.current = Form(action=urljoin(self.page, values.get("action") or self.page))
                self.forms.append(self.current)
            if values.get("hx-post"):  # htmx posts the same fields there (e.g. a preview)
                form = Form(action=urljoin(self.page, values["hx-post"]))
                if self.current is not None:  # one set of fields for both
                    form.fields, form.options = self.current.fields, self.current.options
                self.current = self.current or form
                self.forms.append(form)
            return
        form, name = self.current, values.get("name")
        if form is None or not name or name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            form.fields[name] = values.get("type", "text").lower()
            if "value" in values:
                form.options.setdefault(name, []).append(values["value"])
        elif tag == "textarea":
            form.fields[name] = "text"
        elif tag == "select":
            form.fields[name] = "select"
            self.select = name
        elif tag == "option" and self.select:
            form.options.setdefault(self.select, []).append(values.get("value", ""))
        elif tag == "button" and "value" in values:
            form.fields[name] = "submit"
            form.options.setdefault(name, []).append(values["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every page route of the URL conf: (route, pattern)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not route.startswith(SKIPPED_PREFIXES):
            yield route, pattern


PAGES = sorted(pattern.name for _, pattern in routes() if pattern.name)


def page_url(name: str, ids: dict[str, Any]) -> str:
    """The page's address with the world's objects in it (the first segment names the kind)."""
    route = next(route for route, pattern in routes() if pattern.name == name)
    first = route.split("/")[0]
    kinds = {
        "plans": ids["plans"],
        "funnels": ids["funnels"],
        "imports": ids["imports"],
        "settings/calendar": ids["calendar-days"],
        "settings/integrations/records": ids["webhook-records"],
        "settings/integrations": ids["bitrix24-integration"],
    }
    value = next((v for k, v in kinds.items() if route.startswith(k + "/")), None)
    url = "/" + route
    for parameter in ("<int:pk>", "<int:plan_id>"):
        url = url.replace(parameter, str(value if value is not None else 1))
    url = url.replace("<int:number>", "1")
    for parameter in ("<str:token>", "<uidb64>", "<token>"):
        url = url.replace(parameter, "x" if first != "invite" else ids.get("invitation", "x"))
    return url


# --- values -------------------------------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "x" * 100_000,
        "Ω≈ç√∫˜µ≤≥÷ 𝕏 🙂 ‮",
        "<script>alert(1)</script>",
        "'; DROP TABLE plans; --",
        '"quoted"',
        "=cmd|' /C calc'!A0",
    ]
)
NUMBERS = st.one_of(
    st.sampled_from(
        [
            *("NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400", "-0", "0"),
            *("99999999999999999999999999", "-99999999999999999999", "1,5", "1 000,50"),
            "1.2.3",
        ]
    ),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
DATES = st.one_of(
    st.sampled_from(
        [
            *("0001-01-01", "9999-12-31", "10000-01-01", "0000-00-00", "2024-02-30"),
            *("2024-13-01", "9999-12", "0001-01", "2024-W53", "31.12.9999", "01.01.0001"),
        ]
    ),
    st.dates().map(str),
)
# Any text a browser can send (lone surrogates cannot be encoded, so no client sends them).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
ANY = st.one_of(NASTY_TEXT, NUMBERS, DATES, TEXT)


def value_for(kind: str, options: list[str]) -> st.SearchStrategy[Any]:
    typed = {"number": NUMBERS, "date": DATES, "month": DATES, "datetime-local": DATES}.get(kind)
    choices = st.sampled_from(options) if options else st.nothing()
    one = st.one_of(choices, typed if typed is not None else st.nothing(), ANY)
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))  # a field sent several times


def data_for(form: Form) -> st.SearchStrategy[dict[str, Any]]:
    """Every field a value (files aside), each maybe left out; fields of any names for a form
    whose fields are not known ("*")."""
    if "*" in form.fields:
        return st.dictionaries(TEXT.filter(bool), value_for("any", []), max_size=4)
    return st.fixed_dictionaries(
        {},
        optional={
            name: value_for(kind, form.options.get(name, []))
            for name, kind in form.fields.items()
            if kind != "file"
        },
    )


# --- the test -----------------------------------------------------------------------------


def forms_on(client: Client, url: str) -> list[Form]:
    response = client.get(url)
    TALLY.saw(f"GET {url}", response.status_code)
    assert response.status_code < 500, url
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = FormParser(url)
    parser.feed(response.content.decode())
    return [form for form in parser.forms if urlsplit(form.action).netloc in ("", "testserver")]


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("signed_in", [True, False], ids=["owner", "anonymous"])
def test_page_forms_never_answer_5xx(page, signed_in):
    # given the world, the page's POST forms as the owner (or signed out) sees them
    world = page_world() if signed_in else {"ids": defaultdict(lambda: 1)}
    if not signed_in:  # the invitation page's form is for a person signed out
        owner = MembershipFactory(role=Role.OWNER)
        world["ids"]["invitation"] = invitation_token(owner)
    client = Client()
    if signed_in:
        client.force_login(world["owner"].user)
    url = page_url(page, world["ids"])
    forms = forms_on(client, url)
    if not forms and client.get(url).status_code == 405:
        # A route that only takes POSTs and no page of this world shows a form for (e.g. run
        # an import again, for a failed import): posted with the fields it reads, if known,
        # else with any fields of any names.
        forms = [Form(action=url, fields=POST_ONLY_FIELDS.get(page, {"*": "any"}))]

    for form in forms:
        fuzz(client, form, user=world["owner"].user if signed_in else None)


def fuzz(client: Client, form: Form, *, user: Any) -> None:
    """Post the form EXAMPLES_PER_FORM times with generated values: never a 5xx."""
    path = urlsplit(form.action).path

    @given(data=data_for(form))
    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,  # the same posts every run: CI is reproducible
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def post(data: dict[str, Any]) -> None:
        # when the form is posted with generated values; then never a 5xx
        try:
            response = client.post(path, data)
        except Exception:  # the test client raises the view's exception: a 500
            TALLY.saw(f"POST {path}", 500)
            raise
        TALLY.saw(f"POST {path}", response.status_code)
        assert response.status_code < 500, (path, data)
        if user is not None:  # a form that signs out or switches the organization: back in
            client.force_login(user)

    post()


@pytest.mark.django_db
def test_the_forms_of_the_pages_are_found():
    # given every page of the owner's world; then the forms found post to the routes that
    # take forms (those a failed import or an unknown CRM person shows aside)
    world = page_world()
    client = Client()
    client.force_login(world["owner"].user)
    actions = set()
    for page in PAGES:
        forms = forms_on(client, page_url(page, world["ids"]))
        actions |= {resolve(urlsplit(form.action).path).url_name for form in forms}
    expected = {
        "plan_create", "plan_preview", "plan_edit", "plan_what_if", "pie_assign", "pie_split",
        "pie_reset", "product_list", "calendar", "members",
        "funnel_create", "funnel_edit", "import_list", "import_confirm",
        "account_token_revoke", "account_token_rotate", "integration_rest_url",
        "integration_record_retry", "password_change",
    }  # fmt: skip
    assert expected - actions == set()


def invitation_token(owner: Any) -> str:
    return Invitation.objects.create(
        organization=owner.organization,
        email="invited@example.com",
        role=Role.SALESPERSON,
        invited_by=owner,
    ).token


def page_world() -> dict[str, Any]:
    """The API's world (tests/fuzzing.py), and what makes more forms show: an API token (its
    revoke form), a second organization (the switch), an invitation."""
    world = build_world()
    owner = world["owner"]
    Token.objects.create(user=owner.user)
    MembershipFactory(user=owner.user, role=Role.OWNER)
    world["ids"]["invitation"] = invitation_token(owner)
    return world
