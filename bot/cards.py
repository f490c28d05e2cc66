"""Cards and notices of the handling loop, rendered from the catalogue (pure: ticket in, text and buttons out).

Cards are drawn when a change is written (they go through the outbox), so this lives beside the use-cases rather
than in handlers/. Group chats read Chinese (the city's language); residents read their own language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from bot.callbacks import TicketButton
from bot.config import City
from bot.domain.numbers import format_number
from bot.texts import Texts
from storage.records import Ticket

GROUP_LANG = "zh"
RETURN_REASONS = ("reason_not_ours", "reason_not_our_area", "reason_incomplete")
EXTENSION_DAYS = (2, 5, 10)


@dataclass(frozen=True)
class CardExtras:
    """What a card shows beyond the ticket row."""

    photo_count: int = 0
    helpers: tuple[str, ...] = ()
    return_reason: tuple[str, str] | None = None  # (unit key, reason)
    note_keys: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)


def when(at: datetime | None, city: City) -> str:
    return at.astimezone(city.timezone).strftime("%Y-%m-%d %H:%M") if at else "—"


def unit_name(city: City, key: str | None, lang: str) -> str:
    if not key:
        return "—"
    try:
        return city.unit(key).name(lang)
    except KeyError:
        return key


def route_reason(texts: Texts, lang: str, city: City, ticket: Ticket) -> str:
    """The stored routing reason ({"key", "params"} with unit/category KEYS) in words."""
    if not ticket.route_reason:
        return "—"
    reason = json.loads(ticket.route_reason)
    params: dict[str, str] = {}
    for name, value in (reason.get("params") or {}).items():
        if name == "category":
            params[name] = city.category(value).name(lang)
        else:
            params[name] = unit_name(city, value, lang)
    try:
        return texts.get(lang, reason["key"], **params)
    except KeyError:
        return reason["key"]


def _place(texts: Texts, lang: str, city: City, t: Ticket) -> str:
    if t.place_key:
        return texts.get(lang, "card.place", place=escape(city.place(t.place_key).name(lang)))
    if t.place_text:
        return texts.get(lang, "card.place", place=escape(t.place_text))
    if t.lat is not None and t.lon is not None:
        return texts.get(lang, "card.place", place=f"{t.lat:.5f}, {t.lon:.5f}")
    return texts.get(lang, "card.place_none")


def _due_lines(texts: Texts, lang: str, city: City, t: Ticket) -> list[str]:
    lines = []
    mark = texts.get(lang, "card.provisional") if t.deadline_provisional else ""
    if t.state == "dispatched" and t.sign_due_at:
        lines.append(texts.get(lang, "card.sign_due", due=when(t.sign_due_at, city)) + mark)
    if t.due_at and t.state in ("accepted", "reopened", "dispatched", "returned"):
        lines.append(texts.get(lang, "card.due", due=when(t.due_at, city)) + mark)
    return lines


def _body(texts: Texts, lang: str, city: City, t: Ticket, extras: CardExtras) -> list[str]:
    g = texts.get
    lines = [
        g(lang, "card.category", category=escape(city.category(t.category).name(lang))),
        g(lang, "card.deadline_class", cls=g(lang, f"cls.{t.deadline_class}")),
        *_due_lines(texts, lang, city, t),
        _place(texts, lang, city, t),
        g(lang, "card.description", description=escape(t.description)),
    ]
    if extras.photo_count:
        lines.append(g(lang, "card.photos", count=extras.photo_count))
    lines.append(g(lang, "card.reason", reason=escape(route_reason(texts, lang, city, t))))
    if t.unit:
        key = "card.lead" if t.lead else "card.unit"
        lines.append(g(lang, key, unit=escape(unit_name(city, t.unit, lang))))
    if extras.helpers:
        lines.append(g(lang, "card.helpers", units="、".join(unit_name(city, u, lang) for u in extras.helpers)))
    lines.append(g(lang, "card.state", state=g(lang, f"state.{t.state}")))
    if t.sensitive:
        lines.append(g(lang, "card.sensitive", rule=escape(t.sensitive)))
    if t.reopen_count:
        lines.append(g(lang, "card.recomplaint", count=t.reopen_count))
    if t.bounces:
        lines.append(g(lang, "card.bounces", count=t.bounces))
    if t.escalated:
        lines.append(g(lang, "card.escalated"))
    if extras.return_reason:
        unit, reason = extras.return_reason
        lines.append(g(lang, "card.return_reason", unit=escape(unit_name(city, unit, lang)), reason=escape(reason)))
    for key, params in extras.note_keys:
        lines.append(g(lang, key, **params))
    if t.answer and t.state in ("resolved", "closed", "reopened"):
        lines.append(g(lang, "card.answer", answer=escape(t.answer)))
    return lines


def _btn(texts: Texts, key: str, op: str, t: Ticket, arg: str = "") -> dict[str, str]:
    return {"text": texts.get(GROUP_LANG, key), "callback_data": TicketButton(op, t.id, t.version, arg).encode()}


def unit_card(texts: Texts, city: City, t: Ticket, extras: CardExtras, *, actionable: bool = True
              ) -> dict[str, Any]:
    """The assignment card in a unit's chat; its buttons are what the state allows now, and none at all in the
    chat of a unit that no longer has the case (`actionable=False`)."""
    lang = GROUP_LANG
    text = "\n".join([texts.get(lang, "card.title", number=format_number(t.number)),
                      *_body(texts, lang, city, t, extras)])
    rows = _unit_buttons(texts, t) if actionable else []
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def _unit_buttons(texts: Texts, t: Ticket) -> list[list[dict[str, str]]]:
    """What the responsible unit may do in the ticket's state (a lead unit may not return it)."""
    if t.state == "dispatched":
        row = [_btn(texts, "card.btn_accept", "acc", t)]
        if not t.lead:
            row.append(_btn(texts, "card.btn_return", "ret", t))
        return [row]
    if t.state == "accepted":
        rows = [[_btn(texts, "card.btn_resolve", "res", t), _btn(texts, "card.btn_extend", "ext", t)]]
        if not t.lead:
            rows.append([_btn(texts, "card.btn_return", "ret", t)])
        return rows
    if t.state == "reopened":
        return [[_btn(texts, "card.btn_accept", "acc", t), _btn(texts, "card.btn_resolve", "res", t)]]
    return []


