"""Import jobs end to end through the API and the pages: upload → preview → confirm → job."""

import shutil
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.db.models import Count
from django.urls import reverse

from funnel.models import ImportJob, Lead, Payment, StageEvent
from salesplan.models import Role
from salesplan.plans.demo import DATA_DIR
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
AMO = FIXTURES / "amocrm_deals.csv"
STAGES = [
    {"name": "Лид", "conversion": Decimal("0.6")},
    {"name": "Целевой лид", "conversion": Decimal("0.3"), "is_target_lead": True},
    {"name": "Встреча назначена", "conversion": Decimal("0.8")},
    {"name": "Встреча проведена", "conversion": Decimal("0.4"), "is_key_stage": True},
    {"name": "Оплата"},
]
AMO_STAGE_MAP = {
    "Первичный контакт": "Лид",
    "Переговоры": "Встреча назначена",
    "Принимают решение": "Встреча проведена",
    "Успешно реализовано": "won",
    "Закрыто и не реализовано": "lost",
}


@pytest.fixture
def funnel(organization):
    """The funnel the amoCRM export maps into (Russian stages), instead of the worked example's."""
    return FunnelFactory(organization=organization, name="B2B", stages=STAGES)


def upload(api, funnel, path: Path = AMO, **extra):
    with open(path, "rb") as handle:
        return api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk, **extra}, format="multipart"
        )


def stage_map_for(preview: dict) -> dict[str, str]:
    return {s["value"]: AMO_STAGE_MAP.get(s["value"], s["maps_to"]) for s in preview["crm_stages"]}


def test_amocrm_export_is_previewed_then_imported(
    api_for, head, funnel, django_capture_on_commit_callbacks
):
    api = api_for(head)
    # when the export is uploaded
    response = upload(api, funnel)
    # then the preset, the mapping and the CRM's stages are shown, nothing written yet
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["preset"] == "amocrm"
    assert body["status"] == "preview"
    preview = body["preview"]
    assert preview["mapping"]["external_id"] == "ID"
    assert preview["missing_columns"] == []
    assert {s["value"] for s in preview["crm_stages"]} >= {"Успешно реализовано", "Переговоры"}
    assert not Lead.objects.exists()
    # when confirmed (the job is queued on commit; tasks run inline in unit tests)
    with django_capture_on_commit_callbacks(execute=True):
        confirm = api.post(
            f"/api/v1/imports/{body['id']}/confirm/",
            {"stage_map": stage_map_for(preview), "valid_rows_only": True},
            format="json",
        )
    assert confirm.status_code == 202, confirm.json()
    job = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert job["status"] == "done", job
    assert job["progress"]["percent"] == 100
    assert job["counts"]["leads"]["inserted"] == Lead.objects.count() > 0
    won = Payment.objects.get(lead__external_id="24816001")
    assert won.amount == Decimal("1000000.50")
    assert StageEvent.objects.filter(lead__external_id="24816001").count() == len(STAGES)


def test_reimporting_the_same_file_changes_nothing(
    api_for, head, funnel, django_capture_on_commit_callbacks
):
    api = api_for(head)
    counts = []
    for _ in range(2):
        body = upload(api, funnel).json()
        with django_capture_on_commit_callbacks(execute=True):
            api.post(
                f"/api/v1/imports/{body['id']}/confirm/",
                {"stage_map": stage_map_for(body["preview"]), "valid_rows_only": True},
                format="json",
            )
        counts.append(api.get(f"/api/v1/imports/{body['id']}/").json()["counts"])
    assert counts[0]["leads"]["inserted"] > 0
    assert counts[1]["leads"] == {
        "inserted": 0,
        "updated": 0,
        "unchanged": counts[0]["leads"]["inserted"],
    }
    assert counts[1]["stage_events"] == {"inserted": 0, "updated": 0}


def test_a_bad_row_writes_nothing_and_the_report_names_it(
    api_for, head, funnel, tmp_path, django_capture_on_commit_callbacks
):
    # given the export with one broken date
    broken = tmp_path / "broken.csv"
    text = AMO.read_bytes().decode("cp1251").replace("16.01.2024 09:00:00", "32.13.2024 09:00")
    broken.write_bytes(text.encode("cp1251"))
    api = api_for(head)
    body = upload(api, funnel, broken).json()
    # when imported with the default (all or nothing)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/v1/imports/{body['id']}/confirm/",
            {"stage_map": stage_map_for(body["preview"])},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    job = api.get(f"/api/v1/imports/{body['id']}/").json()
    # then nothing is written and the error says where and why
    assert job["status"] == "failed"
    assert not Lead.objects.exists()
    error = next(e for e in job["errors"] if e["column"] == "Дата создания сделки")
    assert error["value"] == "32.13.2024 09:00"
    assert error["line"] == 3
    report = api.get(f"/api/v1/imports/{body['id']}/errors/")
    assert report.status_code == 200
    assert "32.13.2024 09:00" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_an_unreadable_file_is_refused_with_a_reason(api_for, head, funnel, tmp_path):
    garbage = tmp_path / "export.csv"
    garbage.write_bytes("ID;Имя\n1;x\n".encode("utf-16"))
    response = upload(api_for(head), funnel, garbage)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not ImportJob.objects.exists()


