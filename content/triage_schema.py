"""Pydantic models for the symptom-check flow (``content/data/triage.yaml``) and countries.

The flow is data: questions with answer buttons and skip conditions, red-flag rules with
their clinical-reference rows, sources and review dates, cause scoring, the five
dispositions, self-care blocks and golden cases. Every model is strict (unknown fields are
errors) and frozen, so a loaded flow can be shared by every user at once.

Texts are referenced by key (``triage.q.sides.text``); the words live in
``content/texts/<lang>/triage.yaml``. Nothing here imports ``telegram``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "LEVEL_RANK",
    "Answer",
    "Cause",
    "CauseLevelIf",
    "Condition",
    "Countries",
    "Country",
    "Disposition",
    "DispositionTexts",
    "FlowTexts",
    "GoldenCase",
    "Question",
    "RedFlagRule",
    "ScoreItem",
    "SelfCareBlock",
    "Source",
    "TriageFlow",
    "load_countries",
    "load_triage_flow",
]

DATA_DIR = Path(__file__).parent / "data"

ShortId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,8}$")]
"""Question and answer ids: they travel in callback data, so they stay short."""
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
TextKey = Annotated[str, StringConstraints(pattern=r"^triage\.[a-z0-9_]+(\.[a-z0-9_]+)+$")]
SourceId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,23}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,6}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class Disposition(StrEnum):
    """How soon to get help, lowest first in `LEVEL_RANK`."""

    SELF_CARE = "SELF_CARE"
    ROUTINE = "ROUTINE"
    URGENT_SAME_DAY = "URGENT_SAME_DAY"
    EMERGENCY_DEPARTMENT = "EMERGENCY_DEPARTMENT"
    EMERGENCY_AMBULANCE = "EMERGENCY_AMBULANCE"

    @property
    def rank(self) -> int:
        """0 for SELF_CARE up to 4 for EMERGENCY_AMBULANCE."""
        return LEVEL_RANK[self]


LEVEL_RANK: dict[Disposition, int] = {level: rank for rank, level in enumerate(Disposition)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """A condition over the answers so far: exactly one of the four forms.

    ``{q: sides, in: [one]}`` is true when question ``sides`` was answered ``one``
    (a question that was skipped or not reached yet has no answer, so it is false);
    ``{all: [...]}``, ``{any: [...]}`` and ``{not: ...}`` combine conditions.
    """

    q: ShortId | None = None
    in_: tuple[ShortId, ...] = Field(default=(), alias="in")
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _exactly_one_form(self) -> Condition:
        forms = [self.q is not None, bool(self.all), bool(self.any), self.not_ is not None]
        if sum(forms) != 1:
            raise ValueError("a condition needs exactly one of: q+in, all, any, not")
        if (self.q is None) != (not self.in_):
            raise ValueError("'q' and 'in' go together")
        return self

    def references(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every (question id, answer ids) pair this condition looks at."""
        if self.q is not None:
            return [(self.q, self.in_)]
        found: list[tuple[str, tuple[str, ...]]] = []
        for part in (*self.all, *self.any, *((self.not_,) if self.not_ else ())):
            found.extend(part.references())
        return found


class Answer(_Strict):
    """One answer button. ``said`` is the "because you said ..." text, needed if scored."""

    id: ShortId
    label: TextKey
    said: TextKey | None = None


class Question(_Strict):
    """One screen with one question and its buttons."""

    id: ShortId
    phase: Literal["screen", "main"]
    text: TextKey
    why: TextKey
    short: TextKey
    """A few words naming the question in the doctor summary ("Which leg")."""
    answers: tuple[Answer, ...] = Field(min_length=2, max_length=8)
    ask_if: Condition | None = None
    skip_from: Disposition | None = None
    """Skip once the rules met by the current answers reach this level: the question can
    refine the causes but no longer raise the urgency (a shortened path after a card)."""
    summary_line: Literal[1, 3] | None = None
    """Where the answer goes in the call-handler summary (1: the pain, 3: other facts)."""

    @model_validator(mode="after")
    def _unique_answers(self) -> Question:
        ids = [answer.id for answer in self.answers]
        if len(ids) != len(set(ids)):
            raise ValueError(f"question {self.id}: answer ids repeat")
        return self


class RedFlagRule(_Strict):
    """A rule from the clinical reference: when ``when`` holds, at least ``level``."""

    id: RuleId
    rows: tuple[int, ...] = Field(min_length=1)
    """Row numbers of the red-flag table in the clinical reference (0: our own policy)."""
    kind: Literal["red_flag", "exclusion"] = "red_flag"
    level: Disposition
    when: Condition
    title: TextKey
    body: TextKey
    short: TextKey
    """A few plain words for the call-handler summary ("sudden breathlessness")."""
    advice: tuple[TextKey, ...] = ()
    do_not_drive: bool = False
    pe_warning: bool = False
    ends_flow: bool = False
    """Stop asking questions once met, whatever the level (the under-16 exclusion)."""
    sources: tuple[SourceId, ...] = Field(min_length=1)
    review_by: dt.date
    match: dict[Language, tuple[str, ...]] = Field(default_factory=dict)
    """Free-text phrases per language. ``a+b`` needs both parts; ``stem*`` is a prefix."""


class ScoreItem(_Strict):
    """Points a cause gets when question ``q`` was answered with one of ``in``."""

    q: ShortId
    in_: tuple[ShortId, ...] = Field(alias="in", min_length=1)
    points: int = Field(ge=1, le=10)


