"""The shipped content pack loads, is consistent across languages, and check_pack guards it."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.pack import ContentPack, check_pack, check_texts, load_pack, load_texts


@pytest.fixture(scope="module")
def pack() -> ContentPack:
    return load_pack()


def test_shipped_texts_are_complete_in_every_language(pack: ContentPack) -> None:
    assert pack.languages == ("en", "tr")
    assert check_texts(pack.texts) == []


def test_parameters_are_escaped_as_html(pack: ContentPack) -> None:
    template_key = "core.fallback.error"
    with_markup = ContentPack(
        texts={"en": {template_key: "Hi {name}"}, "tr": {template_key: "Selam {name}"}},
        triage=pack.triage,
        countries=pack.countries,
    )
    assert with_markup.text("en", template_key, name="<b>&") == "Hi &lt;b&gt;&amp;"


@pytest.mark.parametrize(
    ("requested", "expected"), [("tr", "tr"), ("tr-TR", "tr"), ("de", "en"), (None, "en")]
)
def test_language_choice_falls_back_to_english(
    pack: ContentPack, requested: str | None, expected: str
) -> None:
    assert pack.language_for(requested) == expected


def test_yaml_words_like_no_and_off_stay_text(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "x.yaml").write_text("a:\n  n: No\n  off: Off\n  y: yes\n", "utf-8")
    assert load_texts(tmp_path) == {"en": {"x.a.n": "No", "x.a.off": "Off", "x.a.y": "yes"}}


def _with_text(pack: ContentPack, lang: str, key: str, value: str) -> ContentPack:
    texts = {language: dict(table) for language, table in pack.texts.items()}
    texts[lang][key] = value
    return pack.model_copy(update={"texts": texts})


def test_an_emptied_dvt_card_is_named_and_blocks_the_pack(pack: ContentPack) -> None:
    broken = _with_text(pack, "tr", "triage.rf.possible_dvt.body", "  ")
    assert [str(p) for p in check_pack(broken)] == [
        "tr:triage.rf.possible_dvt.body: text is empty"
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("<div>hi</div>", "not Telegram HTML"),
        ("Fish & chips", "not Telegram HTML"),
        ("x" * 5000, "longer than 4096"),
        ("I didn't understand {name}", "placeholders"),
    ],
)
def test_broken_core_texts_are_named(pack: ContentPack, value: str, reason: str) -> None:
    problems = check_pack(_with_text(pack, "tr", "core.fallback.unknown_text", value))
    assert len(problems) == 1
    assert problems[0].key == "tr:core.fallback.unknown_text"
    assert reason in problems[0].reason


def test_a_key_missing_in_turkish_is_named(pack: ContentPack) -> None:
    texts = {language: dict(table) for language, table in pack.texts.items()}
    del texts["tr"]["core.help.text"]
    problems = check_pack(pack.model_copy(update={"texts": texts}))
    assert [str(p) for p in problems] == ["tr:core.help.text: missing in this language"]
