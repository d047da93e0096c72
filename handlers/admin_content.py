"""Admin content screens: the menu, browsing and showing texts, the pack file, editing a
text by replying, uploading a pack, the diff, preview and discarding a draft."""

from __future__ import annotations

import asyncio
import html
import logging
import string
from collections import Counter
from collections.abc import Mapping

from telegram import ForceReply, Update

from bot.admin import drafts
from bot.admin.diff import PackDiff
from bot.admin.drafts import DraftStatus, status_of
from bot.admin.roles import Capability, may
from bot.admin.versions import SHIPPED_LABEL, ContentStore, Draft, version_label
from bot.context import LegCareContext
from bot.db.admin_models import AdminPrompt
from content.pack import DEFAULT_LANGUAGE
from content.pack_io import (
    MAX_PACK_BYTES,
    PackProblem,
    PackRejectedError,
    PackSource,
    dump_pack,
    parse_pack,
)
from handlers import admin_announcements
from handlers.admin_common import (
    PROMPTS_KEPT,
    AdminRequest,
    Route,
    authorize,
    code,
    find_by_hash,
    fit,
    forget_old_prompts,
    run_admin,
    short_hash,
    source,
)
from handlers.common import ButtonRow, require_message, require_user

logger = logging.getLogger(__name__)

KEYS_PER_SCREEN = 12
PREVIEW_TEXTS = 5
PROBLEMS_SHOWN = 25
_SAMPLES = {
    "emergency": "999",
    "advice": "111",
    "number": "3",
    "minutes": "30",
    "hours": "2",
    "count": "3",
}


# ---------------------------------------------------------------------- shared views


async def load_status(request: AdminRequest, author_id: int | None = None) -> DraftStatus | None:
    """An admin's draft against live content (the caller's own by default)."""
    async with request.services.sessionmaker() as session:
        store = ContentStore(session)
        draft = await store.draft(request.user_id if author_id is None else author_id)
        newest = await store.newest_number()
    if draft is None:
        return None
    # A millisecond of work: no thread, so a tapped button's answer is followed at once.
    return status_of(draft, request.services.content.pack, newest)


def base_label(number: int | None) -> str:
    """``v7`` or ``shipped``."""
    return SHIPPED_LABEL if number is None else version_label(number)


def problem_lines(request: AdminRequest, problems: list[PackProblem]) -> list[str]:
    """One line per problem: key, line and reason."""
    lines = []
    for problem in problems[:PROBLEMS_SHOWN]:
        where = request.t("problems.line", line=problem.line) if problem.line else ""
        lines.append(f"• {code(problem.key)}{where}: {html.escape(problem.reason)}")
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(request.t("problems.more", count=len(problems) - PROBLEMS_SHOWN))
    return lines


def draft_buttons(request: AdminRequest, *, previewing: bool = False) -> list[ButtonRow]:
    """What an admin can do next with a draft."""
    preview = ("buttons.preview_off", "pvoff") if previewing else ("buttons.preview", "pv")
    return [
        [request.button("buttons.diff", "diff"), request.button(*preview)],
        [request.button("buttons.publish", "pub"), request.button("buttons.menu", "menu")],
    ]


async def follow_preview(request: AdminRequest) -> None:
    """After the draft changed: if the admin previews it, show them the new draft."""
    async with request.services.sessionmaker() as session:
        draft = await ContentStore(session).draft(request.user_id)
    sync = request.admin.sync
    if draft is None or not draft.previewing:
        sync.preview_locally(request.user_id, None, None)
    else:
        sync.preview_locally(request.user_id, draft.sha256, draft.pack)


# ---------------------------------------------------------------------- menu


