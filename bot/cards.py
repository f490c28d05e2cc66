"""Cards and lines of the group chats, rendered from the catalogue (pure: ticket in, text and buttons out).

Cards are drawn when a change is written (they go through the outbox), so this lives beside the use-cases rather
than in handlers/. Every function takes the language: group chats read the deployment's group language
(``handling.group_language``), residents read their own. A card's buttons are those the lifecycle specification
offers on that card in the ticket's state (``bot.domain.lifecycle.buttons``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from bot.callbacks import CARD_OPS, TicketButton
from bot.config import City
from bot.domain.html_text import split_message
from bot.domain.lifecycle import OPEN_STATES, SIGN_CLOCK_STATES, Card, TicketState, buttons
from bot.domain.numbers import format_number
from bot.domain.rating import CODES, REASONS, Satisfaction, Solved, pair_code
from bot.place_words import point_in_words
from bot.texts import Texts
from storage.records import Event, Ticket

#: States whose card shows the unit's last answer (after a re-complaint is signed for anew, it is old news).
_ANSWER_SHOWN = frozenset({TicketState.RESOLVED, TicketState.CLOSED, TicketState.REOPENED})
RETURN_REASONS = ("reason_not_ours", "reason_not_our_area", "reason_incomplete")
EXTENSION_DAYS = (2, 5, 10)


@dataclass(frozen=True)
class CardExtras:
    """What a card shows beyond the ticket row."""

    photo_count: int = 0
    helpers: tuple[str, ...] = ()
    return_reason: tuple[str, str] | None = None  # (unit key, reason)
    note_keys: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)
    merged_into: str | None = None  # the number of the ticket this duplicate was merged into
    followers: int = 0  # residents following the ticket (its reporter, those of merged duplicates, ...)


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
        return texts.get(lang, "card.place", place=point_in_words(texts, lang, city, t.lat, t.lon))
    return texts.get(lang, "card.place_none")


place_line = _place  # the card's place line, for the other cards of a ticket (bot.callback_card)


def _due_lines(texts: Texts, lang: str, city: City, t: Ticket) -> list[str]:
    lines = []
    mark = texts.get(lang, "card.provisional") if t.deadline_provisional else ""
    if t.state in SIGN_CLOCK_STATES and t.sign_due_at:
        lines.append(texts.get(lang, "card.sign_due", due=when(t.sign_due_at, city)) + mark)
    if t.due_at and t.state in OPEN_STATES:
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
    if extras.merged_into:
        lines.append(g(lang, "merge.card_merged_into", number=format_number(extras.merged_into)))
    if extras.followers > 1:
        lines.append(g(lang, "merge.card_followers", count=extras.followers))
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
    if t.answer and t.state in _ANSWER_SHOWN:
        lines.append(g(lang, "card.answer", answer=escape(t.answer)))
    return lines


def _btn(texts: Texts, lang: str, key: str, op: str, t: Ticket, arg: str = "") -> dict[str, str]:
    return {"text": texts.get(lang, key), "callback_data": TicketButton(op, t.id, t.version, arg).encode()}


def action_buttons(texts: Texts, lang: str, card: Card, t: Ticket, arg: str = "") -> list[list[dict[str, str]]]:
    """The buttons ``card`` offers in the ticket's state, as the lifecycle specification says, two a row."""
    row = [_btn(texts, lang, spec.button.label, CARD_OPS[spec.action], t, arg)
           for spec in buttons(card, t.state, is_lead=t.lead) if spec.button is not None]
    return [row[i:i + 2] for i in range(0, len(row), 2)]


def _card(texts: Texts, lang: str, title_key: str, city: City, t: Ticket, extras: CardExtras,
          rows: list[list[dict[str, str]]]) -> dict[str, Any]:
    text = "\n".join([texts.get(lang, title_key, number=format_number(t.number)),
                      *_body(texts, lang, city, t, extras)])
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def unit_card(texts: Texts, lang: str, city: City, t: Ticket, extras: CardExtras, *, actionable: bool = True
              ) -> dict[str, Any]:
    """The assignment card in a unit's chat; its buttons are what the state allows now, and none at all in the
    chat of a unit that no longer has the case (`actionable=False`)."""
    rows = action_buttons(texts, lang, Card.UNIT, t) if actionable else []
    return _card(texts, lang, "card.title", city, t, extras, rows)


def helper_card(texts: Texts, lang: str, city: City, t: Ticket, extras: CardExtras) -> dict[str, Any]:
    """What a helping unit (协办) sees: the case, no buttons (the lead unit acts)."""
    return _card(texts, lang, "card.helper_title", city, t, extras, [])


