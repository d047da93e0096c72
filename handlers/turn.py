"""One update's view of the user, for the symptom check and the privacy screens.

A `Turn` fixes, for the length of one update, the content version the user sees (an
admin previewing a draft runs the check on the draft), its compiled engine, the user's
stored choices, their language and the country whose emergency number they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram import User as TelegramUser

from bot.callbacks import CallbackCodec
from bot.context import LegCareContext
from bot.triage.buttons import TriageButton, pack
from bot.triage.engine import TriageEngine
from bot.triage.render import Texts, button_label
from bot.triage.service import Checks, Profile, load_profile
from content.live import ContentVersion
from content.pack import ContentPack
from content.triage_schema import Country

Row = list[InlineKeyboardButton]


@dataclass(frozen=True)
class Turn:
    """Who is acting, in which language, on which content."""

    context: LegCareContext
    user_id: int
    chat_id: int
    version: ContentVersion
    engine: TriageEngine
    profile: Profile
    now: datetime

    @property
    def pack(self) -> ContentPack:
        """The content pack this user sees."""
        return self.version.pack

    @property
    def texts(self) -> Texts:
        """Every text of the pack, for the triage renderer."""
        return self.version.pack.texts

    @property
    def codec(self) -> CallbackCodec:
        """The callback codec."""
        return self.context.services.codec

    @property
    def lang(self) -> str:
        """The language to answer in."""
        return self.pack.language_for(self.profile.language)

    @property
    def country(self) -> Country | None:
        """The user's country (or the operator's default), for the emergency number."""
        code = self.profile.country or self.context.services.settings.default_country
        return self.pack.countries.countries.get(code)

    @property
    def emergency_number(self) -> str:
        """The emergency number as words fit for a sentence, never from translated text."""
        country = self.country
        if country is not None:
            return country.emergency
        return self.pack.text(self.lang, self.pack.triage.texts.unknown_number)

    @property
    def zone(self) -> ZoneInfo:
        """The user's time zone (or the operator's default)."""
        return ZoneInfo(self.profile.timezone or self.context.services.settings.default_timezone)

    def text(self, key: str, /, **params: object) -> str:
        """A text in the user's language, parameters HTML-escaped."""
        return self.pack.text(self.lang, key, **params)

    def label(self, name: str) -> str:
        """Label of a fixed symptom-check button (``triage.ui.btn.<name>``)."""
        return button_label(self.texts, self.lang, name)

    def button(self, label: str, data: TriageButton | str) -> InlineKeyboardButton:
        """An inline button; triage buttons are packed and signed for this user."""
        packed = data if isinstance(data, str) else pack(data, self.codec, user_id=self.user_id)
        return InlineKeyboardButton(label, callback_data=packed)

    def signed(self, action: str, *args: str) -> str:
        """Signed callback data of another feature's button, for this user."""
        return self.codec.pack(action, *args, user_id=self.user_id)

    def home(self) -> InlineKeyboardButton:
        """The main menu button (handled by handlers.start)."""
        return self.button(self.label("menu"), self.signed("m", "home"))

    def checks(self, db: AsyncSession) -> Checks:
        """The user's symptom checks in this unit of work."""
        return Checks(db, self.user_id, self.engine, self.version.label, self.now)


def markup(rows: list[Row]) -> InlineKeyboardMarkup | None:
    """A keyboard of these rows, or None (no keyboard) when there are none."""
    return InlineKeyboardMarkup(rows) if rows else None


async def load_turn(
    context: LegCareContext, db: AsyncSession, user: TelegramUser, chat_id: int
) -> Turn:
    """The user's turn, reading (and on first contact creating) their stored choices."""
    services = context.services
    version = services.content.for_user(user.id)
    now = services.clock.now()
    profile = await load_profile(
        db, user.id, language=version.pack.language_for(user.language_code), now=now
    )
    return Turn(
        context=context,
        user_id=user.id,
        chat_id=chat_id,
        version=version,
        engine=services.engines.engine_for(version.pack.triage),
        profile=profile,
        now=now,
    )