def helper_card(texts: Texts, city: City, t: Ticket, extras: CardExtras) -> dict[str, Any]:
    """What a helping unit (协办) sees: the case, no buttons (the lead unit acts)."""
    text = "\n".join([texts.get(GROUP_LANG, "card.helper_title", number=format_number(t.number)),
                      *_body(texts, GROUP_LANG, city, t, extras)])
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": []}}


def coordination_card(texts: Texts, city: City, t: Ticket, extras: CardExtras) -> dict[str, Any]:
    """A case before the coordinators: returned, unroutable or escalated, with one-tap decisions."""
    text = "\n".join([texts.get(GROUP_LANG, "card.coordination_title", number=format_number(t.number)),
                      *_body(texts, GROUP_LANG, city, t, extras)])
    rows: list[list[dict[str, str]]] = []
    if t.state in ("registered", "returned"):
        rows = [[_btn(texts, "card.btn_lead", "lead", t), _btn(texts, "card.btn_redispatch", "rd", t)],
                [_btn(texts, "card.btn_class", "cls", t), _btn(texts, "card.btn_reject", "rej", t)]]
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def extension_card(texts: Texts, city: City, t: Ticket, extension_id: int, unit: str, days: int, reason: str,
                   decision: str | None = None) -> dict[str, Any]:
    text = texts.get(GROUP_LANG, "card.extension", number=format_number(t.number),
                     unit=escape(unit_name(city, unit, GROUP_LANG)), days=days, reason=escape(reason),
                     due=when(t.due_at, city))
    rows: list[list[dict[str, str]]] = []
    if decision:
        text += "\n" + texts.get(GROUP_LANG, "card.extension_decided", decision=decision)
    else:
        rows = [[_btn(texts, "card.btn_approve", "xa", t, str(extension_id)),
                 _btn(texts, "card.btn_deny", "xn", t, str(extension_id))]]
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def unit_picker(texts: Texts, city: City, t: Ticket, op: str, exclude: frozenset[str] = frozenset(),
                chosen: frozenset[str] = frozenset()) -> list[list[dict[str, str]]]:
    """Buttons for every unit (two a row), for naming a lead, helpers or a new responsible unit."""
    buttons = []
    for unit in city.units:
        if unit.key in exclude:
            continue
        label = ("✓ " if unit.key in chosen else "") + unit.name(GROUP_LANG)
        buttons.append({"text": label, "callback_data": TicketButton(op, t.id, t.version, unit.key).encode()})
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def rating_buttons(texts: Texts, lang: str, t: Ticket) -> dict[str, Any]:
    return {"inline_keyboard": [[
        {"text": texts.get(lang, "notify.btn_satisfied"),
         "callback_data": TicketButton("sat", t.id, t.version).encode()},
        {"text": texts.get(lang, "notify.btn_dissatisfied"),
         "callback_data": TicketButton("dis", t.id, t.version).encode()},
    ]]}
