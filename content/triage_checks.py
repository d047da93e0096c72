"""Safety invariants of the symptom-check content, in one function: `check_triage`.

Used by the tests, CI and the admin publish path. It validates references and texts,
then walks **every** path through the flow with the real engine and proves, per path:
no dead ends; a red-flag rule met by an answer shows its card in that very step; the
result is at least the highest rule met. It renders every distinct message with the
real renderer (every language, with and without a country advice line) and checks it
is valid Telegram HTML within 4096 characters with no placeholder left, that the
longest triage callback fits 64 bytes, and replays the golden cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.callbacks import CALLBACK_DATA_LIMIT, CallbackCodec, CallbackDataTooLongError
from bot.triage.buttons import CALLBACK_ACTION, SESSION_TOKEN_LENGTH, AnswerTap, pack
from bot.triage.engine import (
    Ask,
    EmergencyCard,
    Result,
    Session,
    Step,
    TriageEngine,
    compile_condition,
)
from bot.triage.render import (
    BUTTONS,
    PLACEHOLDERS,
    Texts,
    handler_summary,
    render_card,
    render_question,
    render_result,
    render_why,
)
from content.problems import ContentProblem
from content.telegram_html import MAX_MESSAGE_LENGTH, find_html_error, parse_html
from content.triage_schema import (
    Countries,
    Country,
    Disposition,
    GoldenCase,
    Question,
    RedFlagRule,
    TriageFlow,
)

__all__ = [
    "CALLBACK_ACTION",
    "SESSION_TOKEN_LENGTH",
    "Exploration",
    "check_triage",
    "explore",
    "longest_callback",
    "run_golden",
    "used_text_keys",
]

Predicate = Callable[[Mapping[str, str]], bool]
_LEFTOVER = re.compile(r"\{[a-z_]+\}")
_TAGS_OR_ENTITIES = re.compile(r"[<>&]")


@dataclass
class Exploration:
    """What walking every path found: counts, coverage and problems."""

    paths: int = 0
    nodes: int = 0
    max_index: int = 0
    taps: Counter[tuple[Disposition, int]] = field(default_factory=Counter)
    asked: set[str] = field(default_factory=set)
    met: set[str] = field(default_factory=set)
    causes: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    dispositions: set[Disposition] = field(default_factory=set)
    questions: dict[tuple[str, int], Ask] = field(default_factory=dict)
    cards: dict[tuple[object, ...], tuple[EmergencyCard, Session]] = field(default_factory=dict)
    results: dict[tuple[object, ...], tuple[Result, Session]] = field(default_factory=dict)
    problems: list[ContentProblem] = field(default_factory=list)

    def merge(self, other: Exploration) -> None:
        """Add another part of the tree (explored from a different start)."""
        self.paths += other.paths
        self.nodes += other.nodes
        self.max_index = max(self.max_index, other.max_index)
        self.taps.update(other.taps)
        self.asked |= other.asked
        self.met |= other.met
        self.causes |= other.causes
        self.blocks |= other.blocks
        self.dispositions |= other.dispositions
        self.questions.update(other.questions)
        for card_key, card in other.cards.items():
            self.cards.setdefault(card_key, card)
        for result_key, result in other.results.items():
            self.results.setdefault(result_key, result)
        self.problems.extend(other.problems)


def _path_name(session: Session) -> str:
    return "triage.path[" + ",".join(f"{q}={a}" for q, a in session.answers) + "]"


def explore(engine: TriageEngine, start: Session | None = None) -> Exploration:
    """Walk every path from ``start`` (default: a new check) with the real engine.

    Red-flag conditions are evaluated here independently of the engine's bookkeeping, so
    a card that is not shown, or a result below a met rule, is reported per path.
    """
    flow = engine.flow
    rules = [(rule, compile_condition(rule.when)) for rule in flow.red_flags]
    found = Exploration()
    first = start or engine.start()
    stack: list[tuple[Session, int]] = [(first, _floor(engine, first))]
    while stack:
        session, floor = stack.pop()
        found.nodes += 1
        step = engine.next_step(session)
        if session.answers:
            _check_cards(rules, session, step, found)
        if isinstance(step, EmergencyCard):
            key: tuple[object, ...] = (
                tuple(r.id for r in step.rules),
                step.from_text,
                isinstance(step.then, Ask),
                tuple(session.met),
            )
            found.cards.setdefault(key, (step, session))
            step = step.then
        if isinstance(step, Result):
            _record_result(step, session, floor, found)
            continue
        question = step.question
        found.asked.add(question.id)
        found.max_index = max(found.max_index, step.index)
        found.questions.setdefault((question.id, step.index), step)
        if question.id in dict(session.answers):
            found.problems.append(
                ContentProblem(_path_name(session), f"asks {question.id} a second time")
            )
            continue
        for answer in question.answers:
            child = engine.answer(session, step.index, question.id, answer.id)
            if child is None:
                found.problems.append(
                    ContentProblem(
                        _path_name(session),
                        f"dead end: answer {answer.id} to {question.id} is refused",
                    )
                )
                continue
            stack.append((child, max(floor, _floor(engine, child))))
    return found


_WALKS_KEPT = 4
_walks: OrderedDict[str, Exploration] = OrderedDict()
_walks_lock = threading.Lock()


def explore_flow(flow: TriageFlow) -> Exploration:
    """`explore` from a new check, remembered for the last few flows.

    The walk depends on the flow alone (questions, rules, causes), not on any text, so a
    draft that only changes texts is checked without walking every path again. The
    result must be treated as read-only.
    """
    key = hashlib.sha256(flow.model_dump_json().encode()).hexdigest()
    with _walks_lock:
        found = _walks.get(key)
        if found is not None:
            _walks.move_to_end(key)
            return found
    found = explore(TriageEngine(flow))
    with _walks_lock:
        _walks[key] = found
        while len(_walks) > _WALKS_KEPT:
            _walks.popitem(last=False)
    return found


def _floor(engine: TriageEngine, session: Session) -> int:
    level = engine.floor(session)
    return -1 if level is None else level.rank


def _check_cards(
    rules: Sequence[tuple[RedFlagRule, Predicate]],
    session: Session,
    step: Step,
    found: Exploration,
) -> None:
    """Every red flag whose condition the last answer made true is on this step's card."""
    answers = dict(session.answers)
    before = dict(session.answers[:-1])
    shown = {r.id for r in step.rules} if isinstance(step, EmergencyCard) else set()
    met_before = set(session.met[: len(session.met) - len(session.fresh)])
    for rule, holds in rules:
        if rule.kind != "red_flag" or rule.id in shown or rule.id in met_before:
            continue
        if holds(answers) and not holds(before):
            found.problems.append(
                ContentProblem(
                    _path_name(session),
                    f"red flag {rule.id} is met here but its card is not shown in this step",
                )
            )


