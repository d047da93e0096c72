"""Symptom-check buttons as small frozen types, packed into signed callback data.

Layout (``t`` is the action, ``1`` the codec version, the last part the HMAC tag that binds
the data to the user it was sent to; see :mod:`bot.callbacks`)::

    t1:new:<tag>                          open the check (offers to continue one in progress)
    t1:go:<tag>                           start a new check
    t1:<token>:<index>:<question>:<answer>:<tag>   answer the question at step <index>
    t1:<token>:<index>:<op>:<tag>         why / back / restart / summary / menu / reminders /
                                          continue, for the check <token> at step <index>

``token`` (8 characters) names one check, so a tap from an older check is refused;
``index`` is the number of answers when the button was drawn, so a tap on an earlier
question of the same check is refused. The longest button is an answer; the content
checks (`content.triage_checks.longest_callback`) pack it through `pack` below.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.callbacks import Callback, CallbackCodec

__all__ = [
    "CALLBACK_ACTION",
    "SESSION_TOKEN_LENGTH",
    "AnswerTap",
    "ControlTap",
    "NewCheck",
    "Op",
    "TriageButton",
    "new_token",
    "pack",
    "parse",
]

CALLBACK_ACTION = "t"
SESSION_TOKEN_LENGTH = 8
_TOKEN = re.compile(rf"[A-Za-z0-9_\-]{{{SESSION_TOKEN_LENGTH}}}")
_INDEX = re.compile(r"0|[1-9][0-9]{0,2}")
_ID = re.compile(r"[a-z0-9_]{1,8}")


class Op(StrEnum):
    """What a control button does to the check it belongs to."""

    WHY = "w"
    BACK = "b"
    RESTART = "r"
    SUMMARY = "s"
    MENU = "m"
    REMINDERS = "k"
    CONTINUE = "c"


_OPS = {op.value: op for op in Op}
_OPEN = {"new": False, "go": True}


@dataclass(frozen=True, slots=True)
class NewCheck:
    """Open the symptom check; ``fresh`` starts over even if a check is in progress."""

    fresh: bool = False


@dataclass(frozen=True, slots=True)
class AnswerTap:
    """An answer button of the question shown at step ``index`` of check ``token``."""

    token: str
    index: int
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class ControlTap:
    """A control button (why, back, ...) drawn at step ``index`` of check ``token``."""

    token: str
    index: int
    op: Op


TriageButton = NewCheck | AnswerTap | ControlTap


def new_token() -> str:
    """A random token for a new check (URL-safe, fits the callback data alphabet)."""
    return secrets.token_urlsafe(6)[:SESSION_TOKEN_LENGTH]


def pack(button: TriageButton, codec: CallbackCodec, *, user_id: int) -> str:
    """Signed callback data for ``button`` shown to ``user_id`` (raises if over 64 bytes)."""
    match button:
        case NewCheck(fresh=fresh):
            return codec.pack(CALLBACK_ACTION, "go" if fresh else "new", user_id=user_id)
        case AnswerTap(token=token, index=index, question=question, answer=answer):
            return codec.pack(
                CALLBACK_ACTION, token, str(index), question, answer, user_id=user_id
            )
        case ControlTap(token=token, index=index, op=op):
            return codec.pack(CALLBACK_ACTION, token, str(index), op.value, user_id=user_id)


def parse(callback: Callback) -> TriageButton | None:
    """The button a verified callback stands for, or None if it is not a valid one."""
    args = callback.args
    if callback.action != CALLBACK_ACTION:
        return None
    if len(args) == 1 and args[0] in _OPEN:
        return NewCheck(fresh=_OPEN[args[0]])
    if len(args) not in (3, 4) or not (_TOKEN.fullmatch(args[0]) and _INDEX.fullmatch(args[1])):
        return None
    token, index = args[0], int(args[1])
    if len(args) == 4:
        valid = _ID.fullmatch(args[2]) and _ID.fullmatch(args[3])
        return AnswerTap(token, index, args[2], args[3]) if valid else None
    op = _OPS.get(args[2])
    return None if op is None else ControlTap(token, index, op)
