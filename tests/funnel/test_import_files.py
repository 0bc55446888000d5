"""Reading any CSV or workbook: encodings, delimiters, headers, lines, pipelines."""

from datetime import datetime

import openpyxl
import pytest

from funnel.importers import (
    crm_stages,
    default_mapping,
    header_signature,
    inspect_file,
    unique_headers,
)
from funnel.ingest.schema import WON
from tests.funnel.importing import read, utc, write

GENERIC = {"external_id": "id", "created_at": "created_at", "crm_stage": "stage"}


@pytest.mark.parametrize(
    ("delimiter", "text"),
    [
        (",", 'id,name,amount,stage\n1,"Иванов; Петров","1 000,50",Лид\n2,Б,"2,5",Лид\n'),
        (";", "id;name;amount;stage\n1;Иванов, Петров;1 000,50;Лид\n2;Б;2,5;Лид\n"),
        ("\t", "id\tname\tamount\tstage\n1\tИванов, Петров;\t1 000,50\tЛид\n2\tБ\t2,5\tЛид\n"),
    ],
    ids=["comma", "semicolon", "tab"],
)
def test_delimiter_is_detected(tmp_path, delimiter, text):
    # given values holding the other candidate delimiters
    path = write(tmp_path / "deals.csv", text)
    # when / then the real one is found
    info = inspect_file(path, filename="deals.csv")
    assert info.delimiter == delimiter
    assert info.headers == ("id", "name", "amount", "stage")
    assert info.sample[0]["amount"] == "1 000,50"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251")],
)
def test_encoding_is_detected(tmp_path, encoding, expected):
    path = write(tmp_path / "deals.csv", "ID;Название\n1;Ёлка «Север»\n", encoding)
    info = inspect_file(path, filename="deals.csv")
    assert info.encoding == expected
    assert info.headers == ("ID", "Название")
    assert info.sample == [{"ID": "1", "Название": "Ёлка «Север»"}]


def test_cp1251_after_a_long_ascii_start(tmp_path):
    # given a cp1251 file whose first 64 KB are plain ASCII (valid UTF-8 too)
    rows = "".join(f"{i};deal {i}\n" for i in range(20_000))
    path = write(tmp_path / "deals.csv", f"id;name\n{rows}99999;Сделка\n", "cp1251")
    # when / then the whole file decides, not its start
    info = inspect_file(path, filename="deals.csv")
    assert info.encoding == "cp1251"
    assert info.total_rows == 20_001


def test_repeated_headers_get_stable_names():
    assert unique_headers(["Теги", "Теги", "\ufeffID ", "", "Теги", "Примечание"]) == [
        "Теги",
        "Теги (2)",
        "ID",
        "#4",
        "Теги (3)",
        "Примечание",
    ]
    # a real "Теги (2)" keeps its name; the repeat takes the next free one
    assert unique_headers(["Теги", "Теги", "Теги (2)"]) == ["Теги", "Теги (3)", "Теги (2)"]


def test_header_signature_finds_a_saved_mapping_again():
    signature = header_signature(["ID", "Сделка", "Этап"])
    assert len(signature) == 64
    # the same columns in another order, case or spacing: the same signature
    assert header_signature(["этап ", "\ufeffID", "СДЕЛКА"]) == signature
    assert header_signature(["ID", "Сделка", "Этап", "Сумма"]) != signature


def test_blank_lines_crlf_and_no_final_newline(tmp_path):
    # given blank lines, a row of empty fields and no newline at the end
    path = write(
        tmp_path / "deals.csv",
        "id,created_at,stage\r\n1,2024-01-01,Лид\r\n\r\n,,\r\n2,01.01.2024 10:00,Лид",
    )
    info = inspect_file(path, filename="deals.csv")
    assert info.total_rows == 4
    # when it is read
    frame, errors, _ = read(path, info, GENERIC, {"Лид": 1})
    # then blank rows are skipped and lines still match the file
    assert errors == []
    assert frame["line"].tolist() == [2, 5]
    assert frame["created_at"].tolist() == [utc("2023-12-31 21:00"), utc("2024-01-01 07:00")]


