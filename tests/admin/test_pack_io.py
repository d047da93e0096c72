"""The pack as one YAML document: round trip, line numbers, and refusing bad uploads.

Fixed cases for every kind of bad upload the issue names (not YAML, too big, wrong
encoding, schema errors, unknown keys, HTML injection, missing placeholders), then
properties: arbitrary bytes never crash the reader, and random damage to a good document
is always refused by the cheap stages (reading and `check_upload`), each problem naming a
key and, where the key exists in the file, its line.
"""

from __future__ import annotations

import codecs
import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.pack import ContentPack, load_pack
from content.pack_io import (
    MAX_PACK_BYTES,
    PackProblem,
    PackRejectedError,
    check_upload,
    dump_pack,
    pack_digest,
    pack_document,
    pack_from_json,
    pack_json,
    parse_pack,
)

Document = dict[str, Any]


@pytest.fixture(scope="module")
def shipped() -> ContentPack:
    return load_pack()


@pytest.fixture(scope="module")
def document(shipped: ContentPack) -> Document:
    return pack_document(shipped)


def upload(document: Document) -> bytes:
    return yaml.dump(
        document, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False
    ).encode()


def rejection(data: bytes) -> list[PackProblem]:
    with pytest.raises(PackRejectedError) as caught:
        parse_pack(data)
    return list(caught.value.problems)


def upload_problems(document: Document, shipped: ContentPack) -> list[PackProblem]:
    """What an upload of ``document`` is refused for by the cheap stages."""
    data = upload(document)
    try:
        parsed = parse_pack(data)
    except PackRejectedError as error:
        return list(error.problems)
    return parsed.locate(check_upload(parsed.pack, shipped))


def line_of(data: bytes, needle: str) -> int:
    return next(n for n, line in enumerate(data.decode().splitlines(), 1) if needle in line)


# ---------------------------------------------------------------------- round trip


def test_the_shipped_pack_survives_yaml_and_json_unchanged(shipped: ContentPack) -> None:
    text = dump_pack(shipped)
    parsed = parse_pack(text.encode())
    assert parsed.pack == shipped
    assert pack_digest(parsed.pack) == pack_digest(shipped)
    assert pack_from_json(pack_json(shipped)) == shipped
    assert check_upload(shipped, shipped) == []
    assert text.startswith("# LegCare content pack")
    assert len(text.encode()) < MAX_PACK_BYTES / 4


def test_multi_line_texts_are_literal_blocks_and_words_stay_words(shipped: ContentPack) -> None:
    text = dump_pack(shipped)
    assert "    core.help.text: |-\n      <b>About LegCare</b>" in text
    # "No", "Yes", "Off" stay text in texts (YAML 1.1 would make them booleans).
    document = pack_document(shipped)
    document["texts"]["en"]["core.menu.home"] = "No"
    data = upload(document).replace(b"core.menu.home: 'No'", b"core.menu.home: No")
    assert b"core.menu.home: No\n" in data
    assert parse_pack(data).pack.texts["en"]["core.menu.home"] == "No"


def test_problem_keys_from_every_check_point_at_their_lines(shipped: ContentPack) -> None:
    data = dump_pack(shipped).encode()
    parsed = parse_pack(data)
    lines = data.decode().splitlines()
    text_line = parsed.line_of("en:triage.rf.possible_dvt.body")
    assert text_line is not None
    assert "triage.rf.possible_dvt.body:" in lines[text_line - 1]
    review = parsed.line_of("triage.red_flags.possible_dvt.review_by")
    assert review is not None
    assert lines[review - 1].strip().startswith("review_by:")
    start = line_of(data, "- id: possible_dvt")
    following = line_of(data, "- id: dvt_risk")
    assert start < review < following
    emergency = parsed.line_of("countries.GB.emergency")
    assert emergency is not None
    assert lines[emergency - 1].strip() == "emergency: '999'"
    when = parsed.line_of("triage.structure.red_flags.possible_dvt.when")
    assert when is not None
    assert lines[when - 1].strip() == "when:"
    card = parsed.line_of("en:card[possible_dvt]")
    assert card is not None
    assert "id: possible_dvt" in lines[card - 1]
    assert parsed.line_of("triage.path[sides=one]") is None


# ---------------------------------------------------------------------- fixed bad uploads


