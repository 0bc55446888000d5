"""The Maven CRM data set, the real file, checked against an independent pandas count."""

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from funnel.importers import (
    crm_stages,
    default_mapping,
    default_stage_map,
    detect_preset,
    inspect_file,
    read_leads,
)
from funnel.ingest.schema import LOST, WON
from tests.funnel.importing import (
    KEY_STAGE,
    LAST_POSITION,
    ROOT,
    STAGES,
    combined,
    positions,
    read,
    utc,
)

MAVEN = ROOT / "data" / "maven-crm" / "sales_pipeline.csv"
EXPORT_DAY = datetime(2017, 12, 31)  # the data set ends in December 2017


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(MAVEN)


def test_maven_is_recognised_and_mapped():
    info = inspect_file(MAVEN, filename="sales_pipeline.csv")
    assert (info.encoding, info.delimiter, info.total_rows) == ("utf-8", ",", 8800)
    assert detect_preset(info.headers) == "maven"
    assert default_mapping("maven", info.headers) == {
        "external_id": "opportunity_id",
        "created_at": "engage_date",
        "responsible": "sales_agent",
        "company": "account",
        "lost_at": "close_date",
        "amount": "close_value",
        "product": "product",
        "paid_at": "close_date",
        "crm_stage": "deal_stage",
    }


def test_maven_stages_map_to_first_and_key_stage(expected):
    info = inspect_file(MAVEN, filename="sales_pipeline.csv")
    mapping = default_mapping("maven", info.headers)
    # when the stages are counted and mapped
    stages = crm_stages(MAVEN, info, mapping)
    names = default_stage_map("maven", [stage for stage, _ in stages], STAGES, KEY_STAGE)
    # then the counts are pandas' and Prospecting / Engaging go to the first / key stage
    assert dict(stages) == expected["deal_stage"].value_counts().to_dict()
    assert names == {"Won": WON, "Lost": LOST, "Prospecting": "Лид", "Engaging": KEY_STAGE}


def test_maven_pipeline_matches_an_independent_count(expected):
    # given the real file, read in small chunks (duplicates are checked across chunks)
    info = inspect_file(MAVEN, filename="sales_pipeline.csv")
    mapping = default_mapping("maven", info.headers)
    stage_map = positions(
        default_stage_map("maven", ["Won", "Lost", "Prospecting", "Engaging"], STAGES, KEY_STAGE)
    )
    # when it is read with the export's day as the prospects' created date
    chunks = list(
        read_leads(
            MAVEN,
            info,
            mapping,
            stage_map,
            last_position=LAST_POSITION,
            chunk_rows=1000,
            fallback_created_at=EXPORT_DAY,
        )
    )
    frame = combined(chunks)
    # then nothing is lost or refused
    assert len(chunks) == 9
    assert [error for chunk in chunks for error in chunk.errors] == []
    assert sum(chunk.rows for chunk in chunks) == len(frame) == len(expected) == 8800
    # deals per stage and per salesperson are what pandas counts on its own
    key = STAGES.index(KEY_STAGE) + 1
    ours = {
        "Won": int(frame["won"].sum()),
        "Lost": int(frame["lost"].sum()),
        "Engaging": int(((frame["stage"] == key) & ~frame["won"]).sum()),
        "Prospecting": int((frame["stage"] == 1).sum()),
    }
    assert ours == expected["deal_stage"].value_counts().to_dict()
    assert (
        frame["responsible"].value_counts().to_dict()
        == expected["sales_agent"].value_counts().to_dict()
    )
    # won revenue is exact
    won_value = expected.loc[expected["deal_stage"] == "Won", "close_value"].sum()
    assert sum(Decimal(amount) for amount in frame.loc[frame["won"], "amount"]) == won_value
    # GTXPro is the product list's GTX Pro
    assert "GTXPro" not in set(frame["product"])
    assert (frame["product"] == "GTX Pro").sum() == (expected["product"] == "GTXPro").sum()
    # prospects (no engage or close date) are created on the export's day, Moscow time
    prospects = frame["external_id"].isin(
        expected.loc[expected["deal_stage"] == "Prospecting", "opportunity_id"]
    )
    assert (frame.loc[prospects, "created_at"] == utc("2017-12-30 21:00")).all()
    # open deals without an account are fine
    assert (frame["company"] == "").sum() == expected["account"].isna().sum()


def test_maven_prospects_without_a_fallback_day_are_errors():
    # given no export day
    info = inspect_file(MAVEN, filename="sales_pipeline.csv")
    mapping = default_mapping("maven", info.headers)
    stage_map = {"Won": WON, "Lost": LOST, "Prospecting": 1, "Engaging": 4}
    # when the file is read
    frame, errors, _ = read(MAVEN, info, mapping, stage_map)
    # then each prospect is reported, not dropped
    assert len(frame) == 8300
    assert len(errors) == 500
    assert {(e.column, e.value, e.reason) for e in errors} == {
        ("engage_date", "", "created date is empty")
    }