def _record_result(result: Result, session: Session, floor: int, found: Exploration) -> None:
    found.paths += 1
    found.taps[(result.disposition, len(session.answers))] += 1
    found.met.update(session.met)
    found.causes.update(m.cause.id for m in result.causes)
    found.blocks.update(b.id for b in result.self_care)
    found.dispositions.add(result.disposition)
    if result.disposition.rank < floor:
        found.problems.append(
            ContentProblem(
                _path_name(session),
                f"result {result.disposition} is below a red flag met on this path",
            )
        )
    key = (
        result.disposition,
        tuple(r.id for r in result.flags),
        tuple((m.cause.id, m.because) for m in result.causes),
        tuple(b.id for b in result.self_care),
    )
    found.results.setdefault(key, (result, session))


def longest_callback(flow: TriageFlow, max_index: int) -> str:
    """The longest triage answer callback the flow can produce, packed as the bot packs it.

    Answers are the longest triage buttons (see `bot.triage.buttons`): a session token,
    the step index, a question id and an answer id.
    """
    codec = CallbackCodec(secret=b"content-check")
    question = max(flow.questions, key=lambda q: len(q.id))
    answer = max((a for q in flow.questions for a in q.answers), key=lambda a: len(a.id))
    tap = AnswerTap("x" * SESSION_TOKEN_LENGTH, max_index, question.id, answer.id)
    return pack(tap, codec, user_id=-(10**13))


