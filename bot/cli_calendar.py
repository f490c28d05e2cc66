"""``complaint-bot calendar check``: which years the working-day calendar covers, and by what.

Prints one line per year from last year to the year after the horizon, the horizon (the last day known without
the weekends-only fallback) and a warning when fewer than ``deadlines.warn_days_before_horizon`` days remain.
Exit status 0 if today + that many days is covered, 1 if not: usable from cron or a monitoring check.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import load_config
from bot.domain.calendar import Coverage, Source, coverage, package_years

_SHOWN: dict[Source, str] = {
    "config": "config",
    "chinese-calendar": "chinese-calendar",
    "weekends-only": "weekends-only (provisional)",
    "unknown": "NOT COVERED",
}


def register(subparsers: Any) -> None:
    """Add ``calendar check`` to the ``complaint-bot`` sub-commands (``subparsers`` from add_subparsers)."""
    cal = subparsers.add_parser("calendar", help="the working-day calendar")
    actions = cal.add_subparsers(dest="calendar_command", required=True)
    check = actions.add_parser("check", help="which years are covered, and by what; exit 1 if the horizon is near")
    check.add_argument("--config", required=True, type=Path)
    check.add_argument("--today", type=date.fromisoformat, help="pretend today is YYYY-MM-DD (for testing)")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``calendar check``; ConfigError propagates (the caller prints it and exits 2)."""
    out = out or sys.stdout
    config = load_config(args.config)
    city = config.city
    today: date = args.today or datetime.now(city.timezone).date()
    report = coverage(city.calendar(), today, config.deadlines.warn_days_before_horizon)
    for line in render(report):
        print(line, file=out)
    return 0 if report.ok else 1


def render(report: Coverage) -> list[str]:
    """The lines ``calendar check`` prints (also usable for a start-up log line or a chat message)."""
    span = package_years()
    package = f"chinese-calendar knows {span[0]}–{span[1]}" if span else "chinese-calendar knows no year"
    lines = [f"working-day calendar on {report.today.isoformat()} ({package})"]
    lines += [f"  {y.year}  {_SHOWN[y.source]}" for y in report.years]
    lines.append(f"horizon: {report.horizon.isoformat()} ({report.days_left} days from today)")
    if report.warn:
        lines.append(
            f"WARNING: fewer than {report.warn_days} days left before the calendar runs out: declare "
            f"{report.next_year} in the city file ([[calendar.years]], from the State Council's notice)"
        )
    return lines
