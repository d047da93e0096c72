"""The content pack: every user-facing text in every language, plus the flows that use them.

A pack is loaded from the files in this folder, validated by pydantic at load and by
`check_pack` before it may go live. Handlers never hold copy of their own; they ask
the live pack for a key in the user's language.
"""

from __future__ import annotations

import datetime as dt
import html
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from content.problems import ContentProblem
from content.reminder_schema import ReminderContent, check_reminders, load_reminder_content
from content.telegram_html import find_html_error, visible_length
from content.triage_checks import check_triage
from content.triage_schema import Countries, TriageFlow, load_countries, load_triage_flow

CONTENT_DIR = Path(__file__).parent
TEXTS_DIR = CONTENT_DIR / "texts"
DATA_DIR = CONTENT_DIR / "data"
DEFAULT_LANGUAGE = "en"
TELEGRAM_MESSAGE_LIMIT = 4096


class ContentPack(BaseModel):
    """One complete, versioned set of content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    texts: dict[str, dict[str, str]]
    triage: TriageFlow
    countries: Countries
    reminders: ReminderContent = Field(default_factory=ReminderContent)
    """What reminders suggest (content/data/reminders.yaml); empty in versions stored
    before reminders had content: those reminders fall back to one text per kind."""

    @field_validator("texts")
    @classmethod
    def _has_default_language(cls, texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if DEFAULT_LANGUAGE not in texts:
            raise ValueError(f"the pack must contain the default language {DEFAULT_LANGUAGE!r}")
        return texts

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages this pack can talk in, default first."""
        others = sorted(lang for lang in self.texts if lang != DEFAULT_LANGUAGE)
        return (DEFAULT_LANGUAGE, *others)

    def language_for(self, requested: str | None) -> str:
        """The pack language to use for a user's stored or Telegram language code."""
        if requested:
            base = requested.split("-")[0].lower()
            if base in self.texts:
                return base
        return DEFAULT_LANGUAGE

    def text(self, lang: str, key: str, /, **params: object) -> str:
        """A text in `lang`, with parameters HTML-escaped and filled in."""
        template = self.texts[self.language_for(lang)][key]
        if not params:
            return template
        return template.format(**{name: html.escape(str(value)) for name, value in params.items()})


def flatten_texts(tree: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """Turn nested YAML mappings into dotted keys: {'a': {'b': 'x'}} -> {'p.a.b': 'x'}."""
    flat: dict[str, str] = {}
    for name, value in tree.items():
        key = f"{prefix}.{name}"
        if isinstance(value, Mapping):
            flat.update(flatten_texts(value, key))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ValueError(f"{key}: expected text or a mapping, got {type(value).__name__}")
    return flat


def load_texts(texts_dir: Path = TEXTS_DIR) -> dict[str, dict[str, str]]:
    """Read ``<lang>/<namespace>.yaml`` files into language -> dotted key -> text."""
    texts: dict[str, dict[str, str]] = {}
    for lang_dir in sorted(path for path in texts_dir.iterdir() if path.is_dir()):
        merged: dict[str, str] = {}
        for file in sorted(lang_dir.glob("*.yaml")):
            # BaseLoader keeps every scalar a string, so a label such as `No` or `Off`
            # stays text instead of turning into a boolean (YAML 1.1's "Norway problem").
            tree = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}  # noqa: S506
            if not isinstance(tree, Mapping):
                raise ValueError(f"{file}: the top level must be a mapping")
            merged.update(flatten_texts(tree, file.stem))
        texts[lang_dir.name] = merged
    return texts


def load_pack(content_dir: Path = CONTENT_DIR) -> ContentPack:
    """The pack shipped in this repository (or another directory laid out the same way)."""
    return ContentPack(
        texts=load_texts(content_dir / "texts"),
        triage=load_triage_flow(content_dir / "data" / "triage.yaml"),
        countries=load_countries(content_dir / "data" / "countries.yaml"),
        reminders=load_reminder_content(content_dir / "data" / "reminders.yaml"),
    )


def placeholders(template: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` a text expects."""
    return frozenset(
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    )


def check_texts(texts: Mapping[str, Mapping[str, str]]) -> list[ContentProblem]:
    """Every language has every key, with the same placeholders, and nothing is blank."""
    problems: list[ContentProblem] = []
    reference = texts.get(DEFAULT_LANGUAGE, {})
    for lang, table in texts.items():
        for key in sorted(reference.keys() - table.keys()):
            problems.append(ContentProblem(f"{lang}:{key}", "missing in this language"))
        for key in sorted(table.keys() - reference.keys()):
            problems.append(ContentProblem(f"{lang}:{key}", f"not in {DEFAULT_LANGUAGE}"))
        for key, value in sorted(table.items()):
            if not value.strip():
                problems.append(ContentProblem(f"{lang}:{key}", "text is empty"))
                continue
            html_error = find_html_error(value)
            if html_error is not None:
                problems.append(
                    ContentProblem(f"{lang}:{key}", f"not Telegram HTML: {html_error}")
                )
            if visible_length(value) > TELEGRAM_MESSAGE_LIMIT:
                problems.append(
                    ContentProblem(
                        f"{lang}:{key}", f"longer than {TELEGRAM_MESSAGE_LIMIT} characters"
                    )
                )
            try:
                found = placeholders(value)
            except ValueError as error:
                problems.append(ContentProblem(f"{lang}:{key}", f"broken placeholder: {error}"))
                continue
            if key in reference and lang != DEFAULT_LANGUAGE:
                expected = placeholders(reference[key])
                if found != expected:
                    problems.append(
                        ContentProblem(
                            f"{lang}:{key}",
                            f"placeholders {sorted(found)} differ from {sorted(expected)}",
                        )
                    )
    return problems


def check_pack(pack: ContentPack, *, today: dt.date | None = None) -> list[ContentProblem]:
    """All safety and consistency checks a pack must pass before it may go live.

    Tests, CI and the admin publish path all call this one function. It walks every
    path of the symptom check, so it takes seconds: run it off the event loop.
    ``today`` also blocks packs whose red-flag rules are overdue for clinical review.
    """
    problems = check_texts(pack.texts)
    if problems:
        return problems
    problems = check_reminders(pack.reminders, pack.texts)
    if problems:
        return problems
    return check_triage(pack.triage, pack.countries, pack.texts, today=today)