def run_golden(engine: TriageEngine) -> list[ContentProblem]:
    """Replay every golden case; report any that does not reach its expected outcome."""
    flow = engine.flow
    problems: list[ContentProblem] = []
    for case in flow.golden:
        name = f"triage.golden.{case.id}"
        answers = {**flow.golden_defaults, **case.answers}
        session = engine.start()
        for typed in case.texts:
            session = engine.note_text(session, typed, case.lang)
        cards: set[str] = set()
        used: set[str] = set()
        result: Result | None = None
        for _ in range(len(flow.questions) + 2):
            step = engine.next_step(session)
            if isinstance(step, EmergencyCard):
                cards.update(r.id for r in step.rules)
                step = step.then
            if isinstance(step, Result):
                result = step
                break
            question = step.question
            if question.id not in answers:
                problems.append(ContentProblem(name, f"the flow asks {question.id}, not answered"))
                break
            following = engine.answer(session, step.index, question.id, answers[question.id])
            if following is None:
                problems.append(
                    ContentProblem(name, f"answer {answers[question.id]} to {question.id} refused")
                )
                break
            used.add(question.id)
            session = following
        if result is None:
            continue
        problems.extend(_golden_outcome(name, case, result, cards, used))
    return problems


def _golden_outcome(
    name: str, case: GoldenCase, result: Result, cards: set[str], used: set[str]
) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    if result.disposition.rank < case.min_level.rank:
        problems.append(
            ContentProblem(name, f"ends at {result.disposition}, below {case.min_level}")
        )
    if case.max_level is not None and result.disposition.rank > case.max_level.rank:
        problems.append(
            ContentProblem(name, f"ends at {result.disposition}, above {case.max_level}")
        )
    for rule_id in case.cards:
        if rule_id not in cards:
            problems.append(ContentProblem(name, f"card {rule_id} was not shown"))
    if case.no_card and cards:
        problems.append(ContentProblem(name, f"false alarm: cards {sorted(cards)} were shown"))
    shown_causes = {m.cause.id for m in result.causes}
    for cause_id in case.causes:
        if cause_id not in shown_causes:
            problems.append(
                ContentProblem(name, f"cause {cause_id} missing (got {sorted(shown_causes)})")
            )
    shown_blocks = {b.id for b in result.self_care}
    for block_id in case.self_care:
        if block_id not in shown_blocks:
            problems.append(ContentProblem(name, f"self-care block {block_id} not offered"))
    for question_id in case.answers:
        if question_id not in used:
            problems.append(ContentProblem(name, f"answers {question_id}, which is never asked"))
    return problems


def check_triage(
    flow: TriageFlow,
    countries: Countries,
    texts: Mapping[str, Mapping[str, str]],
    *,
    today: dt.date | None = None,
    exploration: Exploration | None = None,
) -> list[ContentProblem]:
    """Every safety invariant of the triage content; an empty list means it may go live.

    ``today`` enables the review-date check (an overdue rule blocks publishing).
    ``exploration`` reuses a walk of every path already made with `explore`; without
    it the walk is :func:`explore_flow`'s, made once per flow.
    """
    problems = _check_references(flow)
    problems += _check_texts(flow, countries, texts)
    problems += _check_countries(countries, texts)
    if today is not None:
        problems += _check_review_dates(flow, today)
    if problems:
        # Stage 1 failed: fix these first. The walk over every path (seconds) would
        # only repeat them once per message.
        return problems
    engine = TriageEngine(flow)
    found = exploration if exploration is not None else explore_flow(flow)
    problems += found.problems
    problems += _check_coverage(flow, found)
    problems += _check_messages(engine, found, texts, countries)
    problems += _check_callback(flow, found)
    problems += run_golden(engine)
    return problems


# -- structure ------------------------------------------------------------------------------


