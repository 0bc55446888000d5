"""The support admin: every page of every model opens, the read-only ones refuse writes, the
credentials stay hidden, webhooks can be re-run, and a changelist's queries do not grow."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from funnel.models import (
    Call,
    ImportJob,
    Integration,
    Lead,
    Payment,
    RawRecord,
    SavedMapping,
    Spend,
    Stage,
    StageEvent,
    StageMapping,
    Task,
)
from funnel.services.integrations import integration_create
from metrics.models import PlanMetric
from responsibility.models import Responsibility
from salesplan.models import (
    CalendarDay,
    Invitation,
    Organization,
    PlanMember,
    PlanProduct,
    PlanVersion,
    Product,
    Role,
    SalesPlan,
)
from tests.factories import (
    LeadFactory,
    MembershipFactory,
    OrganizationFactory,
    PaymentFactory,
    PlanFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"salesplan", "funnel", "metrics", "responsibility"}
FORM = "application/x-www-form-urlencoded"
WEBHOOKS = Path(__file__).parent / "funnel" / "fixtures" / "webhooks"
AMO_STAGE_MAP = {"20067733": "Lead"}
BITRIX_TOKEN = "51856fefc120afa4b628cc82d3935cce"  # as in the fixture body
READ_ONLY = [
    Lead,
    StageEvent,
    Payment,
    Spend,
    Call,
    Task,
    RawRecord,
    ImportJob,
    SavedMapping,
    StageMapping,
    Stage,
    SalesPlan,
    PlanVersion,
    PlanMember,
    PlanProduct,
    PlanMetric,
    Responsibility,
]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def amo(organization, funnel) -> Integration:
    return integration_create(
        organization=organization, kind="amocrm", funnel=funnel, stage_map=AMO_STAGE_MAP
    )


def amo_webhook(integration: Integration, **fields: Any) -> RawRecord:
    return RawRecord.objects.create(
        organization=integration.organization,
        integration=integration,
        kind=RawRecord.Kind.WEBHOOK,
        source="amocrm",
        content_type=FORM,
        body=(WEBHOOKS / "amocrm_lead_add.txt").read_text(encoding="utf-8"),
        **fields,
    )


@pytest.fixture
def everything(organization, owner, funnel, amo) -> None:
    """One row of every model a support person inspects, in `organization`."""
    seller = MembershipFactory(organization=organization, role=Role.SALESPERSON)
    TeamFactory(organization=organization, head=owner)
    Invitation.objects.create(organization=organization, email="new@example.com", role="viewer")
    product = Product.objects.create(organization=organization, name="CRM", price=50000)
    CalendarDay.objects.create(organization=organization, date=date(2026, 12, 31), is_working=False)
    PlanFactory(organization=organization, funnel=funnel, team=[(seller, 1)])
    plan = PlanFactory(organization=organization, funnel=funnel, name="With a mix")
    PlanProduct.objects.create(plan=plan, product=product, share=Decimal(1))
    stage = funnel.stages.get(position=0)
    lead = LeadFactory(funnel=funnel, responsible=seller, current_stage=stage)
    PaymentFactory(lead=lead)
    at = datetime(2026, 12, 2, 10, tzinfo=UTC)
    StageEvent.objects.create(organization=organization, lead=lead, stage=stage, reached_at=at)
    Spend.objects.create(organization=organization, channel="Ads", date=at.date(), amount=500)
    Call.objects.create(
        organization=organization, source="api", external_id="c1", lead=lead, at=at, connected=True
    )
    Task.objects.create(organization=organization, source="api", external_id="t1", due_at=at)
    StageMapping.objects.create(funnel=funnel, source="amocrm", external="20067733", stage=stage)
    amo_webhook(amo)
    ImportJob.objects.create(
        organization=organization,
        funnel=funnel,
        created_by=owner,
        file="imports/leads.csv",
        original_name="leads.csv",
        preset="amocrm",
        source="amocrm",
    )
    SavedMapping.objects.create(organization=organization, header_signature="abc", mapping={})


def our_models() -> list[type[Model]]:
    return [
        model
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if admin.site.is_registered(model)
    ]


def test_every_model_a_support_person_inspects_is_registered():
    registered = {model._meta.label for model in our_models()}
    assert {model._meta.label for model in READ_ONLY} <= registered
    assert {
        "salesplan.Organization",
        "salesplan.Membership",
        "salesplan.Team",
        "salesplan.Invitation",
        "salesplan.Product",
        "salesplan.CalendarDay",
        "funnel.Funnel",
        "funnel.Integration",
    } <= registered


def test_every_changelist_and_change_page_opens(admin_client, everything):
    for model in our_models():
        # given one row of the model
        row = model._default_manager.first()
        assert row is not None, model
        # then its list and its page answer
        assert admin_client.get(url(model, "changelist")).status_code == 200, model
        assert admin_client.get(url(model, "change", row.pk)).status_code == 200, model
        # and its search answers
        assert admin_client.get(url(model, "changelist") + "?q=x").status_code == 200, model


def test_every_changelist_filters_by_organization(admin_client, everything, organization):
    OrganizationFactory(name="Rival")  # a filter with one choice is not offered
    for model in our_models():
        model_admin = admin.site.get_model_admin(model)
        if model._meta.model_name == "organization":
            continue
        lookup = next(f for f in model_admin.list_filter if f.endswith("organization"))
        response = admin_client.get(url(model, "changelist") + f"?{lookup}__id__exact=0")
        assert response.status_code == 200, model
        assert response.context["cl"].result_count == 0, model
        response = admin_client.get(
            url(model, "changelist") + f"?{lookup}__id__exact={organization.pk}"
        )
        assert response.context["cl"].result_count >= 1, model


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda model: model.__name__)
def test_read_only_admins_refuse_add_change_and_delete(admin_client, everything, model):
    # given a row and what it holds
    row = model._default_manager.first()
    before = model._default_manager.filter(pk=row.pk).values().get()
    # then nothing can be added, changed or deleted, even by a superuser
    assert admin_client.get(url(model, "add")).status_code == 403
    changed = {field: "changed" for field in before if field != "id"}
    assert admin_client.post(url(model, "change", row.pk), changed).status_code == 403
    assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=row.pk).values().get() == before
    # and the page still shows it, read-only
    page = admin_client.get(url(model, "change", row.pk))
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_staff_may_look_but_change_only_with_a_permission(client, admin_client, everything, amo):
    # given a staff member without any model permission
    support = UserFactory(username="support@example.com", is_staff=True)
    client.force_login(support)
    lead, organization = Lead.objects.first(), amo.organization
    # then every list and page opens, read-only
    for model in our_models():
        assert client.get(url(model, "changelist")).status_code == 200, model
    page = client.get(url(Organization, "change", organization.pk))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert (
        client.post(url(Organization, "change", organization.pk), {"name": "X"}).status_code == 403
    )
    assert client.get(url(Lead, "change", lead.pk)).status_code == 200
    # and webhooks are not re-run without the permission to change them
    records = client.get(url(RawRecord, "changelist"))
    assert "rerun_webhooks" not in records.content.decode()
    # while a superuser may change the organization and re-run webhooks
    page = admin_client.get(url(Organization, "change", organization.pk))
    assert b'name="_save"' in page.content
    assert "rerun_webhooks" in admin_client.get(url(RawRecord, "changelist")).content.decode()


def test_an_integrations_secret_and_token_are_never_shown(admin_client, funnel, organization):
    integration = integration_create(
        organization=organization,
        kind="bitrix24",
        funnel=funnel,
        application_token=BITRIX_TOKEN,
    )
    body = (WEBHOOKS / "bitrix24_deal_add.txt").read_text(encoding="utf-8")
    record = RawRecord.objects.create(
        organization=organization,
        integration=integration,
        kind=RawRecord.Kind.WEBHOOK,
        source="bitrix24",
        content_type=FORM,
        body=body,
    )
    assert BITRIX_TOKEN in body
    pages = [
        admin_client.get(url(Integration, "change", integration.pk)).content.decode(),
        admin_client.get(url(Integration, "changelist")).content.decode(),
        admin_client.get(url(RawRecord, "change", record.pk)).content.decode(),
    ]
    for html in pages:
        assert integration.secret not in html
        assert BITRIX_TOKEN not in html
    assert integration.secret[-4:] in pages[0]  # masked, recognisable
    assert "romashka.bitrix24.ru" in pages[2]  # the rest of the body is there


def test_a_failed_webhook_is_rerun_and_a_processed_one_skipped(
    admin_client, amo, django_capture_on_commit_callbacks
):
    # given a failed webhook, a processed one and an events batch
    failed = amo_webhook(amo, status="failed", error="boom", processed_at=datetime.now(UTC))
    processed = amo_webhook(amo, status="processed", processed_at=datetime(2026, 1, 1, tzinfo=UTC))
    batch = RawRecord.objects.create(
        organization=amo.organization, kind=RawRecord.Kind.EVENTS, source="api", body="[]"
    )
    selected = {"action": "rerun_webhooks", "_selected_action": [failed.pk, processed.pk, batch.pk]}
    # when the action runs, the failed one goes back to received and waits for the commit
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(url(RawRecord, "changelist"), selected, follow=True)
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.processed_at) == ("received", "", None)
    assert len(queued) == 1
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Queued: 1. Skipped (processed, or an events batch): 2."]
    # then, once committed, it is processed and its lead is loaded
    for callback in queued:
        callback()
    failed.refresh_from_db()
    assert failed.status == "processed", failed.error
    assert Lead.objects.filter(organization=amo.organization, external_id="25399013").exists()
    # and the processed one and the batch are untouched
    assert RawRecord.objects.get(pk=processed.pk).processed_at == processed.processed_at
    assert RawRecord.objects.get(pk=batch.pk).status == "received"


def test_the_rerun_runs_the_task_on_commit(admin_client, amo, django_capture_on_commit_callbacks):
    received = amo_webhook(amo)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url(RawRecord, "changelist"),
            {"action": "rerun_webhooks", "_selected_action": [received.pk]},
        )
    received.refresh_from_db()
    assert received.status == "processed", received.error


def test_an_import_job_links_its_error_report(admin_client, funnel, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(
        organization=funnel.organization,
        funnel=funnel,
        created_by=owner,
        file="imports/leads.csv",
        original_name="leads.csv",
        preset="amocrm",
        source="amocrm",
        status="done",
        total_rows=10,
        processed_rows=10,
        error_count=1,
        counts={"leads": 9},
    )
    job.error_report.save("errors.csv", ContentFile(b"row,column,reason\n3,price,bad\n"))
    page = admin_client.get(url(ImportJob, "change", job.pk)).content.decode()
    report = reverse("admin:funnel_importjob_error_report", args=[job.pk])
    assert report in page and "100" in page  # the link, and the progress
    response = admin_client.get(report)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).endswith(b"3,price,bad\n")


def changelist_queries(client, model: type[Model]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", [Lead, Payment], ids=lambda model: model.__name__)
def test_a_changelist_runs_the_same_queries_for_3_and_30_rows(
    admin_client, funnel, django_assert_max_num_queries, model
):
    seller = MembershipFactory(organization=funnel.organization, role=Role.SALESPERSON)
    stage = funnel.stages.get(position=0)

    def add(n: int) -> None:
        for _ in range(n):
            lead = LeadFactory(funnel=funnel, responsible=seller, current_stage=stage)
            PaymentFactory(lead=lead, credited_member=seller)

    add(3)
    changelist_queries(admin_client, model)  # warm the caches (content types, session)
    few = changelist_queries(admin_client, model)
    add(27)
    with django_assert_max_num_queries(few):
        response = admin_client.get(url(model, "changelist"))
    assert response.context["cl"].result_count == 30