async def show_menu(request: AdminRequest) -> None:
    """Show the admin menu with what is live and the state of the admin's draft."""
    state = request.admin.sync.state
    lines = [
        request.t("menu.title"),
        request.t("menu.role", role=request.t(f"roles.{request.role.value}")),
        request.t("menu.live", label=state.served),
    ]
    if state.refused:
        lines.append(request.t("menu.refused", reason=state.refused))
    status = await load_status(request)
    lines.append(draft_line(request, status))
    role = request.role
    rows: list[ButtonRow] = [
        [request.button("buttons.keys", "keys"), request.button("buttons.pack", "pack")],
        [request.button("buttons.diff", "diff"), request.button("buttons.history", "hist")],
    ]
    if may(role, Capability.EDIT):
        preview = status is not None and status.draft.previewing
        rows.append(
            [
                request.button(
                    *(("buttons.preview_off", "pvoff") if preview else ("buttons.preview", "pv"))
                ),
                request.button("buttons.publish", "pub"),
            ]
        )
    rows.append(
        [request.button("buttons.audit", "audit"), request.button("buttons.stats", "stats")]
    )
    if may(role, Capability.MANAGE):
        rows.append(
            [request.button("buttons.admins", "adm"), request.button("buttons.announce", "an")]
        )
    await request.show("\n".join(lines), rows)


def draft_line(request: AdminRequest, status: DraftStatus | None) -> str:
    """One line on the admin's draft."""
    if status is None:
        return request.t("menu.no_draft")
    diff = status.diff
    line = request.t(
        "menu.draft",
        texts=len(diff.texts),
        parts=len(diff.structure),
        base=base_label(status.draft.base_number),
    )
    if status.stale:
        line += "\n" + request.t("menu.stale")
    if status.safety:
        key = "menu.approved" if status.draft.approver else "menu.needs_approval"
        line += "\n" + request.t(key, approver=status.draft.approver or "")
    if status.draft.previewing:
        line += "\n" + request.t("menu.previewing")
    return line


# ---------------------------------------------------------------------- keys and texts


def key_groups(keys: list[str], prefix: str) -> tuple[list[tuple[str, int]], list[str]]:
    """Under ``prefix``: (sub-prefixes with their key counts, keys to list one by one)."""
    under = [k for k in keys if not prefix or k.startswith(prefix + ".")]
    if len(under) <= KEYS_PER_SCREEN:
        return [], under
    depth = 0 if not prefix else prefix.count(".") + 1
    members: dict[str, list[str]] = {}
    for key in under:
        members.setdefault(".".join(key.split(".")[: depth + 1]), []).append(key)
    groups = [(name, len(keys)) for name, keys in sorted(members.items()) if len(keys) > 1]
    singles = [keys[0] for _, keys in sorted(members.items()) if len(keys) == 1]
    return groups, singles


def all_prefixes(keys: list[str]) -> set[str]:
    """Every dotted prefix of every key."""
    found: set[str] = set()
    for key in keys:
        parts = key.split(".")
        found.update(".".join(parts[:n]) for n in range(1, len(parts)))
    return found


async def browse_keys(request: AdminRequest) -> None:
    """List content keys: namespaces first, then narrower prefixes, then keys."""
    keys = sorted(request.pack.texts[DEFAULT_LANGUAGE])
    prefix = ""
    if request.args:
        wanted = request.args[0]
        if request.query is None:
            prefix = wanted.strip(".")
        else:
            prefix = find_by_hash(all_prefixes(keys), wanted) or ""
    groups, singles = key_groups(keys, prefix)
    if not groups and not singles:
        await request.show(request.t("keys.none", prefix=prefix))
        return
    rows: list[ButtonRow] = [
        [request.button("keys.group", "keys", short_hash(name), name=name, count=count)]
        for name, count in groups
    ]
    rows += [[(key, request.data("show", short_hash(key)))] for key in singles]
    parent = prefix.rpartition(".")[0]
    back = ("buttons.up", "keys", short_hash(parent)) if prefix else ("buttons.menu", "menu")
    rows.append([request.button(*back)])
    title = request.t("keys.title", prefix=prefix or "*", count=len(keys))
    await request.show(title + "\n" + request.t("keys.hint"), rows)


