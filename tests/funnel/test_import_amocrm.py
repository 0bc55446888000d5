"""amoCRM: a real-format export (cp1251, ";", CRLF, repeated "Теги", a note over two lines)."""

import pandas as pd

from funnel.importers import (
    crm_stages,
    default_mapping,
    default_stage_map,
    detect_preset,
    inspect_file,
    missing_columns,
    read_leads,
)
from funnel.ingest.schema import LOST, WON
from tests.funnel.importing import FIXTURES, KEY_STAGE, LAST_POSITION, STAGES, combined, utc

AMOCRM = FIXTURES / "amocrm_deals.csv"


def test_amocrm_export_is_inspected():
    # given amoCRM's CSV export
    # when it is inspected
    info = inspect_file(AMOCRM, filename="amocrm_export.csv")
    # then encoding, delimiter, the repeated "Теги" and the row count are right
    assert (info.kind, info.encoding, info.delimiter) == ("csv", "cp1251", ";")
    assert info.headers[6:8] == ("Теги", "Теги (2)")
    assert info.total_rows == 4
    assert info.multiline  # the note of deal 24816002 spans two lines
    assert info.sample[0]["Бюджет"] == "1 000 000,50"
    assert info.sample[1]["Примечание"] == "Перезвонить после\r\nпраздников"
    assert detect_preset(info.headers) == "amocrm"


def test_amocrm_default_mapping():
    # given the amoCRM headers
    info = inspect_file(AMOCRM, filename="amocrm_export.csv")
    # when the preset maps them
    mapping = default_mapping("amocrm", info.headers)
    # then every field goes to its amoCRM column, the closing date to both outcomes
    assert mapping == {
        "external_id": "ID",
        "name": "Название сделки",
        "created_at": "Дата создания сделки",
        "channel": "Источник",
        "responsible": "Ответственный",
        "company": "Компания",
        "lost_reason": "Причина отказа",
        "lost_at": "Дата закрытия",
        "amount": "Бюджет",
        "paid_at": "Дата закрытия",
        "crm_stage": "Этап сделки",
        "pipeline": "Воронка",
    }
    assert missing_columns(mapping, info.headers) == []


def test_amocrm_won_and_lost_statuses_by_name_and_id():
    # given amoCRM's stages as exports (names) and the API (ids 142 / 143) write them
    raw = ["Успешно реализовано", "Закрыто и не реализовано", "142", "143", "Переговоры", "лид"]
    # when they are mapped by default
    names = default_stage_map("amocrm", raw, STAGES, KEY_STAGE)
    # then won/lost are known in every pipeline, our own stage names match in any case
    assert names == {
        "Успешно реализовано": WON,
        "Закрыто и не реализовано": LOST,
        "142": WON,
        "143": LOST,
        "лид": "Лид",
    }


def test_amocrm_stages_are_counted():
    info = inspect_file(AMOCRM, filename="amocrm_export.csv")
    mapping = default_mapping("amocrm", info.headers)
    # when / then one pipeline: stages are not qualified with it
    assert crm_stages(AMOCRM, info, mapping) == [
        ("Закрыто и не реализовано", 1),
        ("Первичный контакт", 1),
        ("Переговоры", 1),
        ("Успешно реализовано", 1),
    ]


def test_amocrm_deals_are_normalized():
    # given the export and a stage map from the mapping screen
    info = inspect_file(AMOCRM, filename="amocrm_export.csv")
    mapping = default_mapping("amocrm", info.headers)
    stage_map = {
        "Первичный контакт": 1,
        "Переговоры": 3,
        "Успешно реализовано": WON,
        "Закрыто и не реализовано": LOST,
    }
    # when it is read
    chunks = list(read_leads(AMOCRM, info, mapping, stage_map, last_position=LAST_POSITION))
    frame = combined(chunks)
    # then every deal is there with the physical line it starts on (the note took two lines)
    assert [chunk.errors for chunk in chunks] == [[]]
    assert sum(chunk.rows for chunk in chunks) == info.total_rows
    assert frame["line"].tolist() == [2, 3, 5, 6]
    assert frame["external_id"].tolist() == ["24816001", "24816002", "24816003", "24816004"]
    # money is exact text, Moscow times are stored in UTC
    assert frame["amount"].tolist() == ["1000000.50", "250000", "0", "15500.00"]
    assert frame["created_at"].tolist() == [
        utc("2024-01-15 07:30:00"),
        utc("2024-01-16 06:00:00"),
        utc("2024-01-17 09:15:30"),
        utc("2024-02-01 20:30:00"),
    ]
    # won → the last stage, paid at the closing date; lost → no stage, its reason and date
    assert frame["stage"].tolist() == [LAST_POSITION, 3, pd.NA, 1]
    assert frame["won"].tolist() == [True, False, False, False]
    assert frame["lost"].tolist() == [False, False, True, False]
    assert frame["paid_at"].tolist()[0] == utc("2024-02-20 15:45:10")
    assert frame["paid_at"].isna().tolist() == [False, True, True, True]
    assert frame["lost_at"].isna().tolist() == [True, True, False, True]
    assert frame["lost_at"][2] == utc("2024-01-25 08:00:00")
    assert frame["lost_reason"].tolist() == ["", "", "Дорого", ""]
    # people as the CRM wrote them (names or e-mails: the loader matches them to members)
    assert frame["responsible"].tolist() == [
        "Анна Смирнова",
        "Иван Петров",
        "ivan.petrov@example.ru",
        "Анна Смирнова",
    ]
    assert frame["company"].tolist() == ['ООО "Ромашка"', "ИП Сидоров", "", 'ООО "Вектор"']
    assert frame["channel"].tolist() == ["Яндекс.Директ", "Сайт", "Звонок", ""]
