"""A whole content pack as one YAML document, and back, with line numbers for every key.

Admins download the live pack (or their draft) with ``/admin_pack``, edit it, and upload
it as a document. This module turns a pack into that document (:func:`dump_pack`) and an
uploaded file back into a pack (:func:`parse_pack`), refusing anything that is not a
plain, small, UTF-8 YAML mapping of the expected shape. Every problem it reports names a
key, the line in the file and the reason, and so can the problems that
:func:`content.pack.check_pack` finds later (:meth:`PackSource.line_of`).

The document::

    format: legcare-pack/1
    texts:
      en:
        core.start.greeting: ...      # one flat dotted key per text
      tr: ...
    triage: {...}                     # the symptom-check flow (content/data/triage.yaml)
    countries: {GB: {...}, ...}       # emergency numbers (content/data/countries.yaml)
    reminders: {...}                  # reminder items (content/data/reminders.yaml)

Loading is safe: only standard YAML tags, no anchors or aliases (no "billion laughs"),
bounded size, depth and node count; text values always stay strings (``No`` is the word,
not a boolean). :func:`check_upload` adds the checks an upload needs beyond
``check_pack``: the same languages and (outside ``triage.``) the same keys as the texts the
code was shipped with, the same placeholders, every text the flow uses present, and only
``https://`` links.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from content.pack import DEFAULT_LANGUAGE, ContentPack
from content.problems import ContentProblem
from content.reminder_schema import ITEM_TEXT_PREFIX, reminder_text_keys
from content.telegram_html import parse_html
from content.triage_checks import used_text_keys

__all__ = [
    "MAX_PACK_BYTES",
    "PACK_FORMAT",
    "PackProblem",
    "PackRejectedError",
    "PackSource",
    "check_upload",
    "dump_pack",
    "pack_digest",
    "pack_document",
    "pack_from_json",
    "pack_json",
    "parse_pack",
    "text_placeholders",
]

PACK_FORMAT = "legcare-pack/1"
MAX_PACK_BYTES = 1024 * 1024
"""An upload may be at most 1 MiB; the shipped pack is about 140 kB."""
MAX_DEPTH = 24
MAX_NODES = 100_000
COMMAND_DESCRIPTION_LIMIT = 256
_TOP_LEVEL = ("format", "texts", "triage", "countries", "reminders")
_OPTIONAL_TOP_LEVEL = frozenset({"reminders"})
"""Documents written before reminders had content lack it; the pack then has none."""
_STANDARD_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_ALLOWED_CONTROL = {"\t", "\n", "\r"}
_HREF = re.compile(r"""<a\s[^>]*href\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
_COMMAND_KEYS = ("core.commands.", "admin.commands.")
_HEADER = """\
# LegCare content pack: every user-facing text, the symptom-check flow and the emergency
# numbers, in one file. Edit and send it back to the bot as a document (in a private
# chat): it becomes your draft once it passes every check. Texts are Telegram HTML; keep
# the {placeholders}. Numbers never go into texts: they come from `countries`.
"""

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class PackProblem:
    """Something wrong with a pack, located in its YAML document where possible."""

    key: str
    reason: str
    line: int | None = None
    """1-based line in the document, or None when the problem has no single place."""

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.key}{where}: {self.reason}"


class PackRejectedError(ValueError):
    """An upload that cannot become a draft; ``problems`` says why."""

    def __init__(self, problems: Iterable[PackProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]))


# ------------------------------------------------------------------------------ to YAML


def pack_document(pack: ContentPack) -> dict[str, Any]:
    """The pack as plain data (JSON- and YAML-ready), in a stable order."""
    return {
        "format": PACK_FORMAT,
        "texts": {lang: dict(sorted(pack.texts[lang].items())) for lang in pack.languages},
        "triage": pack.triage.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "countries": pack.countries.model_dump(mode="json", by_alias=True)["countries"],
        "reminders": pack.reminders.model_dump(mode="json"),
    }


def pack_json(pack: ContentPack) -> str:
    """The canonical JSON form stored in the database (stable: same pack, same bytes)."""
    return json.dumps(pack_document(pack), ensure_ascii=False, separators=(",", ":"))


def pack_digest(pack: ContentPack) -> str:
    """SHA-256 of the canonical form: equal packs have equal digests."""
    return hashlib.sha256(pack_json(pack).encode()).hexdigest()


def pack_from_json(document: str) -> ContentPack:
    """A pack from its stored canonical JSON (raises pydantic.ValidationError if stale)."""
    return _pack_from_data(json.loads(document))