def _check_references(flow: TriageFlow) -> list[ContentProblem]:  # noqa: PLR0912
    problems: list[ContentProblem] = []
    answers_of = {q.id: {a.id for a in q.answers} for q in flow.questions}
    position = {q.id: i for i, q in enumerate(flow.questions)}

    def refs(where: str, pairs: Iterable[tuple[str, tuple[str, ...]]], before: int | None) -> None:
        for question_id, answer_ids in pairs:
            if question_id not in answers_of:
                problems.append(
                    ContentProblem(f"triage.structure.{where}", f"unknown question {question_id}")
                )
                continue
            if before is not None and position[question_id] >= before:
                problems.append(
                    ContentProblem(
                        f"triage.structure.{where}",
                        f"depends on {question_id}, which is not asked before it",
                    )
                )
            for answer_id in answer_ids:
                if answer_id not in answers_of[question_id]:
                    problems.append(
                        ContentProblem(
                            f"triage.structure.{where}",
                            f"{question_id} has no answer {answer_id}",
                        )
                    )

    for index, question in enumerate(flow.questions):
        if question.ask_if is not None:
            refs(f"questions.{question.id}.ask_if", question.ask_if.references(), index)
    sources = {s.id for s in flow.sources}
    for rule in flow.red_flags:
        refs(f"red_flags.{rule.id}.when", rule.when.references(), None)
        if compile_condition(rule.when)({}):
            problems.append(
                ContentProblem(f"triage.structure.red_flags.{rule.id}", "is met with no answers")
            )
        if not rule.sources:
            problems.append(ContentProblem(f"triage.red_flags.{rule.id}.sources", "no source"))
        for source in rule.sources:
            if source not in sources:
                problems.append(
                    ContentProblem(f"triage.red_flags.{rule.id}.sources", f"unknown {source}")
                )
        if rule.kind == "red_flag" and rule.level not in flow.card_levels:
            problems.append(
                ContentProblem(
                    f"triage.structure.card_levels.{rule.level}", f"needed by rule {rule.id}"
                )
            )
    blocks = {b.id for b in flow.self_care}
    said = {(q.id, a.id): a.said for q in flow.questions for a in q.answers}
    for cause in flow.causes:
        for item in cause.score:
            refs(f"causes.{cause.id}.score", [(item.q, item.in_)], None)
            for answer_id in item.in_:
                if (item.q, answer_id) in said and said[(item.q, answer_id)] is None:
                    problems.append(
                        ContentProblem(
                            f"triage.causes.{cause.id}.score",
                            f"{item.q}={answer_id} scores but has no 'said' text",
                        )
                    )
        for level_if in cause.level_if:
            refs(f"causes.{cause.id}.level_if", level_if.when.references(), None)
        for block in cause.self_care:
            if block not in blocks:
                problems.append(
                    ContentProblem(f"triage.structure.causes.{cause.id}", f"unknown block {block}")
                )
    for key, value in flow.golden_defaults.items():
        refs("golden_defaults", [(key, (value,))], None)
    for case in flow.golden:
        refs(f"golden.{case.id}", [(q, (a,)) for q, a in case.answers.items()], None)
    return problems


def _check_review_dates(flow: TriageFlow, today: dt.date) -> list[ContentProblem]:
    problems = [
        ContentProblem(f"triage.red_flags.{r.id}.review_by", f"review overdue since {r.review_by}")
        for r in flow.red_flags
        if r.review_by < today
    ]
    if flow.review_by < today:
        problems.append(ContentProblem("triage.review_by", f"overdue since {flow.review_by}"))
    return problems


# -- texts ----------------------------------------------------------------------------------


def used_text_keys(flow: TriageFlow, countries: Countries | None = None) -> set[str]:
    """Every text key the flow (and the countries, if given) refers to."""
    used, _ = _text_keys(flow)
    if countries is not None:
        used |= {c.name for c in countries.countries.values()}
    return used


