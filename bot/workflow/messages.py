"""Every outbox message the handling loop composes: cards and their redraws, notices to the people following a
ticket, alerts to the supervision group. Called inside a use-case's transaction; nothing is sent from here.

Group chats read the deployment's group language (``handling.group_language``); residents read their own.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from html import escape
from typing import Any

from bot import cards
from bot.callback_card import callback_card
from bot.cards import CardExtras, unit_name, when
from bot.domain import channels
from bot.domain.lifecycle import FINAL_STATES, SPEC, Action, Card, TicketState
from bot.domain.numbers import format_number
from bot.workflow.common import WorkflowDeps
from storage import chats, contacts, hotline, inquiries, outbox, tickets, users
from storage.records import Ticket

Notes = tuple[tuple[str, dict[str, Any]], ...]
CALLBACK = "callback"  # card kind of a hotline ticket's callback card (回访), in the operators' chat
OPERATORS_CHAT = "operators"  # the binding role of the operators' group chat
MERGE_PROPOSAL = "merge:"  # card kind of a unit's proposal to merge, before the coordinators: merge:<into id>


def is_stray_copy(tracked: list[int | None], message_id: int) -> bool:
    """Whether a pressed message is no card of the ticket in its chat, given the message ids of the cards it has
    there (None: still in the outbox, so the pressed message may yet be recorded as it)."""
    return bool(tracked) and None not in tracked and message_id not in tracked


class Messages:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    @property
    def lang(self) -> str:
        return self.d.group_lang

    # -- cards ---------------------------------------------------------------------------------------------------

    def extras(self, c: sqlite3.Connection, t: Ticket, return_reason: tuple[str, str] | None = None,
               notes: Notes = ()) -> CardExtras:
        if return_reason is None and t.state == TicketState.RETURNED:
            return_reason = tickets.last_return(c, t.id)
        asked, answered = inquiries.tally(c, t.id)
        if asked:
            notes = (*notes, ("card.inquiries", {"asked": asked, "answered": answered}))
        into = tickets.get(c, t.merged_into) if t.merged_into else None
        return CardExtras(photo_count=tickets.photo_count(c, t.id), helpers=tuple(tickets.helpers(c, t.id)),
                          return_reason=return_reason, note_keys=notes, merged_into=into.number if into else None,
                          followers=tickets.follower_count(c, t.id))

    def render(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int | None = None) -> dict[str, Any]:
        extras = self.extras(c, t)
        city, texts, lang = self.d.config.city, self.d.texts, self.lang
        if kind == "unit":
            current = chats.chat_for(c, "unit", t.unit) if t.unit else None
            return cards.unit_card(texts, lang, city, t, extras, actionable=chat_id is None or chat_id == current)
        if kind == "helper":
            return cards.helper_card(texts, lang, city, t, extras)
        if kind == CALLBACK:
            return self.callback_payload(c, t)
        return cards.coordination_card(texts, lang, city, t, extras)

    def post_card(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int, payload: dict[str, Any],
                  now: datetime, with_media: bool = True) -> None:
        """Queue a card (after the map pin and photos for a unit); the chat's older card of the ticket keeps its
        text but loses its buttons, so only the newest card acts."""
        old_message, _ = chats.card_message(c, t.id, kind, chat_id)
        if old_message is not None:
            retired = {"text": payload["text"], "parse_mode": "HTML", "reply_markup": {"inline_keyboard": []},
                       "message_id": old_message}
            self.edit_card(c, t, kind, chat_id, retired, now)
        if with_media and kind in ("unit", "helper"):
            self._queue_media(c, t, chat_id, now)
        row_id = outbox.add(c, chat_id, "card", {**payload, "ticket_id": t.id, "kind": kind}, now, ticket_id=t.id)
        if row_id is not None:
            chats.card_queued(c, t.id, kind, chat_id, row_id)

    def post_unit_card(self, c: sqlite3.Connection, t: Ticket, unit: str, now: datetime, kind: str = "unit",
                       with_media: bool = True) -> bool:
        """The card in ``unit``'s chat; False when the unit has no bound chat yet."""
        chat = chats.chat_for(c, "unit", unit)
        if chat is None:
            return False
        self.post_card(c, t, kind, chat, self.render(c, t, kind), now, with_media=with_media)
        return True

    def edit_card(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int, payload: dict[str, Any],
                  now: datetime) -> None:
        """Queue an edit of the card as it is now: by its message id, or by the outbox row still sending it."""
        if "message_id" not in payload:
            message_id, card_row = chats.card_message(c, t.id, kind, chat_id)
            if message_id is None and card_row is None:
                return
            payload = {**payload, "message_id": message_id} if message_id else {**payload, "card_row": card_row}
        outbox.add(c, chat_id, "edit_card", payload, now, ticket_id=t.id)

    def retire_copy(self, c: sqlite3.Connection, ticket_id: int, chat_id: int, message_id: int,
                    now: datetime) -> bool:
        """A card button was pressed on `message_id`: if that message is none of the ticket's cards in the chat
        (an untracked copy: a card delivered just before a crash and sent again after it), its buttons go, so
        only the tracked card, the one every redraw edits, acts. False when it is a card we track."""
        if not is_stray_copy(chats.card_messages_in(c, ticket_id, chat_id), message_id):
            return False
        outbox.add(c, chat_id, "drop_buttons", {"message_id": message_id}, now, ticket_id=ticket_id)
        return True

    def follow_migration(self, c: sqlite3.Connection, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup (learnt from its service message or from a send refused with the new id):
        pending rows, its binding and its cards move along, and the cards left behind are posted again."""
        outbox.move_chat(c, old_chat_id, new_chat_id, now)
        chats.move_binding(c, old_chat_id, new_chat_id)
        self.repost_cards(c, new_chat_id, now)

    def repost_cards(self, c: sqlite3.Connection, chat_id: int, now: datetime) -> None:
        """The group became this supergroup: its cards already sent stayed in the old group, where no edit can
        reach them, so each open case's card is posted afresh (without its map pin and photos, which are still
        readable in the old history); cards of final cases and decided requests are no longer tracked. Runs in
        the outbox sender's transaction."""
        for ticket_id, kind, sending in chats.cards_in(c, chat_id):
            if sending is not None:
                continue  # still on its way: its pending row moved to the supergroup with it
            t = tickets.get(c, ticket_id)
            if t is None or t.state in FINAL_STATES or kind not in ("unit", "helper", "coordination"):
                chats.forget_card(c, ticket_id, kind, chat_id)
                continue
            self.post_card(c, t, kind, chat_id, self.render(c, t, kind, chat_id), now, with_media=False)

    def refresh_cards(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> None:
        """Redraw every card of the ticket so its text and buttons match the new state."""
        for kind, chat_id in chats.cards_of(c, t.id):
            if kind.startswith(MERGE_PROPOSAL):
                self._rearm_merge_proposal(c, t, kind, chat_id, now)
                continue
            if kind.startswith("extension:"):
                continue
            self.edit_card(c, t, kind, chat_id, self.render(c, t, kind, chat_id), now)

    def to_coordination(self, c: sqlite3.Connection, t: Ticket, now: datetime,
                        return_reason: tuple[str, str] | None = None, notes: Notes = ()) -> None:
        chat = chats.chat_for(c, "coordination")
        if chat is None:
            return  # nobody to tell yet; /open and /ticket still show it, and binding the group is step one
        extras = self.extras(c, t, return_reason=return_reason, notes=notes)
        payload = cards.coordination_card(self.d.texts, self.lang, self.d.config.city, t, extras)
        self.post_card(c, t, "coordination", chat, payload, now)

    def extension_card(self, c: sqlite3.Connection, t: Ticket, extension_id: int, unit: str, days: int,
                       reason: str, now: datetime, decision: str | None = None, chat_id: int | None = None) -> None:
        """Post a request for more time to the coordinators, or (with ``decision``) redraw it as decided."""
        payload = cards.extension_card(self.d.texts, self.lang, self.d.config.city, t, extension_id, unit, days,
                                       reason, decision=decision)
        kind = f"extension:{extension_id}"
        if decision is not None and chat_id is not None:
            self.edit_card(c, t, kind, chat_id, payload, now)
            return
        coordination = chats.chat_for(c, "coordination")
        if coordination is not None:
            self.post_card(c, t, kind, coordination, payload, now)

    def merge_proposal_card(self, c: sqlite3.Connection, b: Ticket, a: Ticket, unit: str | None, now: datetime,
                            decision: str | None = None, chat_id: int | None = None) -> None:
        """Post a unit's proposal to merge ``b`` into ``a`` to the coordinators, or redraw it as decided (its last
        word: later redraws of ``b`` leave it alone)."""
        payload = cards.merge_proposal_card(self.d.texts, self.lang, self.d.config.city, b, a, unit, decision)
        kind = f"{MERGE_PROPOSAL}{a.id}"
        if decision is not None and chat_id is not None:
            self.edit_card(c, b, kind, chat_id, payload, now)
            chats.forget_card(c, b.id, kind, chat_id)
            return
        coordination = chats.chat_for(c, "coordination")
        if coordination is not None:
            self.post_card(c, b, kind, coordination, payload, now)

    def to_unit_chat(self, c: sqlite3.Connection, t: Ticket, key: str, now: datetime, **params: Any) -> None:
        """A line for the unit that has the ticket, in its group (nothing if it has no group bound)."""
        chat = chats.chat_for(c, "unit", t.unit) if t.unit else None
        if chat is None:
            return
        text = self.d.texts.get(self.lang, key, number=format_number(t.number), **params)
        outbox.add(c, chat, "message", {"text": text, "parse_mode": "HTML"}, now, ticket_id=t.id)

    def _rearm_merge_proposal(self, c: sqlite3.Connection, b: Ticket, kind: str, chat_id: int,
                              now: datetime) -> None:
        """An undecided proposal's buttons follow ``b``'s version (the unit may sign for it meanwhile); they go
        once ``b`` or the ticket it would merge into is no longer open. Its text stays as the unit wrote it."""
        a = tickets.get(c, int(kind.removeprefix(MERGE_PROPOSAL)))
        rows: list[list[dict[str, str]]] = []
        if b.is_open and a is not None and a.is_open:
            rows = cards.action_buttons(self.d.texts, self.lang, Card.MERGE_PROPOSAL, b, str(a.id))
        message_id, card_row = chats.card_message(c, b.id, kind, chat_id)
        target = {"message_id": message_id} if message_id else {"source_row": card_row}
        outbox.add(c, chat_id, "drop_buttons", {**target, "reply_markup": {"inline_keyboard": rows}}, now,
                   ticket_id=b.id)

    def _queue_media(self, c: sqlite3.Connection, t: Ticket, chat_id: int, now: datetime) -> None:
        city = self.d.config.city
        if t.lat is not None and t.lon is not None:
            if t.place_key:
                place = city.place(t.place_key)
                outbox.add(c, chat_id, "venue", {"latitude": t.lat, "longitude": t.lon,
                                                 "title": place.name(self.lang),
                                                 "address": unit_name(city, place.unit, self.lang)}, now,
                           ticket_id=t.id)
            else:
                outbox.add(c, chat_id, "location", {"latitude": t.lat, "longitude": t.lon}, now, ticket_id=t.id)
        photo_rows = [row_id for row_id, _ in tickets.photos_of(c, t.id, "report")]
        if photo_rows:
            outbox.add(c, chat_id, "photos", {"photo_rows": photo_rows}, now, ticket_id=t.id)

    def reply_on_card(self, c: sqlite3.Connection, t: Ticket, text: str, now: datetime, *,
                      photo_row: int | None = None, dedupe_key: str | None = None) -> bool:
        """A message (or a picture with ``text`` as its caption) to the chat holding the ticket's card, as a reply
        to that card: the unit's while a unit has it, else the coordinators'. False when there is no such chat."""
        kind, chat_id = ("unit", chats.chat_for(c, "unit", t.unit)) if t.unit else (
            "coordination", chats.chat_for(c, "coordination"))
        if chat_id is None:
            return False
        payload: dict[str, Any] = {"parse_mode": "HTML"}
        message_id, card_row = chats.card_message(c, t.id, kind, chat_id)
        if message_id is not None:
            payload.update(reply_to_message_id=message_id, allow_sending_without_reply=True)
        elif card_row is not None:
            payload["reply_card_row"] = card_row
        if photo_row is None:
            outbox.add(c, chat_id, "message", {**payload, "text": text}, now, ticket_id=t.id, dedupe_key=dedupe_key)
        else:
            outbox.add(c, chat_id, "photo", {**payload, "photo_row": photo_row, "caption": text}, now,
                       ticket_id=t.id, dedupe_key=dedupe_key)
        return True

    # -- people --------------------------------------------------------------------------------------------------

    def lang_of(self, c: sqlite3.Connection, user_id: int) -> str:
        user = users.get(c, user_id)
        return user.language if user else self.lang

    def tell_people(self, c: sqlite3.Connection, t: Ticket, now: datetime, key: str, extra_key: str | None = None,
                    **params: Any) -> None:
        """The reporter and everyone following the ticket hear of the change, each in their language (messages
        are HTML: what people typed, such as a rejection's reason, is escaped)."""
        city = self.d.config.city
        shown = {name: escape(value) if isinstance(value, str) else value for name, value in params.items()}
        for user_id, lang in self._reachable_followers(c, t):
            text = self.d.texts.get(lang, key, number=format_number(t.number),
                                    unit=escape(unit_name(city, t.unit, lang)), due=when(t.due_at, city), **shown)
            if extra_key:
                text += "\n" + self.d.texts.get(lang, extra_key, due=when(t.due_at, city))
            outbox.add(c, user_id, "message", {"text": text}, now, ticket_id=t.id,
                       dedupe_key=f"t{t.id}:v{t.version}:{key}:{user_id}")

    def callback_payload(self, c: sqlite3.Connection, t: Ticket) -> dict[str, Any]:
        """The callback card (回访) of a hotline ticket, for the operators' chat only (it names the caller)."""
        answer = SPEC[Action.RESOLVE].event
        tries = hotline.tries_since_answer(c, t.id, SPEC[Action.CALLBACK_NOT_REACHED].event, answer)
        unreachable = hotline.tries_since_answer(c, t.id, SPEC[Action.CALLER_UNREACHABLE].event, answer) > 0
        return callback_card(self.d.texts, self.lang, self.d.config.city, t, contacts.get(c, t.id), tries,
                             self.d.config.hotline.callback_tries, unreachable)

    def tell_resolved(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> None:
        """The answer (and its photo) to the reporter with the rating buttons; followers hear it without them. A
        hotline caller is called back by an operator: the operators' chat gets the callback card instead."""
        if t.channel == channels.HOTLINE:
            operators = chats.chat_for(c, OPERATORS_CHAT)
            if operators is not None:
                self.post_card(c, t, CALLBACK, operators, self.callback_payload(c, t), now)
        city = self.d.config.city
        answer_photos = [row_id for row_id, _ in tickets.photos_of(c, t.id, "answer")][-1:]
        raters = set(tickets.raters(c, t))
        for user_id, lang in self._reachable_followers(c, t):
            if answer_photos:
                outbox.add(c, user_id, "photos", {"photo_rows": answer_photos}, now, ticket_id=t.id)
            text = self.d.texts.get(lang, "notify.resolved", number=format_number(t.number),
                                    unit=escape(unit_name(city, t.unit, lang)), answer=escape(t.answer or ""))
            payload: dict[str, Any] = {"text": text}
            if user_id in raters:
                text += "\n\n" + self.d.texts.get(lang, "rates.ask")
                payload = {"text": text, "reply_markup": cards.rating_buttons(self.d.texts, lang, t)}
            outbox.add(c, user_id, "message", payload, now, ticket_id=t.id,
                       dedupe_key=self.resolved_key(t, user_id))

    @staticmethod
    def resolved_key(t: Ticket, user_id: int) -> str:
        """The dedupe key of the answer message (with the rating buttons) for one version of the ticket."""
        return f"t{t.id}:v{t.version}:resolved:{user_id}"

    def drop_rating_buttons(self, c: sqlite3.Connection, rated: Ticket, user_id: int, now: datetime,
                            keyboard: dict[str, Any] | None = None, step: str = "rated") -> None:
        """The answer's rating buttons are spent: their removal is owed like any other message (a lost direct
        edit, a crash, or a press that came late must not leave them live). ``keyboard`` replaces them instead
        (the rater's reason buttons); ``step`` tells removals of the same message apart."""
        row = outbox.row_id_by_dedupe_key(c, self.resolved_key(rated, user_id))
        if row is not None:
            payload: dict[str, Any] = {"source_row": row}
            if keyboard is not None:
                payload["reply_markup"] = keyboard
            outbox.add(c, user_id, "drop_buttons", payload, now, ticket_id=rated.id,
                       dedupe_key=f"t{rated.id}:v{rated.version}:{step}:{user_id}")

    def drop_all_rating_buttons(self, c: sqlite3.Connection, rated: Ticket, now: datetime,
                                keep: tuple[int, dict[str, Any]] | None = None) -> None:
        """Every rater's buttons on this answer are spent (the first rating decides); ``keep`` is the rater who
        rated and the keyboard their message shows next (the reason buttons)."""
        for user_id in tickets.raters(c, rated):
            keyboard = keep[1] if keep is not None and keep[0] == user_id else None
            self.drop_rating_buttons(c, rated, user_id, now, keyboard)

    def _reachable_followers(self, c: sqlite3.Connection, t: Ticket) -> list[tuple[int, str]]:
        found = []
        for user_id in tickets.followers(c, t.id):
            user = users.get(c, user_id)
            if user is not None and user.reachable:
                found.append((user_id, user.language))
        return found

    # -- alerts --------------------------------------------------------------------------------------------------

    def sensitive_alerts(self, c: sqlite3.Connection, t: Ticket, rule: str, now: datetime) -> None:
        city, texts = self.d.config.city, self.d.texts
        recipients = [(uid, self.lang_of(c, uid)) for uid in chats.social_supervisors(c)]
        supervision = chats.chat_for(c, "supervision")
        if supervision is not None:
            recipients.append((supervision, self.lang))
        for chat_id, lang in recipients:
            clock = (texts.get(lang, "alert.clock", due=when(t.sign_due_at, city)) if t.sign_due_at
                     else texts.get(lang, "alert.clock_none"))
            text = texts.get(lang, "alert.sensitive", number=format_number(t.number),
                             category=city.category(t.category).name(lang),
                             district=unit_name(city, t.district, lang), rule=rule,
                             created=when(t.created_at, city), unit=unit_name(city, t.unit, lang), clock=clock)
            outbox.add(c, chat_id, "message", {"text": text, "parse_mode": "HTML"}, now, ticket_id=t.id,
                       dedupe_key=f"t{t.id}:sensitive:{chat_id}")

    def recomplaint_alert(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> None:
        supervision = chats.chat_for(c, "supervision")
        if supervision is None:
            return
        city, lang = self.d.config.city, self.lang
        text = self.d.texts.get(lang, "alert.recomplaint", number=format_number(t.number),
                                category=city.category(t.category).name(lang),
                                unit=unit_name(city, t.unit, lang), count=t.reopen_count)
        outbox.add(c, supervision, "message", {"text": text, "parse_mode": "HTML"}, now, ticket_id=t.id,
                   dedupe_key=f"t{t.id}:recomplaint:{t.reopen_count}")

    def calendar_alert(self, c: sqlite3.Connection, t: Ticket, key: str, year: int, now: datetime) -> None:
        supervision = chats.chat_for(c, "supervision")
        if supervision is None:
            return
        text = self.d.texts.get(self.lang, key, year=year, number=format_number(t.number))
        outbox.add(c, supervision, "message", {"text": text}, now, ticket_id=t.id,
                   dedupe_key=f"calendar:{key}:{year}:{t.id}")