def coordination_card(texts: Texts, lang: str, city: City, t: Ticket, extras: CardExtras) -> dict[str, Any]:
    """A case before the coordinators: returned, unroutable or escalated, with one-tap decisions."""
    return _card(texts, lang, "card.coordination_title", city, t, extras,
                 action_buttons(texts, lang, Card.COORDINATION, t))


def extension_card(texts: Texts, lang: str, city: City, t: Ticket, extension_id: int, unit: str, days: int,
                   reason: str, decision: str | None = None) -> dict[str, Any]:
    text = texts.get(lang, "card.extension", number=format_number(t.number),
                     unit=escape(unit_name(city, unit, lang)), days=days, reason=escape(reason),
                     due=when(t.due_at, city))
    rows: list[list[dict[str, str]]] = []
    if decision:
        text += "\n" + texts.get(lang, "card.extension_decided", decision=decision)
    else:
        rows = action_buttons(texts, lang, Card.EXTENSION, t, str(extension_id))
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def unit_picker(lang: str, city: City, t: Ticket, op: str, exclude: frozenset[str] = frozenset(),
                chosen: frozenset[str] = frozenset()) -> list[list[dict[str, str]]]:
    """Buttons for every unit (two a row), for naming a lead, helpers or a new responsible unit."""
    row = []
    for unit in city.units:
        if unit.key in exclude:
            continue
        label = ("✓ " if unit.key in chosen else "") + unit.name(lang)
        row.append({"text": label, "callback_data": TicketButton(op, t.id, t.version, unit.key).encode()})
    return [row[i:i + 2] for i in range(0, len(row), 2)]


