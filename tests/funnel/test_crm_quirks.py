"""Real CRM exports' quirks, each with a fixture shaped as the CRM writes it (tests/funnel/
fixtures/crm/): amoCRM's «не закрыта» and its channel in a second «Источник» or utm_source;
Bitrix24's rows per product, its "Excel" export that is an HTML page, «Валюта», «Группа
стадий» for renamed final stages, its two close-date headers, and one creation-date rule for
files and webhooks."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.utils import translation

from funnel.crm.bitrix24 import bitrix_change
from funnel.importers import inspect_file, read_leads
from funnel.importers.currencies import amount_currencies, check_rates, convert, currency_code
from funnel.importers.outcomes import group_of
from funnel.models import Lead, Payment
from tests.funnel.jobs import CRM_FIXTURES, imported, job_of, media, post_job, ru_funnel, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

MSK = ZoneInfo("Europe/Moscow")
AMO = CRM_FIXTURES / "amocrm_open_deals.csv"
B24_PRODUCTS = CRM_FIXTURES / "bitrix24_products.csv"
B24_HTML = CRM_FIXTURES / "bitrix24_deals.xls"
AMO_STAGES = {
    "Первичный контакт": "Лид",
    "Переговоры": "Встреча назначена",
    "Успешно реализовано": "won",
    "Закрыто и не реализовано": "lost",
}


def msk(text: str) -> datetime:
    return datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=MSK)


def test_amocrm_open_deals_with_ne_zakryta_are_imported(
    api_for, head, ru_funnel, django_capture_on_commit_callbacks
):
    # given amoCRM's export, «не закрыта» in «Дата закрытия» of every open deal
    job = imported(
        api_for(head), django_capture_on_commit_callbacks, ru_funnel, AMO, stage_map=AMO_STAGES
    )
    # then no row is refused as a bad date, and open deals have no closing date
    assert job["status"] == "done" and job["error_count"] == 0, job
    leads = {lead.external_id: lead for lead in Lead.objects.all()}
    assert len(leads) == 6
    assert leads["31001"].current_stage.name == "Встреча назначена"
    assert leads["31001"].lost_at is None
    assert leads["31005"].lost_at == msk("21.11.2026 15:10")
    assert Payment.objects.get(external_id="31004").paid_at == msk("20.11.2026 12:00")


def test_amocrm_channel_falls_back_to_the_second_source_then_utm_source(
    api_for, head, ru_funnel, django_capture_on_commit_callbacks
):
    imported(
        api_for(head), django_capture_on_commit_callbacks, ru_funnel, AMO, stage_map=AMO_STAGES
    )
    channels = dict(Lead.objects.values_list("external_id", "channel"))
    assert channels == {
        "31001": "Выставка",  # the first «Источник»
        "31002": "Сайт",  # empty first «Источник»: the second one
        "31003": "yandex",  # both empty: utm_source
        "31004": "Рекомендация",
        "31005": "google",
        "31006": "",  # nothing anywhere
    }


def test_bitrix24_product_rows_are_one_deal_with_its_payment_lines(
    api_for, head, ru_funnel, django_capture_on_commit_callbacks
):
    # given a Bitrix24 CSV export (Windows-1251) with «Товар»: a row per product of a deal
    api = api_for(head)
    body = upload(api, ru_funnel, B24_PRODUCTS)
    assert body["preset"] == "bitrix24"
    assert body["preview"]["mapping"]["product"] == "Товар"
    settings = {"stage_map": {"Подготовка документов": "Встреча проведена"}}
    # when imported
    post_job(api, django_capture_on_commit_callbacks, body["id"], "confirm", **settings)
    job = job_of(api, body["id"])
    # then the repeated deal ids are no duplicates: three deals, the won ones paid per product
    assert job["status"] == "done" and job["error_count"] == 0, job
    assert sorted(Lead.objects.values_list("external_id", flat=True)) == ["501", "502", "503"]
    lines = dict(Payment.objects.values_list("external_id", "amount"))
    assert lines == {
        "501": Decimal("120000"),
        "501#Кресло": Decimal("30000"),
        "501#Доставка": Decimal("5000"),
        "502": Decimal("80000"),
    }
    assert {p.product_name for p in Payment.objects.filter(lead__external_id="501")} == {
        "Стол",
        "Кресло",
        "Доставка",
    }
    assert sum(lines.values()) == Decimal("235000")  # not 120 000 with the rest "duplicates"
    # and importing it again changes nothing
    again = imported(api, django_capture_on_commit_callbacks, ru_funnel, B24_PRODUCTS, **settings)
    assert again["counts"]["leads"] == {"inserted": 0, "updated": 0, "unchanged": 3}
    assert again["counts"]["payments"] == {"inserted": 0, "updated": 0}
    assert Payment.objects.count() == 4


def test_bitrix24_html_excel_export_is_read(tmp_path):
    # given Bitrix24's "Export to Excel": an HTML page named .xls
    info = inspect_file(B24_HTML, filename="deals.xls")
    # then it is read as a table: its headers, rows and first values
    assert info.kind == "html"
    assert info.headers[:3] == ("ID", "Название сделки", "Стадия сделки")
    assert info.total_rows == 4
    assert info.sample[1]["Валюта"] == "Доллар США"
    assert info.sample[0]["Сумма"] == "500 000"


def test_bitrix24_html_with_a_foreign_currency_and_renamed_final_stages(
    api_for, head, ru_funnel, django_capture_on_commit_callbacks
):
    api = api_for(head)
    stage_map = {"Подготовка документов": "Встреча проведена"}
    # when imported with no USD rate
    refused = imported(
        api, django_capture_on_commit_callbacks, ru_funnel, B24_HTML, stage_map=stage_map
    )
    # then the deal in dollars is refused with its reason, never summed as roubles, and
    # nothing is written; the renamed final stages are no unknown stages (their group says)
    assert refused["status"] == "failed"
    assert [(e["line"], e["column"]) for e in refused["errors"]] == [(3, "Валюта")]
    assert "USD" in refused["errors"][0]["reason"] and "курс" in refused["errors"][0]["reason"]
    assert not Lead.objects.exists()
    # when imported with the rate
    job = imported(
        api,
        django_capture_on_commit_callbacks,
        ru_funnel,
        B24_HTML,
        stage_map=stage_map,
        rates={"USD": "90"},
    )
    assert job["status"] == "done" and job["error_count"] == 0, job
    leads = {lead.external_id: lead for lead in Lead.objects.select_related("current_stage")}
    payments = {p.external_id: p for p in Payment.objects.all()}
    # «Успешно завершена» with «Группа стадий» = Успешные is won; converted at the rate
    assert leads["701"].current_stage.name == "Оплата"
    assert payments["701"].amount == Decimal("500000")
    assert payments["702"].amount == Decimal("1080000.00")  # 12 000 $ × 90
    # «Нет финансирования» / Провалены is lost, on «Дата завершения»
    assert leads["703"].lost_at == msk("12.11.2026 00:00") and "703" not in payments
    # the close date is «Дата завершения», else the expected one
    assert payments["701"].paid_at == msk("10.11.2026 00:00")
    assert payments["702"].paid_at == msk("20.11.2026 00:00")
    # an open deal: its expected close date is no payment
    assert leads["704"].current_stage.name == "Встреча проведена" and "704" not in payments
    # the creation date is «Дата создания», and «Дата начала» only when it is empty
    assert leads["701"].created_at == msk("01.10.2026 09:00")
    assert leads["704"].created_at == msk("07.10.2026 00:00")


def test_one_creation_date_rule_for_files_and_webhooks():
    # given the same deal as the file has it and as crm.deal.get returns it
    info = inspect_file(B24_HTML, filename="deals.xls")
    mapping = {"external_id": "ID", "created_at": "Дата создания"}
    frame = next(read_leads(B24_HTML, info, mapping, {}, last_position=4)).frame
    from_file = frame.set_index("external_id")["created_at"]["701"]
    deal = {
        "ID": "701",
        "DATE_CREATE": "2026-10-01T09:00:00+03:00",
        "BEGINDATE": "2026-10-03T00:00:00+03:00",
        "STAGE_SEMANTIC_ID": "S",
    }
    change, _notes = bitrix_change(deal, statuses={}, fallback=msk("01.12.2026 00:00"))
    # then both take DATE_CREATE («Дата создания»), not BEGINDATE («Дата начала»)
    assert change.created_at == from_file.to_pydatetime()


def test_a_currency_sign_in_the_amount_is_that_currency(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "ID;Дата создания;Этап;Сумма\n"
        "1;01.11.2026;won;1 500 $\n"
        "2;01.11.2026;won;2 000 ₽\n"
        "3;01.11.2026;won;€ 100\n",
        encoding="utf-8",
    )
    info = inspect_file(path, filename="deals.csv")
    mapping = {"external_id": "ID", "created_at": "Дата создания", "crm_stage": "Этап"}
    mapping["amount"] = "Сумма"
    stage_map = {"won": "won"}
    with translation.override("en"):
        chunk = next(read_leads(path, info, mapping, stage_map, last_position=4))
    assert [(e.line, e.column) for e in chunk.errors] == [(2, "Сумма"), (4, "Сумма")]
    assert "USD" in chunk.errors[0].reason and "EUR" in chunk.errors[1].reason
    rated = next(
        read_leads(
            path, info, mapping, stage_map, last_position=4, rates={"USD": "90", "EUR": "100"}
        )
    )
    assert rated.errors == []
    assert rated.frame["amount"].tolist() == ["135000.00", "2000", "10000.00"]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Российский рубль", "RUB"),
        ("руб.", "RUB"),
        ("Доллар США", "USD"),
        ("usd", "USD"),
        ("€", "EUR"),
        ("тенге", "KZT"),
        ("GBP", "GBP"),
        ("", ""),
        ("пиастры", None),
    ],
)
def test_currency_names_as_crms_write_them(written, code):
    assert currency_code(written) == code


def test_rates_are_checked():
    rates, errors = check_rates({"usd": "92,5", "EUR": "", "RUB": "1"}, "RUB")
    assert rates == {"USD": "92.5"}
    assert len(errors) == 1 and "RUB" in errors[0]
    _rates, errors = check_rates({"USD": "-1", "пиастры": "3"}, "RUB")
    assert len(errors) == 2


def test_convert_leaves_the_organizations_currency_and_refuses_a_missing_rate():
    amounts = np.array(["100", "100", "100", ""], dtype=object)
    written = np.array(["RUB", "USD", "EUR", "USD"], dtype=object)
    out, no_rate, unknown = convert(amounts, written, currency="RUB", rates={"USD": "2"})
    assert out.tolist() == ["100", "200.00", "100", ""]
    assert no_rate.tolist() == [False, False, True, False]  # an empty amount needs no rate
    assert not unknown.any()
    assert amount_currencies(np.array(["1 500 $", "100", "EUR 5"], dtype=object)).tolist() == [
        "USD",
        "",
        "EUR",
    ]


@pytest.mark.parametrize(
    ("written", "group"),
    [
        ("Успешные", "won"),
        ("Сделка успешна", "won"),
        ("S", "won"),
        ("Провалены", "lost"),
        ("Неуспешные", "lost"),
        ("F", "lost"),
        ("В работе", "open"),
        ("P", "open"),
        ("что-то", ""),
    ],
)
def test_bitrix24_stage_groups(written, group):
    assert group_of(written) == group
