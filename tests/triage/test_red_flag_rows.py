"""One named test per numbered row of the red-flag table in the clinical reference.

Each replays the golden case of that row (answers in, minimum level out); the cases are
data in content/data/triage.yaml so the admin publish path replays them too.
"""

from __future__ import annotations

import pytest

from bot.triage.engine import EmergencyCard, Result, TriageEngine
from content.triage_schema import Disposition

E1 = Disposition.EMERGENCY_AMBULANCE
E2 = Disposition.EMERGENCY_DEPARTMENT
U = Disposition.URGENT_SAME_DAY
R = Disposition.ROUTINE
S = Disposition.SELF_CARE


def play(engine: TriageEngine, case_id: str) -> tuple[Result, list[tuple[str, set[str]]]]:
    """Replay a golden case; return the result and (last question answered, rules) per card."""
    case = next(c for c in engine.flow.golden if c.id == case_id)
    answers = {**engine.flow.golden_defaults, **case.answers}
    session = engine.start()
    for typed in case.texts:
        session = engine.note_text(session, typed, case.lang)
    cards: list[tuple[str, set[str]]] = []
    while True:
        step = engine.next_step(session)
        if isinstance(step, EmergencyCard):
            last = session.answers[-1][0] if session.answers else "(typed text)"
            cards.append((last, {r.id for r in step.rules}))
            step = step.then
        if isinstance(step, Result):
            return step, cards
        following = engine.answer(session, step.index, step.question.id, answers[step.question.id])
        assert following is not None
        session = following


def shown(cards: list[tuple[str, set[str]]]) -> set[str]:
    return set().union(*(rules for _, rules in cards)) if cards else set()


def check(
    engine: TriageEngine,
    case_id: str,
    minimum: Disposition,
    card: str | None = None,
    *,
    maximum: Disposition | None = None,
) -> Result:
    result, cards = play(engine, case_id)
    assert result.disposition.rank >= minimum.rank
    if maximum is not None:
        assert result.disposition.rank <= maximum.rank
    if card is None:
        assert cards == []
    else:
        assert card in shown(cards)
        assert card in {rule.id for rule in result.flags}
    return result


def test_row_01_possible_pe(engine: TriageEngine) -> None:
    result = check(engine, "row_01_possible_pe", E1, "possible_pe")
    assert result.do_not_drive
    assert result.pe_warning
    check(engine, "row_01_unsure_counts", E1, "possible_pe")
    check(engine, "row_01_typed", E1, "possible_pe")
    check(engine, "row_01_typed_tr", E1, "possible_pe")


def test_row_02_acute_limb_ischaemia(engine: TriageEngine) -> None:
    assert check(engine, "row_02_limb_ischaemia", E1, "limb_ischaemia").do_not_drive


def test_row_03_compartment_syndrome(engine: TriageEngine) -> None:
    check(engine, "row_03_compartment", E1, "compartment")


def test_row_04_sepsis(engine: TriageEngine) -> None:
    check(engine, "row_04_sepsis", E1, "sepsis")


def test_row_05_cauda_equina(engine: TriageEngine) -> None:
    check(engine, "row_05_cauda_equina", E2, "cauda_equina")
    check(engine, "row_05_both_legs", E2, "ces_both_legs")


def test_row_06_bleeding_varicose_vein(engine: TriageEngine) -> None:
    check(engine, "row_06_vein_bleeding", E2, "vein_bleeding")
    check(engine, "row_06_vein_bled", U, "vein_bled")


def test_row_07_severe_dehydration(engine: TriageEngine) -> None:
    check(engine, "row_07_dehydration_fits", E1, "dehydration_severe")
    check(engine, "row_07_dehydration_severe", U, "dehydration_urgent")


