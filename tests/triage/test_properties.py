"""Property tests: random taps, Back, Restart and typed text never crash the engine and
never lower a red flag once met."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.triage.engine import Ask, EmergencyCard, Result, Session, TriageEngine
from bot.triage.matcher import TextMatcher
from bot.triage.render import render_step
from content.triage_schema import load_triage_flow

ENGINE = TriageEngine(load_triage_flow())
IDS = sorted({q.id for q in ENGINE.flow.questions} | {"", "x" * 9, "../", "t1:zz"})
ANSWERS = sorted({a.id for q in ENGINE.flow.questions for a in q.answers} | {"", "nope"})
PHRASES = [p for r in ENGINE.flow.red_flags for ps in r.match.values() for p in ps]

action = st.one_of(
    st.tuples(st.just("tap"), st.integers(0, 7)),
    st.tuples(
        st.just("forged"), st.integers(-2, 30), st.sampled_from(IDS), st.sampled_from(ANSWERS)
    ),
    st.tuples(st.just("back")),
    st.tuples(st.just("restart")),
    st.tuples(st.just("text"), st.one_of(st.text(max_size=80), st.sampled_from(PHRASES))),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _apply(session: Session, act: tuple[object, ...]) -> Session:
    kind = act[0]
    if kind == "tap":
        step = ENGINE.next_step(session)
        if isinstance(step, EmergencyCard):
            step = step.then
        if isinstance(step, Ask):
            answers = step.question.answers
            pick = answers[int(act[1]) % len(answers)]  # type: ignore[call-overload]
            following = ENGINE.answer(session, step.index, step.question.id, pick.id)
            assert following is not None
            return following
        return session
    if kind == "forged":
        following = ENGINE.answer(session, act[1], act[2], act[3])  # type: ignore[arg-type]
        return session if following is None else following
    if kind == "back":
        return ENGINE.back(session)
    if kind == "restart":
        return ENGINE.restart(session)
    return ENGINE.note_text(session, str(act[1]), "en")


@SETTINGS
@given(st.lists(action, max_size=40))
def test_random_actions_never_crash_nor_lower_a_flag(actions: list[tuple[object, ...]]) -> None:
    session = ENGINE.start()
    highest = -1
    for act in actions:
        session = _apply(session, act)
        floor = ENGINE.floor(session)
        rank = -1 if floor is None else floor.rank
        assert rank >= highest, "a met red flag was lowered"
        highest = rank
        result = ENGINE.result(session)
        assert result.disposition.rank >= highest
        step = ENGINE.next_step(session)
        assert isinstance(step, Ask | EmergencyCard | Result)
    # finishing the check from here can never end below what was met
    for _ in range(len(ENGINE.flow.questions) + 1):
        session = _apply(session, ("tap", 1))
    assert ENGINE.result(session).disposition.rank >= highest


@SETTINGS
@given(st.lists(action, max_size=25), st.sampled_from(["en", "tr"]))
def test_every_reachable_step_renders(actions: list[tuple[object, ...]], lang: str) -> None:
    from content.pack import load_texts

    texts = _TEXTS.setdefault("t", load_texts())
    session = ENGINE.start()
    for act in actions:
        session = _apply(session, act)
    messages = render_step(ENGINE, session, ENGINE.next_step(session), texts, lang, country=None)
    assert all(message.strip() for message in messages)


_TEXTS: dict[str, dict[str, dict[str, str]]] = {}


@SETTINGS
@given(st.text(max_size=2000), st.sampled_from(["en", "tr", "xx"]))
def test_matcher_never_crashes(text: str, lang: str) -> None:
    matched = ENGINE.match_text(text, lang)
    assert all(rule.kind == "red_flag" for rule in matched)


@SETTINGS
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8)))
def test_stored_sessions_never_crash_on_load(data: dict[str, str]) -> None:
    session = Session.from_dict(data)
    if session is not None:
        resumed = ENGINE.resume(session)
        ENGINE.next_step(resumed)


def test_session_round_trips_and_resumes(engine: TriageEngine) -> None:
    session = engine.start()
    for answer in ("n", "n", "n", "adult", "one"):
        step = engine.next_step(session)
        assert isinstance(step, Ask)
        following = engine.answer(session, step.index, step.question.id, answer)
        assert following is not None
        session = following
    loaded = Session.from_dict(session.to_dict())
    assert loaded == session
    assert engine.resume(session).answers == session.answers


def test_back_after_an_emergency_answer_keeps_the_floor(engine: TriageEngine) -> None:
    session = engine.answer(engine.start(), 0, "breath", "y")
    assert session is not None
    card = engine.next_step(session)
    assert isinstance(card, EmergencyCard)
    assert isinstance(card.then, Result)  # an emergency ends the questioning at once
    back = engine.back(session)
    step = engine.next_step(back)
    assert isinstance(step, Ask)
    assert step.question.id == "breath"  # the answer may be changed
    changed = engine.answer(back, 0, "breath", "n")
    assert changed is not None
    assert engine.result(changed).disposition.rank == 4  # ... but never lower the flag
    assert engine.result(engine.restart(changed)).disposition.rank == 4


def test_stale_and_forged_answers_are_refused(engine: TriageEngine) -> None:
    session = engine.start()
    assert engine.answer(session, 1, "breath", "n") is None  # replayed / stale index
    assert engine.answer(session, 0, "limb", "n") is None  # not the current question
    assert engine.answer(session, 0, "breath", "maybe") is None  # not an answer


def test_matcher_compiles_every_phrase() -> None:
    matcher = TextMatcher.from_rules(ENGINE.flow.red_flags)
    assert len(matcher.phrases) == len(PHRASES)
