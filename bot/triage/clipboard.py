"""Fitting the call-handler summary into a copy button (Telegram allows 256 characters)."""

from __future__ import annotations

__all__ = ["COPY_TEXT_LIMIT", "clip_lines"]

COPY_TEXT_LIMIT = 256
"""Telegram's limit for a CopyTextButton's text, counted like Telegram: UTF-16 units."""
_ELLIPSIS = "…"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(line: str, units: int) -> str:
    """``line`` shortened to at most ``units`` UTF-16 units, ending in an ellipsis."""
    if _units(line) <= units:
        return line
    kept: list[str] = []
    used = _units(_ELLIPSIS)
    for char in line:
        size = _units(char)
        if used + size > units:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip(" ;,") + _ELLIPSIS


def clip_lines(text: str, limit: int = COPY_TEXT_LIMIT) -> str:
    """``text`` within ``limit``, every line kept and the longest ones shortened first.

    Each line starts with what it is about ("Warning signs: ..."), so cutting the tails
    of the longest lines keeps all three headings and the start of every list.
    """
    if _units(text) <= limit:
        return text
    lines = text.split("\n")
    budget = limit - (len(lines) - 1)
    lengths = [_units(line) for line in lines]
    cap = max(lengths)
    while cap > 1 and sum(min(length, cap) for length in lengths) > budget:
        cap -= 1
    clipped = "\n".join(_cut(line, cap) for line in lines)
    return clipped if _units(clipped) <= limit else _cut(clipped, limit)