async def show_text(request: AdminRequest) -> None:
    """Show one text in every language (live and draft), with edit buttons."""
    keys = sorted(request.pack.texts[DEFAULT_LANGUAGE])
    if not request.args:
        await request.show(request.t("show.usage"))
        return
    wanted = request.args[0]
    key = find_by_hash(keys, wanted) if request.query is not None else wanted
    if key is None or key not in request.pack.texts[DEFAULT_LANGUAGE]:
        await request.show(request.t("show.unknown", key=wanted))
        return
    async with request.services.sessionmaker() as session:
        draft = await ContentStore(session).draft(request.user_id)
    lines = [request.t("show.title", key=key)]
    for lang in request.pack.languages:
        live = request.pack.texts[lang].get(key, "")
        lines.append(request.t("show.live", lang=lang.upper()) + source(live, 700))
        if draft is not None and draft.pack.texts.get(lang, {}).get(key) != live:
            drafted = draft.pack.texts.get(lang, {}).get(key, "")
            lines.append(request.t("show.draft", lang=lang.upper()) + source(drafted, 700))
    rows: list[ButtonRow] = []
    if may(request.role, Capability.EDIT):
        rows.append(
            [
                request.button("buttons.edit", "edit", lang, short_hash(key), lang=lang.upper())
                for lang in request.pack.languages
            ]
        )
    rows.append([request.button("buttons.keys", "keys", short_hash(key.rpartition(".")[0]))])
    await request.show("\n".join(lines), rows)


async def send_pack(request: AdminRequest) -> None:
    """Send the admin's draft (or live content) as one YAML document."""
    async with request.services.sessionmaker() as session:
        draft = await ContentStore(session).draft(request.user_id)
    live_only = bool(request.args) and request.args[0] == "live"
    if draft is None or live_only:
        pack, label = request.pack, request.admin.sync.state.served
    else:
        pack, label = draft.pack, request.t("pack.draft_label")
    document = await asyncio.to_thread(dump_pack, pack)
    await request.context.bot.send_document(
        request.chat_id,
        document=document.encode(),
        filename=f"legcare-content-{label}.yaml",
        caption=request.t("pack.caption", label=label, texts=len(pack.texts[DEFAULT_LANGUAGE])),
    )


# ---------------------------------------------------------------------- edit by reply


async def ask_for_text(request: AdminRequest) -> None:
    """Send the prompt the admin replies to with a new text."""
    keys = request.pack.texts[DEFAULT_LANGUAGE]
    if request.query is not None and len(request.args) == 2:
        lang, key = request.args[0], find_by_hash(sorted(keys), request.args[1])
    elif request.args:
        key = request.args[0]
        lang = request.args[1].lower() if len(request.args) > 1 else request.lang
    else:
        await request.say(request.t("edit.usage"))
        return
    if key is None or key not in keys or lang not in request.pack.texts:
        await request.say(request.t("show.unknown", key=key or "?"))
        return
    async with request.services.sessionmaker() as session:
        draft = await ContentStore(session).draft(request.user_id)
    current = (draft.pack if draft else request.pack).texts[lang][key]
    prompt = await request.context.bot.send_message(
        request.chat_id,
        request.t("edit.prompt", name=f"{lang}:{key}") + "\n" + source(current, 2500),
        reply_markup=ForceReply(selective=True, input_field_placeholder=f"{lang}:{key}"[:64]),
    )
    async with request.services.sessionmaker.begin() as session:
        await forget_old_prompts(session, request)
        session.add(
            AdminPrompt(
                user_id=request.user_id,
                message_id=prompt.message_id,
                purpose="text",
                lang=lang,
                key=key,
                created_at=request.now,
            )
        )


async def on_admin_reply(update: Update, context: LegCareContext) -> None:
    """A reply to an admin prompt: a new text or an announcement; anything else passes."""
    message = require_message(update)
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return
    user = require_user(update)
    async with context.services.sessionmaker() as session:
        prompt = await session.get(AdminPrompt, (user.id, target.message_id))
    now = context.services.clock.now()
    if prompt is None or prompt.created_at < now - PROMPTS_KEPT:
        return
    route = (
        Route(Capability.EDIT, save_text)
        if prompt.purpose == "text"
        else Route(Capability.ANNOUNCE, admin_announcements.save_announcement_text)
    )
    await run_admin(update, context, f"reply:{prompt.purpose}", route, (prompt.lang, prompt.key))


