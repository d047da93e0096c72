"""`legcare triage export`: once as a real process, then every format, a language, a file
and bad input through the same argument parser in this process (a process costs seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _legcare(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "DATABASE_", "ADMIN_", "LOG_"))
    }
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "bot.cli", "triage", "export", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_mermaid_to_standard_output(tmp_path: Path) -> None:
    done = _legcare(tmp_path, "--format", "mermaid")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart TD")
    assert "q_breath" in done.stdout
    assert "possible_pe" in done.stdout


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in-process, as `main` would after reading the settings."""
    parsed = build_parser().parse_args(["triage", "export", *args])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    code = parsed.command(settings, parsed)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_markdown_and_json_files_in_turkish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown = tmp_path / "flow.md"
    code, out, _ = _export(
        capsys, "--format", "markdown", "--lang", "tr", "--output", str(markdown)
    )
    assert (code, out) == (0, "")
    document = markdown.read_text(encoding="utf-8")
    # Every red-flag rule is in the table with its sources.
    for rule_id, source in (("possible_pe", "NG158"), ("cauda_equina", "RFH-CES")):
        assert rule_id in document
        assert source in document
    assert "nefes" in document.lower()

    exported = tmp_path / "flow.json"
    code, _, _ = _export(capsys, "--format", "json", "--output", str(exported))
    assert code == 0
    flow = json.loads(exported.read_text(encoding="utf-8"))
    assert isinstance(flow, dict)
    assert "possible_pe" in exported.read_text(encoding="utf-8")


def test_an_unknown_language_fails_with_one_clear_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _export(capsys, "--lang", "xx")
    assert (code, out) == (2, "")
    assert err == "legcare: unknown language 'xx'; choose one of en, tr\n"


def test_an_unknown_format_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["triage", "export", "--format", "pdf"])
    assert exited.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err
