"""Free-text red-flag matching: typed words against the phrases kept with each rule.

Choices, for a clinician to review:

* **Recall over precision.** A clinician prefers a false alarm to a miss, so negation is
  *not* detected: "no chest pain" fires the chest-pain card. Negation detection in short,
  misspelt, bilingual chat messages is unreliable ("not sure if it's chest pain", "no,
  I can't breathe"), and a card costs a reader seconds while a miss can cost a life.
  The card says what we matched, and the user can carry on.
* **Every language's phrases are tried on every message**, whatever the user's language
  (people mix English into Turkish and vice versa).
* **Normalisation**: case-folded, accents and Turkish letters folded to ASCII (ş->s,
  ı->i, ğ->g ...), apostrophes dropped ("can't" -> "cant"), other punctuation to spaces.
* **Misspellings**: each word may differ by Levenshtein distance 0 (words of up to 4
  letters), 1 (5-7 letters) or 2 (8 or more). ``stem*`` matches any word starting with
  the (fuzzy) stem, which covers English endings and Turkish suffixes ("şişmiş").
  A multi-word phrase may also be typed without spaces ("chestpain").
* ``a+b`` needs every part somewhere in the message, in any order ("calf ... swollen").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from content.triage_schema import RedFlagRule

__all__ = ["MAX_TEXT_LENGTH", "TextMatcher", "normalize"]

MAX_TEXT_LENGTH = 1000
"""Longer messages are cut here before matching (keeps matching in milliseconds)."""

_NON_WORD = re.compile(r"[^a-z0-9*+ ]+")
_APOSTROPHES = re.compile(r"['’`´ʼ]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces (keeps ``*`` and ``+``)."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    folded = _APOSTROPHES.sub("", folded)
    folded = _NON_WORD.sub(" ", folded)
    return _SPACES.sub(" ", folded).strip()


def _allowance(word: str) -> int:
    if len(word) <= 4:
        return 0
    if len(word) <= 7:
        return 1
    return 2


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    prefix: bool
    allow: int

    def matches(self, token: str) -> bool:
        if self.prefix:
            if len(token) < len(self.text) - self.allow:
                return False
            token = token[: len(self.text)]
        if self.allow == 0:
            return token == self.text
        return Levenshtein.distance(self.text, token, score_cutoff=self.allow) <= self.allow


@dataclass(frozen=True, slots=True)
class _Part:
    words: tuple[_Word, ...]
    joined: _Word | None

    @classmethod
    def parse(cls, raw: str) -> _Part:
        words = tuple(
            _Word(word.rstrip("*"), word.endswith("*"), _allowance(word.rstrip("*")))
            for word in raw.split()
        )
        joined = None
        if len(words) > 1:
            glued = "".join(word.text for word in words)
            joined = _Word(glued, words[-1].prefix, _allowance(glued))
        return cls(words, joined)

    def found_in(self, tokens: tuple[str, ...]) -> bool:
        size = len(self.words)
        for start in range(len(tokens) - size + 1):
            if all(word.matches(tokens[start + i]) for i, word in enumerate(self.words)):
                return True
        return self.joined is not None and any(self.joined.matches(t) for t in tokens)


@dataclass(frozen=True, slots=True)
class _Phrase:
    rule_id: str
    parts: tuple[_Part, ...]

    def found_in(self, tokens: tuple[str, ...]) -> bool:
        return all(part.found_in(tokens) for part in self.parts)


@dataclass(frozen=True, slots=True)
class TextMatcher:
    """Compiled phrases of every rule in every language."""

    phrases: tuple[_Phrase, ...]
    rule_order: Mapping[str, int]

    @classmethod
    def from_rules(cls, rules: Iterable[RedFlagRule]) -> TextMatcher:
        """Compile the ``match`` lists of the given rules."""
        phrases: list[_Phrase] = []
        order: dict[str, int] = {}
        for position, rule in enumerate(rules):
            order[rule.id] = position
            for entries in rule.match.values():
                for entry in entries:
                    parts = tuple(
                        _Part.parse(part) for part in normalize(entry).split("+") if part.strip()
                    )
                    if parts:
                        phrases.append(_Phrase(rule.id, parts))
        return cls(tuple(phrases), order)

    def match(self, text: str, lang: str = "en") -> tuple[str, ...]:
        """Ids of the rules whose phrases occur in ``text``, in flow order.

        ``lang`` is accepted for the record; phrases of every language are tried.
        """
        del lang
        tokens = tuple(
            normalize(text[:MAX_TEXT_LENGTH]).replace("*", " ").replace("+", " ").split()
        )
        if not tokens:
            return ()
        found: set[str] = set()
        for phrase in self.phrases:
            if phrase.rule_id not in found and phrase.found_in(tokens):
                found.add(phrase.rule_id)
        return tuple(sorted(found, key=lambda rule_id: self.rule_order[rule_id]))