def test_missing_required_column_blocks_the_confirmation(api_for, head, funnel, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("Номер;Название\n1;Сделка\n", encoding="utf-8")
    api = api_for(head)
    body = upload(api, funnel, plain).json()
    assert body["preview"]["missing_columns"]
    response = api.post(f"/api/v1/imports/{body['id']}/confirm/", {}, format="json")
    assert response.status_code == 400
    assert "mapping" in response.json()


def test_viewer_cannot_import_and_another_organization_sees_404(api_for, make_member, head, funnel):
    assert upload(api_for(make_member(Role.VIEWER)), funnel).status_code == 403
    job_id = upload(api_for(head), funnel).json()["id"]
    outsider = api_for(MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER))
    assert outsider.get(f"/api/v1/imports/{job_id}/").status_code == 404


def test_the_pages_drive_the_same_import(
    client_for, head, funnel, django_capture_on_commit_callbacks
):
    page = client_for(head)
    with open(AMO, "rb") as handle:
        response = page.post(
            reverse("import_list"), {"file": handle, "funnel": funnel.pk, "preset": ""}
        )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    preview = page.get(reverse("import_detail", args=[job.pk]))
    assert "Успешно реализовано" in preview.content.decode()
    stages = preview.context["preview"]["crm_stages"]
    data = {"stage_count": len(stages), "valid_rows_only": "on"}
    for index, stage in enumerate(stages):
        data[f"raw_{index}"] = stage["value"]
        data[f"stage_{index}"] = AMO_STAGE_MAP.get(stage["value"], stage["maps_to"])
    for field, column in job.mapping.items():
        data[f"map_{field}"] = column
    with django_capture_on_commit_callbacks(execute=True):
        page.post(reverse("import_confirm", args=[job.pk]), data)
    result = page.get(reverse("import_detail", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert "Лиды" in result.content.decode()  # the result table, in the default language
    labels = [row["label"] for row in result.context["result_rows"]]
    assert [str(label) for label in labels][:1] == ["Лиды"]


@pytest.mark.redis
def test_the_job_runs_in_a_real_worker_with_progress(celery_worker, api_for, head, funnel):
    api = api_for(head)
    body = upload(api, funnel).json()
    api.post(
        f"/api/v1/imports/{body['id']}/confirm/",
        {"stage_map": stage_map_for(body["preview"]), "valid_rows_only": True},
        format="json",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/imports/{body['id']}/").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert job["progress"]["rows_per_second"] > 0
    assert Lead.objects.filter(organization=funnel.organization).count() > 0


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def test_the_confirmed_stage_mapping_is_offered_again(
    api_for, head, funnel, django_capture_on_commit_callbacks
):
    api = api_for(head)
    first = upload(api, funnel).json()
    chosen = stage_map_for(first["preview"]) | {"Переговоры": "Встреча проведена"}
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/v1/imports/{first['id']}/confirm/",
            {"stage_map": chosen, "valid_rows_only": True},
            format="json",
        )
    second = upload(api, funnel).json()
    offered = {s["value"]: s["maps_to"] for s in second["preview"]["crm_stages"]}
    assert offered["Переговоры"] == "Встреча проведена"


def test_maven_data_set_end_to_end_matches_pandas(
    api_for, head, funnel, make_member, django_capture_on_commit_callbacks
):
    # given every Maven agent as a member
    pipeline = pd.read_csv(DATA_DIR / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    for name in sorted(set(pipeline["sales_agent"])):
        member = make_member(Role.SALESPERSON)
        member.user.first_name, member.user.last_name = name.split(" ", 1)
        member.user.save()
    api = api_for(head)
    body = upload(api, funnel, DATA_DIR / "sales_pipeline.csv").json()
    assert body["preset"] == "maven"
    # when imported
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/v1/imports/{body['id']}/confirm/",
            {"stage_map": {s["value"]: s["maps_to"] for s in body["preview"]["crm_stages"]}},
            format="json",
        )
    job = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert job["status"] == "done", job
    # then the counts match an independent pandas computation of the file
    stage_counts = pipeline["deal_stage"].value_counts()
    reached = dict(
        StageEvent.objects.filter(organization=funnel.organization)
        .values_list("stage__name")
        .annotate(n=Count("id"))
    )
    key_or_further = stage_counts["Engaging"] + stage_counts["Won"]
    assert reached["Лид"] == len(pipeline)
    assert reached["Встреча проведена"] == key_or_further
    assert reached["Оплата"] == stage_counts["Won"]
    per_agent = pipeline.groupby("sales_agent").size().to_dict()
    stored = dict(
        Lead.objects.filter(organization=funnel.organization)
        .values("responsible__user__last_name")
        .annotate(n=Count("id"))
        .values_list("responsible__user__last_name", "n")
    )
    assert sum(stored.values()) == len(pipeline)
    assert {name.split(" ", 1)[1]: n for name, n in per_agent.items()} == stored
    won_value = pd.to_numeric(pipeline.loc[pipeline["deal_stage"] == "Won", "close_value"]).sum()
    assert sum(Payment.objects.values_list("amount", flat=True)) == Decimal(str(won_value))


def test_our_own_stage_names_import_with_no_stage_map(
    api_for, head, funnel, tmp_path, django_capture_on_commit_callbacks
):
    # given a template file whose stages are our funnel's own names, spelt loosely
    path = tmp_path / "leads.csv"
    path.write_text(
        "ID сделки;Дата создания;Этап\n"
        "M1;01.12.2026;лид\n"
        "M2;01.12.2026;ВСТРЕЧА   проведена\n"
        "M3;01.12.2026;Целевой лид\n",
        encoding="utf-8",
    )
    api = api_for(head)
    body = upload(api, funnel, path).json()
    # when it is confirmed with no stage map at all
    with django_capture_on_commit_callbacks(execute=True):
        confirm = api.post(
            f"/api/v1/imports/{body['id']}/confirm/", {"stage_map": {}}, format="json"
        )
    # then every row is imported at its stage, none refused as an unknown stage
    assert confirm.status_code == 202, confirm.json()
    job = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert job["status"] == "done" and job["error_count"] == 0, job
    stages = dict(Lead.objects.values_list("external_id", "current_stage__name"))
    assert stages == {"M1": "Лид", "M2": "Встреча проведена", "M3": "Целевой лид"}


def _import(api, funnel, path, capture, **confirm):
    body = upload(api, funnel, path).json()
    with capture(execute=True):
        response = api.post(
            f"/api/v1/imports/{body['id']}/confirm/", {"stage_map": {}, **confirm}, format="json"
        )
    assert response.status_code == 202, response.json()
    return api.get(f"/api/v1/imports/{body['id']}/").json()


def test_a_file_of_won_deals_keeps_what_the_first_file_said(
    api_for, head, funnel, tmp_path, django_capture_on_commit_callbacks
):
    # given leads imported with their channel and creation date
    api = api_for(head)
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "ID сделки;Дата создания;Этап;Канал\nW1;01.11.2026;Лид;Выставка\nW2;02.11.2026;Лид;Сайт\n",
        encoding="utf-8",
    )
    assert _import(api, funnel, leads, django_capture_on_commit_callbacks)["status"] == "done"
    # when a file of won deals comes: the id, the stage, the amount and the day; no channel,
    # no creation date
    won = tmp_path / "won.csv"
    won.write_text(
        "ID сделки;Этап;Сумма;Дата оплаты\nW1;won;50 000;20.11.2026\nW2;won;70 000;21.11.2026\n",
        encoding="utf-8",
    )
    job = _import(api, funnel, won, django_capture_on_commit_callbacks)
    # then both are won and paid, and keep their channel and creation date
    assert job["status"] == "done" and job["error_count"] == 0, job
    rows = {
        lead.external_id: (lead.channel, lead.created_at.date().isoformat())
        for lead in Lead.objects.all()
    }
    assert rows == {"W1": ("Выставка", "2026-10-31"), "W2": ("Сайт", "2026-11-01")}
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("50000"),
        Decimal("70000"),
    ]


def test_a_new_lead_without_a_creation_date_is_refused_by_line(
    api_for, head, funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = api_for(head)
    path = tmp_path / "won.csv"
    path.write_text("ID сделки;Этап;Сумма\nN1;won;50 000\n", encoding="utf-8")
    job = _import(api, funnel, path, django_capture_on_commit_callbacks)
    assert job["status"] == "failed"
    assert [(e["line"], e["column"]) for e in job["errors"]] == [(2, "created_at")]
    assert not Lead.objects.exists()
    # with "import the valid rows", the others go in and this one is still reported
    job = _import(api, funnel, path, django_capture_on_commit_callbacks, valid_rows_only=True)
    assert job["status"] == "done" and job["error_count"] == 1
