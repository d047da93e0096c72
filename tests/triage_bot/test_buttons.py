"""Symptom-check buttons, the copy-button text and the engine cache: pure, no Telegram."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import CALLBACK_DATA_LIMIT, Callback, CallbackCodec
from bot.triage.buttons import (
    AnswerTap,
    ControlTap,
    NewCheck,
    Op,
    TriageButton,
    new_token,
    pack,
    parse,
)
from bot.triage.clipboard import COPY_TEXT_LIMIT, clip_lines
from bot.triage.engine import Result, TriageEngine
from bot.triage.engines import EngineCache
from bot.triage.service import suggested_reminders
from content.pack import load_pack
from content.triage_checks import longest_callback
from content.triage_schema import TriageFlow

CODEC = CallbackCodec(b"test-secret")
USER = 1001


@pytest.fixture(scope="module")
def flow() -> TriageFlow:
    return load_pack().triage


@pytest.mark.parametrize(
    "button",
    [
        NewCheck(),
        NewCheck(fresh=True),
        AnswerTap("AbC-_123", 0, "breath", "y"),
        AnswerTap("AbC-_123", 17, "where", "buttock"),
        *(ControlTap("zzzzzzzz", 3, op) for op in Op),
    ],
)
def test_every_button_survives_the_round_trip(button: TriageButton) -> None:
    data = pack(button, CODEC, user_id=USER)
    callback = CODEC.unpack(data, user_id=USER)
    assert callback is not None
    assert parse(callback) == button
    assert CODEC.unpack(data, user_id=USER + 1) is None  # another user's tap


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("new", "x"),
        ("old",),
        ("short", "1", "breath", "y"),  # token of the wrong length
        ("AbCd1234", "01", "breath", "y"),  # index with a leading zero
        ("AbCd1234", "1234", "breath", "y"),  # index too long
        ("AbCd1234", "-1", "w"),
        ("AbCd1234", "1", "BREATH", "y"),
        ("AbCd1234", "1", "breath", "toolongid"),
        ("AbCd1234", "1", "zz"),  # unknown control
        ("AbCd1234", "1", "breath", "y", "extra"),
        ("AbCd1234",),
    ],
)
def test_malformed_arguments_are_not_buttons(args: tuple[str, ...]) -> None:
    assert parse(Callback("t", args)) is None


def test_other_features_callbacks_are_not_triage_buttons() -> None:
    assert parse(Callback("m", ("new",))) is None


def test_tokens_are_fresh_and_fit_the_alphabet() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert parse(Callback("t", (token, "0", "c"))) == ControlTap(token, 0, Op.CONTINUE)


def test_the_longest_button_is_an_answer_and_fits_telegram(flow: TriageFlow) -> None:
    """The content check packs its longest button with `pack`; this is that figure."""
    max_index = len(flow.questions)  # a bound: a path never answers every question
    longest = longest_callback(flow, max_index)
    assert len(longest.encode()) <= CALLBACK_DATA_LIMIT
    controls = [pack(ControlTap("x" * 8, max_index, op), CODEC, user_id=-(10**13)) for op in Op]
    assert all(len(control) < len(longest) for control in controls)
    # t1:<token 8>:<index>:<longest question id>:<longest answer id>:<tag 10>
    assert len(longest.encode()) == 42


def test_a_short_summary_is_copied_unchanged() -> None:
    summary = "Leg pain: Calf\nWarning signs: not given\nOther: Age: 16 to 54"
    assert clip_lines(summary) == summary


_LINE = st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=400)


@given(st.lists(_LINE, min_size=1, max_size=4))
def test_clipped_summaries_fit_and_keep_every_line(lines: list[str]) -> None:
    clipped = clip_lines("\n".join(lines))
    assert len(clipped.encode("utf-16-le", "surrogatepass")) // 2 <= COPY_TEXT_LIMIT
    kept = clipped.split("\n")
    assert len(kept) == len(lines)
    for original, line in zip(lines, kept, strict=True):
        assert line == original or (line.endswith("…") and original.startswith(line[:-1]))


def test_the_longest_real_summary_keeps_its_three_headings() -> None:
    lines = [
        "Leg pain: " + "; ".join(["One leg", "Gradually, over days or weeks"] * 6),
        "Warning signs: " + "; ".join(["sudden breathlessness"] * 20),
        "Other: Age: 55 or over",
    ]
    clipped = clip_lines("\n".join(lines)).split("\n")
    assert [line.split(":")[0] for line in clipped] == ["Leg pain", "Warning signs", "Other"]
    assert clipped[2] == "Other: Age: 55 or over"  # short lines are never cut


def test_reminders_follow_the_self_care_steps(flow: TriageFlow) -> None:
    engine = TriageEngine(flow)
    case = next(g for g in flow.golden if g.id == "row_21_doms")
    session = engine.start()
    while True:
        question = engine.current_question(session)
        if question is None:
            break
        chosen = case.answers.get(question.id) or flow.golden_defaults[question.id]
        following = engine.answer(session, len(session.answers), question.id, chosen)
        assert following is not None
        session = following
    result = engine.result(session)
    assert isinstance(result, Result)
    assert "stretch" in suggested_reminders(result)


def test_the_engine_cache_compiles_each_flow_once(flow: TriageFlow) -> None:
    cache = EngineCache(size=2)
    first = cache.engine_for(flow)
    assert cache.engine_for(flow) is first
    other = flow.model_copy(update={"version": flow.version + 1})
    third = flow.model_copy(update={"version": flow.version + 2})
    assert cache.engine_for(other) is not first
    cache.engine_for(third)
    assert cache.engine_for(flow) is not first  # the least recently used went first
