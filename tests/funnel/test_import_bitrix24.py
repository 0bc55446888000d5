"""Bitrix24: a deals export saved as .xlsx (dates as cells and as text, a blank row)."""

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd

from funnel.importers import (
    crm_stages,
    default_mapping,
    default_stage_map,
    detect_preset,
    inspect_file,
    read_leads,
)
from funnel.ingest.schema import LOST, WON
from tests.funnel.importing import KEY_STAGE, LAST_POSITION, STAGES, combined, positions, utc

HEADERS = [
    "ID",
    "Название сделки",
    "Стадия сделки",
    "Сумма",
    "Валюта",
    "Ответственный",
    "Дата начала",
    "Предполагаемая дата закрытия",
    "Источник",
    "Компания",
    "Дата создания",
]


def bitrix_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Сделки"
    sheet.append(HEADERS)
    sheet.append(
        [
            101,
            "Поставка бумаги",
            "Сделка успешна",
            150000.5,
            "RUB",
            "Анна Смирнова",
            datetime(2024, 4, 1, 9, 0),
            datetime(2024, 4, 15),
            "Звонок",
            "ООО Бумага",
            datetime(2024, 3, 30, 18, 0),
        ]
    )
    sheet.append(
        [
            102,
            "Ремонт офиса",
            "Подготовка документов",
            "1 200 000,00",
            "RUB",
            "Иван Петров",
            "02.04.2024",
            "30.04.2024",
            "Веб-сайт",
            None,
            "02.04.2024 10:00:00",
        ]
    )
    sheet.append([])  # row 4 left blank
    sheet.append(
        [103, "Аудит", "Сделка провалена", 0, "RUB", "Иван Петров", "03.04.2024", "10.04.2024"]
    )
    sheet.append(
        [104, "Обучение", "C2:WON", 99000, "RUB", "Анна Смирнова", "05.04.2024", "20.04.2024"]
    )
    sheet.append(
        [105, "Лизинг", "Анализ причины провала", 10, "RUB", "Анна Смирнова", "06.04.2024"]
    )
    workbook.save(path)
    return path


def test_bitrix24_xlsx_is_inspected(tmp_path):
    # given a Bitrix24 export saved as .xlsx under a misleading name
    path = bitrix_xlsx(tmp_path / "upload.bin")
    # when it is inspected
    info = inspect_file(path, filename="deals.csv")
    # then it is read as a workbook by its content
    assert (info.kind, info.encoding, info.delimiter, info.sheet) == ("xlsx", "", "", "Сделки")
    assert info.headers == tuple(HEADERS)
    assert info.total_rows == 6  # the blank row included, as in a CSV
    assert info.sample[0]["Сумма"] == "150000.5"
    assert info.sample[0]["Дата начала"] == "2024-04-01 09:00:00"
    assert detect_preset(info.headers) == "bitrix24"


def test_bitrix24_default_mapping(tmp_path):
    info = inspect_file(bitrix_xlsx(tmp_path / "deals.xlsx"), filename="deals.xlsx")
    # when / then "Дата создания" (DATE_CREATE, as the webhook's crm.deal.get) wins over "Дата
    # начала" (which fills its empty cells); the expected close date is paid_at; «Валюта» is
    # the currency
    assert default_mapping("bitrix24", info.headers) == {
        "external_id": "ID",
        "name": "Название сделки",
        "created_at": "Дата создания",
        "currency": "Валюта",
        "channel": "Источник",
        "responsible": "Ответственный",
        "company": "Компания",
        "lost_at": "Предполагаемая дата закрытия",
        "amount": "Сумма",
        "paid_at": "Предполагаемая дата закрытия",
        "crm_stage": "Стадия сделки",
    }


def test_bitrix24_stage_names_ids_and_semantics():
    # given stages as names, status ids of any pipeline and STAGE_SEMANTIC_ID values
    raw = ["Сделка успешна", "WON", "C2:WON", "S", "Сделка провалена", "LOSE", "C7:LOSE"]
    raw += ["APOLOGY", "Анализ причины провала", "F", "P", "NEW", "C2:PREPARATION"]
    # when they are mapped by default
    names = default_stage_map("bitrix24", raw, STAGES, KEY_STAGE)
    # then successes are won, failures (and the failure analysis) lost, the rest left to map
    assert {raw for raw, target in names.items() if target == WON} == {
        "Сделка успешна",
        "WON",
        "C2:WON",
        "S",
    }
    assert {raw for raw, target in names.items() if target == LOST} == {
        "Сделка провалена",
        "LOSE",
        "C7:LOSE",
        "APOLOGY",
        "Анализ причины провала",
        "F",
    }
    assert "P" not in names and "NEW" not in names and "C2:PREPARATION" not in names


def test_bitrix24_deals_are_normalized(tmp_path):
    # given the workbook and the stage map (the user put "Подготовка документов" at stage 3)
    path = bitrix_xlsx(tmp_path / "deals.xlsx")
    info = inspect_file(path, filename="deals.xlsx")
    mapping = default_mapping("bitrix24", info.headers)
    raw = [stage for stage, _ in crm_stages(path, info, mapping)]
    stage_map = positions(default_stage_map("bitrix24", raw, STAGES, KEY_STAGE))
    stage_map["Подготовка документов"] = 3
    # when it is read
    chunks = list(read_leads(path, info, mapping, stage_map, last_position=LAST_POSITION))
    frame = combined(chunks)
    # then sheet rows are the lines, the blank row is skipped but counted
    assert [error for chunk in chunks for error in chunk.errors] == []
    assert sum(chunk.rows for chunk in chunks) == info.total_rows
    assert frame["line"].tolist() == [2, 3, 5, 6, 7]
    assert frame["amount"].tolist() == ["150000.5", "1200000.00", "0", "99000", "10"]
    assert frame["created_at"].tolist() == [
        utc("2024-03-30 15:00"),  # «Дата создания», a date cell, local time
        utc("2024-04-02 07:00"),  # «Дата создания» "02.04.2024 10:00:00" as text
        utc("2024-04-02 21:00"),  # no «Дата создания»: «Дата начала»
        utc("2024-04-04 21:00"),
        utc("2024-04-05 21:00"),
    ]
    assert frame["won"].tolist() == [True, False, False, True, False]
    assert frame["lost"].tolist() == [False, False, True, False, True]
    assert frame["stage"].tolist() == [LAST_POSITION, 3, pd.NA, LAST_POSITION, pd.NA]
    # the expected close date of an open deal is no payment
    assert frame["paid_at"].tolist()[0] == utc("2024-04-14 21:00")
    assert frame["paid_at"].isna().tolist() == [False, True, True, False, True]
    assert frame["lost_at"][2] == utc("2024-04-09 21:00")
    assert pd.isna(frame["lost_at"][4])  # lost without a date
