"""Reminder content as data: the rotating stretch, posture and hydration items.

``content/data/reminders.yaml`` lists, per reminder kind, the items a reminder rotates
through. An item names its texts by key (``nudges.item.<id>.title`` / ``.body`` in
``content/texts/<lang>/nudges.yaml``, so admins edit the words like any other text) and
carries the structure: how long to hold and how often, whether it is done on each side,
whether it suits the evening (the "evening calf stretch" for cramps), whether it asks the
person to walk (paused while a symptom check said "get seen"), and its "do not do this
if ..." notes. :func:`check_reminders` is the one place that says what a usable set is;
``content.pack.check_pack`` calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from content.problems import ContentProblem

__all__ = [
    "ITEM_TEXT_PREFIX",
    "REMINDER_KINDS",
    "NudgeItem",
    "ReminderContent",
    "check_reminders",
    "load_reminder_content",
    "reminder_text_keys",
]

REMINDER_KINDS = ("hydration", "posture", "stretch")
ITEM_TEXT_PREFIX = "nudges.item."
"""Item texts live under this prefix; admins may add items with new keys there."""
_MIN_ITEMS = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NudgeItem(_Strict):
    """One thing a reminder can suggest."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    title: str = Field(pattern=r"^nudges\.item\.[a-z0-9_.]+$")
    body: str = Field(pattern=r"^nudges\.item\.[a-z0-9_.]+$")
    hold_seconds: int | None = Field(default=None, ge=5, le=120)
    repetitions: int | None = Field(default=None, ge=1, le=30)
    per_side: bool = False
    evening: bool = False
    """Suits an evening slot (offered for night cramps)."""
    walking: bool = False
    """Asks the person to walk or be on their feet: paused while a check says get seen."""
    cautions: tuple[str, ...] = ()
    """Text keys of "do not do this if ..." notes."""


class ReminderContent(_Strict):
    """Every kind's items, and the notes each item of a kind must carry."""

    version: int = 1
    kinds: dict[str, tuple[NudgeItem, ...]] = Field(default_factory=dict)
    required_cautions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Per kind, the notes every item of that kind must show (where the articles warn)."""

    def items(self, kind: str) -> tuple[NudgeItem, ...]:
        """The items of one kind, in rotation order (empty if there are none)."""
        return self.kinds.get(kind, ())


def load_reminder_content(path: Path) -> ReminderContent:
    """Read and validate ``reminders.yaml``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return ReminderContent.model_validate(data)


def reminder_text_keys(content: ReminderContent) -> frozenset[str]:
    """Every text key the items use."""
    keys: set[str] = set()
    for items in content.kinds.values():
        for item in items:
            keys.update((item.title, item.body, *item.cautions))
    for cautions in content.required_cautions.values():
        keys.update(cautions)
    return frozenset(keys)


def check_reminders(
    content: ReminderContent, texts: Mapping[str, Mapping[str, str]]
) -> list[ContentProblem]:
    """A usable set: every kind rotates, every text exists in every language, and the
    notes the articles call for are on every item that needs them."""
    problems = _check_kinds(content)
    seen: set[str] = set()
    for kind, items in content.kinds.items():
        for item in items:
            problems += _check_item(content, kind, item, seen)
    keys = reminder_text_keys(content)
    for lang, table in texts.items():
        problems += [
            ContentProblem(f"{lang}:{key}", "used by a reminder item but missing")
            for key in sorted(keys - table.keys())
        ]
    return problems


def _check_kinds(content: ReminderContent) -> list[ContentProblem]:
    problems = [
        ContentProblem(f"reminders.kinds.{kind}", f"needs at least {_MIN_ITEMS} items")
        for kind in REMINDER_KINDS
        if len(content.items(kind)) < _MIN_ITEMS
    ]
    problems += [
        ContentProblem(f"reminders.kinds.{kind}", "unknown reminder kind")
        for kind in content.kinds
        if kind not in REMINDER_KINDS
    ]
    if not any(item.evening for item in content.items("stretch")):
        problems.append(ContentProblem("reminders.kinds.stretch", "no item suits the evening"))
    if all(item.walking for item in content.items("posture")):
        problems.append(
            ContentProblem("reminders.kinds.posture", "every item asks to walk; none can be sent")
        )
    return problems


def _check_item(
    content: ReminderContent, kind: str, item: NudgeItem, seen: set[str]
) -> list[ContentProblem]:
    where = f"reminders.kinds.{kind}.{item.id}"
    problems: list[ContentProblem] = []
    if item.id in seen:
        problems.append(ContentProblem(where, "item id used twice"))
    seen.add(item.id)
    missing = [key for key in content.required_cautions.get(kind, ()) if key not in item.cautions]
    if missing:
        problems.append(ContentProblem(where, f"must carry the notes {missing}"))
    if kind == "stretch" and item.hold_seconds is None and item.repetitions is None:
        problems.append(ContentProblem(where, "a stretch needs a hold or repetitions"))
    if item.walking and not item.cautions:
        problems.append(ContentProblem(where, "an item that asks to walk needs a note"))
    return problems