def merge_proposal_card(texts: Texts, lang: str, city: City, b: Ticket, a: Ticket, unit: str | None,
                        decision: str | None = None) -> dict[str, Any]:
    """A unit's proposal to merge ``b`` into ``a``, before the coordinators (decided: no buttons)."""
    text = texts.get(lang, "merge.proposal_card", number=format_number(b.number), into=format_number(a.number),
                     unit=escape(unit_name(city, unit, lang)),
                     category=escape(city.category(b.category).name(lang)), description=escape(b.description[:300]),
                     into_description=escape(a.description[:300]))
    rows: list[list[dict[str, str]]] = []
    if decision:
        text += "\n" + texts.get(lang, "merge.proposal_decided", decision=decision)
    else:
        rows = action_buttons(texts, lang, Card.MERGE_PROPOSAL, b, str(a.id))
    return {"text": text, "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}


def _rows(row: list[dict[str, str]], per_row: int = 3) -> list[list[dict[str, str]]]:
    return [row[i:i + per_row] for i in range(0, len(row), per_row)]


def rating_buttons(texts: Texts, lang: str, t: Ticket) -> dict[str, Any]:
    """The rating's first question under the answer in a rater's chat: was the problem solved?"""
    return {"inline_keyboard": _rows([_btn(texts, lang, f"rates.btn_{s}", "sv", t, CODES[s]) for s in Solved])}


def satisfaction_buttons(texts: Texts, lang: str, t: Ticket, solved: Solved) -> dict[str, Any]:
    """The second question, in place of the first: how satisfied? (each button carries both answers)"""
    return {"inline_keyboard": _rows([_btn(texts, lang, f"rates.btn_{s}", "rt", t, pair_code(solved, s))
                                      for s in Satisfaction])}


def reason_buttons(texts: Texts, lang: str, rated: Ticket) -> dict[str, Any]:
    """After the rating: preset reasons and "type my own", for the answer ``rated`` (the ticket as it was rated:
    its version names that rating)."""
    rows = [[_btn(texts, lang, f"rates.reason_{key}", "rsn", rated, str(i))] for i, key in enumerate(REASONS)]
    rows.append([_btn(texts, lang, "rates.btn_write_reason", "rsn", rated, "w")])
    return {"inline_keyboard": rows}


def my_buttons(texts: Texts, lang: str, t: Ticket) -> list[dict[str, str]]:
    """The reporter's buttons for one ticket of /my (补充材料, 撤回 as its state allows), labelled with its number."""
    number = format_number(t.number)
    return [{"text": texts.get(lang, spec.button.label, number=number),
             "callback_data": TicketButton(CARD_OPS[spec.action], t.id, t.version).encode()}
            for spec in buttons(Card.MY, t.state) if spec.button is not None]


def open_case_line(texts: Texts, lang: str, city: City, t: Ticket, now: datetime) -> str:
    """One open case in a list (/open, the morning digest): number, state, the running deadline, overdue mark."""
    due_at = t.due_at or t.sign_due_at
    due = texts.get(lang, "ops.due_at", due=when(due_at, city)) if due_at else texts.get(lang, "ops.due_none")
    if due_at and due_at < now:
        due += " " + texts.get(lang, "ops.overdue")
    return texts.get(lang, "ops.open_line", number=format_number(t.number), state=texts.get(lang, f"state.{t.state}"),
                     due=due)


#: How much of a description /ticket shows (the reporter's text can be 1,500 characters, more once escaped).
CASE_DESCRIPTION_SHOWN = 800


#: Staff actors by the name Telegram gave them at the time (residents stay "群众": their names are never kept).
_WHO_NAMED = {"unit": "who.unit_named", "coordinator": "who.coordinator_named", "supervisor": "who.supervisor_named"}

#: The display name of a staff member at a moment, if known: (user id, when) → name.
NameAt = Callable[[int | None, datetime], str | None]


def _who(texts: Texts, lang: str, city: City, e: Event, name_at: NameAt | None = None) -> str:
    """Who acted, in plain text (the caller escapes it): the name valid at the event's time when one is known."""
    if e.actor_kind == "resident":
        return texts.get(lang, "ops.who_resident")
    name = name_at(e.actor_id, e.at) if name_at is not None and e.actor_kind in _WHO_NAMED else None
    if name:
        return texts.get(lang, _WHO_NAMED[e.actor_kind], unit=unit_name(city, e.unit, lang), name=name,
                         actor=e.actor_id or "")
    if e.actor_kind == "unit":
        return texts.get(lang, "ops.who_unit", unit=unit_name(city, e.unit, lang), actor=e.actor_id or "")
    if e.actor_kind in ("coordinator", "supervisor", "operator"):
        return texts.get(lang, f"ops.who_{e.actor_kind}", actor=e.actor_id or "")
    return texts.get(lang, "ops.who_system")


def timeline_line(texts: Texts, lang: str, city: City, e: Event, name_at: NameAt | None = None) -> str:
    """One event of a case for operators: when, who, what, the state change (if any) and why."""
    g = texts.get
    what = g(lang, f"event.{e.action}", unit=unit_name(city, e.unit, lang))
    moved = e.from_state and e.to_state and e.from_state != e.to_state
    change = (g(lang, "ops.change", from_state=g(lang, f"state.{e.from_state}"),
                to_state=g(lang, f"state.{e.to_state}")) if moved else "")
    why = g(lang, "ops.why", reason=escape(e.reason)) if e.reason else ""
    return g(lang, "ops.timeline_line", when=when(e.at, city), who=escape(_who(texts, lang, city, e, name_at)),
             what=escape(what), change=change, why=why)


def case_messages(texts: Texts, lang: str, city: City, t: Ticket, events: list[Event], helpers: list[str],
                  photo_count: int, limit: int, name_at: NameAt | None = None) -> list[str]:
    """The whole case for operators (/ticket), as as many messages as its timeline needs, each under ``limit``
    and each valid HTML (split between timeline lines, never inside a tag or an entity). ``name_at`` names the
    staff who acted, as they were called at the time."""
    g = texts.get
    flags = [g(lang, "card.sensitive", rule=escape(t.sensitive))] if t.sensitive else []
    if t.escalated:
        flags.append(g(lang, "card.escalated"))
    description = t.description
    if len(description) > CASE_DESCRIPTION_SHOWN:
        description = description[:CASE_DESCRIPTION_SHOWN] + "…"
    header = g(lang, "ops.case", number=format_number(t.number), version=t.version, state=g(lang, f"state.{t.state}"),
               category=escape(city.category(t.category).name(lang)), cls=g(lang, f"cls.{t.deadline_class}"),
               district=escape(unit_name(city, t.district, lang)), unit=escape(unit_name(city, t.unit, lang)),
               lead=g(lang, "ops.lead_mark") if t.lead else "",
               helpers=escape("、".join(unit_name(city, h, lang) for h in helpers) or g(lang, "ops.none")),
               sign_due=when(t.sign_due_at, city), due=when(t.due_at, city), bounces=t.bounces,
               reopens=t.reopen_count, flags="\n".join(flags), description=escape(description), photos=photo_count,
               reason=escape(route_reason(texts, lang, city, t)), timeline="").rstrip("\n")
    return split_message([header, *(timeline_line(texts, lang, city, e, name_at) for e in events)], limit,
                         continued=g(lang, "ops.case_continued", number=format_number(t.number)))