async def save_text(request: AdminRequest) -> None:
    """Save a replied text into the admin's draft after the per-text checks."""
    lang, key = request.args
    value = require_message(request.update).text or ""
    sync = request.admin.sync
    async with request.services.sessionmaker.begin() as session:
        problems = await drafts.edit_text(
            session,
            author_id=request.user_id,
            lang=lang,
            key=key,
            value=value,
            live=request.services.content.pack,
            newest=sync.state.newest,
            reference=request.admin.shipped,
            now=request.now,
        )
    name = f"{lang}:{key}"
    if problems:
        await request.record("edit", f"{name} refused")
        located = [PackProblem(p.key, p.reason) for p in problems]
        text = (
            request.t("edit.refused", name=name)
            + "\n"
            + "\n".join(problem_lines(request, located))
        )
        await request.say(text)
        return
    await request.record("edit", name)
    await follow_preview(request)
    status = await load_status(request)
    changes = 0 if status is None else len(status.diff.texts) + len(status.diff.structure)
    previewing = status is not None and status.draft.previewing
    await request.say(
        request.t("edit.saved", name=name, changes=changes),
        draft_buttons(request, previewing=previewing),
    )


# ---------------------------------------------------------------------- upload


async def on_admin_document(update: Update, context: LegCareContext) -> None:
    """A document from an admin is a pack upload; from anyone else it passes on."""
    message = require_message(update)
    document = message.document
    if document is None:
        return
    name = (document.file_name or "").lower()
    looks_like_pack = name.endswith((".yaml", ".yml"))
    role = await authorize(
        update, context, "upload", Capability.EDIT, audit_denied=looks_like_pack
    )
    if role is None:
        return
    await run_admin(update, context, "upload", Route(Capability.EDIT, receive_upload), ())


async def receive_upload(request: AdminRequest) -> None:
    """Read, parse and quick-check an uploaded pack; the full check runs in the background."""
    document = require_message(request.update).document
    if document is None:  # pragma: no cover - the filter guarantees a document
        return
    if document.file_size is not None and document.file_size > MAX_PACK_BYTES:
        await reject_upload(
            request,
            [
                PackProblem(
                    "file",
                    request.t("upload.too_big", size=document.file_size, limit=MAX_PACK_BYTES),
                )
            ],
        )
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        parsed = await asyncio.to_thread(parse_pack, data)
    except PackRejectedError as error:
        await reject_upload(request, list(error.problems))
        return
    quick = request.admin.checker.quick(parsed.pack)
    if quick:
        await reject_upload(request, parsed.locate(quick))
        return
    await request.say(request.t("upload.checking"))
    request.context.application.create_task(finish_upload(request, parsed), update=request.update)


async def finish_upload(request: AdminRequest, parsed: PackSource) -> None:
    """Run every check on the upload; it becomes the draft only if all pass."""
    problems = await request.admin.checker.check(parsed.pack, request.now.date())
    if problems:
        await reject_upload(request, parsed.locate(problems))
        return
    async with request.services.sessionmaker.begin() as session:
        await drafts.save_upload(
            session,
            author_id=request.user_id,
            pack=parsed.pack,
            newest=request.admin.sync.state.newest,
            now=request.now,
        )
    await request.record("upload", "accepted")
    await follow_preview(request)
    status = await load_status(request)
    changes = 0 if status is None else len(status.diff.texts) + len(status.diff.structure)
    await request.say(request.t("upload.accepted", changes=changes), draft_buttons(request))


async def reject_upload(request: AdminRequest, problems: list[PackProblem]) -> None:
    """Tell the admin why the upload was refused; nothing changed."""
    await request.record("upload", f"refused: {problems[0].key}" if problems else "refused")
    lines = [request.t("upload.rejected", count=len(problems)), *problem_lines(request, problems)]
    await request.say(fit(lines, lambda n: request.t("problems.more", count=n)))


# ---------------------------------------------------------------------- diff and preview


