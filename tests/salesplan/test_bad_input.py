"""No 500 on any input (issue 10): each input once seen to crash a view is now a 4xx naming
the field, in words a person can act on. English messages are read with Accept-Language: en."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from responsibility.models import Responsibility
from salesplan.limits import MAX_JSON_DEPTH, MAX_REQUEST_BODY_BYTES
from salesplan.models import Product, Role, SalesPlan
from tests.factories import PlanFactory
from tests.worked_example import DECEMBER, WORKED_STAGES

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def messages_of(response) -> str:
    return str(response.json())


# --- JSON bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/plans/", "/api/v1/plans/preview/", "/api/v1/funnels/", "/api/v1/events/"]
)
def test_json_nested_deeper_than_the_limit_is_a_400(api, path):
    # given a body of 1 000 nested arrays (Python's json recursion limit is about 1 000)
    # when
    response = api.post(path, nested(1_000), content_type="application/json", **EN)
    # then
    assert response.status_code == 400
    assert f"nested deeper than {MAX_JSON_DEPTH}" in messages_of(response)


def test_deep_json_to_the_token_endpoint_without_login_is_a_400():
    response = APIClient().post(
        "/api/v1/auth/token/", nested(1_000), content_type="application/json", **EN
    )
    assert response.status_code == 400
    assert "nested deeper" in messages_of(response)


def test_json_at_the_depth_limit_is_read(api):
    # a body nested exactly MAX_JSON_DEPTH deep is parsed (and refused as a plan, not a body)
    response = api.post(
        "/api/v1/plans/preview/", nested(MAX_JSON_DEPTH), content_type="application/json", **EN
    )
    assert response.status_code == 400
    assert "nested deeper" not in messages_of(response)


def test_a_json_body_over_the_size_limit_is_a_413(api):
    body = '{"name": "' + "x" * MAX_REQUEST_BODY_BYTES + '"}'
    response = api.post("/api/v1/funnels/", body, content_type="application/json", **EN)
    assert response.status_code == 413
    assert "too large" in messages_of(response)


# --- seasonality ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seasonality", [{"abc": "x"}, {"2027-01-01": [1, 2]}, {"9999-99-99": "1"}, {"2027-01-01": "x"}]
)
def test_bad_seasonality_is_a_400_on_save(api, funnel, seasonality):
    body = {**DECEMBER, "name": "Q1", "funnel": funnel.pk, "seasonality": seasonality}
    response = api.post("/api/v1/plans/", body, format="json", **EN)
    assert response.status_code == 400, response.content
    assert "seasonality" in response.json()


@pytest.mark.parametrize("seasonality", [{"abc": "1"}, {"9999-99-99": "1"}, {"2027-13-01": "1"}])
def test_bad_seasonality_is_a_400_in_the_preview(api, seasonality):
    body = {**DECEMBER, "stages": WORKED_STAGES, "seasonality": seasonality}
    response = api.post("/api/v1/plans/preview/", body, format="json", **EN)
    assert response.status_code == 400, response.content
    assert "seasonality" in response.json()
    assert "month" in messages_of(response)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31")]
)
@pytest.mark.parametrize("path", ["/api/v1/plans/", "/api/v1/plans/preview/"])
def test_plan_dates_out_of_the_year_range_are_a_400(api, funnel, path, start, end):
    body = {**DECEMBER, "name": "Far", "funnel": funnel.pk, "stages": WORKED_STAGES}
    response = api.post(
        path, {**body, "period_start": start, "period_end": end}, format="json", **EN
    )
    assert response.status_code == 400, response.content
    assert "period_start" in response.json()
    assert "between" in messages_of(response)


@pytest.mark.parametrize("query", ["created_to=9999-12-31", "created_from=0001-01-01"])
def test_lead_filters_out_of_the_year_range_are_a_400(api, query):
    response = api.get(f"/api/v1/leads/?{query}", **EN)
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_calendar_page_of_a_month_out_of_range_is_a_400(client_for, head, month):
    response = client_for(head).get(f"{reverse('calendar')}?month={month}", **EN)
    assert response.status_code == 400
    assert "between" in response.content.decode()


# --- numbers too big to store -----------------------------------------------------------------


def test_a_revenue_target_whose_figures_cannot_be_stored_is_a_400(api, funnel):
    body = {**DECEMBER, "name": "Huge", "funnel": funnel.pk, "revenue_target": "99999999999999.99"}
    response = api.post("/api/v1/plans/", body, format="json", **EN)
    assert response.status_code == 400, response.content
    assert "too large" in messages_of(response)


@pytest.mark.parametrize("units", [2**62, 2**31 - 1])
def test_product_units_too_big_are_a_400(api, funnel, organization, units):
    product = Product.objects.create(organization=organization, name="Licence", price="100")
    body = {**DECEMBER, "name": "Mix", "funnel": funnel.pk, "average_check": None}
    body["product_mix"] = [{"product": product.pk, "units": units}]
    response = api.post("/api/v1/plans/", body, format="json", **EN)
    assert response.status_code == 400, response.content


# --- pages ------------------------------------------------------------------------------------


def test_switching_to_an_organization_that_is_no_number_is_a_400(client_for, head):
    response = client_for(head).post(reverse("organization_switch"), {"organization": "abc"}, **EN)
    assert response.status_code == 400
    assert "organization" in response.content.decode().lower()


# --- files, pie, imports, webhooks --------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_csv_with_an_unterminated_quote_is_a_400_naming_the_row(api, funnel, media, tmp_path):
    # given a CSV whose third record opens a quote it never closes
    path = tmp_path / "deals.csv"
    path.write_text('ID;Name;Stage\n1;Anna;Lead\n2;"Boris;Lead\n3;Vera;Lead\n', encoding="utf-8")
    # when it is uploaded
    with path.open("rb") as handle:
        response = api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk}, format="multipart", **EN
        )
    # then a 400 says where, and the file is not kept
    assert response.status_code == 400, response.content
    assert "file" in response.json()
    assert "line 3" in messages_of(response)
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_a_pie_split_share_that_is_no_number_is_refused(
    client_for, make_member, organization, funnel
):
    head, anna = make_member(Role.HEAD_OF_SALES), make_member(Role.SALESPERSON)
    plan = PlanFactory(organization=organization, funnel=funnel, team=[(anna, "1")])
    row = Responsibility.objects.get(plan=plan, metric__key="stage_volume:3", parent=None)
    before = list(row.children.values_list("owner_id", "share"))
    for share in ("NaN", "Infinity", "1e999999999"):
        response = client_for(head).post(
            reverse("pie_split", args=[plan.pk]),
            {
                "responsibility": row.pk,
                "pie_version": SalesPlan.objects.get(pk=plan.pk).pie_version,
                f"share_{anna.pk}": share,
            },
            HTTP_HX_REQUEST="true",
            **EN,
        )
        assert response.status_code == 200, share
        assert "Enter a percentage" in response.content.decode(), share
        assert list(row.children.values_list("owner_id", "share")) == before, share


@pytest.mark.parametrize("stage_count", ["abc", "1e9", "-5", "9" * 5000])
def test_import_confirm_with_a_stage_count_that_is_no_number(
    api, client_for, head, funnel, media, tmp_path, stage_count
):
    path = tmp_path / "deals.csv"
    path.write_text("ID;Name;Stage\n1;Anna;Lead\n", encoding="utf-8")
    with path.open("rb") as handle:
        job = api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk}, format="multipart"
        )
    response = client_for(head).post(
        reverse("import_confirm", args=[job.json()["id"]]), {"stage_count": stage_count}, **EN
    )
    assert response.status_code in (302, 400)


AMO_FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body",
    [
        "leads[status][0]" + "[a]" * 2_000 + "=1",
        "leads[status][" + "9" * 5_000 + "][id]=1",
        "leads" + "[" * 1_000 + "=1",
        "leads[status][0][id]=" + "9" * 5_000,
    ],
    ids=["deep-keys", "huge-index", "open-brackets", "huge-id"],
)
def test_amocrm_webhook_bodies_no_crm_sends_are_answered(
    api, funnel, django_capture_on_commit_callbacks, body
):
    from django.test import Client

    from funnel.models import RawRecord

    integration = api.post(
        "/api/v1/integrations/", {"kind": "amocrm", "funnel": funnel.pk}, format="json"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(integration["webhook_url"], data=body, content_type=AMO_FORM)
    assert response.status_code in (200, 400), response.content
    record = RawRecord.objects.get(pk=response.json()["record"])
    assert record.status in (RawRecord.Status.PROCESSED, RawRecord.Status.FAILED), record.status


def test_a_page_form_over_the_size_limit_is_a_400_that_says_so(client_for, head):
    body = {"date": "2026-12-31", "note": "x" * (MAX_REQUEST_BODY_BYTES + 1)}
    response = client_for(head).post(reverse("calendar"), body, **EN)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
