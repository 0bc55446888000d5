"""The check before an import tells the truth before anything is written: rows new / already
there and changed / unchanged per table, which fields change with old → new values, rows with
errors, amounts that look like another currency; the result repeats the counts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from funnel.models import ImportJob, Lead, Payment
from funnel.services import import_checks
from tests.factories import FunnelFactory
from tests.funnel.jobs import imported, job_of, media, post_job, ru_funnel, upload, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

FIRST = (
    "ID сделки;Дата создания;Этап;Канал\n"
    "W1;01.11.2026;Лид;Выставка\n"
    "W2;02.11.2026;Лид;Сайт\n"
    "W3;03.11.2026;Встреча проведена;Сайт\n"
)
# W1 changes channel, W2 is the same, W3 is won with an amount; N1 is new, N2 is new with an
# empty creation date (it takes the day of the export), B1 has a bad amount.
SECOND = (
    "ID сделки;Дата создания;Этап;Канал;Сумма\n"
    "W1;;Лид;Звонок;\n"
    "W2;;Лид;Сайт;\n"
    "W3;;Оплата;;150 000\n"
    "N1;10.11.2026;Целевой лид;Сайт;\n"
    "N2;;Лид;Сайт;\n"
    "B1;11.11.2026;Лид;Сайт;много\n"
)


@pytest.fixture
def stored(api_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks):
    api = api_for(head)
    job = imported(
        api, django_capture_on_commit_callbacks, ru_funnel, write(tmp_path / "first.csv", FIRST)
    )
    assert job["status"] == "done", job
    return api


def snapshot() -> list[tuple]:
    return sorted(Lead.objects.values_list("external_id", "channel", "current_stage__name"))


def test_the_check_counts_what_the_import_would_change_and_writes_nothing(
    stored, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = stored
    before = snapshot()
    body = upload(api, ru_funnel, write(tmp_path / "second.csv", SECOND))
    # when the import is checked (the job runs on commit)
    with translation.override("en"):
        response = post_job(
            api, django_capture_on_commit_callbacks, body["id"], "check", valid_rows_only=True
        )
    assert response.status_code == 202, response.json()
    job = job_of(api, body["id"])
    # then it is open again, nothing is written, and the findings are on the job
    assert job["status"] == "preview"
    assert snapshot() == before and not Payment.objects.exists()
    changes = job["changes"]
    leads = changes["tables"]["leads"]
    assert (leads["new"], leads["changed"], leads["unchanged"], leads["refused"]) == (2, 2, 1, 0)
    assert {f["field"]: f["count"] for f in leads["fields"]} == {"channel": 1, "stage": 1}
    sample = {row["external_id"]: row["changes"] for row in leads["sample"]}
    assert [(c["field"], c["old"], c["new"]) for c in sample["W1"]] == [
        ("channel", "Выставка", "Звонок")
    ]
    assert [(c["field"], c["old"], c["new"]) for c in sample["W3"]] == [
        ("stage", "Встреча проведена", "Оплата")
    ]
    assert sample["W1"][0]["label"] == "Канал (источник лида)"  # in the reader's language
    payments = changes["tables"]["payments"]
    assert (payments["new"], payments["changed"], payments["unchanged"]) == (1, 0, 0)
    assert changes["error_rows"] == 1 and changes["errors"][0]["line"] == 7
    assert changes["currency"] is None
    # when confirmed, the result repeats the counts the check gave
    post_job(api, django_capture_on_commit_callbacks, body["id"], "confirm", valid_rows_only=True)
    job = job_of(api, body["id"])
    assert job["status"] == "done", job
    assert job["counts"]["leads"] == {"inserted": 2, "updated": 2, "unchanged": 1}
    assert job["counts"]["payments"]["inserted"] == 1
    assert Lead.objects.get(external_id="W1").channel == "Звонок"


def test_a_new_lead_in_a_file_without_creation_dates_is_counted_as_refused(
    stored, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = stored
    path = write(tmp_path / "channels.csv", "ID сделки;Канал\nW1;Звонок\nZ9;Сайт\n")
    body = upload(api, ru_funnel, path)
    post_job(api, django_capture_on_commit_callbacks, body["id"], "check", valid_rows_only=True)
    leads = job_of(api, body["id"])["changes"]["tables"]["leads"]
    assert (leads["new"], leads["changed"], leads["unchanged"], leads["refused"]) == (0, 1, 0, 1)


def test_a_check_of_a_won_deal_shows_the_payment_that_changes(
    stored, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = stored
    won = "ID сделки;Этап;Сумма\nW3;Оплата;150 000\n"
    imported(api, django_capture_on_commit_callbacks, ru_funnel, write(tmp_path / "a.csv", won))
    body = upload(api, ru_funnel, write(tmp_path / "b.csv", won.replace("150 000", "175 000")))
    post_job(api, django_capture_on_commit_callbacks, body["id"], "check")
    payments = job_of(api, body["id"])["changes"]["tables"]["payments"]
    assert (payments["new"], payments["changed"], payments["unchanged"]) == (0, 1, 0)
    [row] = payments["sample"]
    assert [(c["field"], c["old"], c["new"]) for c in row["changes"]] == [
        ("amount", "150\u00a0000\u00a0₽", "175\u00a0000\u00a0₽")
    ]


def test_amounts_far_from_the_stored_ones_are_flagged(
    organization, api_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    # given 25 paid deals averaging 100 000 ₽
    api = api_for(head)
    rows = "".join(f"P{i};01.10.2026;Оплата;{90_000 + i * 800}\n" for i in range(25))
    imported(
        api,
        django_capture_on_commit_callbacks,
        ru_funnel,
        write(tmp_path / "paid.csv", "ID сделки;Дата создания;Этап;Сумма\n" + rows),
    )
    # when a file of won deals averaging 1 100 (dollars, in fact) is checked
    rows = "".join(f"U{i};01.11.2026;Оплата;{1_000 + i * 8}\n" for i in range(25))
    body = upload(
        api, ru_funnel, write(tmp_path / "usd.csv", "ID сделки;Дата создания;Этап;Сумма\n" + rows)
    )
    post_job(api, django_capture_on_commit_callbacks, body["id"], "check")
    currency = job_of(api, body["id"])["changes"]["currency"]
    # then the check says so, before anything is written
    assert currency is not None and currency["ratio"] < 1 / 20
    assert "другой валюте" in currency["message"]  # in the language of who checked
    assert not Lead.objects.filter(external_id__startswith="U").exists()


def test_a_later_check_or_a_confirmation_supersedes_a_check(
    stored, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = stored
    body = upload(api, ru_funnel, write(tmp_path / "second.csv", SECOND))
    # given a check queued but not run yet (its task would run on commit)
    api.post(f"/api/v1/imports/{body['id']}/check/", {}, format="json")
    token = ImportJob.objects.get(pk=body["id"]).changes["token"]
    assert job_of(api, body["id"])["status"] == "checking"
    # when the import is confirmed meanwhile, then the late check changes nothing
    post_job(api, django_capture_on_commit_callbacks, body["id"], "confirm", valid_rows_only=True)
    import_checks.import_check_run(job_id=body["id"], token=token)
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == "done" and "tables" not in job.changes


def test_the_page_checks_and_shows_the_changes(
    stored, client_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = stored
    body = upload(api, ru_funnel, write(tmp_path / "second.csv", SECOND))
    client = client_for(head)
    url = reverse("import_confirm", args=[body["id"]])
    form = {
        "check": "1",
        "map_external_id": "ID сделки",
        "map_created_at": "Дата создания",
        "map_crm_stage": "Этап",
        "map_channel": "Канал",
        "map_amount": "Сумма",
        "valid_rows_only": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302
    page = client.get(reverse("import_detail", args=[body["id"]]))
    html = page.content.decode()
    assert "Что изменит импорт" in html
    table = page.context["changes"]["tables"]["leads"]
    assert (table["new"], table["changed"], table["unchanged"]) == (2, 2, 1)
    assert "Выставка" in html and "Звонок" in html  # the sample, old → new
    assert snapshot()[0] == ("W1", "Выставка", "Лид")


def test_another_organizations_import_cannot_be_checked(
    api_for, head, make_member, tmp_path, django_capture_on_commit_callbacks
):
    from salesplan.models import Role
    from tests.factories import MembershipFactory, OrganizationFactory

    other = MembershipFactory(organization=OrganizationFactory(), role=Role.HEAD_OF_SALES)
    funnel = FunnelFactory(organization=other.organization, name="B2B")
    theirs = upload(api_for(other), funnel, write(tmp_path / "x.csv", FIRST))
    response = api_for(head).post(f"/api/v1/imports/{theirs['id']}/check/", {}, format="json")
    assert response.status_code == 404


def test_check_values_are_shown_as_people_read_them(organization):
    job = ImportJob(organization=organization)
    shown = import_checks._Shown(job, {7: "Анна Смирнова"})
    with translation.override("ru"):
        assert shown.value("amount", Decimal("1000000.5")) == "1\u00a0000\u00a0000,50\u00a0₽"
        assert shown.value("is_target", True) == "да"
        assert shown.value("credited", 7) == "Анна Смирнова"
        assert shown.value("lost_at", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)) == "01.11.2026 12:00"
        assert shown.value("lost_at", "2026-11-01 09:00:00.000000") == "01.11.2026 12:00"
        assert shown.value("channel", "") == "—"
