"""What a draft changes, and which changes need a second admin (pure)."""

from __future__ import annotations

import pytest

from bot.admin.diff import card_text_keys, diff_packs, safety_changes
from bot.admin.drafts import with_text
from content.pack import ContentPack, load_pack
from content.triage_schema import Disposition


@pytest.fixture(scope="module")
def shipped() -> ContentPack:
    return load_pack()


def changed_flow(pack: ContentPack, **updates: object) -> ContentPack:
    return pack.model_copy(update={"triage": pack.triage.model_copy(update=updates)})


def test_identical_packs_have_no_diff(shipped: ContentPack) -> None:
    diff = diff_packs(shipped, shipped)
    assert diff.empty
    assert safety_changes(diff, shipped, shipped) == []


@pytest.mark.parametrize(
    "key",
    [
        "reminders.message.posture",
        "core.help.text",
        "triage.q.sides.text",
        "triage.cause.dvt.about",
    ],
)
def test_ordinary_text_changes_need_no_approval(shipped: ContentPack, key: str) -> None:
    draft = with_text(shipped, "tr", key, "Yeni metin")
    diff = diff_packs(shipped, draft)
    assert [c.name for c in diff.texts] == [f"tr:{key}"]
    assert diff.structure == ()
    assert safety_changes(diff, shipped, draft) == []


@pytest.mark.parametrize(
    "key",
    [
        "triage.rf.possible_dvt.body",
        "triage.rf.cauda_equina.title",
        "triage.advice.no_massage",  # advice printed on the DVT card
    ],
)
def test_red_flag_and_card_texts_need_approval(shipped: ContentPack, key: str) -> None:
    assert key in card_text_keys(shipped.triage) or key.startswith("triage.rf.")
    draft = with_text(shipped, "en", key, "Changed")
    assert safety_changes(diff_packs(shipped, draft), shipped, draft) == [f"en:{key}"]


def test_card_fixed_lines_are_card_texts(shipped: ContentPack) -> None:
    keys = card_text_keys(shipped.triage)
    flow_texts = shipped.triage.texts
    assert {flow_texts.do_not_drive, flow_texts.pe_warning, flow_texts.tell_handler} <= keys
    assert set(shipped.triage.card_levels.values()) <= keys


def test_red_flag_rules_and_numbers_need_approval(shipped: ContentPack) -> None:
    rules = list(shipped.triage.red_flags)
    rules[0] = rules[0].model_copy(update={"review_by": rules[0].review_by.replace(year=2030)})
    draft = changed_flow(shipped, red_flags=tuple(rules))
    diff = diff_packs(shipped, draft)
    assert [(c.path, c.change) for c in diff.structure] == [
        (f"triage.red_flags.{rules[0].id}", "changed")
    ]
    assert safety_changes(diff, shipped, draft) == [f"triage.red_flags.{rules[0].id} (changed)"]

    countries = dict(shipped.countries.countries)
    countries["GB"] = countries["GB"].model_copy(update={"emergency": "112"})
    del countries["NZ"]
    moved = shipped.model_copy(
        update={"countries": shipped.countries.model_copy(update={"countries": countries})}
    )
    found = safety_changes(diff_packs(shipped, moved), shipped, moved)
    assert found == ["countries.GB (numbers changed)", "countries.NZ (removed)"]


def test_reordered_questions_are_a_structure_change(shipped: ContentPack) -> None:
    questions = shipped.triage.questions
    draft = changed_flow(shipped, questions=(questions[1], questions[0], *questions[2:]))
    diff = diff_packs(shipped, draft)
    assert [(c.path, c.change) for c in diff.structure] == [("triage.questions", "reordered")]
    assert safety_changes(diff, shipped, draft) == []


def test_weakening_a_golden_case_needs_approval(shipped: ContentPack) -> None:
    golden = list(shipped.triage.golden)
    golden[0] = golden[0].model_copy(update={"min_level": Disposition.SELF_CARE})
    draft = changed_flow(shipped, golden=tuple(golden))
    found = safety_changes(diff_packs(shipped, draft), shipped, draft)
    assert found == [f"triage.golden.{golden[0].id} (changed)"]
