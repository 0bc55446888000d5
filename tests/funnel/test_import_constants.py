"""One value for the whole file instead of a column: "every row of this file is at stage X",
"channel: Выставка", "target: yes", "in dollars" — on the page and in the API, checked like a
cell of its field."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from funnel.importers import check_constants
from funnel.models import ImportJob, Lead, Payment, Stage, StageEvent
from tests.funnel.jobs import imported, job_of, media, ru_funnel, upload, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

# A list of marketing-qualified leads: no stage column, no channel column.
MQL = "ID сделки;Дата создания;Название\nM1;01.11.2026;Ромашка\nM2;02.11.2026;Лютик\n"


def test_a_file_with_no_stage_column_is_imported_at_the_stage_given(
    api_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = api_for(head)
    constants = {"crm_stage": "Целевой лид", "channel": "Выставка", "is_target": "да"}
    job = imported(
        api,
        django_capture_on_commit_callbacks,
        ru_funnel,
        write(tmp_path / "mql.csv", MQL),
        constants=constants,
    )
    assert job["status"] == "done" and job["error_count"] == 0, job
    assert job["constants"] == constants
    leads = Lead.objects.select_related("current_stage").order_by("external_id")
    assert [(lead.current_stage.name, lead.channel, lead.is_target) for lead in leads] == [
        ("Целевой лид", "Выставка", True),
        ("Целевой лид", "Выставка", True),
    ]
    # reaching «Целевой лид» implies «Лид» above it
    assert StageEvent.objects.filter(lead__external_id="M1").count() == 2


def test_a_stage_may_be_given_by_its_id_and_a_constant_beats_a_column(
    api_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    stage = Stage.objects.get(funnel=ru_funnel, name="Встреча назначена")
    text = "ID сделки;Дата создания;Этап;Канал\nK1;01.11.2026;Лид;Сайт\n"
    job = imported(
        api_for(head),
        django_capture_on_commit_callbacks,
        ru_funnel,
        write(tmp_path / "k.csv", text),
        constants={"crm_stage": str(stage.pk), "channel": "Партнёр"},
    )
    assert job["status"] == "done", job
    assert job["constants"]["crm_stage"] == "Встреча назначена"  # stored by its name
    assert "crm_stage" not in job["mapping"] and "channel" not in job["mapping"]
    lead = Lead.objects.get(external_id="K1")
    assert (lead.current_stage.name, lead.channel) == ("Встреча назначена", "Партнёр")


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        ({"crm_stage": "Переговоры"}, "Unknown stage Переговоры"),
        ({"created_at": "вчера"}, "not a date"),
        ({"amount": "много"}, "not a number"),
        ({"is_target": "может быть"}, "not a yes/no value"),
        ({"external_id": "1"}, "cannot take one value"),
        ({"currency": "пиастры"}, "Not a currency"),
        ({"channel": "x" * 301}, "Ensure this field has no more than 300 characters"),
    ],
)
def test_a_bad_constant_is_a_400_naming_the_field(
    api_for, head, ru_funnel, tmp_path, constants, message
):
    api = api_for(head)
    body = upload(api, ru_funnel, write(tmp_path / "mql.csv", MQL))
    with translation.override("en"):
        response = api.post(
            f"/api/v1/imports/{body['id']}/confirm/",
            {"constants": constants},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert message in str(response.json())
    assert ImportJob.objects.get(pk=body["id"]).status == "preview"


def test_constants_are_checked_like_cells():
    with translation.override("en"):
        errors = check_constants({"created_at": "01.11.2026", "lost_at": "32.13.2026"})
    assert list(errors) == ["lost_at"]


def test_a_whole_file_in_dollars_needs_a_rate(
    api_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    api = api_for(head)
    path = write(
        tmp_path / "usd.csv", "ID сделки;Дата создания;Этап;Сумма\nD1;01.11.2026;Оплата;1000\n"
    )
    refused = imported(
        api,
        django_capture_on_commit_callbacks,
        ru_funnel,
        path,
        constants={"currency": "USD"},
    )
    assert refused["status"] == "failed" and refused["errors"][0]["column"] == "= currency"
    job = imported(
        api,
        django_capture_on_commit_callbacks,
        ru_funnel,
        path,
        constants={"currency": "USD"},
        rates={"USD": "92,50"},
    )
    assert job["status"] == "done", job
    assert job["rates"] == {"USD": "92.50"}
    assert Payment.objects.get(external_id="D1").amount == Decimal("92500.00")


def test_the_page_takes_constants_and_rates(
    client_for, head, api_for, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    body = upload(api_for(head), ru_funnel, write(tmp_path / "mql.csv", MQL))
    client = client_for(head)
    detail = client.get(reverse("import_detail", args=[body["id"]])).content.decode()
    assert 'name="const_crm_stage"' in detail and 'name="rate_USD"' in detail
    form = {
        "map_external_id": "ID сделки",
        "map_created_at": "Дата создания",
        "constants_sent": "1",
        "const_crm_stage": "Встреча проведена",
        "const_channel": "Выставка",
        "const_amount": "",
        "rates_sent": "1",
        "rate_USD": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_confirm", args=[body["id"]]), form)
    assert response.status_code == 302
    job = job_of(api_for(head), body["id"])
    assert job["status"] == "done", job
    assert job["constants"] == {"crm_stage": "Встреча проведена", "channel": "Выставка"}
    assert set(Lead.objects.values_list("current_stage__name", "channel")) == {
        ("Встреча проведена", "Выставка")
    }


def test_a_bad_constant_on_the_page_is_a_message_not_a_500(
    client_for, head, api_for, ru_funnel, tmp_path
):
    body = upload(api_for(head), ru_funnel, write(tmp_path / "mql.csv", MQL))
    client = client_for(head)
    form = {"constants_sent": "1", "const_created_at": "вчера"}
    response = client.post(reverse("import_confirm", args=[body["id"]]), form, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages and "Дата создания" in messages[0]
    assert ImportJob.objects.get(pk=body["id"]).status == "preview"
