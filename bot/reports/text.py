"""The report as Telegram messages (HTML), each under Telegram's 4096-character limit."""

from __future__ import annotations

import html
from datetime import date

from bot.domain.html_text import split_message
from bot.reports.model import CategoryShare, Report, UnitFigures
from bot.texts import Texts

MAX_MESSAGE = 4000  # Telegram allows 4096; leave room for the "(continued)" mark
DAILY_LINES_UP_TO = 31  # list every day for a month or less; longer periods get a summary line


def percent(value: float | None, texts: Texts, lang: str) -> str:
    return texts.get(lang, "report.na") if value is None else f"{value * 100:.1f}%"


def hours(value: int | None, texts: Texts, lang: str) -> str:
    return texts.get(lang, "report.na") if value is None else texts.get(lang, "report.hours", hours=value)


def category_name(share: CategoryShare, texts: Texts, lang: str) -> str:
    return texts.get(lang, "report.others") if share.key is None else share.name(lang)


def _rates(u: UnitFigures, lang: str, texts: Texts, key: str) -> str:
    """The three rates (响应率, 解决率, 满意率) of a unit or of the city."""
    return texts.get(lang, key, response=percent(u.response_rate, texts, lang),
                     resolution=percent(u.resolution_rate, texts, lang), partly=u.partly_solved,
                     satisfaction=percent(u.satisfaction_rate, texts, lang))


def _heading(report: Report, lang: str, texts: Texts, plain_key: str, weighted_key: str) -> str:
    """The ranking's heading: by on-time completion, or the configured weighting in words."""
    if not report.weights:
        return texts.get(lang, plain_key)
    weights = "，".join(texts.get(lang, "report.weight", rate=texts.get(lang, f"report.rate_{name}"),
                                  weight=f"{weight:g}") for name, weight in report.weights)
    return texts.get(lang, weighted_key, weights=html.escape(weights))


def _unit_line(u: UnitFigures, lang: str, texts: Texts) -> str:
    line = _unit_figures(u, lang, texts) + _rates(u, lang, texts, "report.rates_unit")
    if u.withdrawn:
        line += texts.get(lang, "report.unit_withdrawn", withdrawn=u.withdrawn)
    return line


def _unit_figures(u: UnitFigures, lang: str, texts: Texts) -> str:
    return texts.get(
        lang, "report.unit_line",
        rank=u.rank if u.rank is not None else texts.get(lang, "report.na"),
        name=html.escape(u.name(lang)),
        received=u.received,
        signed_rate=percent(u.signed_on_time_rate, texts, lang),
        resolved=u.resolved,
        resolved_on_time=u.resolved_on_time,
        on_time_rate=percent(u.on_time_rate, texts, lang),
        overdue=u.overdue_open,
        median=hours(u.median_hours, texts, lang),
        satisfaction=percent(u.satisfaction_rate, texts, lang),
        recomplaint=percent(u.recomplaint_rate, texts, lang),
        bounce=percent(u.bounce_rate, texts, lang),
    )


def channel_names(texts: Texts, lang: str) -> dict[str, str]:
    """Each channel's name in the report and the ledger (bot.domain.channels)."""
    return {"telegram": texts.get(lang, "report.channel_telegram"),
            "hotline": texts.get(lang, "report.channel_hotline"),
            "open311": texts.get(lang, "report.channel_open311"),
            "import": texts.get(lang, "report.channel_import")}


def _channel_lines(report: Report, lang: str, texts: Texts) -> list[str]:
    """A line per channel (and client), shown once anything came by a channel other than Telegram."""
    if all(c.channel == "telegram" for c in report.channels):
        return []
    names = channel_names(texts, lang)
    lines = ["", texts.get(lang, "report.channels_heading")]
    for c in report.channels:
        params = {"channel": html.escape(names.get(c.channel, c.channel)), "received": c.received,
                  "satisfaction": percent(c.satisfaction_rate, texts, lang)}
        if c.client:
            lines.append(texts.get(lang, "report.channel_client_line", client=html.escape(c.client), **params))
        else:
            lines.append(texts.get(lang, "report.channel_line", **params))
    return lines


def _day(d: date) -> str:
    return d.isoformat()


def render_lines(report: Report, lang: str, texts: Texts) -> list[str]:
    """The report as paragraphs (headings, one line per unit...), before splitting into messages."""
    t = report.total
    lines = [
        texts.get(lang, "report.title", city=html.escape(report.city(lang))),
        texts.get(lang, "report.period", start=_day(report.period.start), end=_day(report.period.end),
                  as_of=report.as_of.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if t.received == 0 and t.withdrawn == 0:
        lines.append(texts.get(lang, "report.empty"))
        return lines
    lines.append(texts.get(
        lang, "report.summary", received=t.received, signed_rate=percent(t.signed_on_time_rate, texts, lang),
        resolved=t.resolved, on_time_rate=percent(t.on_time_rate, texts, lang), overdue=t.overdue_open,
        median=hours(t.median_hours, texts, lang), satisfaction=percent(t.satisfaction_rate, texts, lang),
        recomplaint=percent(t.recomplaint_rate, texts, lang), bounce=percent(t.bounce_rate, texts, lang),
    ))
    lines.append(_rates(t, lang, texts, "report.rates_total"))
    if t.withdrawn:
        lines.append(texts.get(lang, "report.withdrawn", withdrawn=t.withdrawn))
    lines.extend(_channel_lines(report, lang, texts))
    lines.append("")
    lines.append(_heading(report, lang, texts, "report.units_heading", "report.units_heading_weighted"))
    lines.extend(_unit_line(u, lang, texts) for u in report.units if u.received or u.withdrawn)
    lines.append("")
    lines.append(_heading(report, lang, texts, "report.districts_heading", "report.districts_heading_weighted"))
    lines.extend(_unit_line(u, lang, texts) for u in report.districts if u.received or u.withdrawn)
    lines.append("")
    lines.append(texts.get(lang, "report.categories_heading"))
    lines.extend(
        texts.get(lang, "report.category_line", name=html.escape(category_name(c, texts, lang)), tickets=c.tickets,
                  share=percent(c.share, texts, lang))
        for c in report.categories
    )
    lines.append("")
    lines.append(texts.get(lang, "report.daily_heading"))
    counts = [n for _, n in report.daily]
    peak = max(report.daily, key=lambda d: d[1])
    low = min(report.daily, key=lambda d: d[1])
    lines.append(texts.get(lang, "report.daily_summary", average=f"{sum(counts) / len(counts):.1f}",
                           peak=peak[1], peak_day=_day(peak[0]), low=low[1], low_day=_day(low[0])))
    if len(report.daily) <= DAILY_LINES_UP_TO:
        lines.extend(texts.get(lang, "report.daily_line", day=_day(d), tickets=n) for d, n in report.daily)
    return lines


def split_messages(lines: list[str], continued: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Pack lines into messages of at most ``limit`` characters, breaking only between lines; every message after
    the first opens with ``continued``."""
    return split_message(lines, limit, continued)


def render_text(report: Report, lang: str, texts: Texts) -> list[str]:
    """The report as HTML messages, each shorter than 4096 characters."""
    return split_messages(render_lines(report, lang, texts), texts.get(lang, "report.continued"))
