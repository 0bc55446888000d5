"""Files that cannot be read at all, and rows that cannot be imported: what the user is told."""

import zipfile

import pytest
from django.utils import translation

from funnel.importers import (
    ImportFileError,
    default_mapping,
    detect_preset,
    inspect_file,
    missing_columns,
    read_leads,
)
from funnel.ingest.schema import LOST, RowError
from tests.funnel.importing import LAST_POSITION, read, write

DATE = "not a date; expected DD.MM.YYYY [HH:MM[:SS]] or YYYY-MM-DD [HH:MM[:SS]]"
NUMBER = "not a number; expected an amount like 1 000 000,50 or 1000000.50"
FLAG = "not a yes/no value; expected да/нет, yes/no, true/false or 1/0"
UNKNOWN_STAGE = "unknown stage; expected one of: «Лид», «Оплачено», «Отказ»"
STAGE_MAP: dict[str, int | str] = {"Лид": 1, "Оплачено": LAST_POSITION, "Отказ": LOST}

BROKEN = """external_id,created_at,stage,amount,is_target
A-1,2024-03-01,Лид,1000,да
A-2,31.02.2024,Лид,500,
A-3,2024-03-02,Переговоры,700,
A-4,2024-03-02,Лид,-5 000,
A-5,2024-03-02,Лид,десять,
A-1,2024-03-03,Лид,100,
,2024-03-03,Лид,100,
A-6,,Лид,100,
A-7,2024-03-04,Лид,100,может быть
A-8,вчера,Пропал,-1,
"""


def test_broken_rows_are_reported_and_left_out(tmp_path):
    # given a file with a bad value of every kind (line 11 has three)
    path = write(tmp_path / "broken.csv", BROKEN)
    info = inspect_file(path, filename="broken.csv")
    mapping = default_mapping(detect_preset(info.headers), info.headers)
    # when it is read
    frame, errors, _ = read(path, info, mapping, STAGE_MAP)
    # then each error names the line, the file's column, the value and the reason
    assert errors == [
        RowError(3, "created_at", "31.02.2024", DATE),
        RowError(4, "stage", "Переговоры", UNKNOWN_STAGE),
        RowError(5, "amount", "-5 000", "negative amount"),
        RowError(6, "amount", "десять", NUMBER),
        RowError(7, "external_id", "A-1", "duplicate external id; first seen on line 2"),
        RowError(8, "external_id", "", "external id is empty"),
        RowError(9, "created_at", "", "created date is empty"),
        RowError(10, "is_target", "может быть", FLAG),
        RowError(11, "created_at", "вчера", DATE),
        RowError(11, "stage", "Пропал", UNKNOWN_STAGE),
        RowError(11, "amount", "-1", "negative amount"),
    ]
    # and only the good row is imported
    assert frame["line"].tolist() == [2]
    assert frame["amount"].tolist() == ["1000"]


def test_errors_name_the_column_as_the_file_does(tmp_path):
    # given an amoCRM-like file with a bad creation date
    path = write(
        tmp_path / "amo.csv",
        "ID;Название сделки;Бюджет;Дата создания сделки;Этап сделки\n"
        "1;Сделка;1 000;32.01.2024 10:00:00;Лид\n",
        "cp1251",
    )
    info = inspect_file(path, filename="amo.csv")
    mapping = default_mapping("amocrm", info.headers)
    # when / then the error says "Дата создания сделки", not our field's name
    _, errors, _ = read(path, info, mapping, STAGE_MAP)
    assert errors == [RowError(2, "Дата создания сделки", "32.01.2024 10:00:00", DATE)]


def test_duplicates_across_chunks_name_the_first_line(tmp_path):
    # given ids repeated further down the file than one chunk
    path = write(
        tmp_path / "deals.csv",
        "id,created_at,stage\na,2024-01-01,Лид\nb,2024-01-01,Лид\nc,2024-01-01,Лид\n"
        "a,2024-01-02,Лид\nb,2024-01-02,Лид\na,2024-01-03,Лид\n",
    )
    info = inspect_file(path, filename="deals.csv")
    mapping = default_mapping("generic", info.headers)
    # when it is read two rows at a time
    frame, errors, chunks = read(path, info, mapping, STAGE_MAP, chunk_rows=2)
    # then every repeat points at the first row with that id
    assert len(chunks) == 3
    assert [(e.line, e.value, e.reason) for e in errors] == [
        (5, "a", "duplicate external id; first seen on line 2"),
        (6, "b", "duplicate external id; first seen on line 3"),
        (7, "a", "duplicate external id; first seen on line 2"),
    ]
    assert frame["line"].tolist() == [2, 3, 4]