def _text_keys(flow: TriageFlow) -> tuple[set[str], set[str]]:
    """(every key the flow uses, the keys that must be plain text: buttons and summaries)."""
    used: set[str] = set(flow.texts.model_dump().values())
    plain: set[str] = {flow.texts.handler_nothing, flow.texts.unknown_number}
    for question in flow.questions:
        used |= {question.text, question.why, question.short}
        plain.add(question.short)
        for answer in question.answers:
            used.add(answer.label)
            plain.add(answer.label)
            if answer.said:
                used.add(answer.said)
                plain.add(answer.said)
    for rule in flow.red_flags:
        used |= {rule.title, rule.body, rule.short, *rule.advice}
        plain.add(rule.short)
    for cause in flow.causes:
        used |= {cause.name, cause.about}
    for level in flow.dispositions.values():
        used |= {level.title, level.time_frame, level.action, level.safety_net}
    used |= set(flow.card_levels.values())
    for block in flow.self_care:
        used |= {block.title, block.body}
    buttons = {f"triage.ui.btn.{name}" for name in BUTTONS}
    return used | buttons, plain | buttons


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_texts(  # noqa: PLR0912 - one pass over every text, one branch per rule
    flow: TriageFlow, countries: Countries, texts: Mapping[str, Mapping[str, str]]
) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    used, plain = _text_keys(flow)
    used |= {c.name for c in countries.countries.values()}
    plain |= {c.name for c in countries.countries.values()}
    numbers = {n for c in countries.countries.values() for n in (c.emergency, c.advice) if n}
    number_pattern = re.compile(r"(?<!\d)(" + "|".join(sorted(numbers)) + r")(?!\d)")
    reference = texts.get("en", {})
    for lang, table in texts.items():
        for key in sorted(used):
            value = table.get(key)
            if value is None or not value.strip():
                reason = "missing" if value is None else "empty"
                problems.append(ContentProblem(f"{lang}:{key}", f"text {reason}"))
                continue
            try:
                found = _placeholders(value)
            except ValueError as error:
                problems.append(ContentProblem(f"{lang}:{key}", f"broken placeholder: {error}"))
                continue
            unknown = found - PLACEHOLDERS
            if unknown:
                problems.append(ContentProblem(f"{lang}:{key}", f"unknown placeholders {unknown}"))
            if key in reference and found != _safe_placeholders(reference[key]):
                problems.append(
                    ContentProblem(f"{lang}:{key}", "placeholders differ from the English text")
                )
            if key in plain and _TAGS_OR_ENTITIES.search(value):
                problems.append(ContentProblem(f"{lang}:{key}", "must be plain text (no HTML)"))
            elif key not in plain and not unknown:
                html_error = find_html_error(value.format_map(dict.fromkeys(found, "1")))
                if html_error is not None:
                    problems.append(
                        ContentProblem(f"{lang}:{key}", f"not valid HTML: {html_error}")
                    )
            if number_pattern.search(value):
                problems.append(
                    ContentProblem(
                        f"{lang}:{key}",
                        "contains a phone number: use {emergency}/{advice} from the country",
                    )
                )
        for key in sorted(k for k in table if k.startswith("triage.") and k not in used):
            problems.append(ContentProblem(f"{lang}:{key}", "text is not used by the flow"))
    for rule in flow.red_flags:
        if rule.match:
            for lang in texts:
                if not rule.match.get(lang):
                    problems.append(
                        ContentProblem(
                            f"triage.red_flags.{rule.id}.match.{lang}",
                            "no free-text phrases in this language",
                        )
                    )
    return problems


def _safe_placeholders(template: str) -> set[str]:
    try:
        return _placeholders(template)
    except ValueError:
        return set()


def _check_countries(
    countries: Countries, texts: Mapping[str, Mapping[str, str]]
) -> list[ContentProblem]:
    problems: list[ContentProblem] = []
    for code, country in countries.countries.items():
        if country.advice == country.emergency:
            problems.append(
                ContentProblem(f"countries.{code}", "advice line equals the emergency number")
            )
    if "GB" in countries.countries and countries.countries["GB"].emergency != "999":
        problems.append(ContentProblem("countries.GB.emergency", "must be 999"))
    if "NZ" in countries.countries and countries.countries["NZ"].emergency != "111":
        problems.append(ContentProblem("countries.NZ.emergency", "must be 111 (emergency there)"))
    del texts
    return problems


# -- walk results -----------------------------------------------------------------------------


