"""The symptom check end to end: the real bot over the fake Bot API, stories a user lives."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.models import User
from bot.runner import running_bot
from bot.settings import Settings
from bot.triage.clipboard import COPY_TEXT_LIMIT
from fakebot import FakeBotApi, FakeUser
from fakebot.ptb import ReportingUpdateProcessor
from tests.triage_bot.support import NO_RED_FLAGS, answer, cards, open_check, stored_check

GYM = (
    *NO_RED_FLAGS,
    "16 to 54",
    "Both legs",
    "Gradually, over days or weeks",
    "Back of the thigh",
    "Less than a week",
    "Dull ache, heavy or stiff",
    "New or harder exercise",
    "No, it looks normal",
    "No",  # varicose veins
    "No",  # numbness or weakness
)
LONG_FLIGHT_CALF = (
    *NO_RED_FLAGS,
    "16 to 54",
    "One leg",
    "Suddenly, without an injury",
    "Calf",
    "Less than a week",
    "Dull ache, heavy or stiff",
    "Sitting for a long time",
)


def copy_text(user: FakeUser, card_index: int = -1) -> str:
    """What the copy button of a card puts on the clipboard."""
    card = [m for m in user.messages if m.text in cards(user)][card_index]
    return str(card.inline_keyboard[0][0].raw["copy_text"]["text"])


async def set_country(bot: LegCareApplication, user_id: int, country: str) -> None:
    async with bot.services.sessionmaker.begin() as db:
        await db.execute(update(User).where(User.id == user_id).values(country=country))


async def test_a_swollen_warm_calf_after_a_long_flight_gets_the_card_at_the_swelling_step(
    user: FakeUser,
) -> None:
    await open_check(user)
    await answer(user, *LONG_FLIGHT_CALF)
    assert cards(user) == []
    calls_before = len(user.calls)
    reaction = await user.tap("Swollen, warm or tender")
    # The tap is answered first; the card is the very next thing the bot sends.
    first, second = user.calls[calls_before : calls_before + 2]
    assert first.method == "answerCallbackQuery"
    assert second.method == "sendMessage"
    assert "blood clot in the leg (DVT)" in str(second.params["text"])
    # The card comes first, in that very step, then the next question.
    tapped, card, following = reaction
    assert "✓ Swollen, warm or tender" in tapped.text
    assert tapped.inline_keyboard == []
    assert "blood clot in the leg (DVT)" in card.text
    assert "Get seen by a doctor today" in card.text
    assert "call 999 at once" in card.text  # the PE warning, with the UK number
    assert "Do not rub or massage" in card.text
    assert "Warning signs: one painful leg with swelling" in copy_text(user)
    assert len(copy_text(user)) <= COPY_TEXT_LIMIT
    assert following.text.startswith("Question 12")
    # Fever, varicose veins, numbness. The clot-risk history (the long flight) is not
    # asked: it could only raise the level, and the card already set it to same day.
    await answer(user, "No", "No", "No")
    result = next(m for m in reversed(user.messages) if "Your result" in m.text).text
    assert "Your result" in result
    assert "⏱ Get seen today" in result
    assert "⚠️ This could be a blood clot in the leg (DVT)" in result  # the card, repeated
    assert "call 999 at once" in result
    assert user.keyboard_message is not None
    assert "Keep your checks?" in user.last_text  # asked once, below the first result
    result_buttons = next(m for m in reversed(user.messages) if "Your result" in m.text).buttons
    # No "Set reminders" for a result that needs a doctor today.
    assert result_buttons == [["⬅️ Back", "🔄 Restart"], ["📝 Doctor summary"], ["🏠 Main menu"]]


async def test_leg_pain_with_breathlessness_calls_an_ambulance(user: FakeUser) -> None:
    await open_check(user)
    tapped, card, result = await user.tap("Yes")
    assert "Question 1" in tapped.text
    assert card.text.startswith("🚨 Call 999 now and ask for an ambulance.")
    assert "Do not drive yourself." in card.html.replace("<b>", "").replace("</b>", "")
    assert (
        "<b>Call 999 now</b>" in card.html
    )  # the number is in the text: clients make it tappable
    assert "🚑 Call an ambulance now" in result.text
    assert "Question" not in result.text  # no more questions after an ambulance answer
    assert copy_text(user).splitlines()[1].startswith("Warning signs: possible clot in the lungs")


async def test_the_emergency_number_follows_the_users_country(
    user: FakeUser, bot: LegCareApplication
) -> None:
    await user.send("/start")
    await set_country(bot, user.user_id, "NZ")
    await user.tap("🩺 Symptom check")
    assert "call 111 now" in user.last_text.replace("\n", " ") or "111" in user.texts[-2]
    _, card, _ = await user.tap("Not sure")  # "not sure" counts as possibly present
    assert card.text.startswith("🚨 Call 111 now")
    assert "999" not in card.text


async def test_delayed_soreness_after_a_new_gym_routine_is_self_care_without_alarm(
    user: FakeUser,
) -> None:
    await open_check(user)
    await answer(user, *GYM)
    assert cards(user) == []
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    assert "🏠 You can look after this yourself" in result.text
    assert "• Overuse or delayed muscle soreness" in result.text
    assert "Because you said: it is in both legs" in result.text
    assert "it followed new or harder exercise" in result.text
    assert "Gentle stretches" in result.text
    assert "🚨" not in result.text
    assert "⚠️" not in result.text
    assert [b.text for row in result.inline_keyboard for b in row] == [
        "⬅️ Back",
        "🔄 Restart",
        "📝 Doctor summary",
        "⏰ Set reminders for this",
        "🏠 Main menu",
    ]
    # The first result asks, once, whether to keep checks.
    assert "Keep your checks?" in user.last_text


async def test_typed_words_mid_check_show_the_ambulance_card_at_once(user: FakeUser) -> None:
    await open_check(user)
    await answer(user, *NO_RED_FLAGS, "16 to 54", "One leg")
    reaction = await user.send("I can't breathe")
    card, result = reaction
    assert "Your message mentions something that can be a warning sign" in card.text
    assert card.text.count("Call 999 now") == 1
    assert "🚑 Call an ambulance now" in result.text
    summary = copy_text(user)
    assert summary.startswith("Leg pain: One leg")
    assert "I can't breathe" not in summary  # typed words are never repeated back


@pytest.mark.parametrize(
    "typed", ["chest pain", "my calf is swollen and hot", "I cant breath", "göğsüm ağrıyor"]
)
async def test_typed_red_flags_work_in_any_state_and_ordinary_text_gets_the_menu(
    user: FakeUser, typed: str
) -> None:
    await user.send("/start")
    await user.tap("⚙️ Settings")
    await user.send(typed)
    assert len(cards(user)) == 1
    await user.send("my knee clicks a bit")
    assert "I didn't understand that" in user.last_text


async def test_a_turkish_user_gets_the_check_in_turkish(
    fake_api: FakeBotApi, bot: LegCareApplication
) -> None:
    ayse = fake_api.user(user_id=2002, first_name="Ayşe", language_code="tr")
    await ayse.send("/start")
    await set_country(bot, ayse.user_id, "TR")
    await ayse.tap("🩺 Belirti kontrolü")
    intro, question = ayse.texts[-2:]
    assert intro.startswith("🩺 Belirti kontrolü")
    assert "112" in intro
    assert question.startswith("Soru 1")
    assert ayse.buttons[0] == ["Evet", "Hayır", "Emin değilim"]
    assert ["❓ Bunu neden soruyoruz?"] in ayse.buttons
    await answer(ayse, "Hayır", "Hayır", "Hayır", "16–54 yaş", "Tek bacak")
    reaction = await ayse.send("nefes alamıyorum")
    card, result = reaction
    assert card.text.startswith("Mesajınızda bir uyarı işareti")
    assert "🚨 Hemen 112 numarasını arayın" in card.text
    assert "🚑 Hemen ambulans çağırın" in result.text
    assert ayse.buttons[-1] == ["🏠 Ana menü"]


async def test_why_explains_the_question_in_place(user: FakeUser) -> None:
    await open_check(user)
    question = user.last_message
    await user.tap("❓ Why do we ask this?")
    assert user.last_message.message_id == question.message_id
    assert "Why we ask" in user.last_text
    assert ["❓ Why do we ask this?"] not in user.buttons
    await user.tap("No")  # the answer buttons still work
    assert user.last_text.startswith("Question 2")


async def test_back_changes_the_last_answer_and_restart_starts_over(user: FakeUser) -> None:
    await open_check(user)
    await answer(user, *GYM)
    await user.tap("⬅️ Back", message=next(m for m in user.messages if "Your result" in m.text))
    assert "numbness, pins and needles or weakness" in user.last_text
    await user.tap("Weakness or foot dragging")  # in both legs: possible cauda equina
    assert len(cards(user)) == 1  # a new answer can raise the level...
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    assert "🏥 Go to the emergency department now" in result.text
    await user.tap("🔄 Restart", message=result)
    assert user.last_text.startswith("Question 1")
    await answer(user, *GYM)
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    # ...and a restart keeps it: a warning sign met in this check is never forgotten.
    assert "🏥 Go to the emergency department now" in result.text


async def test_the_doctor_summary_is_one_plain_text_message(user: FakeUser) -> None:
    await open_check(user)
    await answer(user, *LONG_FLIGHT_CALF, "Swollen, warm or tender", "No", "No", "No")
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    (summary,) = await user.tap("📝 Doctor summary", message=result)
    assert summary.parse_mode is None
    assert summary.text.startswith("LegCare symptom check (patient's own answers")
    assert "- Which leg: One leg" in summary.text or "One leg" in summary.text
    assert "possible DVT" in summary.text
    assert "Advice given: ⏱ Get seen today" in summary.text


async def test_leaving_the_result_forgets_the_answers_without_consent(
    user: FakeUser, bot: LegCareApplication
) -> None:
    await open_check(user)
    await answer(user, *GYM)
    await user.tap("✖️ No, thanks")
    assert "will not keep your checks" in user.last_text
    assert await stored_check(bot.services.sessionmaker, user.user_id) is not None
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    await user.tap("🏠 Main menu", message=result)
    assert user.last_text == "What would you like to do?"
    assert await stored_check(bot.services.sessionmaker, user.user_id) is None
    # The result's buttons are gone with the answers; a replay is refused politely.
    assert result.message_id not in [m.message_id for m in user.messages if m.inline_keyboard]


async def test_set_reminders_for_this_offers_the_matching_set(user: FakeUser) -> None:
    await open_check(user)
    await answer(user, *GYM)
    result = next(m for m in reversed(user.messages) if "Your result" in m.text)
    await user.tap("⏰ Set reminders for this", message=result)
    assert user.last_text == "These reminders can help with what your check found."
    assert user.buttons == [["✅ Turn on: 💧 Water, 🤸 Stretching"], ["⚙️ Choose myself"]]
    await user.tap("⚙️ Choose myself")  # the reminders feature takes over from here
    assert "⏰ Reminders" in user.last_text


async def test_the_menu_offers_to_continue_a_check_in_progress(user: FakeUser) -> None:
    await open_check(user)
    await answer(user, *NO_RED_FLAGS)
    await user.send("/menu")
    await user.tap("🩺 Symptom check")
    assert "You have a symptom check in progress" in user.last_text
    await user.tap("▶️ Continue my check")
    assert user.last_text.startswith("Question 4")
    await user.send("/menu")
    await user.tap("🩺 Symptom check")
    await user.tap("🔄 Start a new check")
    assert user.last_text.startswith("Question 1")


async def test_stale_replayed_and_forged_taps_change_nothing(
    fake_api: FakeBotApi, user: FakeUser, bot: LegCareApplication
) -> None:
    await open_check(user)
    first_question = user.last_message
    old_yes = first_question.inline_keyboard[0][0].callback_data
    assert old_yes is not None
    await answer(user, "No", "No")
    before = await stored_check(bot.services.sessionmaker, user.user_id)
    assert before is not None

    await user.tap_data(old_yes, message=first_question)  # replayed: "Yes" to question 1
    assert "belongs to an earlier step" in user.last_text
    await user.tap("▶️ Continue my check")
    assert user.last_text.startswith("Question 3")

    await user.tap_data(old_yes[:-3] + "AAA")  # forged tag
    assert user.callback_answers[-1].text == "This menu has expired. Here is a fresh one."
    await user.tap_data("t1:" + before.token + ":2:ces:y:" + "x" * 10)  # forged tag
    mallory = fake_api.user(user_id=6666, first_name="Mallory", language_code="en")
    await mallory.send("/start")
    await mallory.tap_data(old_yes, message=mallory.last_message)  # another user's button
    assert "This menu has expired" in mallory.last_text

    after = await stored_check(bot.services.sessionmaker, user.user_id)
    assert after is not None
    assert (after.token, after.revision, after.state) == (
        before.token,
        before.revision,
        before.state,
    )
    assert cards(user) == []
    assert all("something went wrong" not in text for text in user.texts + mallory.texts)


async def test_restarting_the_bot_mid_check_continues_where_the_user_was(
    fake_api: FakeBotApi, bot_settings: Settings, clock: ManualClock
) -> None:
    ada = fake_api.user(user_id=1001, first_name="Ada", language_code="en")
    async with running_bot(
        bot_settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
    ):
        await open_check(ada)
        await answer(ada, *NO_RED_FLAGS, "16 to 54", "One leg")
        waiting = ada.last_message
    assert waiting.text.startswith("Question 6\nHow did the pain start?")
    async with running_bot(
        bot_settings, clock=clock, update_processor=ReportingUpdateProcessor(fake_api)
    ):
        # The buttons sent by the first process work with the second.
        await ada.tap("Suddenly, without an injury", message=waiting)
        assert ada.last_text.startswith("Question 7\nWhere is the pain worst?")
        await answer(ada, "Calf", "Less than a week", "Dull ache, heavy or stiff")
        await answer(ada, "Sitting for a long time", "Swollen, warm or tender")
        assert len(cards(ada)) == 1
