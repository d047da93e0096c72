"""Break a copy of the shipped content and see `check_triage` name the key and the reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from content.problems import ContentProblem
from content.triage_checks import check_triage, explore_flow, used_text_keys
from content.triage_schema import Countries, TriageFlow

Texts = dict[str, dict[str, str]]


def _copy(texts: Texts) -> Texts:
    return {lang: dict(table) for lang, table in texts.items()}


def _has(problems: list[ContentProblem], key: str, reason: str) -> bool:
    return any(p.key == key and reason in p.reason for p in problems)


def test_deleting_the_dvt_card_text_is_caught(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    broken = _copy(texts)
    del broken["tr"]["triage.rf.possible_dvt.body"]
    broken["en"]["triage.rf.possible_dvt.title"] = "  "
    problems = check_triage(flow, countries, broken)
    assert _has(problems, "tr:triage.rf.possible_dvt.body", "text missing")
    assert _has(problems, "en:triage.rf.possible_dvt.title", "text empty")


def test_removing_a_rule_source_is_caught(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    rules = tuple(
        r.model_copy(update={"sources": ()}) if r.id == "possible_pe" else r
        for r in flow.red_flags
    )
    problems = check_triage(flow.model_copy(update={"red_flags": rules}), countries, texts)
    assert _has(problems, "triage.red_flags.possible_pe.sources", "no source")


def test_a_rule_without_source_or_review_date_does_not_load(flow: TriageFlow) -> None:
    data = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["red_flags"][0]["sources"] = []
    del data["red_flags"][1]["review_by"]
    with pytest.raises(ValidationError) as error:
        TriageFlow.model_validate(data)
    assert {e["loc"] for e in error.value.errors()} == {
        ("red_flags", 0, "sources"),
        ("red_flags", 1, "review_by"),
    }


def test_broken_html_is_caught(flow: TriageFlow, countries: Countries, texts: Texts) -> None:
    broken = _copy(texts)
    broken["tr"]["triage.card.e1"] = "🚨 <b>Hemen {emergency} numarasını arayın"
    broken["en"]["triage.q.skin.text"] = "Is it <div>swollen</div> & red?"
    problems = check_triage(flow, countries, broken)
    assert _has(problems, "tr:triage.card.e1", "not valid HTML")
    assert _has(problems, "en:triage.q.skin.text", "not valid HTML")


def test_placeholder_and_hard_coded_numbers_are_caught(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    broken = _copy(texts)
    broken["tr"]["triage.level.e1.action"] = "Hemen ambulans çağırın."
    broken["en"]["triage.ui.pe_warning"] = "If you become breathless, call 999 at once."
    broken["en"]["triage.q.age.a.u16"] = "<b>Under 16</b>"
    problems = check_triage(flow, countries, broken)
    assert _has(problems, "tr:triage.level.e1.action", "placeholders differ")
    assert _has(problems, "en:triage.ui.pe_warning", "phone number")
    assert _has(problems, "en:triage.q.age.a.u16", "plain text")


def _mini_flow(flow: TriageFlow, extra_question: dict[str, Any]) -> TriageFlow:
    """The first five questions of the shipped flow plus one more, with what they use."""
    data = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    keep = {"breath", "limb", "ces", "age", "sides"}
    data["questions"] = [q for q in data["questions"] if q["id"] in keep] + [extra_question]
    data["red_flags"] = [r for r in data["red_flags"] if r["id"] in {"possible_pe", "child"}]
    data["causes"] = [
        {**c, "score": [i for i in c["score"] if i["q"] in keep], "level_if": []}
        for c in data["causes"]
        if any(i["q"] in keep for i in c["score"])
    ]
    data["golden"] = []
    data["golden_defaults"] = {}
    return TriageFlow.model_validate(data)


def _texts_for(flow: TriageFlow, countries: Countries, texts: Texts) -> Texts:
    used = used_text_keys(flow, countries)
    return {lang: {k: v for k, v in t.items() if k in used} for lang, t in texts.items()}


GHOST = {
    "id": "ghost",
    "phase": "main",
    "text": "triage.q.veins.text",
    "why": "triage.q.veins.why",
    "short": "triage.q.veins.short",
    "answers": [{"id": "y", "label": "triage.a.yes"}, {"id": "n", "label": "triage.a.no"}],
}


def test_an_unreachable_question_is_caught(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    impossible = {"all": [{"q": "sides", "in": ["one"]}, {"q": "sides", "in": ["both"]}]}
    mini = _mini_flow(flow, {**GHOST, "ask_if": impossible})
    problems = check_triage(mini, countries, _texts_for(mini, countries, texts))
    assert _has(problems, "triage.questions.ghost", "unreachable")


def test_a_question_depending_on_a_later_one_is_caught(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    data = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["questions"][0]["ask_if"] = {"q": "risk", "in": ["y"]}
    problems = check_triage(TriageFlow.model_validate(data), countries, texts)
    assert _has(problems, "triage.structure.questions.breath.ask_if", "not asked before it")


def test_a_small_clean_flow_passes_the_walk(
    flow: TriageFlow, countries: Countries, texts: Texts
) -> None:
    mini = _mini_flow(flow, {**GHOST, "ask_if": {"q": "sides", "in": ["one"]}})
    problems = check_triage(mini, countries, _texts_for(mini, countries, texts))
    unreachable = {p.key for p in problems if "unreachable" in p.reason}
    assert "triage.questions.ghost" not in unreachable
    assert not [p for p in problems if "HTML" in p.reason or "card" in p.reason]


def test_a_walk_is_reused_only_for_the_same_flow(flow: TriageFlow) -> None:
    mini = _mini_flow(flow, {**GHOST, "ask_if": {"q": "sides", "in": ["one"]}})
    first = explore_flow(mini)
    assert first.paths > 0
    assert explore_flow(TriageFlow.model_validate(mini.model_dump(by_alias=True))) is first
    other = _mini_flow(flow, {**GHOST, "ask_if": {"q": "sides", "in": ["both"]}})
    assert explore_flow(other) is not first
