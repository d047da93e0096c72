"""The one shape every content check reports a problem in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContentProblem:
    """Something in a content pack that must be fixed before it may go live.

    ``key`` names the place (a dotted text key such as ``triage.q.swelling.text`` or a
    path in the structure such as ``triage.questions[3].answers``); ``reason`` says what
    is wrong in words an admin can act on.
    """

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"
