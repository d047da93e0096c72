"""Admins change content from inside Telegram, end to end over the fake Bot API.

The expensive step of a publish is the full content check (every symptom-check path,
about 40 s). The tests here run it three times in all: for the edited reminder text, for
the shipped pack on rollback, and for the approved red-flag change; the accepted upload
and the second-process test reuse the first result through the session's check cache.
"""

from __future__ import annotations

import codecs
import copy
from typing import Any

from sqlalchemy import select

from bot.admin.checking import CheckCache
from bot.admin.drafts import with_text
from bot.admin.roles import Role
from bot.clock import ManualClock
from bot.context import LegCareApplication
from bot.db.admin_models import ContentDraft, ContentVersionRow
from content.live import ContentVersion
from content.pack_io import pack_digest
from fakebot import FakeBotApi, FakeUser
from handlers.admin_setup import refresh_command_menus
from tests.admin.support import (
    NEW_DVT_BODY,
    NEW_POSTURE,
    NEW_POSTURE_START,
    OLD_POSTURE_START,
    POSTURE_KEY,
    REVIEWER,
    add_admin,
    admin_state,
    next_posture_reminder,
    pack_upload,
    turn_on_posture,
    with_posture_text,
)

PUBLISH_TIMEOUT = 240
DVT_BODY_KEY = "triage.rf.possible_dvt.body"
DVT_STORY = "my calf is swollen and hot"
BROWSE_KEY = "reminders.message.posture"


async def versions(bot: LegCareApplication) -> list[tuple[int, str, int | None, int | None]]:
    async with bot.services.sessionmaker() as session:
        rows = await session.scalars(select(ContentVersionRow).order_by(ContentVersionRow.number))
        return [(r.number, r.kind, r.author_id, r.approver_id) for r in rows]


async def edit_by_reply(admin: FakeUser, key: str, lang: str, text: str) -> None:
    await admin.send(f"/admin_edit {key} {lang}")
    prompt = admin.last_message
    assert "Reply to this message" in prompt.text
    assert (prompt.reply_markup or {}).get("force_reply") is True
    await admin.send(text, reply_to=prompt)


async def test_an_upload_without_the_dvt_card_text_is_rejected_and_users_keep_the_card(
    bot: LegCareApplication, owner: FakeUser, user: FakeUser
) -> None:
    await owner.send("/start")
    before = await admin_state(bot)

    def remove_dvt_body(document: dict[str, Any]) -> None:
        del document["texts"]["en"][DVT_BODY_KEY]

    data = pack_upload(bot.services.content.pack, remove_dvt_body)
    en_line = next(n for n, line in enumerate(data.decode().splitlines(), 1) if line == "  en:")
    await owner.send_document("legcare-content.yaml", data, mime_type="application/x-yaml")

    rejection = owner.last_text
    assert "Upload rejected" in rejection
    assert f"en:{DVT_BODY_KEY} (line {en_line}): missing: the bot needs this text" in rejection
    assert "Nothing was changed" in rejection
    assert await admin_state(bot) == before
    card = bot.services.content.pack.texts["en"][DVT_BODY_KEY]
    await user.send("/start")
    await user.send(DVT_STORY)
    assert any(card in text for text in user.texts)


