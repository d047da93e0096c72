#!/usr/bin/env python3
"""One entry point for people: `python3 dev.py demo | run | test | check`.

Needs only Python 3.11+ and git. On first use it installs uv (pinned) into `.tools/`
when uv is not already on PATH, and uv builds `.venv` from `uv.lock`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.9"
TOOLS = ROOT / ".tools"

COMMANDS: dict[str, list[list[str]]] = {
    "demo": [["legcare", "demo"]],
    "run": [["legcare", "run"]],
    # Test files spread over up to 4 processes; a file stays in one (its fixtures are shared).
    "test": [["pytest", "--numprocesses=auto", "--maxprocesses=4", "--dist=loadfile"]],
    "lint": [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
}
COMMANDS["check"] = COMMANDS["lint"] + COMMANDS["test"]


def find_uv() -> str:
    """uv from PATH, or a pinned copy installed into .tools on first use."""
    on_path = shutil.which("uv")
    if on_path:
        return on_path
    bin_dir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bin_dir / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        print(f"dev.py: installing uv {UV_VERSION} into {TOOLS} (first run only)", file=sys.stderr)
        venv.create(TOOLS, with_pip=True)
        pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"uv=={UV_VERSION}"], check=True)
    return str(uv)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [extra arguments]", file=sys.stderr)
        return 2
    name, extra = argv[0], argv[1:]
    uv = find_uv()
    steps = COMMANDS[name]
    for index, step in enumerate(steps):
        arguments = step + extra if index == len(steps) - 1 else step
        completed = subprocess.run([uv, "run", "--frozen", *arguments], cwd=ROOT, check=False)
        if completed.returncode != 0:
            return completed.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