def test_a_file_without_a_stage_reads_and_says_nothing_of_the_outcome(tmp_path):
    # given a file without a stage column (a list of leads, say)
    path = write(tmp_path / "deals.csv", "id,created_at,amount\n1,2024-01-01,100\n")
    info = inspect_file(path, filename="deals.csv")
    assert detect_preset(info.headers) == ""
    mapping = default_mapping("", info.headers)
    # when it is read; then nothing is missing, and stage, won and lost are unknown (<NA>):
    # the loader keeps each lead's own stage and outcome
    assert missing_columns(mapping, info.headers) == []
    frame, errors, _chunks = read(path, info, mapping, STAGE_MAP)
    assert errors == []
    assert frame["stage"].isna().all() and frame["won"].isna().all() and frame["lost"].isna().all()


def test_a_file_without_a_deal_id_is_refused(tmp_path):
    path = write(tmp_path / "deals.csv", "name,created_at\nA,2024-01-01\n")
    info = inspect_file(path, filename="deals.csv")
    mapping = default_mapping("", info.headers)
    assert missing_columns(mapping, info.headers) == ["external_id"]
    with translation.override("en"), pytest.raises(ImportFileError, match="Deal ID"):
        next(read_leads(path, info, mapping, STAGE_MAP, last_position=LAST_POSITION))


def test_a_saved_mapping_naming_a_column_the_file_lacks(tmp_path):
    path = write(tmp_path / "deals.csv", "id,created_at,stage\n1,2024-01-01,Лид\n")
    info = inspect_file(path, filename="deals.csv")
    mapping = {"external_id": "id", "created_at": "created_at", "crm_stage": "stage"}
    mapping["amount"] = "Бюджет"
    with translation.override("en"), pytest.raises(ImportFileError, match="no column Бюджет"):
        next(read_leads(path, info, mapping, STAGE_MAP, last_position=LAST_POSITION))


def unreadable_files() -> list[tuple[str, str, bytes, str]]:
    text = "ID;Название сделки;Этап сделки\n1;Сделка;Лид\n"
    return [
        ("utf16-bom", "deals.csv", text.encode("utf-16"), "UTF-16"),
        ("utf16-no-bom", "deals.csv", text.encode("utf-16-le"), "UTF-16"),
        ("binary", "deals.csv", bytes(range(256)) * 64, "UTF-16 or is not a text file"),
        ("control-bytes", "deals.csv", bytes(range(1, 32)) * 64, "not a text file"),
        ("empty", "deals.csv", b"", "empty"),
        ("blank", "deals.csv", b" \r\n\r\n", "empty"),
        (
            "html-no-table",
            "deals.xls",
            b"<html><body><p>Session expired</p></body></html>",
            "no table",
        ),
        ("old-xls", "deals.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "Old Excel"),
        ("xlsx-name", "deals.xlsx", text.encode(), "not a valid .xlsx"),
        ("cp1251-hole", "deals.csv", "ID;Имя\n1;Анна".encode("cp1251") + b"\x98", "neither"),
    ]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [pytest.param(c, f, m, id=i) for i, f, c, m in unreadable_files()],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, content, filename, message):
    # given bytes that are no CSV in UTF-8 or Windows-1251 and no workbook
    path = tmp_path / "upload"
    path.write_bytes(content)
    # when / then inspecting says why
    with translation.override("en"), pytest.raises(ImportFileError, match=message):
        inspect_file(path, filename=filename)


def test_a_zip_that_is_no_workbook(tmp_path):
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("deals.csv", "ID\n1\n")
    with translation.override("en"), pytest.raises(ImportFileError, match="not an Excel"):
        inspect_file(path, filename="deals.zip")