async def test_malformed_uploads_get_a_clear_error_and_change_nothing(
    bot: LegCareApplication, owner: FakeUser
) -> None:
    pack = bot.services.content.pack
    emergency_key = next(k for k, v in sorted(pack.texts["en"].items()) if "{emergency}" in v)

    def inject(document: dict[str, Any]) -> None:
        document["texts"]["en"]["core.help.text"] += "<script>alert(1)</script>"

    def drop_placeholder(document: dict[str, Any]) -> None:
        text = document["texts"]["tr"][emergency_key]
        document["texts"]["tr"][emergency_key] = text.replace("{emergency}", "112")

    def unknown_key(document: dict[str, Any]) -> None:
        document["texts"]["en"]["core.menu.surprise"] = "Surprise"

    def schema(document: dict[str, Any]) -> None:
        document["triage"]["red_flags"][0]["level"] = "PANIC"

    cases = [
        ("big.yaml", b"a" * (5 * 1024 * 1024), "file: the file has 5242880 bytes"),
        ("notes.yaml", b"texts: [unclosed\n", "file (line 2): not valid YAML"),
        ("utf16.yaml", codecs.BOM_UTF16_LE + "a: b".encode("utf-16-le"), "UTF-16"),
        ("latin1.yaml", "a: Ağrı".encode("cp1254"), "not UTF-8 text"),
        ("html.yaml", pack_upload(pack, inject), "en:core.help.text (line"),
        ("number.yaml", pack_upload(pack, drop_placeholder), "placeholder {emergency} is missing"),
        ("keys.yaml", pack_upload(pack, unknown_key), "en:core.menu.surprise (line"),
        ("schema.yaml", pack_upload(pack, schema), "triage.red_flags.0.level (line"),
    ]
    await owner.send("/start")
    before = await admin_state(bot)
    for name, data, expected in cases:
        await owner.send_document(name, data)
        assert "Upload rejected" in owner.last_text, name
        assert expected in owner.last_text, (name, owner.last_text)
    assert await admin_state(bot) == before


async def test_edit_a_reminder_preview_publish_and_roll_back(
    bot: LegCareApplication,
    owner: FakeUser,
    user: FakeUser,
    clock: ManualClock,
    check_cache: CheckCache,
) -> None:
    shipped = bot.services.content.pack
    await turn_on_posture(user)
    assert (await next_posture_reminder(bot, user, clock)).text.startswith(OLD_POSTURE_START)

    await owner.send("/start")
    await edit_by_reply(owner, POSTURE_KEY, "en", NEW_POSTURE)
    assert f"Saved in your draft: en:{POSTURE_KEY}" in owner.last_text
    assert owner.buttons == [["🔍 Diff", "👁 Preview"], ["🚀 Publish", "⬅️ Admin menu"]]

    await owner.tap("🔍 Diff")
    diff = await owner.wait_for(lambda m: f"en:{POSTURE_KEY}" in m.text and "Draft of" in m.text)
    assert "Time to move" in diff.text
    await owner.tap("👁 Preview")
    await owner.wait_for(lambda m: "Preview is on" in m.text)
    shown = [m.text for m in owner.messages[-3:]]
    assert any(NEW_POSTURE_START + "‹title›" in text for text in shown)
    assert "Preview is on" in owner.last_text
    assert bot.services.content.for_user(owner.user_id).label == f"draft-{owner.user_id}"
    assert bot.services.content.for_user(user.user_id).label == "shipped"
    # Nothing is live yet: the user still gets the old text.
    assert (await next_posture_reminder(bot, user, clock)).text.startswith(OLD_POSTURE_START)

    runs = check_cache.runs
    await owner.tap("🚀 Publish")
    await owner.wait_for(lambda m: "Checking your draft" in m.text)
    await owner.wait_for(lambda m: "Published as v2" in m.text, timeout=PUBLISH_TIMEOUT)
    assert check_cache.runs <= runs + 1
    assert await versions(bot) == [
        (1, "baseline", None, None),
        (2, "publish", owner.user_id, None),
    ]
    assert bot.services.content.current.label == "v2"
    assert bot.services.content.for_user(owner.user_id).label == "v2"  # preview ended
    assert (await next_posture_reminder(bot, user, clock)).text.startswith(NEW_POSTURE_START)

    await owner.send("/admin_history")
    assert "v2" in owner.last_text
    assert "← live" in owner.last_text
    await owner.tap("↩️ v1")
    await owner.wait_for(lambda m: "Roll back to v1?" in m.text)
    await owner.tap("↩️ Roll back to v1")
    await owner.wait_for(lambda m: "Published as v3" in m.text, timeout=PUBLISH_TIMEOUT)
    assert [v[:2] for v in await versions(bot)] == [
        (1, "baseline"),
        (2, "publish"),
        (3, "rollback"),
    ]
    assert pack_digest(bot.services.content.pack) == pack_digest(shipped)
    assert (await next_posture_reminder(bot, user, clock)).text.startswith(OLD_POSTURE_START)
    await owner.send("/audit")
    assert "publish" in owner.last_text
    assert "rollback" in owner.last_text


