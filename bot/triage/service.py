"""The symptom check as the bot runs it: the pure engine plus the database, no Telegram.

A handler opens one unit of work, builds a `Checks` for the tapping user and the content
version they see, calls one method and renders what comes back. Every method that takes
a button refuses (returns None, changes nothing) when the button's check token or step
index is not the current one, so stale, replayed and double taps are harmless.

What is stored: the active check (answers so far and the red-flag rules met, as
`Session.to_dict`) only while it is needed to continue it; it is deleted when the user
leaves the result, starts another check or deletes their data, and after
`CHECK_IDLE_LIMIT` without activity. A finished check is kept as a `KeptCheck` only if
the user agreed (``users.consent_store_answers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.repositories import UserRepository
from bot.triage.buttons import AnswerTap, ControlTap, Op, new_token
from bot.triage.engine import EmergencyCard, Result, Session, Step, TriageEngine
from bot.triage.store import ActiveCheck, CheckRepository, KeptCheck, RecordRepository
from bot.users import register

__all__ = [
    "CHECK_IDLE_LIMIT",
    "HISTORY_PAGE",
    "REMINDERS_FOR_SELF_CARE",
    "Checks",
    "Profile",
    "Progress",
    "delete_everything",
    "load_profile",
    "result_of",
    "suggested_reminders",
]

CHECK_IDLE_LIMIT = timedelta(hours=24)
"""An active check nobody touched for this long is deleted (its answers with it)."""
HISTORY_PAGE = 10
_SAVE_ATTEMPTS = 3


def result_of(step: Step) -> Result | None:
    """The result a step shows, directly or after its emergency card."""
    if isinstance(step, Result):
        return step
    if isinstance(step, EmergencyCard) and isinstance(step.then, Result):
        return step.then
    return None


@dataclass(frozen=True, slots=True)
class Progress:
    """A check and the step it is at now."""

    check: ActiveCheck
    step: Step

    @property
    def index(self) -> int:
        """The number of answers so far (what this step's buttons carry)."""
        return len(self.check.session.answers)

    @property
    def result(self) -> Result | None:
        """The result shown at this step, if the check has ended."""
        return result_of(self.step)


@dataclass(frozen=True, slots=True)
class Profile:
    """What the symptom check needs to know about the user."""

    language: str
    country: str | None
    timezone: str | None
    consent: bool | None


async def load_profile(db: AsyncSession, user_id: int, *, language: str, now: datetime) -> Profile:
    """The user's stored choices; registers them (in ``language``) if they are new."""
    user = (await register(db, user_id=user_id, language=language, now=now)).user
    return Profile(user.language, user.country, user.timezone, user.consent_store_answers)


async def delete_everything(db: AsyncSession, user_id: int) -> None:
    """Forget the user: checks, kept checks, settings and reminders go with the user row."""
    await db.execute(
        delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Checks:
    """One user's symptom checks, for one unit of work, on one content version."""

    db: AsyncSession
    user_id: int
    engine: TriageEngine
    label: str
    now: datetime

    @property
    def _active(self) -> CheckRepository:
        return CheckRepository(self.db)

    @property
    def _records(self) -> RecordRepository:
        return RecordRepository(self.db)

    # -- reading ----------------------------------------------------------------------

    async def current(self) -> ActiveCheck | None:
        """The active check, replayed under this content version if it began on another."""
        check = await self._active.get(self.user_id)
        if check is None or check.content_label == self.label:
            return check
        resumed = self.engine.resume(check.session)
        return await self._active.save(
            self.user_id, check, resumed, now=self.now, content_label=self.label
        )

    async def progress(self) -> Progress | None:
        """The active check and its step, if there is one."""
        check = await self.current()
        return None if check is None else Progress(check, self.engine.next_step(check.session))

    async def in_progress(self) -> Progress | None:
        """The active check if it has answers and has not reached its result."""
        found = await self.progress()
        if found is None or not found.check.session.answers or found.result is not None:
            return None
        return found

    # -- changing -----------------------------------------------------------------------

    async def start(self) -> Progress:
        """Begin a new check (replacing any other); also clear checks left idle too long."""
        await self._active.purge_idle(self.now - CHECK_IDLE_LIMIT)
        session = self.engine.start()
        check = await self._active.start(
            self.user_id,
            token=new_token(),
            content_label=self.label,
            session=session,
            now=self.now,
        )
        return Progress(check, self.engine.next_step(session))

    async def answer(self, tap: AnswerTap, *, keep: bool) -> Progress | None:
        """Record an answer from the current question; None if the tap is stale."""
        check = await self._matching(tap.token, tap.index)
        if check is None:
            return None
        session = self.engine.answer(check.session, tap.index, tap.question, tap.answer)
        if session is None:
            return None
        return await self._save(check, session, keep=keep)

    async def control(self, tap: ControlTap, *, keep: bool) -> Progress | None:
        """Apply a control button; None if it is stale or does not fit the step."""
        check = await self._matching(tap.token, tap.index)
        if check is None:
            return None
        session = check.session
        at_question = self.engine.current_question(session) is not None
        fits = {
            Op.WHY: at_question,
            Op.CONTINUE: True,
            Op.BACK: bool(session.answers),
            Op.RESTART: True,
            Op.SUMMARY: not at_question,
            Op.MENU: not at_question,
            Op.REMINDERS: not at_question,
        }
        if not fits[tap.op]:
            return None
        if tap.op is Op.BACK:
            return await self._save(check, self.engine.back(session), keep=keep)
        if tap.op is Op.RESTART:
            restarted = self.engine.restart(session)
            return await self._save(check, restarted, keep=keep, token=new_token())
        if tap.op in (Op.MENU, Op.REMINDERS):
            # The user leaves the result: the answers are no longer needed.
            await self._active.delete(self.user_id, token=check.token)
        return Progress(check, self.engine.next_step(session))

    async def note_text(
        self, text: str, languages: Sequence[str], *, keep: bool
    ) -> Progress | None:
        """Match typed text against the red-flag rules; on a match, the card is due now.

        ``languages`` are tried in order (the user's first): a warning typed in another
        language than the user's still counts. The active check takes the match (a new
        check starts if there is none). Returns None, touching nothing, if nothing matched.
        """
        lang = next((lang for lang in languages if self.engine.match_text(text, lang)), None)
        if lang is None:
            return None
        for _ in range(_SAVE_ATTEMPTS):
            check = await self.current()
            if check is None:
                started = await self.start()
                check = started.check
            noted = self.engine.note_text(check.session, text, lang)
            saved = await self._save(check, noted, keep=keep)
            if saved is not None:
                return saved
        # Another process keeps changing this check: show the card all the same.
        unsaved = self.engine.note_text(self.engine.start(), text, lang)
        return Progress(
            ActiveCheck(new_token(), self.label, unsaved, -1, self.now),
            self.engine.next_step(unsaved),
        )

    async def keep_current(self, token: str) -> bool:
        """Keep the active check ``token`` if it has reached its result (after consent)."""
        found = await self.progress()
        if found is None or found.check.token != token or found.result is None:
            return False
        await self._keep(found.check, found.result)
        return True

    # -- kept checks ----------------------------------------------------------------------

    async def kept(self) -> tuple[list[KeptCheck], int]:
        """The newest kept checks (up to `HISTORY_PAGE`) and how many there are in all."""
        records = self._records
        return (
            await records.recent(self.user_id, limit=HISTORY_PAGE),
            await records.count(self.user_id),
        )

    async def kept_check(self, record_id: int) -> KeptCheck | None:
        """One kept check of this user."""
        return await self._records.get(self.user_id, record_id)

    async def forget(self, record_id: int) -> bool:
        """Delete one kept check; False if it was already gone."""
        return await self._records.delete(self.user_id, record_id)

    async def set_consent(self, agreed: bool) -> None:
        """Record the user's choice; withdrawing it deletes every kept check."""
        user = await UserRepository(self.db).get(self.user_id)
        if user is not None:
            user.consent_store_answers = agreed
        if not agreed:
            await self._records.delete_all(self.user_id)

    # -- internals --------------------------------------------------------------------------

    async def _matching(self, token: str, index: int) -> ActiveCheck | None:
        check = await self.current()
        if check is None or check.token != token or len(check.session.answers) != index:
            return None
        return check

    async def _save(
        self, check: ActiveCheck, session: Session, *, keep: bool, token: str | None = None
    ) -> Progress | None:
        saved = await self._active.save(
            self.user_id, check, session, now=self.now, content_label=self.label, token=token
        )
        if saved is None:
            return None
        step = self.engine.next_step(session)
        result = result_of(step)
        if keep and result is not None:
            await self._keep(saved, result)
        return Progress(saved, step)

    async def _keep(self, check: ActiveCheck, result: Result) -> None:
        await self._records.keep(
            self.user_id,
            token=check.token,
            content_label=check.content_label,
            disposition=result.disposition,
            session=check.session,
            now=self.now,
        )


REMINDERS_FOR_SELF_CARE: dict[str, str] = {
    "hydrate": "hydration",
    "posture": "posture",
    "circul": "posture",
    "stretch": "stretch",
    "cramp": "stretch",
    "floss": "stretch",
}
"""Which reminder kind supports a self-care step (for "Set reminders for this")."""


def suggested_reminders(result: Result) -> tuple[str, ...]:
    """Reminder kinds that support the self-care steps of ``result``, in a stable order."""
    wanted = {REMINDERS_FOR_SELF_CARE.get(block.id) for block in result.self_care}
    return tuple(kind for kind in ("hydration", "posture", "stretch") if kind in wanted)
