"""Hypothesis at the handler level, through the fake Bot API and the real running bot.

Random sequences of taps (on the newest question or on any older message: replays),
forged callback data, another user's buttons and random or red-flag text never crash a
handler (no error-handler call, no apology) and never lower a red-flag disposition: every
result is at least as urgent as every emergency card shown earlier in the same check
(a Restart keeps the check's floor; a new check from the menu starts without one).
Forged and other-user data never change the stored check. Typed text shows a card
exactly when the red-flag matcher finds one (in any of the content's languages).

Set LEGCARE_HANDLER_EXAMPLES for a longer hunt (60 examples take about three minutes).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.context import LegCareApplication
from bot.triage.buttons import AnswerTap, ControlTap, Op, parse
from bot.triage.engine import TriageEngine
from bot.triage.render import text
from content.telegram_html import html_to_text
from content.triage_schema import Disposition
from fakebot import FakeBotApi, FakeUser
from fakebot.models import ChatMessage
from tests.triage_bot.support import stored_check

_user_ids = itertools.count(50_000)
_ERROR_TEXTS = ("Sorry, something went wrong", "Üzgünüz, bizim tarafımızda bir sorun")


def _phrases(engine: TriageEngine) -> list[str]:
    """Typed-text phrases of every rule, in every language, made to read like a message."""
    found: list[str] = []
    for rule in engine.flow.red_flags:
        for phrases in rule.match.values():
            for phrase in phrases:
                words = phrase.replace("*", "").split("+")
                found.append(" and ".join(words))
    return sorted(set(found))


@dataclass
class Observer:
    """What the user saw, message by message at first sight, and what it must satisfy."""

    bot: LegCareApplication
    user: FakeUser
    lang: str
    seen: dict[int, ChatMessage] = field(default_factory=dict)
    floors: defaultdict[str, int] = field(default_factory=lambda: defaultdict(lambda: -1))
    parents: dict[str, str] = field(default_factory=dict)
    checked_up_to: int = 0

    def scan(self) -> None:
        """Remember every bot message as it first looked (before later edits)."""
        for message in self.user.messages:
            self.seen.setdefault(message.message_id, message)

    def token_of(self, message: ChatMessage) -> str | None:
        codec = self.bot.services.codec
        for row in message.inline_keyboard:
            for button in row:
                callback = codec.unpack(button.callback_data or "", user_id=self.user.user_id)
                parsed = None if callback is None else parse(callback)
                if isinstance(parsed, AnswerTap | ControlTap):
                    return parsed.token
        return None

    def _floor(self, token: str) -> int:
        floor = self.floors[token]
        parent = self.parents.get(token)
        return max(floor, self._floor(parent)) if parent else floor

    def check(self) -> None:
        """Every result so far is at least as urgent as the cards before it in its check."""
        pack = self.bot.services.content.pack
        flow = pack.triage
        texts = pack.texts
        country = pack.countries.countries[self.bot.services.settings.default_country]
        card_levels = {
            html_to_text(text(texts, self.lang, key, emergency=country.emergency)): level
            for level, key in flow.card_levels.items()
        }
        heading = html_to_text(text(texts, self.lang, flow.texts.result_heading))
        titles = {
            html_to_text(text(texts, self.lang, words.title)): level
            for level, words in flow.dispositions.items()
        }
        ordered = [self.seen[key] for key in sorted(self.seen)]
        for position, message in enumerate(ordered):
            assert not any(error in message.text for error in _ERROR_TEXTS), message.text
            if message.message_id <= self.checked_up_to:
                continue
            if _is_card(message):
                levels = [level for line, level in card_levels.items() if line in message.text]
                assert levels, message.text
                following = next(
                    (self.token_of(m) for m in ordered[position + 1 :] if self.token_of(m)), None
                )
                if following is not None:
                    rank = max(level.rank for level in levels)
                    self.floors[following] = max(self.floors[following], rank)
            lines = message.text.split("\n")
            if _is_card(message):
                event("an emergency card was shown")
            if lines[0] == heading:
                event("a result was shown")
                token = self.token_of(message)
                assert token is not None
                shown: Disposition = titles[lines[1]]
                assert shown.rank >= self._floor(token), (shown, message.text)
            self.checked_up_to = message.message_id


def _is_card(message: ChatMessage) -> bool:
    return any("copy_text" in b.raw for row in message.inline_keyboard for b in row)


def _callback_buttons(message: ChatMessage) -> list[str]:
    return [
        b.callback_data
        for row in message.inline_keyboard
        for b in row
        if b.callback_data and b.callback_data.startswith(("t1:", "p1:"))
    ]


ACTIONS = st.sampled_from(
    ["newest", "newest", "newest", "newest", "older", "forged", "mallory", "text", "menu"]
)


@pytest.fixture
async def mallory_data(fake_api: FakeBotApi, bot: LegCareApplication) -> list[str]:
    """Buttons shown to another user, in the middle of her own check."""
    mallory = fake_api.user(user_id=6666, first_name="Mallory", language_code="en")
    await mallory.send("/start")
    await mallory.tap("🩺 Symptom check")
    return [data for m in mallory.messages for data in _callback_buttons(m)]


@dataclass
class Explorer:
    """One random user: the actions Hypothesis draws, each checked as it happens."""

    data: st.DataObject
    bot: LegCareApplication
    user: FakeUser
    observer: Observer
    mallory_data: list[str]
    tapped: list[str] = field(default_factory=list)

    async def tap_a_button(self, *, newest: bool) -> None:
        """Tap a button of the newest keyboard, of any older message, or replay one."""
        messages = [m for m in self.user.messages if _callback_buttons(m)]
        if not messages:
            return
        draw = self.data.draw
        target = messages[-1] if newest else draw(st.sampled_from(messages), label="message")
        choice = draw(st.sampled_from(_callback_buttons(target)), label="button")
        if self.tapped and draw(st.booleans(), label="replay"):
            choice = draw(st.sampled_from(self.tapped), label="replayed")
        self.tapped.append(choice)
        callback = self.bot.services.codec.unpack(choice, user_id=self.user.user_id)
        button = None if callback is None else parse(callback)
        before = await stored_check(self.bot.services.sessionmaker, self.user.user_id)
        await self.user.tap_data(choice, message=target)
        after = await stored_check(self.bot.services.sessionmaker, self.user.user_id)
        if before is None or after is None or after.token == before.token:
            return
        if isinstance(button, ControlTap) and button.op is Op.RESTART:
            self.observer.parents[after.token] = before.token  # a restart keeps the floor

    async def tap_forged_data(self, *, from_mallory: bool) -> None:
        """Forged, tampered or another user's data: refused, and nothing changes."""
        draw = self.data.draw
        if from_mallory:
            forged = draw(st.sampled_from(self.mallory_data), label="mallory")
        elif self.tapped and draw(st.booleans(), label="tamper"):
            body, _, tag = draw(st.sampled_from(self.tapped), label="original").rpartition(":")
            tamper = draw(st.sampled_from(["tag", "body"]), label="how")
            forged = f"{body}:{tag[::-1]}" if tamper == "tag" else f"{body}x:{tag}"
        else:
            forged = draw(st.text(min_size=1, max_size=64), label="data")
        if not 1 <= len(forged.encode()) <= 64:  # Telegram would not deliver it
            return
        sessionmaker = self.bot.services.sessionmaker
        before = await stored_check(sessionmaker, self.user.user_id)
        await self.user.tap_data(forged)
        after = await stored_check(sessionmaker, self.user.user_id)
        if before is None:
            assert after is None
        else:
            assert after is not None
            unchanged = (before.token, before.revision, before.state)
            assert (after.token, after.revision, after.state) == unchanged
        assert self.user.callback_answers[-1].text in _EXPIRED

    async def type_text(self) -> None:
        """Random text or a red-flag phrase: a card appears exactly when one is named."""
        services = self.bot.services
        engine = services.engines.engine_for(services.content.pack.triage)
        typed = self.data.draw(
            st.one_of(
                st.sampled_from(_phrases(engine)),
                st.text(min_size=1, max_size=120).filter(
                    lambda t: bool(t.strip()) and not t.startswith("/")
                ),
            ),
            label="text",
        )
        cards_before = sum(1 for m in self.user.messages if _is_card(m))
        await self.user.send(typed)
        cards_after = sum(1 for m in self.user.messages if _is_card(m))
        languages = services.content.pack.languages
        expected = any(engine.match_text(typed, language) for language in languages)
        assert (cards_after > cards_before) == expected, typed