async def test_an_upload_that_passes_every_check_becomes_the_draft(
    bot: LegCareApplication, owner: FakeUser
) -> None:
    await owner.send("/start")
    edited = with_posture_text(bot.services.content.pack)
    await owner.send_document("pack.yaml", pack_upload(edited))
    assert any("Now every check runs" in text for text in owner.texts[-2:])
    await owner.wait_for(lambda m: "passed every check" in m.text, timeout=PUBLISH_TIMEOUT)
    async with bot.services.sessionmaker() as session:
        draft = await session.get(ContentDraft, owner.user_id)
    assert draft is not None
    assert draft.sha256 == pack_digest(edited)
    assert bot.services.content.current.label == "shipped"
    await owner.send("/admin_pack")
    document = owner.documents[-1]
    assert document.file_name == "legcare-content-draft.yaml"
    assert b"Time to move</b>" in document.data


async def test_a_red_flag_change_waits_for_a_second_admin(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser, user: FakeUser
) -> None:
    reviewer = fake_api.user(user_id=REVIEWER, first_name="Rita", language_code="en")
    await reviewer.send("/start")
    await owner.send("/start")
    await owner.send(f"/admin_add {REVIEWER} reviewer")
    assert f"{REVIEWER} is now reviewer" in owner.last_text
    assert "admin_approve" in reviewer.commands
    assert "admin_publish" not in reviewer.commands

    await edit_by_reply(owner, DVT_BODY_KEY, "en", NEW_DVT_BODY)
    assert "Saved in your draft" in owner.last_text
    # The owner tries the draft in their own chat: the real symptom check on the draft.
    await owner.tap("👁 Preview")
    await owner.wait_for(lambda m: "Preview is on" in m.text)
    await owner.send(DVT_STORY)
    assert any(NEW_DVT_BODY in text for text in owner.texts[-3:])
    await user.send("/start")
    await user.send(DVT_STORY)
    assert not any(NEW_DVT_BODY in text for text in user.texts)

    await owner.send("/admin_publish")
    assert "must approve it first" in owner.last_text
    assert f"en:{DVT_BODY_KEY}" in owner.last_text
    assert await versions(bot) == []
    request = reviewer.last_message
    assert f"Admin {owner.user_id} asks you to approve" in request.text
    # The reviewer cannot publish, and the owner cannot approve their own draft.
    await reviewer.send("/admin_publish")
    assert "Your role (reviewer) cannot do this." in reviewer.last_text
    await reviewer.tap("🔍 Diff", message=request)
    diff = await reviewer.wait_for(
        lambda m: m.message_id == request.message_id and "Draft of" in m.text
    )
    assert NEW_DVT_BODY[:60] in diff.text
    await reviewer.tap("✅ Approve", message=diff)
    await reviewer.wait_for(lambda m: f"Approved. Admin {owner.user_id} can publish" in m.text)
    await owner.wait_for(lambda m: f"Admin {REVIEWER} approved your draft" in m.text)

    await owner.tap("🚀 Publish")
    await owner.wait_for(lambda m: "Published as v2" in m.text, timeout=PUBLISH_TIMEOUT)
    assert (await versions(bot))[-1] == (2, "publish", owner.user_id, REVIEWER)
    await reviewer.wait_for(lambda m: "now live as v2" in m.text)
    await user.send(DVT_STORY)
    assert any(NEW_DVT_BODY in text for text in user.texts[-3:])