def _pack_from_data(data: Mapping[str, Any]) -> ContentPack:
    return ContentPack.model_validate(
        {
            "texts": data["texts"],
            "triage": data["triage"],
            "countries": {"countries": data["countries"]},
            **({"reminders": data["reminders"]} if "reminders" in data else {}),
        }
    )


class _PackDumper(yaml.CSafeDumper):
    """Multi-line texts as literal blocks, so an admin edits them as they read."""


def _represent_str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_PackDumper.add_representer(str, _represent_str)


def dump_pack(pack: ContentPack) -> str:
    """The pack as the YAML document admins download and upload."""
    body = yaml.dump(
        pack_document(pack),
        Dumper=_PackDumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    return _HEADER + body


# ------------------------------------------------------------------------------ from YAML


@dataclass
class PackSource:
    """A parsed upload: the pack and where each key was in the file."""

    pack: ContentPack
    lines: dict[Path, int] = field(default_factory=dict)
    ids: dict[Path, dict[str, int]] = field(default_factory=dict)
    """For each list in the document, item id -> index (``red_flags``: ``possible_dvt``)."""

    def line_of(self, key: str) -> int | None:
        """The line of a problem key from `check_pack` or `check_upload`, if it has one."""
        return _line_of(self.lines, self.ids, key)

    def locate(self, problems: Iterable[ContentProblem]) -> list[PackProblem]:
        """Problems with their lines in this document."""
        return [PackProblem(p.key, p.reason, self.line_of(p.key)) for p in problems]


def locate_in(pack: ContentPack, problems: Iterable[ContentProblem]) -> list[PackProblem]:
    """Problems of a pack that was not uploaded (a draft edited text by text), with the
    lines they have in the document ``/admin_pack`` sends for it."""
    problems = list(problems)
    if not problems:
        return []
    return parse_pack(dump_pack(pack).encode()).locate(problems)


def parse_pack(data: bytes, *, limit: int = MAX_PACK_BYTES) -> PackSource:
    """Read an uploaded pack; raise PackRejectedError naming key, line and reason."""
    if len(data) > limit:
        raise PackRejectedError(
            [PackProblem("file", f"{len(data):,} bytes; the limit is {limit:,} bytes")]
        )
    text = _decode(data)
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark is not None else None
        reason = f"not valid YAML: {error.problem or error.context or 'cannot be read'}"
        raise PackRejectedError([PackProblem("file", reason, line)]) from error
    except yaml.YAMLError as error:
        raise PackRejectedError([PackProblem("file", "not valid YAML")]) from error
    if root is None:
        raise PackRejectedError([PackProblem("file", "the file is empty")])
    reader = _Reader()
    value = reader.read(root, ())
    if reader.problems:
        raise PackRejectedError(reader.problems)
    problems = _check_top_level(value, reader.lines)
    if problems:
        raise PackRejectedError(problems)
    try:
        pack = _pack_from_data(value)
    except ValidationError as error:
        raise PackRejectedError(_validation_problems(error, reader.lines)) from error
    return PackSource(pack=pack, lines=reader.lines, ids=reader.ids)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise PackRejectedError(
            [PackProblem("file", "the file is UTF-16; save it as UTF-8 and send it again")]
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PackRejectedError(
            [
                PackProblem(
                    "file",
                    f"not UTF-8 text (byte {error.start + 1} cannot be read); "
                    "save the file as UTF-8 and send it again",
                    line,
                )
            ]
        ) from error
    for number, line_text in enumerate(text.splitlines(), start=1):
        for char in line_text:
            if char not in _ALLOWED_CONTROL and unicodedata.category(char) in {"Cc", "Cs"}:
                raise PackRejectedError(
                    [PackProblem("file", f"control character U+{ord(char):04X}", number)]
                )
    return text


class _Reader:
    """Turns the composed node tree into plain data, recording the line of every key."""

    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.ids: dict[Path, dict[str, int]] = {}
        self.problems: list[PackProblem] = []
        self._seen: set[int] = set()
        self._count = 0
        self._scalars = SafeConstructor()

    def read(self, node: Node, path: Path) -> Any:
        problem = self._refusal(node, path)
        if problem is not None:
            self._fail(path, node, problem)
            return None
        self._seen.add(id(node))
        in_texts = len(path) >= 2 and path[0] == "texts"
        if isinstance(node, MappingNode):
            return self._mapping(node, path, texts=len(path) == 2 and path[0] == "texts")
        if isinstance(node, SequenceNode):
            if not in_texts:
                return self._sequence(node, path)
            self._fail(path, node, "expected a text, found a list")
        elif in_texts:
            return node.value
        else:
            try:
                return self._scalars.construct_object(node)
            except (ConstructorError, ValueError) as error:
                self._fail(path, node, f"cannot read this value: {error}")
        return None

    def _refusal(self, node: Node, path: Path) -> str | None:
        self._count += 1
        if self._count > MAX_NODES:
            return f"more than {MAX_NODES:,} values"
        if len(path) > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if id(node) in self._seen:
            return "YAML anchors and aliases (&, *) are not allowed"
        if node.tag not in _STANDARD_TAGS:
            return f"YAML tag {node.tag} is not allowed"
        return None

    def _mapping(self, node: MappingNode, path: Path, *, texts: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _STANDARD_TAGS:
                self._fail(path, key_node, "keys must be plain words")
                continue
            key = key_node.value
            child = (*path, key)
            if key in result:
                line = self.lines.get(child)
                self._fail(child, key_node, f"appears twice (first on line {line})")
                continue
            self.lines[child] = key_node.start_mark.line + 1
            if texts and not isinstance(value_node, ScalarNode):
                kind = "a list" if isinstance(value_node, SequenceNode) else "a mapping"
                self._fail(child, value_node, f"expected a text, found {kind}")
                continue
            result[key] = self.read(value_node, child)
        return result

    def _sequence(self, node: SequenceNode, path: Path) -> list[Any]:
        items: list[Any] = []
        ids: dict[str, int] = {}
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            self.lines[child] = item_node.start_mark.line + 1
            item = self.read(item_node, child)
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                ids.setdefault(item["id"], index)
            items.append(item)
        if ids:
            self.ids[path] = ids
        return items

    def _fail(self, path: Path, node: Node, reason: str) -> None:
        self.problems.append(PackProblem(_path_key(path), reason, node.start_mark.line + 1))


def _path_key(path: Path) -> str:
    if not path:
        return "file"
    if path[0] == "texts" and len(path) >= 3:
        return f"{path[1]}:{path[2]}"
    return ".".join(str(part) for part in path)


def _check_top_level(value: Any, lines: Mapping[Path, int]) -> list[PackProblem]:
    if not isinstance(value, dict):
        return [PackProblem("file", "the top level must be a mapping (format, texts, ...)", 1)]
    problems = [
        PackProblem(key, f"unknown key (expected {', '.join(_TOP_LEVEL)})", lines.get((key,)))
        for key in value
        if key not in _TOP_LEVEL
    ]
    problems += [
        PackProblem(key, "missing", None)
        for key in _TOP_LEVEL
        if key not in value and key not in _OPTIONAL_TOP_LEVEL
    ]
    if "format" in value and value["format"] != PACK_FORMAT:
        problems.append(PackProblem("format", f"must be {PACK_FORMAT!r}", lines.get(("format",))))
    texts = value.get("texts")
    if "texts" in value and not (
        isinstance(texts, dict) and all(isinstance(t, dict) for t in texts.values())
    ):
        problems.append(
            PackProblem("texts", "must map each language to its texts", lines.get(("texts",)))
        )
    return problems


def _validation_problems(error: ValidationError, lines: Mapping[Path, int]) -> list[PackProblem]:
    problems: list[PackProblem] = []
    for item in error.errors():
        loc: Path = tuple(part for part in item["loc"] if isinstance(part, str | int))
        if loc[:2] == ("countries", "countries"):
            loc = ("countries", *loc[2:])
        line = None
        for end in range(len(loc), 0, -1):
            line = lines.get(loc[:end])
            if line is not None:
                break
        problems.append(PackProblem(_path_key(loc), str(item["msg"]), line))
    return problems


def _line_of(
    lines: Mapping[Path, int], ids: Mapping[Path, Mapping[str, int]], key: str
) -> int | None:
    """Where a problem key points: ``en:core.x``, ``triage.red_flags.possible_dvt.when``,
    ``triage.structure.causes.dvt``, ``countries.GB.emergency``, ``en:card[possible_dvt]``."""
    lang, colon, rest = key.partition(":")
    if colon and lang.isalpha() and len(lang) <= 3:
        if rest.startswith("card["):
            rule = rest[5:].split(",")[0].rstrip("]")
            return _walk(lines, ids, ["triage", "red_flags", rule])
        return lines.get(("texts", lang, rest)) or lines.get(("texts", lang))
    parts = key.replace("[", ".").split(".")
    if parts[:2] == ["triage", "structure"]:
        parts = ["triage", *parts[2:]]
    return _walk(lines, ids, parts)


def _walk(
    lines: Mapping[Path, int], ids: Mapping[Path, Mapping[str, int]], parts: list[str]
) -> int | None:
    path: Path = ()
    best: int | None = None
    for part in parts:
        if path in ids and part in ids[path]:
            candidate: Path = (*path, ids[path][part])
        else:
            candidate = (*path, part)
        line = lines.get(candidate)
        if line is None:
            break
        path, best = candidate, line
    # "triage" alone says nothing: a problem of no single place has no line.
    return best if len(path) >= 2 else None


# ------------------------------------------------------------------------------ upload checks


def text_placeholders(template: str) -> frozenset[str] | None:
    """The ``{names}`` a text uses, or None when its braces do not parse."""
    try:
        return frozenset(
            name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(template)
            if name
        )
    except ValueError:
        return None


def check_upload(pack: ContentPack, reference: ContentPack) -> list[ContentProblem]:
    """What an upload must satisfy beyond `check_pack`, against the code's own texts.

    ``reference`` is the pack shipped with the code: it defines the languages, the keys
    handlers ask for (everything outside ``triage.``) and their placeholders. Texts the
    flow uses must exist in every language; links must be ``https://``.
    """
    problems: list[ContentProblem] = []
    languages, expected = set(pack.texts), set(reference.texts)
    problems += [
        ContentProblem(f"texts.{lang}", "unknown language: the bot cannot switch to it")
        for lang in sorted(languages - expected)
    ]
    problems += [
        ContentProblem(f"texts.{lang}", "missing language")
        for lang in sorted(expected - languages)
    ]
    needed = used_text_keys(pack.triage, pack.countries) | reminder_text_keys(pack.reminders)
    everywhere = {key for table in pack.texts.values() for key in table}
    # Texts of the flow and of reminder items are the content's own: an upload may add some.
    own = ("triage.", ITEM_TEXT_PREFIX)
    for lang in sorted(languages & expected):
        table, shipped = pack.texts[lang], reference.texts[lang]
        code_keys = {k for k in shipped if not k.startswith(own)}
        keys = {k for k in table if not k.startswith(own)}
        problems += [
            ContentProblem(f"{lang}:{key}", "unknown key: no part of the bot uses it")
            for key in sorted(keys - code_keys)
        ]
        problems += [
            ContentProblem(f"{lang}:{key}", "missing: the bot needs this text")
            for key in sorted((code_keys - keys) | ((needed | everywhere) - table.keys()))
        ]
        for key, value in sorted(table.items()):
            problems += check_text(lang, key, value, reference)
    return problems


def check_text(lang: str, key: str, value: str, reference: ContentPack) -> list[ContentProblem]:
    """Checks of one text that need no other text: placeholders, links, HTML, limits."""
    name = f"{lang}:{key}"
    problems: list[ContentProblem] = []
    if not value.strip():
        return [ContentProblem(name, "text is empty")]
    found = text_placeholders(value)
    shipped = reference.texts.get(lang, {}).get(key)
    if shipped is None:
        shipped = reference.texts.get(DEFAULT_LANGUAGE, {}).get(key)
    if found is None:
        problems.append(ContentProblem(name, "broken placeholder: a { or } does not pair up"))
    elif shipped is not None:
        expected = text_placeholders(shipped) or frozenset()
        for missing in sorted(expected - found):
            problems.append(ContentProblem(name, f"placeholder {{{missing}}} is missing"))
        for unknown in sorted(found - expected):
            problems.append(
                ContentProblem(name, f"unknown placeholder {{{unknown}}}: the bot cannot fill it")
            )
    parsed = parse_html(_sample(value, found))
    if parsed.problem is not None:
        problems.append(ContentProblem(name, f"not Telegram HTML: {parsed.problem.reason}"))
    for href in _HREF.findall(value):
        if not href.lower().startswith("https://"):
            problems.append(ContentProblem(name, f"links must start with https:// ({href!r})"))
    if key.startswith(_COMMAND_KEYS):
        if len(value) > COMMAND_DESCRIPTION_LIMIT or "\n" in value:
            problems.append(
                ContentProblem(name, "a command description is one line of at most 256 characters")
            )
        if parsed.problem is None and parsed.text != value:
            problems.append(ContentProblem(name, "a command description is plain text (no HTML)"))
    return problems


def _sample(value: str, names: frozenset[str] | None) -> str:
    if not names:
        return value
    try:
        return value.format_map(dict.fromkeys(names, "1"))
    except (KeyError, IndexError, ValueError, AttributeError):
        return value
