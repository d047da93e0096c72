"""Acceptance: walk EVERY path through the shipped flow and prove the safety invariants.

The walk is explicit (no state merging): each answer sequence is played through the
real engine. `explore` checks, per path, that a red flag met by an answer is on the card
of that very step and that the result is at least the highest flag met; `check_triage`
adds coverage, rendering of every distinct message (HTML, 4096 characters), the
callback size and the golden cases.
"""

from __future__ import annotations

import datetime as dt

from bot.callbacks import CALLBACK_DATA_LIMIT
from bot.triage.engine import TriageEngine
from content.triage_checks import Exploration, check_triage, longest_callback
from content.triage_schema import Countries, Disposition, TriageFlow

SHIPPED_PATHS = 415_247
"""Every distinct answer sequence from the first question to a result (see test below)."""


def test_every_path_is_enumerated_and_counted(exploration: Exploration) -> None:
    assert exploration.paths == SHIPPED_PATHS
    assert exploration.problems == []


def test_shipped_content_passes_every_check(
    flow: TriageFlow,
    countries: Countries,
    texts: dict[str, dict[str, str]],
    exploration: Exploration,
) -> None:
    problems = check_triage(flow, countries, texts, exploration=exploration)
    assert [str(p) for p in problems] == []


def test_review_dates_are_in_the_future(
    flow: TriageFlow, countries: Countries, texts: dict[str, dict[str, str]]
) -> None:
    later = dt.date(2099, 1, 1)
    problems = check_triage(flow, countries, texts, today=later)
    assert {p.key for p in problems} >= {
        f"triage.red_flags.{r.id}.review_by" for r in flow.red_flags
    }


def test_every_question_rule_cause_and_level_is_reachable(
    flow: TriageFlow, exploration: Exploration
) -> None:
    assert exploration.asked == {q.id for q in flow.questions}
    assert exploration.met == {r.id for r in flow.red_flags}
    assert exploration.causes == {c.id for c in flow.causes}
    assert exploration.blocks == {b.id for b in flow.self_care}
    assert exploration.dispositions == set(Disposition)


def test_self_care_and_routine_paths_are_short(exploration: Exploration) -> None:
    """Without any warning sign: 12 to 19 taps (4 for the under-16 exit).

    19 needs every follow-up (walking pain, skin, veins, thirst, clot risks) answered.
    """
    calm = {
        taps
        for (level, taps), _ in exploration.taps.items()
        if level.rank <= Disposition.ROUTINE.rank
    }
    assert min(calm) == 4
    assert min(calm - {4}) == 12
    assert max(calm) <= 19


def test_longest_callback_fits_telegram(flow: TriageFlow, exploration: Exploration) -> None:
    data = longest_callback(flow, exploration.max_index)
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert data.startswith("t1:")


def test_question_and_answer_ids_are_short(flow: TriageFlow) -> None:
    for question in flow.questions:
        assert len(question.id) <= 8
        assert all(len(answer.id) <= 8 for answer in question.answers)


def test_every_question_can_change_the_outcome(flow: TriageFlow, engine: TriageEngine) -> None:
    """No question is asked whose answer cannot change the disposition or the causes."""
    unproven = {q.id for q in flow.questions}
    for answers in _some_paths(engine):
        for index, (question_id, answer_id) in enumerate(answers):
            if question_id not in unproven:
                continue
            question = next(q for q in flow.questions if q.id == question_id)
            baseline = _outcome(engine, answers)
            for other in question.answers:
                if other.id == answer_id:
                    continue
                changed = [*answers[:index], (question_id, other.id), *answers[index + 1 :]]
                if _outcome(engine, changed) != baseline:
                    unproven.discard(question_id)
                    break
        if not unproven:
            break
    assert unproven == set()


def _some_paths(engine: TriageEngine) -> list[list[tuple[str, str]]]:
    """The golden stories, then each answer of each question with default answers elsewhere."""
    paths: list[list[tuple[str, str]]] = []
    for case in engine.flow.golden:
        paths.append(_play(engine, {**engine.flow.golden_defaults, **case.answers}, 0))
    for question in engine.flow.questions:
        for answer in question.answers:
            for default in (0, 1):
                paths.append(_play(engine, {question.id: answer.id}, default))
    return paths


def _play(engine: TriageEngine, forced: dict[str, str], default: int) -> list[tuple[str, str]]:
    session = engine.start()
    while (question := engine.current_question(session)) is not None:
        pick = forced.get(question.id)
        if pick is None:
            pick = question.answers[min(default, len(question.answers) - 1)].id
            if question.id in engine.flow.golden_defaults:
                pick = engine.flow.golden_defaults[question.id]
        following = engine.answer(session, len(session.answers), question.id, pick)
        assert following is not None
        session = following
    return list(session.answers)


def _outcome(engine: TriageEngine, answers: list[tuple[str, str]]) -> tuple[object, ...]:
    """Disposition and causes after replaying answers (questions no longer asked: dropped,
    newly asked: the first answer)."""
    given = dict(answers)
    session = engine.start()
    while (question := engine.current_question(session)) is not None:
        pick = given.get(question.id, question.answers[0].id)
        following = engine.answer(session, len(session.answers), question.id, pick)
        assert following is not None
        session = following
    result = engine.result(session)
    return result.disposition, tuple(m.cause.id for m in result.causes)
