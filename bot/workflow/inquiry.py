"""Asking the reporter, privately (询问群众): a unit's liaison asks from the card, the reporter answers in their
private chat, and each side sees only the ticket number and the unit — never the other's name, username or
contact. Every message goes through the outbox; the question and each answer are events (not on /status).

A round is one question (``storage.inquiries``). The reporter answers by replying to the question's message or
with its answer button; either way the round, not the card's version, says which ticket the answer belongs to, so
a reply to an older question still lands on the right ticket after later rounds moved the version on. The answer
is accepted while the unit that asked still holds the case (the lifecycle's ``ANSWER_INQUIRY`` sources).

A question that cannot reach the reporter is told to the unit: at once when the reporter is known to have blocked
the bot, and from the outbox sender (:meth:`Inquiries.undeliverable`) when Telegram says so on delivery.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bot import cards
from bot.cards import unit_name
from bot.domain.lifecycle import Action, Card
from bot.domain.numbers import format_number
from bot.workflow.access import Access, allowing, planned
from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import chats, inquiries, outbox, tickets, users
from storage.inquiries import Inquiry
from storage.records import Photo, Ticket

QUESTION_MAX = 500  # characters of a liaison's question
ANSWER_MAX = 1000  # characters of a reporter's answer
ANSWER_QUESTION = "inquiry_answer"  # the pending input of a reporter who pressed the answer button


@dataclass(frozen=True)
class Asked:
    ticket: Ticket
    round: int


class Inquiries:
    def __init__(self, deps: WorkflowDeps, access: Access, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.access = access
        self.transitions = transitions
        self.messages = messages

    # -- the unit ------------------------------------------------------------------------------------------------

    async def ask_question(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The liaison pressed 询问群众: check they may, that the reporter can be reached, then wait for the
        typed question."""
        def tx(c: sqlite3.Connection) -> Ticket:
            t = allowing(self.access.for_unit(c, actor, ticket_id, version), Action.ASK_REPORTER)
            self._reachable(c, t)
            self.access.ask(c, actor, "inquiry", t)
            return t

        return await self.d.write(tx)

    async def send_question(self, actor: Actor, ticket_id: int, version: int, question: str) -> Asked:
        if len(question) > QUESTION_MAX:
            raise Refused("deny.question_too_long", length=len(question), max=QUESTION_MAX)

        def tx(c: sqlite3.Connection) -> Asked:
            now = self.d.clock.now()
            t = self.access.for_unit(c, actor, ticket_id, version)
            self._reachable(c, t)
            round_ = inquiries.add(c, t.id, t.unit or "", actor.user_id, t.reporter_id, question, now)
            t = self.transitions.apply(c, t, Action.ASK_REPORTER, now, by=actor.user_id, reason=question,
                                       data={"round": round_.round})
            chats.answered(c, actor.chat_id, actor.user_id)
            row = self._relay_question(c, t, round_, now)
            inquiries.set_outbox_row(c, round_.id, row)
            self.messages.refresh_cards(c, t, now)
            return Asked(t, round_.round)

        return await self.d.write(tx)

    def _reachable(self, c: sqlite3.Connection, t: Ticket) -> None:
        reporter = users.get(c, t.reporter_id)
        if reporter is None or not reporter.reachable:
            raise Refused("deny.reporter_unreachable", number=format_number(t.number))

    def _relay_question(self, c: sqlite3.Connection, t: Ticket, round_: Inquiry, now: datetime) -> int | None:
        """The question in the reporter's private chat: the ticket number, the unit, the question; nothing about
        who asked. Its answer button names the round."""
        lang = self.messages.lang_of(c, t.reporter_id)
        texts, city = self.d.texts, self.d.config.city
        text = texts.get(lang, "inquiry.question", number=format_number(t.number),
                         unit=escape(unit_name(city, t.unit, lang)), round=round_.round,
                         question=escape(round_.question))
        markup = {"inline_keyboard": cards.action_buttons(texts, lang, Card.INQUIRY, t, str(round_.id))}
        return outbox.add(c, t.reporter_id, "message", {"text": text, "parse_mode": "HTML", "reply_markup": markup},
                          now, ticket_id=t.id, dedupe_key=f"inquiry:{round_.id}:question")

    def undeliverable(self, c: sqlite3.Connection, outbox_rows: list[int]) -> None:
        """The outbox gave these rows up (the reporter blocked the bot): tell each asking unit, on its card,
        that its question did not reach the reporter. Runs in the sender's transaction."""
        now = self.d.clock.now()
        for round_ in inquiries.by_outbox_rows(c, outbox_rows):
            t = tickets.get(c, round_.ticket_id)
            if t is None:
                continue
            text = self.d.texts.get(self.d.group_lang, "inquiry.undeliverable", number=format_number(t.number),
                                    round=round_.round)
            self.messages.reply_on_card(c, t, text, now, dedupe_key=f"inquiry:{round_.id}:undeliverable")
            tickets.add_event(c, t.id, now, actor_kind="system", action="inquiry_undeliverable", unit=round_.unit,
                              public=False, data={"round": round_.round})

    # -- the reporter --------------------------------------------------------------------------------------------

    async def by_reply(self, user_id: int, message_id: int) -> Inquiry | None:
        """The round whose question the reporter replied to, if the message was one."""
        return await self.d.db.read(lambda c: inquiries.by_reply(c, user_id, message_id))

    async def start_answer(self, user_id: int, ticket_id: int, inquiry_id: int) -> Inquiry:
        """The reporter pressed the answer button: their next message in the private chat is the answer."""
        def tx(c: sqlite3.Connection) -> Inquiry:
            round_, t = self._open_round(c, user_id, inquiry_id, ticket_id)
            now = self.d.clock.now()
            chats.ask(c, user_id, user_id, ANSWER_QUESTION, t.id, t.version, {"inquiry": round_.id}, now,
                      now + timedelta(minutes=self.d.config.handling.question_ttl_minutes))
            return round_

        return await self.d.write(tx)

    async def answer(self, user_id: int, inquiry_id: int, text: str, photo: Photo | None) -> Inquiry:
        """The reporter's answer (text, or a photo with an optional caption) to the unit's card."""
        if len(text) > ANSWER_MAX:
            raise Refused("deny.answer_too_long", length=len(text), max=ANSWER_MAX)

        def tx(c: sqlite3.Connection) -> Inquiry:
            now = self.d.clock.now()
            round_, t = self._open_round(c, user_id, inquiry_id)
            t = self.transitions.apply(c, t, Action.ANSWER_INQUIRY, now, by=user_id, reason=text or None,
                                       data={"round": round_.round, "photo": photo is not None})
            inquiries.answered(c, round_.id)
            chats.answered(c, user_id, user_id)
            photo_row = tickets.add_photo(c, t.id, photo, "inquiry") if photo is not None else None
            g, lang, shown = self.d.texts.get, self.d.group_lang, format_number(t.number)
            relayed = g(lang, "inquiry.answer", number=shown, round=round_.round, question=escape(round_.question),
                        answer=escape(text) if text else g(lang, "inquiry.photo_only"))
            # the card's buttons are redrawn first: whoever reads the answer under it presses a current card
            self.messages.refresh_cards(c, t, now)
            self.messages.reply_on_card(c, t, relayed, now, photo_row=photo_row)
            return round_

        return await self.d.write(tx)

    def _open_round(self, c: sqlite3.Connection, user_id: int, inquiry_id: int, ticket_id: int | None = None
                    ) -> tuple[Inquiry, Ticket]:
        """The round and its ticket, if it is this reporter's and the unit that asked still holds the case."""
        round_ = inquiries.get(c, inquiry_id)
        if round_ is None or round_.reporter_id != user_id or (ticket_id is not None and round_.ticket_id != ticket_id):
            raise Refused("deny.not_allowed")
        t = tickets.get(c, round_.ticket_id)
        assert t is not None
        try:
            planned(t, Action.ANSWER_INQUIRY)
        except Refused:
            raise Refused("deny.inquiry_over", number=format_number(t.number)) from None
        if t.unit != round_.unit:
            raise Refused("deny.inquiry_over", number=format_number(t.number))
        return round_, t
