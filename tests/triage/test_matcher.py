"""Free-text red-flag matching: typed words, misspellings and Turkish."""

from __future__ import annotations

import pytest

from bot.triage.engine import EmergencyCard, TriageEngine
from bot.triage.matcher import normalize


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("chest pain", "possible_pe"),
        ("I can't breathe", "possible_pe"),
        ("cant breath properly", "possible_pe"),
        ("my chest hurts and i feel faint", "possible_pe"),
        ("chestpain since this morning", "possible_pe"),
        ("coughing up blood", "possible_pe"),
        ("shortnes of breath", "possible_pe"),
        ("my calf is swollen and hot", "possible_dvt"),
        ("swolen calf", "possible_dvt"),
        ("I think I have a blood clot", "possible_dvt"),
        ("my foot is cold and blue", "limb_ischaemia"),
        ("I wet myself and my legs are numb", "cauda_equina"),
        ("heard a pop in my hamstring", "hamstring_tear"),
        ("the skin is red and hot and spreading", "cellulitis"),
        ("göğüs ağrısı var", "possible_pe"),
        ("gogsum agriyor nefes alamiyorum", "possible_pe"),
        ("Baldırım şişti ve sıcak", "possible_dvt"),
        ("idrarımı tutamıyorum", "cauda_equina"),
        ("AYAĞIM BUZ GİBİ", "limb_ischaemia"),
    ],
)
def test_warning_phrases_are_recognised(engine: TriageEngine, text: str, rule: str) -> None:
    assert rule in {r.id for r in engine.match_text(text, "en")}


@pytest.mark.parametrize(
    "text",
    ["my hamstrings are sore after the gym", "hello", "cramp in my calf at night", "", "🙂"],
)
def test_ordinary_messages_raise_no_alarm(engine: TriageEngine, text: str) -> None:
    assert engine.match_text(text, "en") == ()


def test_negation_still_alarms_by_design(engine: TriageEngine) -> None:
    """Documented choice: we prefer a false alarm to a miss, so "no chest pain" alarms."""
    assert "possible_pe" in {r.id for r in engine.match_text("no chest pain", "en")}


def test_typed_text_shows_the_card_now_and_keeps_the_floor(engine: TriageEngine) -> None:
    session = engine.answer(engine.start(), 0, "breath", "n")
    assert session is not None
    typed = engine.note_text(session, "my calf is swollen and hot", "en")
    step = engine.next_step(typed)
    assert isinstance(step, EmergencyCard)
    assert step.from_text
    assert {r.id for r in step.rules} == {"possible_dvt"}
    assert engine.result(engine.back(typed)).disposition.rank >= 2


def test_normalize_folds_turkish_and_apostrophes() -> None:
    assert normalize("Can’t İĞNE ŞİŞ ı") == "cant igne sis i"
