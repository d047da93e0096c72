"""The symptom-check engine: immutable sessions in, the next step out.

Pure and fast (microseconds per step): the flow is compiled once into closures, and every
operation takes a `Session` and returns a new one. Safety rules the engine enforces:

* a red-flag rule met by an answer is shown as an `EmergencyCard` in the very next step,
  before any further question or the result;
* met rules are *sticky*: neither later answers, `back` nor `restart` remove them, so the
  final disposition is never below the highest rule ever met in this session (a new
  check from the main menu starts a new session);
* once a met rule reaches the flow's ``stop_level`` (or is an exclusion that ends the
  flow), no more questions are asked: the card is followed straight by the result.
  Stopping looks only at the current answers and at text typed since the last back or
  restart, so a user who goes back can still change an answer and carry on; the floor
  stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.triage.matcher import TextMatcher
from content.triage_schema import (
    Cause,
    Condition,
    Disposition,
    Question,
    RedFlagRule,
    SelfCareBlock,
    TriageFlow,
)

__all__ = [
    "Ask",
    "CauseMatch",
    "EmergencyCard",
    "Result",
    "Session",
    "Step",
    "TriageEngine",
    "compile_condition",
]

Answers = Mapping[str, str]
Predicate = Callable[[Answers], bool]


@dataclass(frozen=True, slots=True)
class Session:
    """Everything a symptom check needs to continue: small, immutable, JSON-friendly.

    ``answers`` are (question id, answer id) in the order given; ``met`` holds every rule
    met so far (sticky, in the order met); ``text_flags`` the rules matched in typed text
    since the last back/restart; ``fresh`` the rules whose card is due in the next step.
    """

    answers: tuple[tuple[str, str], ...] = ()
    met: tuple[str, ...] = ()
    text_flags: tuple[str, ...] = ()
    fresh: tuple[str, ...] = ()
    fresh_from_text: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form for the database."""
        return {
            "answers": [list(pair) for pair in self.answers],
            "met": list(self.met),
            "text_flags": list(self.text_flags),
            "fresh": list(self.fresh),
            "fresh_from_text": self.fresh_from_text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Session | None:
        """The session stored by `to_dict`, or None if the data is malformed."""
        try:
            answers = tuple(_pair(item) for item in _list(data.get("answers", [])))
            met = tuple(_str(item) for item in _list(data.get("met", [])))
            text_flags = tuple(_str(item) for item in _list(data.get("text_flags", [])))
            fresh = tuple(_str(item) for item in _list(data.get("fresh", [])))
        except (TypeError, ValueError):
            return None
        from_text = data.get("fresh_from_text", False)
        if not isinstance(from_text, bool):
            return None
        return cls(answers, met, text_flags, fresh, from_text)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _pair(value: object) -> tuple[str, str]:
    items = _list(value)
    if len(items) != 2:
        raise ValueError("expected a pair")
    return _str(items[0]), _str(items[1])


@dataclass(frozen=True, slots=True)
class Ask:
    """Show this question. ``index`` is the number of answers so far (goes in callbacks)."""

    question: Question
    index: int

    @property
    def number(self) -> int:
        """1-based position for "Question n"."""
        return self.index + 1


@dataclass(frozen=True, slots=True)
class CauseMatch:
    """A likely cause, its points and the answers that point to it ("said" text keys)."""

    cause: Cause
    points: int
    because: tuple[str, ...]
    level: Disposition


@dataclass(frozen=True, slots=True)
class Result:
    """The end of the check. ``disposition`` = max(``scored``, every rule ever met)."""

    disposition: Disposition
    scored: Disposition
    flags: tuple[RedFlagRule, ...]
    causes: tuple[CauseMatch, ...]
    self_care: tuple[SelfCareBlock, ...]
    advice: tuple[str, ...]
    do_not_drive: bool
    pe_warning: bool


@dataclass(frozen=True, slots=True)
class EmergencyCard:
    """Rules just met: show this card now, then ``then`` (the next question or result)."""

    rules: tuple[RedFlagRule, ...]
    level: Disposition
    advice: tuple[str, ...]
    do_not_drive: bool
    pe_warning: bool
    from_text: bool
    then: Ask | Result


Step = Ask | EmergencyCard | Result


def compile_condition(condition: Condition) -> Predicate:
    """Turn a condition into a fast predicate over an answers mapping."""
    if condition.q is not None:
        question, allowed = condition.q, frozenset(condition.in_)
        return lambda answers: answers.get(question) in allowed
    if condition.all:
        every = tuple(compile_condition(part) for part in condition.all)

        def all_of(answers: Answers) -> bool:
            for part in every:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
                if not part(answers):
                    return False
            return True

        return all_of
    if condition.any:
        some = tuple(compile_condition(part) for part in condition.any)

        def any_of(answers: Answers) -> bool:
            for part in some:  # noqa: SIM110 - a plain loop is faster than any(genexpr)
                if part(answers):
                    return True
            return False

        return any_of
    if condition.not_ is None:  # pragma: no cover - the schema forbids it
        raise ValueError("empty condition")
    inner = compile_condition(condition.not_)
    return lambda answers: not inner(answers)


def _always(_: Answers) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class _CompiledCause:
    cause: Cause
    level_if: tuple[tuple[Predicate, Disposition], ...]


@dataclass(frozen=True)
class TriageEngine:
    """One compiled flow. Build it once per content pack; every method is pure."""

    flow: TriageFlow
    _questions: tuple[tuple[Question, Predicate], ...] = field(init=False, repr=False)
    _position: Mapping[str, int] = field(init=False, repr=False)
    _rules: tuple[tuple[RedFlagRule, Predicate], ...] = field(init=False, repr=False)
    _rules_by_question: Mapping[str, tuple[tuple[RedFlagRule, Predicate], ...]] = field(
        init=False, repr=False
    )
    _predicate: Mapping[str, Predicate] = field(init=False, repr=False)
    _answer_ids: Mapping[str, frozenset[str]] = field(init=False, repr=False)
    _contributions: Mapping[tuple[str, str], tuple[tuple[int, int, str | None], ...]] = field(
        init=False, repr=False
    )
    _rule_by_id: Mapping[str, RedFlagRule] = field(init=False, repr=False)
    _causes: tuple[_CompiledCause, ...] = field(init=False, repr=False)
    _blocks: Mapping[str, SelfCareBlock] = field(init=False, repr=False)
    _matcher: TextMatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        flow = self.flow
        questions = tuple(
            (q, compile_condition(q.ask_if) if q.ask_if else _always) for q in flow.questions
        )
        said = {
            (q.id, a.id): a.said for q in flow.questions for a in q.answers if a.said is not None
        }
        causes = tuple(
            _CompiledCause(
                cause=c,
                level_if=tuple((compile_condition(li.when), li.level) for li in c.level_if),
            )
            for c in flow.causes
        )
        rules = tuple((r, compile_condition(r.when)) for r in flow.red_flags)
        by_question: dict[str, list[tuple[RedFlagRule, Predicate]]] = {}
        for rule, holds in rules:
            for question_id in dict.fromkeys(q for q, _ in rule.when.references()):
                by_question.setdefault(question_id, []).append((rule, holds))
        contributions: dict[tuple[str, str], list[tuple[int, int, str | None]]] = {}
        for order, cause in enumerate(flow.causes):
            for item in cause.score:
                for answer_id in item.in_:
                    contributions.setdefault((item.q, answer_id), []).append(
                        (order, item.points, said.get((item.q, answer_id)))
                    )
        setters = {
            "_rules_by_question": {q: tuple(found) for q, found in by_question.items()},
            "_predicate": {rule.id: holds for rule, holds in rules},
            "_answer_ids": {q.id: frozenset(a.id for a in q.answers) for q in flow.questions},
            "_contributions": {key: tuple(found) for key, found in contributions.items()},
            "_questions": questions,
            "_position": {q.id: i for i, q in enumerate(flow.questions)},
            "_rules": rules,
            "_rule_by_id": {r.id: r for r in flow.red_flags},
            "_causes": causes,
            "_blocks": {b.id: b for b in flow.self_care},
            "_matcher": TextMatcher.from_rules(flow.red_flags),
        }
        for name, value in setters.items():
            object.__setattr__(self, name, value)

    # -- operations on sessions -------------------------------------------------------

    def start(self) -> Session:
        """A new, empty check."""
        return Session()

    def answer(
        self, session: Session, index: int, question_id: str, answer_id: str
    ) -> Session | None:
        """Record an answer to the current question; None if stale, forged or invalid."""
        if index != len(session.answers):
            return None
        asked = self._current(session)
        if asked is None or asked.id != question_id:
            return None
        if answer_id not in self._answer_ids[question_id]:
            return None
        answers = (*session.answers, (question_id, answer_id))
        mapping = dict(answers)
        fresh = tuple(
            rule.id
            for rule, holds in self._rules_by_question.get(question_id, ())
            if rule.id not in session.met and holds(mapping)
        )
        return Session(
            answers=answers,
            met=session.met + fresh,
            text_flags=session.text_flags,
            fresh=tuple(r for r in fresh if self._rule_by_id[r].kind == "red_flag"),
        )

    def back(self, session: Session) -> Session:
        """Undo the last answer; every rule met so far stays met."""
        return Session(answers=session.answers[:-1], met=session.met)

    def restart(self, session: Session) -> Session:
        """Clear the answers; every rule met so far stays met (the floor of this session)."""
        return Session(met=session.met)

    def note_text(self, session: Session, text: str, lang: str) -> Session:
        """Match typed text against the red-flag rules; matches are met and shown now."""
        matched = tuple(rule.id for rule in self.match_text(text, lang))
        if not matched:
            return session
        new = tuple(rule_id for rule_id in matched if rule_id not in session.met)
        return Session(
            answers=session.answers,
            met=session.met + new,
            text_flags=session.text_flags
            + tuple(r for r in matched if r not in session.text_flags),
            fresh=matched,
            fresh_from_text=True,
        )

    def match_text(self, text: str, lang: str) -> tuple[RedFlagRule, ...]:
        """Rules whose phrases (in ``lang``, and in English as a fallback) appear in text."""
        return tuple(self._rule_by_id[rule_id] for rule_id in self._matcher.match(text, lang))

    def resume(self, session: Session) -> Session:
        """Replay stored answers under this flow; drop any that no longer fit. Keeps met."""
        replayed = Session(met=session.met, text_flags=session.text_flags)
        for question_id, answer_id in session.answers:
            following = self.answer(replayed, len(replayed.answers), question_id, answer_id)
            if following is None:
                break
            replayed = following
        kept = tuple(r for r in replayed.met if r in self._rule_by_id)
        text_flags = tuple(r for r in replayed.text_flags if r in self._rule_by_id)
        return Session(replayed.answers, kept, text_flags, ())

    # -- reading a session ---------------------------------------------------------------

    def next_step(self, session: Session) -> Step:
        """What to show now: a card for rules just met, else the next question or result."""
        then = self._ask_or_result(session)
        if not session.fresh:
            return then
        rules = tuple(self._rule_by_id[r] for r in session.fresh if r in self._rule_by_id)
        if not rules:
            return then
        return EmergencyCard(
            rules=rules,
            level=max((r.level for r in rules), key=_rank),
            advice=_unique(key for r in rules for key in r.advice),
            do_not_drive=any(r.do_not_drive for r in rules),
            pe_warning=any(r.pe_warning for r in rules),
            from_text=session.fresh_from_text,
            then=then,
        )

    def floor(self, session: Session) -> Disposition | None:
        """The highest level of any rule met so far, or None."""
        levels = [self._rule_by_id[r].level for r in session.met if r in self._rule_by_id]
        return max(levels, key=_rank) if levels else None

    def rule(self, rule_id: str) -> RedFlagRule | None:
        """A rule by id."""
        return self._rule_by_id.get(rule_id)

    def result(self, session: Session) -> Result:
        """The result for the answers so far (also usable before the check is finished)."""
        answers = dict(session.answers)
        matches = self._score(answers)
        flow = self.flow
        scored = max((m.level for m in matches), key=_rank) if matches else flow.no_cause_level
        flags = tuple(
            sorted(
                (self._rule_by_id[r] for r in session.met if r in self._rule_by_id),
                key=lambda rule: -_rank(rule.level),
            )
        )
        disposition = max((scored, *(rule.level for rule in flags)), key=_rank)
        self_care: tuple[SelfCareBlock, ...] = ()
        if _rank(disposition) <= _rank(flow.self_care_up_to):
            ids = _unique(block for m in matches for block in m.cause.self_care)
            self_care = tuple(self._blocks[i] for i in ids if i in self._blocks)
            self_care = self_care[: flow.max_self_care]
        return Result(
            disposition=disposition,
            scored=scored,
            flags=flags,
            causes=matches,
            self_care=self_care,
            advice=_unique(key for rule in flags for key in rule.advice),
            do_not_drive=any(rule.do_not_drive for rule in flags),
            pe_warning=any(rule.pe_warning for rule in flags)
            or any(m.cause.pe_warning for m in matches),
        )

    def current_question(self, session: Session) -> Question | None:
        """The question waiting for an answer, or None when the check has ended."""
        return self._current(session)

    # -- internals -------------------------------------------------------------------------

    def _active_floor(self, session: Session, answers: Answers) -> int:
        """Rank of the rules met by the current answers or typed since the last back.

        -1 when none; 99 when an exclusion ends the flow.
        """
        floor = -1
        for rule_id in session.met:
            rule = self._rule_by_id.get(rule_id)
            if rule is None:
                continue
            if rule_id in session.text_flags or self._predicate[rule_id](answers):
                floor = max(floor, 99 if rule.ends_flow else rule.level.rank)
        return floor

    def _current(self, session: Session) -> Question | None:
        answers = dict(session.answers)
        floor = self._active_floor(session, answers) if session.met else -1
        if floor >= _rank(self.flow.stop_level):
            return None
        start = self._position[session.answers[-1][0]] + 1 if session.answers else 0
        for question, asked in self._questions[start:]:
            if question.id in answers or not asked(answers):
                continue
            if question.skip_from is not None and floor >= _rank(question.skip_from):
                continue
            return question
        return None

    def _ask_or_result(self, session: Session) -> Ask | Result:
        question = self._current(session)
        if question is not None:
            return Ask(question=question, index=len(session.answers))
        return self.result(session)

    def _score(self, answers: Answers) -> tuple[CauseMatch, ...]:
        points: dict[int, int] = {}
        contributions = self._contributions
        for pair in answers.items():
            for order, value, _ in contributions.get(pair, ()):
                points[order] = points.get(order, 0) + value
        minimum = self.flow.min_cause_points
        ranked = sorted((-value, order) for order, value in points.items() if value >= minimum)
        ranked = ranked[: self.flow.max_causes]
        matches: list[CauseMatch] = []
        for negative, order in ranked:
            compiled = self._causes[order]
            level = compiled.cause.level
            for holds, raised in compiled.level_if:
                if raised.rank > level.rank and holds(answers):
                    level = raised
            because = dict.fromkeys(
                said
                for pair in answers.items()
                for cause_order, _, said in contributions.get(pair, ())
                if cause_order == order and said is not None
            )
            matches.append(CauseMatch(compiled.cause, -negative, tuple(because), level))
        return tuple(matches)


def _rank(level: Disposition) -> int:
    return level.rank


def _unique(items: object) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        seen.setdefault(item, None)
    return tuple(seen)