_EXPIRED = ("This menu has expired. Here is a fresh one.", "Bu menünün süresi doldu. İşte yenisi.")


@settings(
    max_examples=int(os.environ.get("LEGCARE_HANDLER_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_use_never_crashes_or_lowers_a_red_flag(
    data: st.DataObject,
    fake_api: FakeBotApi,
    bot: LegCareApplication,
    mallory_data: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lang = data.draw(st.sampled_from(["en", "tr"]), label="language")
    user = fake_api.user(user_id=next(_user_ids), first_name="Rand", language_code=lang)
    observer = Observer(bot, user, lang)
    explorer = Explorer(data, bot, user, observer, mallory_data)
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    caplog.clear()

    await user.send("/start")
    await user.tap(user.buttons[0][0])  # the symptom check from the main menu
    for _ in range(data.draw(st.integers(3, 14), label="actions")):
        observer.scan()
        action = data.draw(ACTIONS, label="action")
        if action in ("newest", "older"):
            await explorer.tap_a_button(newest=action == "newest")
        elif action in ("forged", "mallory"):
            await explorer.tap_forged_data(from_mallory=action == "mallory")
        elif action == "text":
            await explorer.type_text()
        else:
            await user.send("/menu")
        observer.scan()
        observer.check()
    assert not caplog.records, [r.getMessage() for r in caplog.records]