def test_row_08_possible_dvt_card_at_the_swelling_step(engine: TriageEngine) -> None:
    result, cards = play(engine, "row_08_possible_dvt")
    assert result.disposition.rank >= U.rank
    assert result.pe_warning
    assert "triage.advice.no_massage" in result.advice
    # the card comes in the step right after the swelling answer, before any other question
    assert cards == [("skin", {"possible_dvt"})]
    check(engine, "row_08_typed", U, "possible_dvt")


def test_row_09_dvt_risk_factors_raise_to_same_day(engine: TriageEngine) -> None:
    assert check(engine, "row_09_dvt_risk", U, "dvt_risk").pe_warning


def test_row_10_cellulitis(engine: TriageEngine) -> None:
    check(engine, "row_10_cellulitis", U, "cellulitis")


def test_row_11_critical_limb_ischaemia(engine: TriageEngine) -> None:
    check(engine, "row_11_critical_ischaemia", U, "critical_ischaemia")


def test_row_12_secondary_cramp(engine: TriageEngine) -> None:
    check(engine, "row_12_long_cramp", U, "cramp_secondary")


def test_row_13_serious_spine(engine: TriageEngine) -> None:
    check(engine, "row_13_foot_drop", U, "spine_serious")
    check(engine, "row_13_new_over_55", U, "spine_serious")


def test_row_14_severe_hamstring_tear(engine: TriageEngine) -> None:
    check(engine, "row_14_hamstring_tear", U, "hamstring_tear")


def test_row_15_pad_claudication(engine: TriageEngine) -> None:
    result = check(engine, "row_15_claudication", R, maximum=R)
    assert "pad" in {m.cause.id for m in result.causes}


def test_row_16_sciatica(engine: TriageEngine) -> None:
    check(engine, "row_16_sciatica", S, maximum=S)
    check(engine, "row_16_sciatica_weeks", R)


def test_row_17_piriformis(engine: TriageEngine) -> None:
    result = check(engine, "row_17_piriformis", S, maximum=S)
    assert "piriformis" in {m.cause.id for m in result.causes}


def test_row_18_varicose_veins(engine: TriageEngine) -> None:
    check(engine, "row_18_varicose", R)


def test_row_19_frequent_cramps(engine: TriageEngine) -> None:
    check(engine, "row_19_frequent_cramps", R)


def test_row_20_chronic_exertional(engine: TriageEngine) -> None:
    check(engine, "row_20_exertional", R)


def test_row_21_strain_and_doms_no_false_alarm(engine: TriageEngine) -> None:
    result = check(engine, "row_21_doms", S, maximum=S)
    assert "stretch" in {b.id for b in result.self_care}
    assert result.flags == ()
    strain = check(engine, "row_21_strain", S, maximum=S)
    assert {"price", "avoid3"} <= {b.id for b in strain.self_care}


def test_row_22_idiopathic_night_cramps(engine: TriageEngine) -> None:
    result = check(engine, "row_22_night_cramps", S, maximum=S)
    assert {"cramp", "stretch"} <= {b.id for b in result.self_care}


def test_row_23_mild_dehydration(engine: TriageEngine) -> None:
    result = check(engine, "row_23_mild_dehydration", S, maximum=S)
    assert "hydrate" in {b.id for b in result.self_care}


def test_row_24_prolonged_sitting(engine: TriageEngine) -> None:
    result = check(engine, "row_24_desk_sitting", S, maximum=S)
    assert "posture" in {b.id for b in result.self_care}


def test_under_16_is_directed_to_a_doctor(engine: TriageEngine) -> None:
    result = check(engine, "under_16", R, maximum=R)
    assert [rule.id for rule in result.flags] == ["child"]


def test_injury_on_blood_thinner(engine: TriageEngine) -> None:
    check(engine, "injury_on_blood_thinner", U, "injury_on_thinner")


@pytest.mark.parametrize("row", range(1, 25))
def test_every_table_row_has_a_golden_case(engine: TriageEngine, row: int) -> None:
    assert any(case.id.startswith(f"row_{row:02d}_") for case in engine.flow.golden)
