"""The clinician export: Mermaid, Markdown and JSON of the whole flow."""

from __future__ import annotations

import json

import pytest

from bot.triage.export import FORMATS, export_flow
from content.triage_schema import TriageFlow


def test_markdown_has_every_rule_with_level_sources_and_review_date(
    flow: TriageFlow, texts: dict[str, dict[str, str]]
) -> None:
    document = export_flow(flow, texts, "en", "markdown")
    for rule in flow.red_flags:
        line = next(row for row in document.splitlines() if row.startswith(f"| `{rule.id}` |"))
        assert str(rule.level) in line
        assert str(rule.review_by) in line
        assert all(source in line for source in rule.sources)
    for question in flow.questions:
        assert f"### `{question.id}`" in document


def test_mermaid_names_every_question_and_rule(
    flow: TriageFlow, texts: dict[str, dict[str, str]]
) -> None:
    diagram = export_flow(flow, texts, "tr", "mermaid")
    assert diagram.startswith("flowchart TD")
    assert all(f"q_{q.id}[" in diagram for q in flow.questions)
    assert all(f"rf_{r.id}{{{{" in diagram for r in flow.red_flags)


def test_json_round_trips_to_the_same_flow(
    flow: TriageFlow, texts: dict[str, dict[str, str]]
) -> None:
    data = json.loads(export_flow(flow, texts, "en", "json"))
    data.pop("texts_en")
    assert TriageFlow.model_validate(data) == flow


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_in_every_language(
    flow: TriageFlow, texts: dict[str, dict[str, str]], fmt: str
) -> None:
    for lang in texts:
        assert export_flow(flow, texts, lang, fmt).strip()


def test_unknown_format_is_refused(flow: TriageFlow, texts: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        export_flow(flow, texts, "en", "pdf")