def diff_lines(request: AdminRequest, diff: PackDiff) -> list[str]:
    """The changes, one short block per text and one line per part of the flow."""
    lines: list[str] = []
    for change in diff.texts:
        old = "—" if change.old is None else html.escape(_cut(change.old))
        new = "—" if change.new is None else html.escape(_cut(change.new))
        lines.append(f"{code(change.name)}\n  − <i>{old}</i>\n  + {new}")
    lines += [
        f"{code(change.path)}: {request.t('diff.' + change.change)}" for change in diff.structure
    ]
    return lines


def _cut(value: str, limit: int = 220) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


async def show_diff(request: AdminRequest) -> None:
    """Show a draft against live content (the admin's own, or another's to approve)."""
    author = (
        int(request.args[0]) if request.args and request.args[0].isdigit() else request.user_id
    )
    status = await load_status(request, author)
    if status is None:
        await request.show(request.t("draft.none"), [[request.button("buttons.menu", "menu")]])
        return
    head = [
        request.t(
            "diff.title",
            author=author,
            live=request.admin.sync.state.served,
            base=base_label(status.draft.base_number),
        )
    ]
    if status.diff.empty:
        head.append(request.t("diff.empty"))
    if status.stale:
        head.append(request.t("menu.stale"))
    if status.safety:
        head.append(request.t("diff.safety", changes=", ".join(status.safety[:8])))
        if status.draft.approver:
            head.append(request.t("menu.approved", approver=status.draft.approver))
    rows: list[ButtonRow] = []
    if author == request.user_id:
        rows = draft_buttons(request, previewing=status.draft.previewing)
    elif status.safety and may(request.role, Capability.APPROVE):
        rows = [[request.button("buttons.approve", "ok", str(author), status.draft.sha256[:12])]]
    text = fit(
        [*head, "", *diff_lines(request, status.diff)], lambda n: request.t("diff.more", count=n)
    )
    await request.show(text, rows)


class _Sample(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return "…"


def rendered(value: str) -> str:
    """A text as a user would read it, placeholders filled with sample values."""
    names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
    return value.format_map(_Sample({n: html.escape(_SAMPLES.get(n, f"‹{n}›")) for n in names}))


async def start_preview(request: AdminRequest) -> None:
    """Serve the admin's draft to the admin alone and show the changed texts."""
    async with request.services.sessionmaker.begin() as session:
        store = ContentStore(session)
        found = await store.set_previewing(request.user_id, True)
        draft = await store.draft(request.user_id) if found else None
    if draft is None:
        await request.say(request.t("draft.none"))
        return
    await request.record("preview", "on")
    request.admin.sync.preview_locally(request.user_id, draft.sha256, draft.pack)
    await _show_changed_texts(request, draft)
    await request.say(request.t("preview.on"), draft_buttons(request, previewing=True))


async def _show_changed_texts(request: AdminRequest, draft: Draft) -> None:
    status = status_of(draft, request.services.content.pack, draft.base_number)
    mine = [c for c in status.diff.texts if c.new is not None and c.lang == request.lang]
    others = [c for c in status.diff.texts if c.new is not None and c.lang != request.lang]
    for change in (mine + others)[:PREVIEW_TEXTS]:
        header = request.t("preview.text", name=change.name)
        await request.say(f"{header}\n\n{rendered(change.new or '')}")


async def stop_preview(request: AdminRequest) -> None:
    """Return the admin to live content."""
    async with request.services.sessionmaker.begin() as session:
        await ContentStore(session).set_previewing(request.user_id, False)
    await request.record("preview", "off")
    request.admin.sync.preview_locally(request.user_id, None, None)
    await request.show(request.t("preview.off"), [[request.button("buttons.menu", "menu")]])


async def discard_draft(request: AdminRequest) -> None:
    """Throw the admin's draft away."""
    async with request.services.sessionmaker.begin() as session:
        found = await ContentStore(session).delete_draft(request.user_id)
    request.admin.sync.preview_locally(request.user_id, None, None)
    if found:
        await request.record("discard")
    await request.show(
        request.t("draft.discarded" if found else "draft.none"),
        [[request.button("buttons.menu", "menu")]],
    )


def changed_namespaces(diff: PackDiff) -> Mapping[str, int]:
    """How many texts changed per namespace (``core``, ``reminders``...)."""
    return Counter(change.key.split(".")[0] for change in diff.texts)
