"""The report as one PNG: unit ranking, district ranking, top-five category shares, daily volume.

A fresh server has no Chinese font, and matplotlib would draw every Chinese label as a box. The font comes from
the ``noto-cjk-sans-otc`` package (a dependency), registered with matplotlib's font manager once per process and
named explicitly in every text, so the labels never depend on what the machine happens to have installed.
Rendering uses the Agg canvas directly (no pyplot, no display) and never touches the network.
"""

from __future__ import annotations

import io
import threading
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.reports.model import Report, UnitFigures
from bot.reports.text import category_name
from bot.texts import Texts

_lock = threading.Lock()  # rc settings are process-wide; one chart at a time
BAR_COLOUR = "#2f6db5"
LOW_COLOUR = "#c0392b"  # the last-placed unit stands out, as on the platform's own rankings


@cache
def cjk_font() -> str:
    """Register the bundled Noto Sans CJK font with matplotlib (once) and return its family name."""
    import noto_cjk_sans_otc

    font_manager.fontManager.addfont(noto_cjk_sans_otc.FONT_PATH)
    return font_manager.FontProperties(fname=noto_cjk_sans_otc.FONT_PATH).get_name()


def _ranking(ax: Axes, figures: tuple[UnitFigures, ...], title: str, axis: str, empty: str,
             lang: str) -> None:
    ranked = [u for u in figures if u.on_time_rate is not None]
    ax.set_title(title)
    if not ranked:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    names = [u.name(lang) for u in ranked][::-1]  # best at the top
    rates = [100 * (u.on_time_rate or 0) for u in ranked][::-1]
    colours = [LOW_COLOUR if i == 0 and len(ranked) > 1 else BAR_COLOUR for i in range(len(ranked))]
    bars = ax.barh(names, rates, color=colours)
    ax.bar_label(bars, labels=[f"{r:.1f}" for r in rates], padding=2, fontsize=8)
    low = min(rates)
    ax.set_xlim(max(0.0, low - 10), 100 + (100 - max(0.0, low - 10)) * 0.08)
    ax.set_xlabel(axis)
    ax.tick_params(axis="y", labelsize=8)


def _figure(report: Report, lang: str, texts: Texts, family: str) -> Figure:
    fig = Figure(figsize=(14, 10), dpi=100)  # no pyplot: no global figure registry, Agg canvas below
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 3, height_ratios=[1.3, 1], hspace=0.38, wspace=0.45)
    start, end = report.period.start.isoformat(), report.period.end.isoformat()
    fig.suptitle(texts.get(lang, "report.chart_title", city=report.city(lang), start=start, end=end),
                 fontsize=16, family=family)
    empty = texts.get(lang, "report.chart_empty")
    axis_rate = texts.get(lang, "report.chart_axis_rate")
    _ranking(fig.add_subplot(grid[0, 0:2]), report.units, texts.get(lang, "report.chart_units"), axis_rate,
             empty, lang)
    _ranking(fig.add_subplot(grid[0, 2]), report.districts, texts.get(lang, "report.chart_districts"),
             axis_rate, empty, lang)

    pie = fig.add_subplot(grid[1, 0])
    pie.set_title(texts.get(lang, "report.chart_categories"))
    if report.categories:
        labels = [f"{category_name(c, texts, lang)} {c.share * 100:.1f}%" for c in report.categories]
        pie.pie([c.tickets for c in report.categories], labels=labels, startangle=90, counterclock=False,
                textprops={"fontsize": 8}, wedgeprops={"linewidth": 1, "edgecolor": "white"})
        pie.axis("equal")
    else:
        pie.text(0.5, 0.5, empty, ha="center", va="center", transform=pie.transAxes)
        pie.set_axis_off()

    line = fig.add_subplot(grid[1, 1:3])
    line.set_title(texts.get(lang, "report.chart_daily"))
    days = [d for d, _ in report.daily]
    line.plot(days, [n for _, n in report.daily], color=BAR_COLOUR, linewidth=1)
    line.set_ylabel(texts.get(lang, "report.chart_axis_tickets"))
    line.set_ylim(bottom=0)
    line.grid(alpha=0.3)
    line.tick_params(axis="x", labelrotation=30)
    return fig


def render_png(report: Report, lang: str, texts: Texts) -> bytes:
    """The report's chart as PNG bytes (about 1400×1000 pixels)."""
    family = cjk_font()
    with _lock, matplotlib.rc_context({"font.family": family, "font.sans-serif": [family],
                                       "axes.unicode_minus": False}):
        fig = _figure(report, lang, texts, family)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