def test_not_yaml_names_the_line() -> None:
    data = b"format: legcare-pack/1\ntexts:\n  en: {core.x: [unclosed\n"
    [problem] = rejection(data)
    assert problem.key == "file"
    assert "not valid YAML" in problem.reason
    assert problem.line == 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"just a sentence\n", "top level must be a mapping"),
        (b"- a\n- list\n", "top level must be a mapping"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        (b"format: legcare\x00pack\n", "control character U+0000"),
    ],
)
def test_files_that_are_not_a_pack(data: bytes, reason: str) -> None:
    problems = rejection(data)
    assert any(reason in p.reason for p in problems), problems


def test_a_5_mb_file_is_refused_before_it_is_read() -> None:
    [problem] = rejection(b"a" * (5 * 1024 * 1024))
    assert problem.key == "file"
    assert "5,242,880 bytes; the limit is 1,048,576 bytes" in problem.reason


def test_wrong_encodings_are_named(shipped: ContentPack) -> None:
    text = dump_pack(shipped)
    [utf16] = rejection(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert "UTF-16" in utf16.reason
    latin = text.encode("latin-1", errors="replace")
    [problem] = rejection(latin)
    assert "not UTF-8" in problem.reason
    first = next(
        n for n, line in enumerate(text.splitlines(), 1) if any(128 <= ord(c) < 256 for c in line)
    )
    assert problem.line == first
    # A UTF-8 byte-order mark is fine.
    assert parse_pack(codecs.BOM_UTF8 + text.encode()).pack == shipped


def test_unsafe_yaml_is_refused() -> None:
    tagged = b"format: !!python/object/apply:os.system ['true']\n"
    assert "tag" in rejection(tagged)[0].reason
    aliases = b"a: &x [1, 2]\nb: *x\n"
    assert "aliases" in rejection(aliases)[0].reason
    laughs = b"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
    assert "aliases" in rejection(laughs)[0].reason
    deep = b"a: " + b"[" * 40 + b"]" * 40 + b"\n"
    assert "nested deeper" in rejection(deep)[0].reason


def test_duplicate_keys_name_both_lines(shipped: ContentPack) -> None:
    text = dump_pack(shipped)
    marker = "  en:\n"
    data = text.replace(marker, marker + "    core.menu.home: Home twice\n", 1).encode()
    [problem] = rejection(data)
    assert problem.key == "en:core.menu.home"
    assert "appears twice" in problem.reason
    assert problem.line is not None


def test_schema_errors_name_key_and_line(shipped: ContentPack, document: Document) -> None:
    broken = copy.deepcopy(document)
    rule = next(r for r in broken["triage"]["red_flags"] if r["id"] == "possible_dvt")
    rule["level"] = "PANIC"
    del rule["sources"]
    broken["countries"]["GB"]["emergency"] = "nine-nine-nine"
    broken["surprise"] = True
    problems = upload_problems(broken, shipped)
    assert [p.key for p in problems] == ["surprise"]  # the shape is checked first
    del broken["surprise"]
    problems = upload_problems(broken, shipped)
    by_key = {p.key: p for p in problems}
    data = upload(broken)
    index = broken["triage"]["red_flags"].index(rule)
    level = by_key[f"triage.red_flags.{index}.level"]
    assert "SELF_CARE" in level.reason
    assert level.line == line_of(data, "level: PANIC")
    assert f"triage.red_flags.{index}.sources" in by_key
    assert by_key["countries.GB.emergency"].line == line_of(data, "nine-nine-nine")


def test_unknown_and_missing_keys_and_languages(shipped: ContentPack, document: Document) -> None:
    changed = copy.deepcopy(document)
    changed["texts"]["en"]["core.menu.typo"] = "Hello"
    del changed["texts"]["tr"]["core.menu.home"]
    changed["texts"]["de"] = dict(changed["texts"]["en"])
    problems = upload_problems(changed, shipped)
    reasons = {p.key: p.reason for p in problems}
    assert reasons["texts.de"] == "unknown language: the bot cannot switch to it"
    assert reasons["en:core.menu.typo"] == "unknown key: no part of the bot uses it"
    assert reasons["tr:core.menu.home"] == "missing: the bot needs this text"
    typo = next(p for p in problems if p.key == "en:core.menu.typo")
    assert typo.line == line_of(upload(changed), "core.menu.typo")


def test_removing_the_dvt_card_text_names_the_key(
    shipped: ContentPack, document: Document
) -> None:
    changed = copy.deepcopy(document)
    del changed["texts"]["en"]["triage.rf.possible_dvt.body"]
    problems = upload_problems(changed, shipped)
    [problem] = [p for p in problems if p.key == "en:triage.rf.possible_dvt.body"]
    assert problem.reason == "missing: the bot needs this text"
    # The key is gone, so the line is the one of its language.
    assert problem.line == line_of(upload(changed), "  en:")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<script>alert(1)</script>", "not Telegram HTML"),
        ('<a href="javascript:alert(1)">tap</a>', "links must start with https://"),
        ('<a href="tg://resolve?domain=x">tap</a>', "links must start with https://"),
        ("<b>unclosed", "not Telegram HTML"),
        ("<img src=x onerror=alert(1)>", "not Telegram HTML"),
        ("Tom & Jerry", "not Telegram HTML"),
    ],
)
def test_html_injection_is_refused(
    shipped: ContentPack, document: Document, text: str, reason: str
) -> None:
    changed = copy.deepcopy(document)
    changed["texts"]["en"]["core.help.text"] = text
    problems = upload_problems(changed, shipped)
    assert any(p.key == "en:core.help.text" and reason in p.reason for p in problems), problems


