"""The one CRM-stage resolver (funnel/stage_map.py): our own stage names need no mapping, names
are compared ignoring case, spacing and ё/е, a target may name our stage by name or id."""

from funnel.stage_map import resolve_stage_map

STAGES = ["Лид", "Счёт выставлен", "Встреча проведена", "Оплата"]
IDS = [11, 12, 13, 14]


def test_our_own_stage_names_need_no_mapping():
    # given no stage map at all
    resolved = resolve_stage_map({}, STAGES)
    # then our stages are found however the CRM spells their case, spacing and ё
    assert resolved.positions["счет выставлен"] == 1
    assert resolved.positions["встреча проведена"] == 2
    assert resolved.positions["won"] == "won" and resolved.positions["lost"] == "lost"
    assert resolved.unknown == []


def test_the_map_overrides_our_names_and_names_a_stage_by_id_or_name():
    # given a CRM whose "Лид" is really our paid stage (odd, but the user said so)
    resolved = resolve_stage_map(
        {"Лид": "Оплата", "Переговоры": "13", "C1:WON": "WON", "Отказ": "lost"},
        STAGES,
        stage_ids=IDS,
    )
    assert resolved.positions["лид"] == 3
    assert resolved.positions["переговоры"] == 2  # by id
    assert resolved.targets["Переговоры"] == "Встреча проведена"
    assert resolved.positions["c1:won"] == "won" and resolved.positions["отказ"] == "lost"


def test_a_target_that_is_no_stage_is_reported_not_guessed():
    resolved = resolve_stage_map({"Переговоры": "Счёт", "X": "99", "Y": ""}, STAGES, stage_ids=IDS)
    assert resolved.unknown == [("Переговоры", "Счёт"), ("X", "99")]
    assert "переговоры" not in resolved.positions and "y" not in resolved.positions