async def test_approval_is_for_the_exact_content_seen(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser, clock: ManualClock
) -> None:
    reviewer = fake_api.user(user_id=REVIEWER, first_name="Rita", language_code="en")
    await add_admin(bot.services.sessionmaker, REVIEWER, Role.REVIEWER, clock=clock)
    await reviewer.send("/start")
    await owner.send("/start")
    await edit_by_reply(owner, DVT_BODY_KEY, "en", NEW_DVT_BODY)
    await owner.send("/admin_publish")
    request = reviewer.last_message
    # The owner changes the draft after asking: the old approval button is refused.
    await edit_by_reply(owner, DVT_BODY_KEY, "en", NEW_DVT_BODY + " Do not wait.")
    await reviewer.tap("✅ Approve", message=request)
    await reviewer.wait_for(lambda m: "changed after you saw it" in m.text)
    await owner.send("/admin_publish")
    assert "must approve it first" in owner.last_text
    async with bot.services.sessionmaker() as session:
        draft = await session.get(ContentDraft, owner.user_id)
    assert draft is not None
    assert draft.approved_by is None


async def test_roles_are_added_and_removed_by_the_owner(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser
) -> None:
    editor = fake_api.user(user_id=9003, first_name="Ed", language_code="tr")
    await editor.send("/start")
    await owner.send("/start")
    await owner.send("/admin_add 9003 editor")
    assert "admin_publish" in editor.commands
    assert "admin_add" not in editor.commands
    await editor.send("/admin")
    assert "LegCare yönetimi" in editor.last_text
    await editor.send("/admin_add 9004 editor")
    assert "Rolün (editör) bunu yapmaya izin vermiyor." in editor.last_text
    await owner.send(f"/admin_add {owner.user_id} reviewer")
    assert "is an owner" in owner.last_text
    await owner.send("/admin_list")
    assert "9003: editor" in owner.last_text
    await owner.send("/admin_remove 9003")
    assert "9003 is no longer an admin" in owner.last_text
    assert "admin" not in editor.commands
    await editor.send("/admin")
    assert "Bunu anlayamadım" in editor.last_text


async def test_stats_and_audit(bot: LegCareApplication, owner: FakeUser, user: FakeUser) -> None:
    await user.send("/start")
    await owner.send("/start")
    await user.send("/admin_stats")
    await owner.send("/admin_stats")
    stats = owner.last_text
    assert "Users: 2 (blocked the bot: 0)" in stats
    assert "Reminders switched on: 0" in stats
    assert "Live content: shipped" in stats
    assert "last 7 days" in stats
    await owner.send("/audit")
    assert f"{user.user_id} (not an admin) · admin_stats · not an admin" in owner.last_text


async def test_keys_can_be_browsed_and_shown(bot: LegCareApplication, owner: FakeUser) -> None:
    await owner.send("/start")
    await owner.send("/admin")
    await owner.tap("📋 Content keys")
    texts = bot.services.content.pack.texts
    reminders = sum(key.startswith("reminders.") for key in texts["en"])
    await owner.tap(f"reminders… ({reminders})")
    await owner.tap("reminders.message… (3)")
    await owner.tap(BROWSE_KEY)
    shown = owner.last_text
    assert texts["tr"][BROWSE_KEY][:40] in shown
    assert owner.buttons[0] == ["✏️ Edit EN", "✏️ Edit TR"]
    await owner.tap("✏️ Edit TR")
    assert f"tr:{BROWSE_KEY}" in owner.last_text
    await owner.send("/admin_pack")
    assert owner.documents[-1].file_name == "legcare-content-shipped.yaml"
    pack_file = copy.copy(owner.documents[-1].data)
    assert b"format: legcare-pack/1" in pack_file


async def test_reworded_commands_reach_every_menu(
    bot: LegCareApplication, fake_api: FakeBotApi, owner: FakeUser
) -> None:
    await owner.send("/start")
    await owner.send("/admin")
    reworded = with_text(bot.services.content.pack, "en", "core.commands.menu", "Open the menu")
    bot.services.content.replace(ContentVersion("v9", reworded))
    await refresh_command_menus(bot.bot, bot.services)
    public = {c["command"]: c["description"] for c in fake_api.commands()}
    assert public["menu"] == "Open the menu"
    mine = fake_api.commands({"type": "chat", "chat_id": owner.user_id})
    assert {"command": "menu", "description": "Open the menu"} in mine
    assert any(c["command"] == "admin_publish" for c in mine)