class CauseLevelIf(_Strict):
    """Raise a cause's own disposition when a condition holds (slow to heal: ROUTINE)."""

    when: Condition
    level: Disposition


class Cause(_Strict):
    """A likely cause from the source articles and how answers point to it."""

    id: RuleId
    name: TextKey
    about: TextKey
    level: Disposition
    level_if: tuple[CauseLevelIf, ...] = ()
    score: tuple[ScoreItem, ...] = Field(min_length=1)
    self_care: tuple[ShortId, ...] = ()
    pe_warning: bool = False
    rows: tuple[int, ...] = ()


class DispositionTexts(_Strict):
    """The words of one disposition: title, time frame, what to do, if it gets worse."""

    title: TextKey
    time_frame: TextKey
    action: TextKey
    safety_net: TextKey


class SelfCareBlock(_Strict):
    id: ShortId
    title: TextKey
    body: TextKey


class Source(_Strict):
    id: SourceId
    name: str = Field(min_length=3)
    url: str = Field(pattern=r"^(https?://\S+|internal)$")


class FlowTexts(_Strict):
    """Keys of the fixed texts around questions, cards and results."""

    question_progress: TextKey
    why_heading: TextKey
    card_from_text: TextKey
    do_not_drive: TextKey
    pe_warning: TextKey
    tell_handler: TextKey
    advice_line: TextKey
    continue_note: TextKey
    result_heading: TextKey
    causes_heading: TextKey
    because: TextKey
    no_cause: TextKey
    self_care_heading: TextKey
    safety_net_heading: TextKey
    disclaimer: TextKey
    handler_pain: TextKey
    handler_flags: TextKey
    handler_other: TextKey
    handler_nothing: TextKey
    doctor_heading: TextKey
    doctor_answers: TextKey
    doctor_flags: TextKey
    doctor_causes: TextKey
    doctor_level: TextKey
    doctor_free_text: TextKey
    unknown_number: TextKey


class GoldenCase(_Strict):
    """A story with a known minimum outcome, replayed by tests and the publish path.

    ``answers`` (completed by the flow's ``golden_defaults``) answer the questions the flow
    asks on that path; every answer in ``answers`` itself must be asked. ``texts`` are
    typed messages matched before the first answer.
    """

    id: RuleId
    title: str
    answers: dict[ShortId, ShortId]
    texts: tuple[str, ...] = ()
    lang: Language = "en"
    min_level: Disposition
    max_level: Disposition | None = None
    cards: tuple[RuleId, ...] = ()
    """Rules whose card must be shown along the way (others may appear too)."""
    no_card: bool = False
    """No card at all may be shown (the "no false alarm" stories)."""
    causes: tuple[RuleId, ...] = ()
    """Causes that must be in the result's list."""
    self_care: tuple[ShortId, ...] = ()
    """Self-care blocks that must be offered."""


class TriageFlow(_Strict):
    """The whole symptom check."""

    version: int = Field(ge=1)
    review_by: dt.date
    stop_level: Disposition
    """Once a met rule is at this level or above, no more questions: straight to result."""
    no_cause_level: Disposition
    """The scored level when no cause reaches ``min_cause_points`` (we don't know: see someone)."""
    min_cause_points: int = Field(ge=1)
    max_causes: int = Field(ge=1, le=3)
    max_self_care: int = Field(ge=1, le=6)
    self_care_up_to: Disposition
    """Self-care blocks are shown only when the final disposition is at most this."""
    texts: FlowTexts
    questions: tuple[Question, ...] = Field(min_length=1)
    red_flags: tuple[RedFlagRule, ...] = Field(min_length=1)
    causes: tuple[Cause, ...] = Field(min_length=1)
    dispositions: dict[Disposition, DispositionTexts]
    card_levels: dict[Disposition, TextKey]
    """The level line of an emergency card, per level a rule can have."""
    self_care: tuple[SelfCareBlock, ...]
    sources: tuple[Source, ...] = Field(min_length=1)
    golden_defaults: dict[ShortId, ShortId] = Field(default_factory=dict)
    """Answers a golden case uses for questions it does not mention (the "no" answers)."""
    golden: tuple[GoldenCase, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> TriageFlow:
        for name, ids in (
            ("questions", [q.id for q in self.questions]),
            ("red_flags", [r.id for r in self.red_flags]),
            ("causes", [c.id for c in self.causes]),
            ("self_care", [b.id for b in self.self_care]),
            ("sources", [s.id for s in self.sources]),
            ("golden", [g.id for g in self.golden]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{name}: ids repeat: {repeated}")
        missing = set(Disposition) - set(self.dispositions)
        if missing:
            raise ValueError(f"dispositions: missing {sorted(missing)}")
        return self


class Country(_Strict):
    """Where to call: the emergency number, and a non-emergency advice line if any."""

    name: TextKey
    emergency: PhoneNumber
    advice: PhoneNumber | None = None
    source: str = Field(min_length=2)


class Countries(_Strict):
    """Country code -> numbers, from the clinical reference (never from translated text)."""

    countries: dict[CountryCode, Country] = Field(min_length=1)


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_triage_flow(path: Path = DATA_DIR / "triage.yaml") -> TriageFlow:
    """Read and validate the flow file (raises pydantic.ValidationError if malformed)."""
    return TriageFlow.model_validate(_read_yaml(path))


def load_countries(path: Path = DATA_DIR / "countries.yaml") -> Countries:
    """Read and validate the countries file."""
    return Countries.model_validate(_read_yaml(path))
