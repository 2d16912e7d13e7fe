"""Terminal output shared by the commands: ANSI colour (on a terminal only), plain tables, JSON, ages."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from ctsync.planning.plan import Plan

_RESET = "\033[0m"


class Style:
    """Colours for a stream; none when it is not a terminal or NO_COLOR is set (https://no-color.org)."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}{_RESET}" if self.enabled else text

    def green(self, text: str) -> str:
        return self._paint("32", text)

    def yellow(self, text: str) -> str:
        return self._paint("33", text)

    def red(self, text: str) -> str:
        return self._paint("31", text)

    def alarm(self, text: str) -> str:
        return self._paint("1;31", text)

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)


def plan_lines(plan: Plan, style: Style) -> list[str]:
    """Plan.render() coloured by verb: + green, ~ yellow, - red; destructive and risky steps (and their risks)
    stand out in bold red."""
    lines = []
    for line in plan.render().splitlines():
        action = line.lstrip()
        if action.endswith(("[destructive]", "[risky]")) or action.startswith("risk: "):
            line = style.alarm(line)
        elif action.startswith("+ "):
            line = style.green(line)
        elif action.startswith("~ "):
            line = style.yellow(line)
        elif action.startswith("- "):
            line = style.red(line)
        lines.append(line)
    return lines


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Left-aligned columns two spaces apart, as kubectl prints them; no header line when `headers` is empty."""
    cells = ([list(headers)] if headers else []) + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))] if cells else []
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]


def print_json(data: Any, stream: TextIO | None = None, *, one_line: bool = False) -> None:
    text = json.dumps(data, indent=None if one_line else 2, sort_keys=True, ensure_ascii=False, default=str)
    print(text, file=stream, flush=True)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(text: str | None, now: datetime) -> str:
    """kubectl-style age of a timestamp: 45s, 12m, 3h, 5d; "-" when there is none."""
    then = parse_time(text)
    if then is None:
        return "-"
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
