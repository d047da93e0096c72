"""What a draft changes against live content, and whether it touches safety content.

A change to a red-flag rule or its texts needs a second admin's approval before it can be
published (:func:`safety_changes`). "Red-flag content" is:

* any ``triage.rf.*`` text, and every text an emergency card shows (rule titles, bodies,
  summaries and advice; the card level lines; the card's fixed lines such as "do not
  drive", the pulmonary-embolism warning, "tell the call handler" and the unknown-number
  line), in any language, in the old or the new flow;
* the ``red_flags`` rules themselves (conditions, levels, sources, review dates, phrases),
  the card levels, the level at which the check stops asking, and the golden cases (and
  their default answers) that the publish check replays;
* the emergency and advice numbers of any country, or a country added or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from content.pack import ContentPack
from content.triage_schema import TriageFlow

_LISTS_BY_ID = ("questions", "red_flags", "causes", "self_care", "sources", "golden")
_SAFETY_SECTIONS = (
    "triage.red_flags",
    "triage.card_levels",
    "triage.stop_level",
    # The golden cases are what the publish check holds red flags to: weakening them
    # is a red-flag change too.
    "triage.golden",
)
_CARD_FLOW_TEXTS = (
    "card_from_text",
    "do_not_drive",
    "pe_warning",
    "tell_handler",
    "advice_line",
    "continue_note",
    "unknown_number",
    "handler_pain",
    "handler_flags",
    "handler_other",
    "handler_nothing",
)


@dataclass(frozen=True)
class TextChange:
    """One text that differs; ``old``/``new`` is None when the key was added/removed."""

    lang: str
    key: str
    old: str | None
    new: str | None

    @property
    def name(self) -> str:
        """``en:core.help.text``."""
        return f"{self.lang}:{self.key}"


@dataclass(frozen=True)
class StructureChange:
    """A part of the flow or the countries that differs (``triage.red_flags.possible_dvt``)."""

    path: str
    change: str  # "added", "removed" or "changed"


@dataclass(frozen=True)
class PackDiff:
    """Everything that differs between two packs."""

    texts: tuple[TextChange, ...]
    structure: tuple[StructureChange, ...]

    @property
    def empty(self) -> bool:
        """True when the packs have the same content."""
        return not self.texts and not self.structure


def diff_packs(old: ContentPack, new: ContentPack) -> PackDiff:
    """Texts per language and key, then the flow and countries part by part."""
    texts: list[TextChange] = []
    for lang in sorted(set(old.texts) | set(new.texts)):
        before, after = old.texts.get(lang, {}), new.texts.get(lang, {})
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                texts.append(TextChange(lang, key, before.get(key), after.get(key)))
    structure = _diff_tree(
        "triage",
        old.triage.model_dump(mode="json", by_alias=True),
        new.triage.model_dump(mode="json", by_alias=True),
    )
    structure += _diff_mapping(
        "countries",
        old.countries.model_dump(mode="json")["countries"],
        new.countries.model_dump(mode="json")["countries"],
    )
    return PackDiff(tuple(texts), tuple(structure))


def _diff_tree(
    prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[StructureChange]:
    changes: list[StructureChange] = []
    for name in sorted(set(old) | set(new)):
        path = f"{prefix}.{name}"
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name in _LISTS_BY_ID and isinstance(before, list) and isinstance(after, list):
            items = _diff_mapping(path, _by_id(before), _by_id(after))
            changes += items or [StructureChange(path, "reordered")]
        elif name in {"dispositions", "card_levels", "texts"} and isinstance(before, dict):
            changes += _diff_mapping(path, before, after if isinstance(after, dict) else {})
        else:
            changes.append(StructureChange(path, "changed"))
    return changes


def _diff_mapping(
    prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[StructureChange]:
    changes: list[StructureChange] = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            changes.append(StructureChange(f"{prefix}.{key}", "removed"))
        elif key not in old:
            changes.append(StructureChange(f"{prefix}.{key}", "added"))
        elif old[key] != new[key]:
            changes.append(StructureChange(f"{prefix}.{key}", "changed"))
    return changes


def _id_of(item: Any) -> str:
    return str(item.get("id")) if isinstance(item, dict) else repr(item)


def _by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {_id_of(item): item for item in items}


def card_text_keys(flow: TriageFlow) -> frozenset[str]:
    """Every text an emergency card of this flow can show."""
    keys: set[str] = set(flow.card_levels.values())
    for rule in flow.red_flags:
        keys |= {rule.title, rule.body, rule.short, *rule.advice}
    keys |= {getattr(flow.texts, name) for name in _CARD_FLOW_TEXTS}
    return frozenset(keys)


def safety_changes(diff: PackDiff, old: ContentPack, new: ContentPack) -> list[str]:
    """The changes that make a draft need a second admin's approval (empty: none)."""
    card_keys = card_text_keys(old.triage) | card_text_keys(new.triage)
    found = [
        change.name
        for change in diff.texts
        if change.key.startswith("triage.rf.") or change.key in card_keys
    ]
    found += [
        f"{change.path} ({change.change})"
        for change in diff.structure
        if change.path.startswith(_SAFETY_SECTIONS)
    ]
    old_countries, new_countries = old.countries.countries, new.countries.countries
    for code in sorted(set(old_countries) | set(new_countries)):
        before, after = old_countries.get(code), new_countries.get(code)
        if before is None or after is None:
            found.append(f"countries.{code} ({'added' if before is None else 'removed'})")
        elif (before.emergency, before.advice) != (after.emergency, after.advice):
            found.append(f"countries.{code} (numbers changed)")
    return found
