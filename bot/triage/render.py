"""Turn engine steps into the exact Telegram-HTML messages the bot sends.

The content checks render every step through these same functions, so what passes the
checks (valid HTML, within 4096 characters, every placeholder filled) is what users get.
Pure: texts come in as ``language -> key -> text``; the country decides the numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from bot.triage.engine import Ask, EmergencyCard, Result, Session, Step, TriageEngine
from content.telegram_html import html_to_text
from content.triage_schema import Country, Disposition, Question, TriageFlow

__all__ = [
    "BUTTONS",
    "PLACEHOLDERS",
    "Texts",
    "answer_buttons",
    "button_label",
    "doctor_summary",
    "handler_summary",
    "render_card",
    "render_question",
    "render_result",
    "render_step",
    "render_why",
    "text",
]

Texts = Mapping[str, Mapping[str, str]]
DEFAULT_LANGUAGE = "en"
BUTTONS = ("why", "back", "restart", "menu", "summary", "reminders", "copy", "continue")
"""Names of the fixed buttons; labels are ``triage.ui.btn.<name>``."""
PLACEHOLDERS = frozenset({"emergency", "advice", "number", "details", "flags"})
"""Every placeholder a triage text may use."""


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def text(texts: Texts, lang: str, key: str, **params: str) -> str:
    """A text in ``lang`` (falling back to English, then to the key), placeholders filled.

    ``params`` are inserted as given: escape them first if they go into HTML.
    """
    template = texts.get(lang, {}).get(key)
    if template is None:
        template = texts.get(DEFAULT_LANGUAGE, {}).get(key, key)
    if not params:
        return template
    return template.format_map(_Fill(params))


def _numbers(flow: TriageFlow, texts: Texts, lang: str, country: Country | None) -> dict[str, str]:
    if country is None:
        return {"emergency": text(texts, lang, flow.texts.unknown_number), "advice": ""}
    return {
        "emergency": html.escape(country.emergency),
        "advice": html.escape(country.advice or ""),
    }


def _advice_line(flow: TriageFlow, texts: Texts, lang: str, country: Country | None) -> str:
    if country is None or country.advice is None:
        return ""
    return text(texts, lang, flow.texts.advice_line, advice=html.escape(country.advice))


def button_label(texts: Texts, lang: str, name: str) -> str:
    """Label of a fixed button such as ``back`` or ``copy`` (plain text)."""
    return text(texts, lang, f"triage.ui.btn.{name}")


def answer_buttons(question: Question, texts: Texts, lang: str) -> tuple[tuple[str, str], ...]:
    """(answer id, plain-text label) for each answer button, in order."""
    return tuple((answer.id, text(texts, lang, answer.label)) for answer in question.answers)


def render_question(flow: TriageFlow, ask: Ask, texts: Texts, lang: str) -> str:
    """The question message (the buttons come from `answer_buttons`)."""
    progress = text(texts, lang, flow.texts.question_progress, number=str(ask.number))
    return f"<i>{progress}</i>\n{text(texts, lang, ask.question.text)}"


def render_why(flow: TriageFlow, question: Question, texts: Texts, lang: str) -> str:
    """The answer to "Why do we ask this?"."""
    heading = text(texts, lang, flow.texts.why_heading)
    return f"<b>{heading}</b>\n{text(texts, lang, question.why)}"


def _bullets(lines: Iterable[str]) -> list[str]:
    return [f"• {line}" for line in lines]


def _warning_lines(
    flow: TriageFlow,
    texts: Texts,
    lang: str,
    numbers: Mapping[str, str],
    *,
    do_not_drive: bool,
    advice: Iterable[str],
    pe_warning: bool,
) -> list[str]:
    lines: list[str] = []
    if do_not_drive:
        lines.append(text(texts, lang, flow.texts.do_not_drive, **numbers))
    lines.extend(_bullets(text(texts, lang, key, **numbers) for key in advice))
    if pe_warning:
        lines.append(text(texts, lang, flow.texts.pe_warning, **numbers))
    return lines


def _handler_block(flow: TriageFlow, texts: Texts, lang: str, summary: str) -> list[str]:
    if not summary:
        return []
    heading = text(texts, lang, flow.texts.tell_handler)
    return [f"<b>{heading}</b>", f"<pre>{html.escape(summary)}</pre>"]


def render_card(
    flow: TriageFlow,
    card: EmergencyCard,
    texts: Texts,
    lang: str,
    country: Country | None,
    *,
    summary: str = "",
) -> str:
    """The emergency card: level, number, rule texts, advice, what to tell the call handler."""
    numbers = _numbers(flow, texts, lang, country)
    lines: list[str] = []
    if card.from_text:
        lines.append(f"<i>{text(texts, lang, flow.texts.card_from_text)}</i>")
    level_key = flow.card_levels.get(card.level)
    if level_key is not None:
        lines.append(text(texts, lang, level_key, **numbers))
    for rule in card.rules:
        lines.append(f"\n<b>{text(texts, lang, rule.title)}</b>")
        lines.append(text(texts, lang, rule.body, **numbers))
    lines.append("")
    lines.extend(
        _warning_lines(
            flow,
            texts,
            lang,
            numbers,
            do_not_drive=card.do_not_drive,
            advice=card.advice,
            pe_warning=card.pe_warning,
        )
    )
    if card.level.rank <= Disposition.URGENT_SAME_DAY.rank:
        advice_line = _advice_line(flow, texts, lang, country)
        if advice_line:
            lines.append(advice_line)
    lines.extend(_handler_block(flow, texts, lang, summary))
    if isinstance(card.then, Ask):
        lines.append(text(texts, lang, flow.texts.continue_note))
    return "\n".join(lines).strip()


def render_result(
    flow: TriageFlow,
    result: Result,
    texts: Texts,
    lang: str,
    country: Country | None,
    *,
    summary: str = "",
) -> str:
    """The result: disposition and time frame, the card again, causes, self-care, safety net."""
    numbers = _numbers(flow, texts, lang, country)
    level = flow.dispositions[result.disposition]
    lines = [
        f"<b>{text(texts, lang, flow.texts.result_heading)}</b>",
        f"<b>{text(texts, lang, level.title, **numbers)}</b>",
        f"<i>{text(texts, lang, level.time_frame, **numbers)}</i>",
        text(texts, lang, level.action, **numbers),
    ]
    if result.disposition.rank <= Disposition.URGENT_SAME_DAY.rank:
        advice_line = _advice_line(flow, texts, lang, country)
        if advice_line:
            lines.append(advice_line)
    if result.flags:
        lines.append("")
        lines.extend(
            f"⚠️ <b>{text(texts, lang, rule.title)}</b>"
            for rule in result.flags
            if rule.kind == "red_flag"
        )
        lines.extend(
            text(texts, lang, rule.body, **numbers)
            for rule in result.flags
            if rule.kind != "red_flag"
        )
        lines.extend(
            _warning_lines(
                flow,
                texts,
                lang,
                numbers,
                do_not_drive=result.do_not_drive,
                advice=result.advice,
                pe_warning=result.pe_warning,
            )
        )
        if result.disposition.rank >= Disposition.URGENT_SAME_DAY.rank:
            lines.extend(_handler_block(flow, texts, lang, summary))
    elif result.pe_warning:
        lines.append(text(texts, lang, flow.texts.pe_warning, **numbers))
    lines.append("")
    if result.causes:
        lines.append(f"<b>{text(texts, lang, flow.texts.causes_heading)}</b>")
        because = text(texts, lang, flow.texts.because)
        for match in result.causes:
            name = text(texts, lang, match.cause.name)
            about = text(texts, lang, match.cause.about)
            said = "; ".join(text(texts, lang, key) for key in match.because)
            lines.append(f"• <b>{name}</b>: {about}")
            if said:
                lines.append(f"  <i>{because}: {said}.</i>")
    else:
        lines.append(text(texts, lang, flow.texts.no_cause))
    if result.self_care:
        lines.append(f"\n<b>{text(texts, lang, flow.texts.self_care_heading)}</b>")
        for block in result.self_care:
            lines.append(f"<u>{text(texts, lang, block.title)}</u>")
            lines.append(text(texts, lang, block.body, **numbers))
    lines.append(f"\n<b>{text(texts, lang, flow.texts.safety_net_heading)}</b>")
    lines.append(text(texts, lang, level.safety_net, **numbers))
    lines.append(f"\n{text(texts, lang, flow.texts.disclaimer, **numbers)}")
    return "\n".join(lines).strip()


def render_step(
    engine: TriageEngine,
    session: Session,
    step: Step,
    texts: Texts,
    lang: str,
    *,
    country: Country | None,
) -> tuple[str, ...]:
    """Every message for a step, in sending order (a card is followed by what comes next)."""
    flow = engine.flow
    if isinstance(step, Ask):
        return (render_question(flow, step, texts, lang),)
    summary = handler_summary(engine, session, texts, lang)
    if isinstance(step, Result):
        return (render_result(flow, step, texts, lang, country, summary=summary),)
    card = render_card(flow, step, texts, lang, country, summary=summary)
    return (card, *render_step(engine, session, step.then, texts, lang, country=country))


def _plain(value: str) -> str:
    return html_to_text(value).strip()


def _labels(
    engine: TriageEngine, session: Session, texts: Texts, lang: str
) -> list[tuple[Question, str]]:
    by_id = {q.id: q for q in engine.flow.questions}
    found: list[tuple[Question, str]] = []
    for question_id, answer_id in session.answers:
        question = by_id.get(question_id)
        if question is None:
            continue
        label = next((a.label for a in question.answers if a.id == answer_id), None)
        if label is not None:
            found.append((question, _plain(text(texts, lang, label))))
    return found


def handler_summary(engine: TriageEngine, session: Session, texts: Texts, lang: str) -> str:
    """Three plain-text lines to read to the call handler: the pain, warning signs, other."""
    flow = engine.flow
    nothing = _plain(text(texts, lang, flow.texts.handler_nothing))
    answered = _labels(engine, session, texts, lang)
    pain = "; ".join(label for q, label in answered if q.summary_line == 1) or nothing
    other = (
        "; ".join(
            f"{_plain(text(texts, lang, q.short))}: {label}"
            for q, label in answered
            if q.summary_line == 3
        )
        or nothing
    )
    rules = [engine.rule(rule_id) for rule_id in session.met]
    flags = (
        "; ".join(_plain(text(texts, lang, r.short)) for r in rules if r is not None) or nothing
    )
    return "\n".join(
        (
            _plain(text(texts, lang, flow.texts.handler_pain, details=pain)),
            _plain(text(texts, lang, flow.texts.handler_flags, flags=flags)),
            _plain(text(texts, lang, flow.texts.handler_other, details=other)),
        )
    )


def doctor_summary(engine: TriageEngine, session: Session, texts: Texts, lang: str) -> str:
    """One plain-text message for a GP: every answer, warning signs, causes, advice given."""
    flow = engine.flow
    result = engine.result(session)
    lines = [_plain(text(texts, lang, flow.texts.doctor_heading)), ""]
    lines.append(_plain(text(texts, lang, flow.texts.doctor_answers)))
    lines.extend(
        f"- {_plain(text(texts, lang, q.short))}: {label}"
        for q, label in _labels(engine, session, texts, lang)
    )
    if session.met:
        lines.append("")
        lines.append(_plain(text(texts, lang, flow.texts.doctor_flags)))
        typed = _plain(text(texts, lang, flow.texts.doctor_free_text))
        for rule_id in session.met:
            rule = engine.rule(rule_id)
            if rule is None:
                continue
            note = f" {typed}" if rule_id in session.text_flags else ""
            lines.append(f"- {_plain(text(texts, lang, rule.short))}{note}")
    if result.causes:
        lines.append("")
        lines.append(_plain(text(texts, lang, flow.texts.doctor_causes)))
        lines.extend(f"- {_plain(text(texts, lang, m.cause.name))}" for m in result.causes)
    level = flow.dispositions[result.disposition]
    lines.append("")
    title = _plain(text(texts, lang, level.title))
    lines.append(f"{_plain(text(texts, lang, flow.texts.doctor_level))} {title}")
    return "\n".join(lines)
