"""Reminder content (validated like the rest of the pack) and the rotation over it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from content.pack import ContentPack, load_pack
from content.pack_io import dump_pack, pack_document, parse_pack
from content.reminder_schema import REMINDER_KINDS, NudgeItem, check_reminders
from scheduler.nudges import is_evening, item_text, pick_item, rotation_start
from tests.nudges.support import ISTANBUL

STRETCH_NOTES = {"nudges.caution.swollen", "nudges.caution.fresh_injury"}


@pytest.fixture(scope="module")
def pack() -> ContentPack:
    return load_pack()


def test_the_shipped_reminder_content_passes_its_checks(pack: ContentPack) -> None:
    assert check_reminders(pack.reminders, pack.texts) == []
    assert {kind: len(pack.reminders.items(kind)) for kind in REMINDER_KINDS} == {
        "hydration": 4,
        "posture": 4,
        "stretch": 6,
    }


def test_every_item_has_english_and_turkish_texts(pack: ContentPack) -> None:
    assert set(pack.languages) == {"en", "tr"}
    for kind in REMINDER_KINDS:
        for item in pack.reminders.items(kind):
            for key in (item.title, item.body, *item.cautions):
                assert pack.texts["en"][key].strip(), key
                assert pack.texts["tr"][key].strip(), key
                assert pack.texts["en"][key] != pack.texts["tr"][key], key


def test_do_not_do_this_if_notes_are_where_the_articles_warn(pack: ContentPack) -> None:
    # Stretching a suddenly swollen, red, warm leg (possible clot) or a fresh tear is what
    # the articles send to a doctor or to rest/ice first.
    for item in pack.reminders.items("stretch"):
        assert set(item.cautions) >= STRETCH_NOTES, item.id
        assert item.hold_seconds or item.repetitions
    notes = {
        item.id: set(item.cautions)
        for kind in REMINDER_KINDS
        for item in pack.reminders.items(kind)
    }
    assert "nudges.caution.nerve" in notes["nerve_floss"]
    assert "nudges.caution.fluid_limit" in notes["after_exercise"]
    assert all(notes[item.id] for item in pack.reminders.items("posture") if item.walking)
    ids = {item.id for kind in REMINDER_KINDS for item in pack.reminders.items(kind)}
    assert {
        "hamstring",
        "calf_wall",
        "ankle_circles",
        "toe_raises",
        "piriformis",
        "nerve_floss",
    } <= ids
    assert {"sit_check", "move_hour", "sit_stand", "after_exercise", "mineral_foods"} <= ids


def test_a_stretch_without_its_notes_or_a_missing_translation_is_refused(
    pack: ContentPack,
) -> None:
    stretches = pack.reminders.items("stretch")
    bare = stretches[0].model_copy(update={"cautions": ()})
    broken = pack.reminders.model_copy(
        update={"kinds": {**pack.reminders.kinds, "stretch": (bare, *stretches[1:])}}
    )
    texts = {lang: dict(table) for lang, table in pack.texts.items()}
    del texts["tr"][stretches[1].body]
    problems = {(p.key, p.reason) for p in check_reminders(broken, texts)}
    assert any(
        key == "reminders.kinds.stretch.calf_wall" and "notes" in reason
        for key, reason in problems
    )
    assert (f"tr:{stretches[1].body}", "used by a reminder item but missing") in problems


def test_the_admin_pack_document_carries_the_reminder_content(pack: ContentPack) -> None:
    document = pack_document(pack)
    assert document["reminders"]["kinds"]["stretch"][0]["id"] == "calf_wall"
    assert parse_pack(dump_pack(pack).encode()).pack == pack
    # A document from before reminder content still loads (reminders then use one text).
    legacy = dump_pack(pack).split("\nreminders:")[0].encode()
    assert parse_pack(legacy).pack.reminders.items("stretch") == ()


def test_rotation_walks_through_every_item_without_repeating_in_a_row(pack: ContentPack) -> None:
    items = pack.reminders.items("hydration")
    start = rotation_start(1001)
    shown = [pick_item(items, start + n) for n in range(8)]
    assert {item.id for item in shown if item} == {item.id for item in items}
    assert all(a != b for a, b in itertools.pairwise(shown))
    assert rotation_start(1001) == start  # stable across processes and restarts
    assert len({rotation_start(user) for user in range(1, 50)}) > 40  # users start apart


def test_evening_and_hold_narrow_the_choice(pack: ContentPack) -> None:
    stretches = pack.reminders.items("stretch")
    evening = {pick_item(stretches, n, evening=True).id for n in range(12)}  # type: ignore[union-attr]
    assert (
        evening
        == {item.id for item in stretches if item.evening}
        == {"calf_wall", "ankle_circles"}
    )
    posture = pack.reminders.items("posture")
    held = {pick_item(posture, n, held=True).id for n in range(12)}  # type: ignore[union-attr]
    assert held == {"sit_check", "desk_pump"}  # nothing that asks to walk
    assert pick_item((), 3) is None
    walking_only = (
        NudgeItem(id="w", title="nudges.item.w.t", body="nudges.item.w.b", walking=True),
    )
    assert pick_item(walking_only, 0, held=True) is None
    assert is_evening(datetime(2026, 6, 1, 14, 0, tzinfo=UTC), ISTANBUL)  # 17:00 there
    assert not is_evening(datetime(2026, 6, 1, 13, 59, tzinfo=UTC), ISTANBUL)


def test_an_item_reads_with_its_hold_repetitions_and_notes(pack: ContentPack) -> None:
    calf = pack.reminders.items("stretch")[0]
    english = item_text(pack, "en", "stretch", calf)
    assert english.startswith("🤸 <b>Stretch</b> · Calf stretch against a wall\n")
    assert "⏱ Hold for 15 seconds, 3 times on each side." in english
    assert "⚠️ <b>Don't do this if:</b>\n• your leg has suddenly become swollen" in english
    turkish = item_text(pack, "tr", "stretch", calf)
    assert "⏱ 15 saniye tut, her iki tarafta 3 kez." in turkish
    assert "⚠️ <b>Şu durumlarda yapma:</b>" in turkish
