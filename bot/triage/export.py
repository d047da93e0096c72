"""The whole flow for clinicians: a Mermaid diagram, a Markdown document, or JSON.

Pure; the ``legcare triage export --format ...`` command only writes what this returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from content.telegram_html import html_to_text
from content.triage_schema import Condition, Question, TriageFlow

__all__ = ["FORMATS", "export_flow"]

Format = Literal["mermaid", "markdown", "json"]
FORMATS: tuple[Format, ...] = ("mermaid", "markdown", "json")
Texts = Mapping[str, Mapping[str, str]]


def export_flow(flow: TriageFlow, texts: Texts, lang: str, fmt: str) -> str:
    """The flow in ``fmt`` (mermaid, markdown or json), with texts in ``lang``."""
    if fmt == "mermaid":
        return _mermaid(flow, texts, lang)
    if fmt == "markdown":
        return _markdown(flow, texts, lang)
    if fmt == "json":
        return _json(flow, texts, lang)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _t(texts: Texts, lang: str, key: str) -> str:
    value = texts.get(lang, {}).get(key) or texts.get("en", {}).get(key) or key
    return " ".join(html_to_text(value).split())


def describe(condition: Condition) -> str:
    """A condition in words: ``sides = one AND (skin = swell OR u)``."""
    if condition.q is not None:
        return f"{condition.q} = {' or '.join(condition.in_)}"
    if condition.all:
        return " AND ".join(f"({describe(part)})" for part in condition.all)
    if condition.any:
        return " OR ".join(f"({describe(part)})" for part in condition.any)
    if condition.not_ is None:  # pragma: no cover - the schema forbids it
        return ""
    return f"NOT ({describe(condition.not_)})"


def _mermaid_label(value: str) -> str:
    return value.replace('"', "'").replace("\n", " ")[:80]


def _mermaid(flow: TriageFlow, texts: Texts, lang: str) -> str:
    lines = ["flowchart TD", '  start(["Start"])']
    previous = "start"
    for question in flow.questions:
        label = _mermaid_label(_t(texts, lang, question.short))
        lines.append(f'  q_{question.id}["{question.id}: {label}"]')
        edge = "-->" if question.ask_if is None else "-.->"
        note = (
            ""
            if question.ask_if is None
            else f'|"if {_mermaid_label(describe(question.ask_if))}"|'
        )
        lines.append(f"  {previous} {edge}{note} q_{question.id}")
        previous = f"q_{question.id}"
    lines.append(f'  {previous} --> result(["Result: max(scored causes, every red flag met)"])')
    for rule in flow.red_flags:
        title = _mermaid_label(_t(texts, lang, rule.title))
        lines.append(f'  rf_{rule.id}{{{{"{rule.level}: {title}"}}}}')
        for question_id in dict.fromkeys(q for q, _ in rule.when.references()):
            lines.append(f"  q_{question_id} -. red flag .-> rf_{rule.id}")
        lines.append(f"  rf_{rule.id} --> result")
    lines.append("  classDef flag fill:#fdd,stroke:#c00")
    lines.append("  class " + ",".join(f"rf_{r.id}" for r in flow.red_flags) + " flag")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def _question_md(question: Question, texts: Texts, lang: str) -> list[str]:
    lines = [f"### `{question.id}`: {_t(texts, lang, question.short)}", ""]
    lines.append(f"> {_t(texts, lang, question.text)}")
    lines.append("")
    if question.ask_if is not None:
        lines.append(f"Asked only if: `{describe(question.ask_if)}`")
    if question.skip_from is not None:
        lines.append(f"Skipped once a rule at {question.skip_from} or above is met.")
    lines.append(f"Why we ask: {_t(texts, lang, question.why)}")
    lines.append("")
    lines.extend(f"- `{a.id}`: {_t(texts, lang, a.label)}" for a in question.answers)
    lines.append("")
    return lines


def _markdown(flow: TriageFlow, texts: Texts, lang: str) -> str:
    sources = {s.id: s for s in flow.sources}
    lines = [
        f"# LegCare symptom check, flow version {flow.version}",
        "",
        f"Flow review date: {flow.review_by}. Questions stop once a rule at "
        f"{flow.stop_level} or above is met. Final disposition = max(scored causes, every "
        "red flag ever met in the session).",
        "",
        "## Questions (in order)",
        "",
    ]
    for question in flow.questions:
        lines.extend(_question_md(question, texts, lang))
    lines += [
        "## Red-flag rules",
        "",
        "| Rule | Reference rows | Level | When | Card | Do not drive | PE warning "
        "| Sources | Review by |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in flow.red_flags:
        rows = ", ".join(str(r) if r else "policy" for r in rule.rows)
        cited = ", ".join(
            f"[{s}]({sources[s].url})" if s in sources and sources[s].url != "internal" else s
            for s in rule.sources
        )
        lines.append(
            f"| `{rule.id}` | {rows} | {rule.level} | `{_cell(describe(rule.when))}` "
            f"| {_cell(_t(texts, lang, rule.title))} | {'yes' if rule.do_not_drive else ''} "
            f"| {'yes' if rule.pe_warning else ''} | {cited} | {rule.review_by} |"
        )
    lines += ["", "## Causes and scoring", ""]
    lines += ["| Cause | Base level | Points | Raised when | Self-care |", "|---|---|---|---|---|"]
    for cause in flow.causes:
        points = "; ".join(f"{i.q}={'/'.join(i.in_)}: +{i.points}" for i in cause.score)
        raised = "; ".join(f"{describe(li.when)} -> {li.level}" for li in cause.level_if)
        lines.append(
            f"| {_cell(_t(texts, lang, cause.name))} | {cause.level} | {_cell(points)} "
            f"| {_cell(raised)} | {', '.join(cause.self_care)} |"
        )
    lines += [
        "",
        f"A cause is listed with at least {flow.min_cause_points} points (top "
        f"{flow.max_causes}); with none, the level is {flow.no_cause_level}.",
        "",
    ]
    lines += [
        "## Golden cases",
        "",
        "| Case | Story | Minimum | Maximum | Cards |",
        "|---|---|---|---|---|",
    ]
    for case in flow.golden:
        lines.append(
            f"| `{case.id}` | {_cell(case.title)} | {case.min_level} | {case.max_level or ''} "
            f"| {', '.join(case.cards) or ('none' if case.no_card else '')} |"
        )
    lines += ["", "## Sources", ""]
    lines += [f"- **{s.id}**: {s.name} ({s.url})" for s in flow.sources]
    return "\n".join(lines) + "\n"


def _json(flow: TriageFlow, texts: Texts, lang: str) -> str:
    data = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    used: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, str) and value.startswith("triage."):
            used.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(data)
    table = texts.get(lang, {})
    data["texts_" + lang] = {key: table[key] for key in sorted(used) if key in table}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
