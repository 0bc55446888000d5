"""Our template (docs/import-template.md): UTF-8 with BOM, tab-separated, Russian headers; and
the same template with English headers, in a comma-separated file with trailing commas."""

import re

import pandas as pd

from funnel.importers import (
    crm_stages,
    default_mapping,
    default_stage_map,
    detect_preset,
    inspect_file,
)
from funnel.importers.presets.generic import ALIASES, CLOSED_AT_ALIASES
from funnel.ingest.schema import LOST
from tests.funnel.importing import (
    FIXTURES,
    KEY_STAGE,
    LAST_POSITION,
    ROOT,
    STAGES,
    positions,
    read,
    utc,
    write,
)

TEMPLATE = FIXTURES / "template_deals.tsv"


def test_template_is_inspected():
    info = inspect_file(TEMPLATE, filename="deals.txt")
    # then the BOM is gone from the first header and tabs split the columns
    assert (info.encoding, info.delimiter, info.total_rows) == ("utf-8-sig", "\t", 4)
    assert info.headers[0] == "ID сделки"
    assert detect_preset(info.headers) == "generic"


def test_template_russian_headers_are_mapped():
    info = inspect_file(TEMPLATE, filename="deals.txt")
    assert default_mapping("generic", info.headers) == {
        "external_id": "ID сделки",
        "name": "Название",
        "created_at": "Дата создания",
        "channel": "Канал",
        "is_target": "Целевой",
        "non_target_reason": "Причина нецелевого",
        "responsible": "Ответственный",
        "company": "Компания",
        "lost_reason": "Причина отказа",
        "lost_at": "Дата отказа",
        "amount": "Сумма",
        "gross_margin": "Валовая маржа",
        "product": "Продукт",
        "paid_at": "Дата оплаты",
        "is_new_client": "Новый клиент",
        "crm_stage": "Этап",
    }


def test_template_deals_are_normalized():
    # given the template with our own stage names and "Отказ" for lost deals
    info = inspect_file(TEMPLATE, filename="deals.txt")
    mapping = default_mapping("generic", info.headers)
    raw = [stage for stage, _ in crm_stages(TEMPLATE, info, mapping)]
    names = default_stage_map("generic", raw, STAGES, KEY_STAGE)
    assert names == {
        "Оплачено": "Оплачено",
        "Встреча проведена": "Встреча проведена",
        "Лид": "Лид",
        "Отказ": LOST,
    }
    # when it is read
    frame, errors, _ = read(TEMPLATE, info, mapping, positions(names))
    # then reaching our last stage is winning, and every kind of value is parsed
    assert errors == []
    assert frame["external_id"].tolist() == ["T-1", "T-2", "T-3", "T-4"]
    assert frame["stage"].tolist() == [LAST_POSITION, 4, 1, pd.NA]
    assert frame["won"].tolist() == [True, False, False, False]
    assert frame["lost"].tolist() == [False, False, False, True]
    assert frame["created_at"].tolist() == [
        utc("2024-03-01 07:00"),  # local time
        utc("2024-03-02 06:15"),  # ISO with an offset
        utc("2024-03-01 21:00"),  # DD.MM.YYYY, local midnight
        utc("2024-03-02 21:00"),
    ]
    assert frame["is_target"].tolist() == [True, True, False, True]
    assert frame["non_target_reason"].tolist() == ["", "", "не наш регион", ""]
    assert frame["amount"].tolist() == ["120000.00", "80000", "", "300000"]
    assert frame["gross_margin"].tolist() == ["45000.00", "", "", ""]
    assert frame["is_new_client"].tolist() == [True, False, pd.NA, False]
    assert frame["paid_at"].tolist()[0] == utc("2024-03-20 12:00")
    assert frame["lost_at"].tolist()[3] == utc("2024-03-09 21:00")
    assert frame["lost_reason"].tolist() == ["", "", "", "выбрали конкурента"]
    assert frame["company"].tolist() == ["Пекарня №1", "Салон «Лайм»", "", "ООО Магазин"]


def test_template_with_english_headers_and_trailing_commas(tmp_path):
    # given the English template as Excel saves it: a trailing comma on every line
    path = write(
        tmp_path / "deals.csv",
        "external_id,name,created_at,stage,amount,close date,lost_reason,\n"
        'E-1,Website,2024-05-02 10:00:00,won,"1,500,000.00",2024-05-20,,\n'
        "E-2,App,2024-05-03 11:00:00,lost,0,2024-05-21,Too expensive,\n",
    )
    info = inspect_file(path, filename="deals.csv")
    # then the empty unnamed column is ignored and the closing date feeds both outcomes
    assert info.headers[-1] == "lost_reason"
    assert detect_preset(info.headers) == "generic"
    mapping = default_mapping("generic", info.headers)
    assert mapping["paid_at"] == mapping["lost_at"] == "close date"
    stage_map = positions(default_stage_map("generic", ["won", "lost"], STAGES))
    frame, errors, _ = read(path, info, mapping, stage_map)
    assert errors == []
    assert frame["amount"].tolist() == ["1500000.00", "0"]
    assert frame["paid_at"].tolist()[0] == utc("2024-05-19 21:00")
    assert frame["lost_at"].tolist()[1] == utc("2024-05-20 21:00")
    assert frame["lost_reason"].tolist() == ["", "Too expensive"]


def test_every_template_alias_is_documented():
    # given the documentation of the template
    documented = set(re.findall(r"`([^`]+)`", (ROOT / "docs" / "import-template.md").read_text()))
    # then every header name the code accepts is written there
    aliases = {alias for names in ALIASES.values() for alias in names} | set(CLOSED_AT_ALIASES)
    assert aliases - documented == set()
