"""What a reporter does with their own ticket from /my: add material (补充材料) to an open ticket, or withdraw
(撤回) one no unit has signed for yet.

Each /my button names a ticket and the version it was listed at. The state is checked first, so a press the
ticket has outgrown gets a refusal that says why (a withdrawal after sign-for); then the version, so a list the
ticket has moved on from asks for a fresh /my. Adding material is a step: every note or picture the reporter
sends while it is open is added, told to the card that holds the case (as a reply to it) and shown in the
timeline, until they press "done" or the step expires (``handling.question_ttl_minutes`` after the last one).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from bot.cards import unit_name
from bot.domain.lifecycle import Action
from bot.domain.numbers import format_number
from bot.workflow.access import planned
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.intake_photos import PictureChecks
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import chats, tickets
from storage.records import Photo, Ticket

MATERIAL = "material"  # the pending input of the add-material step
WITHDRAW = "withdraw"  # the pending input waiting for a typed withdrawal reason
NOTE_MAX = 1000  # characters of one added note
REASON_MAX = 500
#: The preset reasons offered as buttons (catalogue keys ``withdraw.reason_<name>``).
WITHDRAW_REASONS = ("solved", "mistake", "duplicate", "not_needed")


@dataclass(frozen=True)
class Added:
    ticket: Ticket
    photos: int  # pictures added to the ticket as material so far


class ResidentActions(PictureChecks):
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.transitions = transitions
        self.messages = messages

    # -- 补充材料 ---------------------------------------------------------------------------------------------------

    async def start_material(self, user_id: int, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._own(c, user_id, ticket_id, Action.ADD_MATERIAL, "deny.material_closed", version)
            self._arm(c, user_id, MATERIAL, t)
            return t

        return await self.d.write(tx)

    async def add_material(self, user_id: int, ticket_id: int, note: str, photo: Photo | None) -> Added:
        """One note, or one picture (with its caption as the note), added to the ticket."""
        if len(note) > NOTE_MAX:
            raise Refused("deny.answer_too_long", length=len(note), max=NOTE_MAX)
        limit = self.d.config.intake.max_photos

        def tx(c: sqlite3.Connection) -> Added:
            now = self.d.clock.now()
            t = self._own(c, user_id, ticket_id, Action.ADD_MATERIAL, "deny.material_closed")
            photos = tickets.photo_count_of_kind(c, t.id, MATERIAL)
            if photo is not None and photos >= limit:
                raise Refused("material.photos_full", max=limit)
            t = self.transitions.apply(c, t, Action.ADD_MATERIAL, now, by=user_id, reason=note or None,
                                       data={"photo": photo is not None})
            photo_row = None
            if photo is not None:
                photo_row = tickets.add_photo(c, t.id, photo, MATERIAL)
                photos += 1
            g, lang = self.d.texts.get, self.d.group_lang
            text = g(lang, "material.to_card", number=format_number(t.number),
                     note=escape(note) if note else g(lang, "material.photo_only"))
            self.messages.refresh_cards(c, t, now)  # first: whoever reads the material presses a current card
            self.messages.reply_on_card(c, t, text, now, photo_row=photo_row)
            self._arm(c, user_id, MATERIAL, t)  # the step stays open for the next note or picture
            return Added(t, photos)

        return await self.d.write(tx)

    async def end_step(self, user_id: int) -> None:
        """The reporter is done (or started something else): their next message is no follow-up any more."""
        await self.d.write(lambda c: chats.answered(c, user_id, user_id))

    # -- 撤回 ------------------------------------------------------------------------------------------------------

    async def start_withdraw(self, user_id: int, ticket_id: int, version: int) -> Ticket:
        """The reporter pressed 撤回: check it is still possible, then wait for a reason (button or typed)."""
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._own(c, user_id, ticket_id, Action.WITHDRAW, "deny.withdraw_signed", version)
            self._arm(c, user_id, WITHDRAW, t)
            return t

        return await self.d.write(tx)

    async def withdraw(self, user_id: int, ticket_id: int, version: int, reason: str) -> Ticket:
        """The ticket becomes final as withdrawn: clocks stop, cards lose their buttons and say so, followers
        hear it."""
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._own(c, user_id, ticket_id, Action.WITHDRAW, "deny.withdraw_signed", version)
            unit = t.unit
            t = self.transitions.apply(c, t, Action.WITHDRAW, now, by=user_id, reason=reason[:REASON_MAX])
            chats.answered(c, user_id, user_id)
            self.messages.refresh_cards(c, t, now)
            if unit:
                text = self.d.texts.get(self.d.group_lang, "withdraw.to_card", number=format_number(t.number),
                                        unit=escape(unit_name(self.d.config.city, unit, self.d.group_lang)))
                self.messages.reply_on_card(c, t, text, now)
            self.messages.tell_people(c, t, now, "notify.withdrawn")
            return t

        return await self.d.write(tx)

    # -- checks ----------------------------------------------------------------------------------------------------

    def _own(self, c: sqlite3.Connection, user_id: int, ticket_id: int, action: Action, refusal: str,
             version: int | None = None) -> Ticket:
        """The reporter's own ticket if its state allows ``action`` (else ``refusal``, naming the state) and,
        when a /my button's ``version`` is given, the list is still current."""
        t = tickets.get(c, ticket_id)
        if t is None or t.reporter_id != user_id:
            raise Refused("deny.not_allowed")
        try:
            planned(t, action)
        except Refused:
            raise Refused(refusal, number=format_number(t.number),
                          state=self.d.texts.get(self.messages.lang_of(c, user_id), f"state.{t.state}")) from None
        if version is not None and t.version != version:
            raise Refused("deny.my_stale")
        return t

    def _arm(self, c: sqlite3.Connection, user_id: int, kind: str, t: Ticket) -> None:
        now = self.d.clock.now()
        chats.ask(c, user_id, user_id, kind, t.id, t.version, {}, now,
                  now + timedelta(minutes=self.d.config.handling.question_ttl_minutes))

