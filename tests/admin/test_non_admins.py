"""Someone who is not an admin sends every admin command, forged and stolen admin buttons,
a pack upload and a reply: they get exactly the answers anyone gets for an unknown
command or a stale button, nothing changes, nothing admin-only is shown, and every
attempt is in the audit log."""

from __future__ import annotations

import html

from bot.context import LegCareApplication
from fakebot import FakeBotApi, FakeUser
from handlers.admin import BUTTONS, COMMANDS
from tests.admin.support import admin_state, audit_rows, pack_upload

ARGUMENTS = ("", " 1001 editor")
STALE = "This menu has expired. Here is a fresh one."


def admin_only_texts(bot: LegCareApplication) -> set[str]:
    """Every admin text without placeholders, as a user would read it."""
    pack = bot.services.content.pack
    found = set()
    for table in pack.texts.values():
        for key, value in table.items():
            if key.startswith("admin.") and "{" not in value and len(value) > 12:
                found.add(html.unescape(value.replace("<b>", "").replace("</b>", "")))
    return found


async def test_every_admin_command_and_button_from_a_non_admin(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser, user: FakeUser
) -> None:
    await owner.send("/start")
    await owner.send("/admin")
    stolen = [b.callback_data for row in owner.last_message.inline_keyboard for b in row]
    await user.send("/start")
    await user.send("/nonsense")
    unknown, unknown_buttons = user.last_text, user.buttons
    before = await admin_state(bot)

    attempts = 0
    for name in COMMANDS:
        for arguments in ARGUMENTS:
            replies = await user.send(f"/{name}{arguments}")
            attempts += 1
            assert [m.text for m in replies] == [unknown], f"/{name}{arguments}"
            assert user.buttons == unknown_buttons

    forged = [f"ad1:{verb}:1:forgedtag0" for verb in BUTTONS]
    forged += [f"ad1:{verb}" for verb in BUTTONS]
    forged += [bot.services.codec.pack("ad", verb, user_id=user.user_id) for verb in BUTTONS]
    for data in [*forged, *(d for d in stolen if d)]:
        last = user.last_message.message_id
        await user.tap_data(data)
        attempts += 1
        assert user.callback_answers[-1].text == STALE, data
        await user.wait_for(lambda m: STALE in m.text, after=last)

    replies = await user.send_document("pack.yaml", pack_upload(bot.services.content.pack))
    attempts += 1
    assert [m.text for m in replies] == [unknown]
    await user.send("hello", reply_to=user.last_message)
    assert user.last_text == unknown

    assert await admin_state(bot) == before
    assert not [c for c in user.commands if c in COMMANDS]
    seen = "\n".join(m.text for m in user.messages)
    leaked = [text for text in admin_only_texts(bot) if text in seen]
    assert leaked == []
    rows = await audit_rows(bot, user.user_id)
    assert len(rows) == attempts
    assert not any(row.allowed for row in rows)
    assert {row.role for row in rows} == {None}
    assert {row.action for row in rows} >= {*COMMANDS, "button", "upload"}


async def test_an_admins_button_does_not_work_for_another_admin(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser
) -> None:
    await owner.send("/start")
    await owner.send("/admin")
    publish = owner.last_message.inline_keyboard[2][1].callback_data
    assert publish is not None
    other = fake_api.user(user_id=9002, first_name="Rita", language_code="en")
    await other.send("/start")
    await other.tap_data(publish)
    assert other.callback_answers[-1].text == STALE
