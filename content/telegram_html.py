"""Telegram's ``parse_mode=HTML`` rules: validation, visible text and message entities.

Pure (no ``telegram`` import): the content safety checks and the fake Bot API server both
use it, so a text that passes here is a text the fake server accepts.

The rules are the documented ones (https://core.telegram.org/bots/api#html-style), applied
strictly where Telegram's own parser is lenient, because a text that only renders by luck
is a content bug:

* supported tags: ``b``/``strong``, ``i``/``em``, ``u``/``ins``, ``s``/``strike``/``del``,
  ``span class="tg-spoiler"``, ``tg-spoiler``, ``a href``, ``code``, ``pre`` (optionally
  holding one ``code class="language-x"``), ``blockquote`` (optionally ``expandable``) and
  ``tg-emoji emoji-id``; tag names are case-insensitive;
* the only named entities are ``&lt;``, ``&gt;``, ``&amp;`` and ``&quot;``; numeric ones
  (``&#38;``, ``&#x26;``) are fine; a ``<`` or ``&`` that starts neither a tag nor an
  entity is an error (a bare ``>`` is accepted, as Telegram does);
* tags must be closed in order; formatting inside ``code``/``pre`` and nested
  ``blockquote`` are reported (Telegram would silently drop them).

Lengths follow the Bot API: the 4096 (message) and 1024 (caption) limits count the
characters left after tags are removed and entities decoded; entity offsets are in
UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "HtmlEntity",
    "HtmlProblem",
    "ParsedHtml",
    "find_html_error",
    "find_html_problem",
    "html_to_text",
    "parse_html",
    "visible_length",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_VERBATIM = ("pre", "code")
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)

_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTR = r"""[^\s=>/"'<]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_START_TAG_RE = re.compile(rf"<({_NAME})((?:\s+{_ATTR})*)\s*(/?)>")
_ATTR_RE = re.compile(r"""([^\s=>/"'<]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_END_TAG_RE = re.compile(rf"</({_NAME})\s*>")
_CHAR_REF_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9A-Fa-f]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_EMOJI_ID_RE = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class HtmlEntity:
    """One ``MessageEntity`` as the Bot API would return it (offsets in UTF-16 units)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_dict(self) -> dict[str, str | int]:
        """Return the Bot API JSON shape of this entity."""
        result: dict[str, str | int] = {
            "type": self.type,
            "offset": self.offset,
            "length": self.length,
        }
        if self.url is not None:
            result["url"] = self.url
        if self.language is not None:
            result["language"] = self.language
        if self.custom_emoji_id is not None:
            result["custom_emoji_id"] = self.custom_emoji_id
        return result


@dataclass(frozen=True, slots=True)
class HtmlProblem:
    """Why a text is not valid Telegram HTML, and where (an index into the text)."""

    reason: str
    position: int


@dataclass(frozen=True, slots=True)
class ParsedHtml:
    """The text a person reads, its entities, and the first problem found (if any).

    For invalid input ``text`` is a best effort (Telegram would refuse the message).
    """

    text: str
    entities: tuple[HtmlEntity, ...]
    problem: HtmlProblem | None


@dataclass(slots=True)
class _Open:
    name: str
    attrs: dict[str, str]
    offset: int
    position: int
    children: int = 0
    language: str | None = None


@dataclass(slots=True)
class _Parser:
    source: str
    out: list[str] = field(default_factory=list)
    utf16: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[HtmlEntity] = field(default_factory=list)
    problem: HtmlProblem | None = None

    def fail(self, reason: str, position: int) -> None:
        if self.problem is None:
            self.problem = HtmlProblem(reason, position)

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.utf16 += _utf16_length(chunk)

    def run(self) -> ParsedHtml:
        text = self.source
        i = 0
        n = len(text)
        while i < n:
            lt = text.find("<", i)
            amp = text.find("&", i)
            stops = [p for p in (lt, amp) if p >= 0]
            nxt = min(stops) if stops else n
            if nxt > i:
                self.emit(text[i:nxt])
                i = nxt
                continue
            i = self.char_ref(i) if text[i] == "&" else self.tag(i)
        for still_open in reversed(self.stack):
            self.fail(f"unclosed tag <{still_open.name}>", still_open.position)
        entities = sorted(self.entities, key=lambda e: (e.offset, -e.length))
        return ParsedHtml("".join(self.out), tuple(entities), self.problem)

    def char_ref(self, i: int) -> int:
        match = _CHAR_REF_RE.match(self.source, i)
        if match is None:
            self.fail("unescaped '&'", i)
            self.emit("&")
            return i + 1
        decoded = _decode_char_ref(match)
        if decoded is None:
            self.fail(f"unsupported entity {match.group(0)}", i)
            self.emit(match.group(0))
        else:
            self.emit(decoded)
        return match.end()

    def tag(self, i: int) -> int:
        end = _END_TAG_RE.match(self.source, i)
        if end is not None:
            self.close(end.group(1).lower(), i)
            return end.end()
        start = _START_TAG_RE.match(self.source, i)
        if start is None:
            self.fail("unescaped '<'", i)
            self.emit("<")
            return i + 1
        name = start.group(1).lower()
        attrs = _parse_attrs(start.group(2))
        if attrs is None:
            self.fail(f"unescaped '&' in an attribute of <{name}>", i)
            attrs = {}
        if start.group(3):
            self.fail(f"unsupported self-closing tag <{name}/>", i)
            return start.end()
        self.open(name, attrs, i)
        return start.end()

    def open(self, name: str, attrs: dict[str, str], position: int) -> None:
        if name not in _ENTITY_TYPES:
            self.fail(f"unsupported tag <{name}>", position)
            return
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self.fail('tag <span> needs class="tg-spoiler"', position)
        if name == "tg-emoji" and not _EMOJI_ID_RE.fullmatch(attrs.get("emoji-id", "")):
            self.fail("tag <tg-emoji> needs a numeric emoji-id", position)
        if name == "blockquote" and any(o.name == "blockquote" for o in self.stack):
            self.fail("nested <blockquote>", position)
        verbatim = next((o for o in reversed(self.stack) if o.name in _VERBATIM), None)
        if verbatim is not None:
            code_in_pre = (
                name == "code"
                and self.stack[-1] is verbatim
                and verbatim.name == "pre"
                and verbatim.children == 0
                and verbatim.offset == self.utf16
            )
            if not code_in_pre:
                self.fail(f"tag <{name}> inside <{verbatim.name}>", position)
        if self.stack:
            self.stack[-1].children += 1
        self.stack.append(_Open(name, attrs, self.utf16, position))

    def close(self, name: str, position: int) -> None:
        if name not in _ENTITY_TYPES:
            self.fail(f"unsupported tag </{name}>", position)
            return
        if not self.stack:
            self.fail(f"unexpected end tag </{name}>", position)
            return
        top = self.stack[-1]
        if top.name != name:
            self.fail(f"tag <{top.name}> closed by </{name}>", position)
            if all(o.name != name for o in self.stack):
                return
            while self.stack[-1].name != name:
                self.stack.pop()
            top = self.stack[-1]
        self.stack.pop()
        self.add_entity(top)

    def add_entity(self, tag: _Open) -> None:
        length = self.utf16 - tag.offset
        if length <= 0:
            return
        kind = _ENTITY_TYPES[tag.name]
        if tag.name == "a":
            href = tag.attrs.get("href")
            if href:
                self.entities.append(HtmlEntity(kind, tag.offset, length, url=href))
            return
        if tag.name == "tg-emoji":
            emoji_id = tag.attrs.get("emoji-id", "")
            self.entities.append(HtmlEntity(kind, tag.offset, length, custom_emoji_id=emoji_id))
            return
        if tag.name == "blockquote" and "expandable" in tag.attrs:
            kind = "expandable_blockquote"
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            css_class = tag.attrs.get("class", "")
            if css_class.startswith("language-") and len(css_class) > len("language-"):
                self.stack[-1].language = css_class.removeprefix("language-")
            return
        if tag.name == "pre":
            self.entities.append(HtmlEntity(kind, tag.offset, length, language=tag.language))
            return
        self.entities.append(HtmlEntity(kind, tag.offset, length))


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _decode_char_ref(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > _MAX_CODE_POINT or code in _SURROGATES:
        return None
    return chr(code)


def _decode_attr_value(raw: str) -> str | None:
    """Decode entities in an attribute value; ``None`` if it holds a bare ``&``."""
    parts: list[str] = []
    i = 0
    while (amp := raw.find("&", i)) >= 0:
        parts.append(raw[i:amp])
        match = _CHAR_REF_RE.match(raw, amp)
        decoded = _decode_char_ref(match) if match is not None else None
        if match is None or decoded is None:
            return None
        parts.append(decoded)
        i = match.end()
    parts.append(raw[i:])
    return "".join(parts)


def _parse_attrs(raw: str) -> dict[str, str] | None:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        decoded = _decode_attr_value(value)
        if decoded is None:
            return None
        attrs.setdefault(name, decoded)
    return attrs


def parse_html(text: str) -> ParsedHtml:
    """Parse ``text`` the way Telegram does for ``parse_mode=HTML``."""
    return _Parser(text).run()


def find_html_problem(text: str) -> HtmlProblem | None:
    """Return the first problem (with its position) that makes ``text`` invalid, or None."""
    return parse_html(text).problem


def find_html_error(text: str) -> str | None:
    """Return None if Telegram accepts ``text`` as HTML, else a short reason.

    Example reasons: ``unsupported tag <div>``, ``unclosed tag <b>``, ``unescaped '&'``,
    ``tag <i> closed by </b>``.
    """
    problem = find_html_problem(text)
    return None if problem is None else problem.reason


def html_to_text(text: str) -> str:
    """Return what a person reads: tags removed, entities decoded (best effort if invalid)."""
    return parse_html(text).text


def visible_length(text: str) -> int:
    """Return the length the 4096/1024 limits apply to (characters after parsing)."""
    return len(parse_html(text).text)