def _check_coverage(flow: TriageFlow, found: Exploration) -> list[ContentProblem]:
    problems = [
        ContentProblem(f"triage.questions.{q.id}", "unreachable: never asked on any path")
        for q in flow.questions
        if q.id not in found.asked
    ]
    problems += [
        ContentProblem(f"triage.red_flags.{r.id}", "unreachable: no path meets this rule")
        for r in flow.red_flags
        if r.id not in found.met
    ]
    problems += [
        ContentProblem(f"triage.causes.{c.id}", "unreachable: never in any result")
        for c in flow.causes
        if c.id not in found.causes
    ]
    problems += [
        ContentProblem(f"triage.self_care.{b.id}", "unreachable: never offered")
        for b in flow.self_care
        if b.id not in found.blocks
    ]
    return problems


def _render_countries(countries: Countries) -> list[Country | None]:
    with_advice = [c for c in countries.countries.values() if c.advice]
    chosen: list[Country | None] = [None]
    if with_advice:
        chosen.append(max(with_advice, key=lambda c: len(c.emergency) + len(c.advice or "")))
    return chosen


def _longest_summary(engine: TriageEngine, session: Session, texts: Texts, lang: str) -> str:
    """The handler summary with the longest label of every summary question answered."""
    answers: list[tuple[str, str]] = []
    for question in engine.flow.questions:
        if question.summary_line is not None:
            longest = max(
                question.answers, key=lambda a: len(texts.get(lang, {}).get(a.label, ""))
            )
            answers.append((question.id, longest.id))
    padded = Session(answers=tuple(answers), met=session.met, text_flags=session.text_flags)
    return handler_summary(engine, padded, texts, lang)


def _message_problem(key: str, message: str) -> ContentProblem | None:
    parsed = parse_html(message)
    if parsed.problem is not None:
        return ContentProblem(key, f"not valid Telegram HTML: {parsed.problem.reason}")
    length = len(parsed.text)
    if length > MAX_MESSAGE_LENGTH:
        return ContentProblem(key, f"{length} visible characters, over {MAX_MESSAGE_LENGTH}")
    leftover = _LEFTOVER.search(message)
    if leftover:
        return ContentProblem(key, f"placeholder {leftover.group()} left unfilled")
    return None


def _check_messages(
    engine: TriageEngine,
    found: Exploration,
    texts: Mapping[str, Mapping[str, str]],
    countries: Countries,
) -> list[ContentProblem]:
    flow = engine.flow
    problems: dict[str, ContentProblem] = {}

    def check(key: str, message: str) -> None:
        problem = _message_problem(key, message)
        if problem is not None:
            problems.setdefault(problem.key + problem.reason, problem)

    places = _render_countries(countries)
    for lang in texts:
        questions: Iterable[Question] = flow.questions
        for question in questions:
            check(f"{lang}:{question.why}", render_why(flow, question, texts, lang))
        for (question_id, _), ask in sorted(found.questions.items()):
            check(f"{lang}:{ask.question.text}", render_question(flow, ask, texts, lang))
            del question_id
        summaries: dict[tuple[str, ...], str] = {}
        for card, session in found.cards.values():
            summary = summaries.setdefault(
                session.met, _longest_summary(engine, session, texts, lang)
            )
            for country in places:
                message = render_card(flow, card, texts, lang, country, summary=summary)
                check(f"{lang}:card[{','.join(r.id for r in card.rules)}]", message)
        for result, session in found.results.values():
            summary = summaries.setdefault(
                session.met, _longest_summary(engine, session, texts, lang)
            )
            for country in places:
                message = render_result(flow, result, texts, lang, country, summary=summary)
                flags = ",".join(r.id for r in result.flags)
                check(f"{lang}:result[{result.disposition}|{flags}]", message)
    return list(problems.values())


def _check_callback(flow: TriageFlow, found: Exploration) -> list[ContentProblem]:
    try:
        data = longest_callback(flow, found.max_index)
    except CallbackDataTooLongError as error:
        return [ContentProblem("triage.callback", f"longest button is too long: {error}")]
    if len(data.encode()) > CALLBACK_DATA_LIMIT:  # pragma: no cover - pack() raises first
        return [ContentProblem("triage.callback", "longest button is too long")]
    return []
