"""The symptom-check store and service on a real database, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Preferences, User
from bot.db.triage_models import TriageCheck, TriageRecord
from bot.triage.buttons import AnswerTap, ControlTap, Op
from bot.triage.engine import Ask, EmergencyCard, Result, Session, TriageEngine
from bot.triage.service import CHECK_IDLE_LIMIT, Checks, delete_everything, load_profile
from bot.triage.store import CheckRepository, RecordRepository
from content.pack import load_pack
from content.triage_schema import Disposition

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ADA, BOB = 1001, 1002
LIVE = "shipped"


@pytest.fixture(scope="module")
def triage() -> TriageEngine:
    return TriageEngine(load_pack().triage)


@pytest.fixture
async def db(sessionmaker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    async with sessionmaker.begin() as session:
        for user_id in (ADA, BOB):
            await load_profile(session, user_id, language="en", now=NOW)
    return sessionmaker


def checks(
    session: AsyncSession, engine: TriageEngine, user_id: int = ADA, *, at: datetime = NOW
) -> Checks:
    return Checks(session, user_id, engine, LIVE, at)


async def _answer(
    db: async_sessionmaker[AsyncSession],
    engine: TriageEngine,
    token: str,
    *answers: str,
    keep: bool = False,
) -> object:
    """Answer the current questions in order; return the last step."""
    step: object = None
    for answer in answers:
        async with db.begin() as session:
            found = await checks(session, engine).progress()
            assert found is not None
            ask = found.step.then if isinstance(found.step, EmergencyCard) else found.step
            assert isinstance(ask, Ask)
            tap = AnswerTap(token, found.index, ask.question.id, answer)
            progress = await checks(session, engine).answer(tap, keep=keep)
            assert progress is not None
            step = progress.step
    return step


async def test_a_check_survives_the_unit_of_work_and_json_round_trip(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        started = await checks(session, triage).start()
    assert isinstance(started.step, Ask)
    assert started.step.question.id == "breath"
    await _answer(db, triage, started.check.token, "n", "n", "n", "adult", "one")
    async with db() as session:
        stored = await CheckRepository(session).get(ADA)
    assert stored is not None
    assert stored.token == started.check.token
    assert stored.content_label == LIVE
    assert stored.revision == 5
    assert stored.session.answers == (
        ("breath", "n"),
        ("limb", "n"),
        ("ces", "n"),
        ("age", "adult"),
        ("sides", "one"),
    )


async def test_stale_forged_and_double_taps_change_nothing(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        token = (await checks(session, triage).start()).check.token
    await _answer(db, triage, token, "n")
    refused = [
        AnswerTap(token, 0, "breath", "y"),  # the question already answered (replayed)
        AnswerTap(token, 1, "breath", "y"),  # right index, wrong question
        AnswerTap(token, 1, "limb", "maybe"),  # not an answer of this question
        AnswerTap("zzzzzzzz", 1, "limb", "y"),  # another check's token
        AnswerTap(token, 7, "limb", "y"),  # an index from the future
    ]
    for tap in refused:
        async with db.begin() as session:
            assert await checks(session, triage).answer(tap, keep=True) is None
    for control in (ControlTap(token, 0, Op.BACK), ControlTap(token, 1, Op.SUMMARY)):
        async with db.begin() as session:
            assert await checks(session, triage).control(control, keep=True) is None
    async with db.begin() as session:
        assert await checks(session, triage, BOB).answer(refused[1], keep=True) is None
    async with db() as session:
        stored = await CheckRepository(session).get(ADA)
        assert await CheckRepository(session).get(BOB) is None
    assert stored is not None
    assert (stored.revision, stored.session.answers) == (1, (("breath", "n"),))


async def test_a_write_based_on_an_old_read_is_refused(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        started = await checks(session, triage).start()
    repository_read = started.check
    async with db.begin() as session:
        first = await CheckRepository(session).save(
            ADA, repository_read, Session(answers=(("breath", "n"),)), now=NOW
        )
    assert first is not None
    async with db.begin() as session:
        second = await CheckRepository(session).save(
            ADA, repository_read, Session(answers=(("breath", "y"),)), now=NOW
        )
    assert second is None
    async with db() as session:
        stored = await CheckRepository(session).get(ADA)
    assert stored is not None
    assert stored.session.answers == (("breath", "n"),)


async def test_red_flag_answers_stay_met_through_back_and_restart(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        token = (await checks(session, triage).start()).check.token
    step = await _answer(db, triage, token, "y")
    assert isinstance(step, EmergencyCard)
    assert step.level is Disposition.EMERGENCY_AMBULANCE
    assert isinstance(step.then, Result)
    async with db.begin() as session:
        back = await checks(session, triage).control(ControlTap(token, 1, Op.BACK), keep=False)
    assert back is not None
    assert isinstance(back.step, Ask)
    step = await _answer(db, triage, token, "n", "n", "n", "adult", "both", "grad", "thigh")
    async with db() as session:
        current = await checks(session, triage).current()
    assert current is not None
    assert triage.floor(current.session) is Disposition.EMERGENCY_AMBULANCE
    async with db.begin() as session:
        restarted = await checks(session, triage).control(
            ControlTap(token, len(current.session.answers), Op.RESTART), keep=False
        )
    assert restarted is not None
    assert restarted.check.token != token  # buttons of the old run are now stale
    assert triage.floor(restarted.check.session) is Disposition.EMERGENCY_AMBULANCE


async def test_typed_red_flags_start_a_check_or_join_the_current_one(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        assert (
            await checks(session, triage).note_text("my knee clicks", ["en"], keep=False) is None
        )
        assert await CheckRepository(session).get(ADA) is None
        typed = await checks(session, triage).note_text("I can't breathe", ["en"], keep=False)
    assert typed is not None
    assert isinstance(typed.step, EmergencyCard)
    assert typed.step.from_text
    assert typed.step.level is Disposition.EMERGENCY_AMBULANCE

    async with db.begin() as session:
        token = (await checks(session, triage, BOB).start()).check.token
    async with db.begin() as session:
        bob = checks(session, triage, BOB)
        progress = await bob.answer(AnswerTap(token, 0, "breath", "n"), keep=False)
        assert progress is not None
        swollen = await bob.note_text("my calf is swollen and hot", ["en"], keep=False)
    assert swollen is not None
    assert swollen.check.token == token
    assert swollen.check.session.answers == (("breath", "n"),)
    assert isinstance(swollen.step, EmergencyCard)
    assert isinstance(swollen.step.then, Ask)  # same-day level: the questions go on


async def test_results_are_kept_only_with_consent_and_once_per_check(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        token = (await checks(session, triage).start()).check.token
    await _answer(db, triage, token, "y", keep=False)
    async with db() as session:
        assert await RecordRepository(session).count(ADA) == 0
    async with db.begin() as session:
        assert await checks(session, triage).keep_current(token)
        # A second keep of the same check replaces the first (a result after Back).
        assert await checks(session, triage).keep_current(token)
        assert not await checks(session, triage).keep_current("zzzzzzzz")
    async with db() as session:
        kept, total = await checks(session, triage).kept()
    assert total == 1
    assert kept[0].disposition is Disposition.EMERGENCY_AMBULANCE
    assert kept[0].session.met == ("possible_pe",)


async def test_leaving_the_result_deletes_the_answers(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        token = (await checks(session, triage).start()).check.token
    await _answer(db, triage, token, "y")
    async with db.begin() as session:
        summary = await checks(session, triage).control(
            ControlTap(token, 1, Op.SUMMARY), keep=False
        )
        assert summary is not None
        assert await CheckRepository(session).get(ADA) is not None
        left = await checks(session, triage).control(ControlTap(token, 1, Op.MENU), keep=False)
        assert left is not None
        assert await CheckRepository(session).get(ADA) is None


async def test_idle_checks_are_purged_when_someone_starts_one(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        await checks(session, triage).start()
    later = NOW + CHECK_IDLE_LIMIT + timedelta(minutes=1)
    async with db.begin() as session:
        await checks(session, triage, BOB, at=later).start()
    async with db() as session:
        assert await CheckRepository(session).get(ADA) is None
        assert await CheckRepository(session).get(BOB) is not None


async def test_a_check_begun_on_another_content_version_is_replayed(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        await CheckRepository(session).start(
            ADA,
            token="Tok12345",
            content_label="draft-7",
            # ``gone`` is not a question any more: it and what follows are dropped.
            session=Session(answers=(("breath", "n"), ("gone", "x"), ("limb", "n"))),
            now=NOW,
        )
    async with db.begin() as session:
        resumed = await checks(session, triage).progress()
    assert resumed is not None
    assert resumed.check.content_label == LIVE
    assert resumed.check.session.answers == (("breath", "n"),)
    assert isinstance(resumed.step, Ask)
    assert resumed.step.question.id == "limb"


async def test_unreadable_state_counts_as_no_check(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        session.add(
            TriageCheck(
                user_id=ADA,
                token="Tok12345",
                content_label=LIVE,
                state={"answers": "nonsense"},
                revision=0,
                started_at=NOW,
                updated_at=NOW,
            )
        )
    async with db.begin() as session:
        assert await checks(session, triage).current() is None
        started = await checks(session, triage).start()
    assert started.check.token != "Tok12345"


async def test_records_are_private_and_deletable(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        repository = RecordRepository(session)
        for number, user_id in enumerate((ADA, ADA, BOB)):
            await repository.keep(
                user_id,
                token=f"tok{number:05d}",
                content_label=LIVE,
                disposition=Disposition.ROUTINE,
                session=Session(answers=(("breath", "n"),)),
                now=NOW + timedelta(days=number),
            )
    async with db() as session:
        kept, total = await checks(session, triage).kept()
        bobs, _ = await checks(session, triage, BOB).kept()
    assert total == 2
    assert [k.finished_at for k in kept] == [NOW + timedelta(days=1), NOW]  # newest first
    async with db.begin() as session:
        assert not await checks(session, triage).forget(bobs[0].id)  # not Ada's to delete
        assert await checks(session, triage, BOB).kept_check(kept[0].id) is None
        assert await checks(session, triage).forget(kept[0].id)
        assert not await checks(session, triage).forget(kept[0].id)
    async with db.begin() as session:
        await checks(session, triage).set_consent(True)
        await checks(session, triage).set_consent(False)  # withdrawing deletes the rest
        assert await RecordRepository(session).count(ADA) == 0
        assert await RecordRepository(session).count(BOB) == 1
        user = await session.get(User, ADA)
        assert user is not None
        assert user.consent_store_answers is False


async def test_deleting_everything_leaves_nothing_behind(
    db: async_sessionmaker[AsyncSession], triage: TriageEngine
) -> None:
    async with db.begin() as session:
        session.add(Preferences(user_id=ADA))
        token = (await checks(session, triage).start()).check.token
    await _answer(db, triage, token, "y")
    async with db.begin() as session:
        await checks(session, triage).set_consent(True)
        assert await checks(session, triage).keep_current(token)
    async with db.begin() as session:
        await delete_everything(session, ADA)
    async with db() as session:
        for table in (TriageCheck, TriageRecord, Preferences):
            left = await session.scalar(
                select(func.count()).select_from(table).where(table.user_id == ADA)
            )
            assert left == 0, table.__tablename__
        assert await session.get(User, ADA) is None
        assert await session.get(User, BOB) is not None