def test_quoted_values_over_several_lines_keep_line_numbers(tmp_path):
    # given notes spanning lines, with quotes inside, across chunk boundaries
    path = write(
        tmp_path / "deals.csv",
        'id,note,created_at,stage\n1,"one\ntwo ""2""\nthree",2024-01-01,Лид\n'
        '2,plain,2024-01-01,Лид\n3,"a\nb",2024-01-01,Лид\n4,x,2024-01-01,Лид\n',
    )
    info = inspect_file(path, filename="deals.csv")
    assert (info.total_rows, info.multiline) == (4, True)
    # when it is read one row at a time
    frame, _, chunks = read(path, info, GENERIC, {"Лид": 1}, chunk_rows=1)
    # then each row has the line it starts on
    assert len(chunks) == 4
    assert frame["line"].tolist() == [2, 5, 6, 8]


def test_workbook_with_a_title_row_gap(tmp_path):
    # given a workbook whose headers are on row 2 (row 1 left empty)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A2"], sheet["B2"], sheet["C2"] = "id", "created_at", "stage"
    sheet.append([1, datetime(2024, 1, 1, 12, 0), "Лид"])
    sheet.append([2, "2024-01-02", "Лид"])
    workbook.save(tmp_path / "deals.xlsx")
    # when it is inspected and read
    info = inspect_file(tmp_path / "deals.xlsx", filename="deals.xlsx")
    frame, errors, _ = read(tmp_path / "deals.xlsx", info, GENERIC, {"Лид": 1})
    # then rows are numbered as in Excel
    assert (info.header_line, info.total_rows) == (2, 2)
    assert errors == []
    assert frame["line"].tolist() == [3, 4]
    assert frame["created_at"].tolist() == [utc("2024-01-01 09:00"), utc("2024-01-01 21:00")]


def test_pipelines_qualify_stages_only_when_there_are_several(tmp_path):
    # given two pipelines with a stage of the same name
    path = write(
        tmp_path / "deals.csv",
        "id,created_at,stage,pipeline\n"
        "1,2024-01-01,Переговоры,Продажи\n2,2024-01-01,Переговоры,Партнёры\n"
        "3,2024-01-01,переговоры ,Продажи\n4,2024-01-01,Успешно,Партнёры\n",
    )
    info = inspect_file(path, filename="deals.csv")
    mapping = default_mapping("generic", info.headers)
    assert mapping["pipeline"] == "pipeline"
    # when the stages are listed
    stages = crm_stages(path, info, mapping)
    # then each is named with its pipeline (case and spacing do not split a stage)
    assert stages == [
        ("Продажи / Переговоры", 2),
        ("Партнёры / Переговоры", 1),
        ("Партнёры / Успешно", 1),
    ]
    # and a map may use the qualified name, falling back to the bare one
    stage_map: dict[str, int | str] = {
        "продажи / переговоры": 3,
        "Переговоры": 2,
        "Успешно": WON,
    }
    frame, errors, _ = read(path, info, mapping, stage_map)
    assert errors == []
    assert frame["stage"].tolist() == [3, 2, 3, 5]


def test_workbook_without_a_dimension_still_counts_its_rows(tmp_path):
    # given a workbook written in openpyxl's streaming mode (no <dimension> in the sheet)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Deals")
    sheet.append(["id", "created_at", "stage"])
    for number in range(1, 251):
        sheet.append([number, "2024-01-01", "Лид"])
    workbook.save(tmp_path / "deals.xlsx")
    # when / then the rows are counted from the sheet's XML
    info = inspect_file(tmp_path / "deals.xlsx", filename="deals.xlsx")
    assert info.total_rows == 250
    frame, errors, _ = read(tmp_path / "deals.xlsx", info, GENERIC, {"Лид": 1}, chunk_rows=100)
    assert (len(frame), errors) == (250, [])