@pytest.mark.parametrize(
    ("key", "text", "reason"),
    [
        ("triage.ui.call_now", "Call now", "placeholder {emergency} is missing"),
        ("settings.summary", "Country: {country}", "placeholder {emergency} is missing"),
        ("core.menu.title", "Hello {name}", "unknown placeholder {name}"),
        ("core.menu.title", "Hello {", "broken placeholder"),
        ("core.commands.menu", "x" * 300, "a command description is one line"),
        ("core.commands.menu", "<b>Menu</b>", "a command description is plain text"),
        ("core.menu.title", "   ", "text is empty"),
    ],
)
def test_placeholders_and_limits(
    shipped: ContentPack, document: Document, key: str, text: str, reason: str
) -> None:
    if key not in shipped.texts["en"]:
        key = next(k for k, v in sorted(shipped.texts["en"].items()) if "{emergency}" in v)
    changed = copy.deepcopy(document)
    changed["texts"]["en"][key] = text
    problems = upload_problems(changed, shipped)
    assert any(p.key == f"en:{key}" and reason in p.reason for p in problems), problems


# ---------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_never_crash(data: bytes) -> None:
    problems: tuple[PackProblem, ...] = ()
    try:
        parse_pack(data)
    except PackRejectedError as error:
        problems = error.problems
        assert problems
    assert all(p.key and p.reason for p in problems)


def _drop_text(document: Document, lang: str, index: int) -> str:
    keys = sorted(document["texts"][lang])
    key = keys[index % len(keys)]
    del document["texts"][lang][key]
    return f"{lang}:{key}"


def _inject_html(document: Document, lang: str, index: int, fragment: str) -> str:
    keys = sorted(document["texts"][lang])
    key = keys[index % len(keys)]
    document["texts"][lang][key] += fragment
    return f"{lang}:{key}"


def _drop_placeholder(document: Document, lang: str, index: int) -> str | None:
    keys = sorted(k for k, v in document["texts"][lang].items() if "{" in v and "{{" not in v)
    key = keys[index % len(keys)]
    value = document["texts"][lang][key]
    start = value.index("{")
    document["texts"][lang][key] = value[:start] + value[value.index("}", start) + 1 :]
    return f"{lang}:{key}"


_FRAGMENTS = ["<script>", "<b>", "</i>", "& ", "<a href='http://x'>x</a>", "<iframe>", "<"]
Damage = Callable[[Document], str | None]


@st.composite
def damage(draw: st.DrawFn) -> Damage:
    lang = draw(st.sampled_from(["en", "tr"]))
    index = draw(st.integers(min_value=0, max_value=10_000))
    kind = draw(st.sampled_from(["drop", "html", "placeholder"]))
    if kind == "drop":
        return lambda d: _drop_text(d, lang, index)
    if kind == "html":
        fragment = draw(st.sampled_from(_FRAGMENTS))
        return lambda d: _inject_html(d, lang, index, fragment)
    return lambda d: _drop_placeholder(d, lang, index)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(damage())
def test_random_damage_is_refused_by_the_cheap_stages(
    shipped: ContentPack, document: Document, hurt: Damage
) -> None:
    changed = copy.deepcopy(document)
    key = hurt(changed)
    problems = upload_problems(changed, shipped)
    assert problems, f"damage to {key} went through"
    named = [p for p in problems if p.key == key]
    assert named, f"{key} not named in {problems[:3]}"
    data = upload(changed)
    for problem in named:
        assert problem.line is not None
        assert 1 <= problem.line <= len(data.splitlines())
