"""Who is who: admins make one-time codes; a code binds a group chat to a role (a unit, the coordinators, the
supervisors) or registers a liaison or a social supervisor; admins list and undo bindings; a group that became a
supergroup keeps its binding and its pending messages."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import timedelta

from bot.workflow.access import COORDINATION_ROLE
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.messages import OPERATORS_CHAT, Messages
from storage import chats

OPERATOR = "operator"  # the purpose of a code a hotline operator registers with (/operator CODE)
OPERATORS_ROLE = OPERATORS_CHAT  # the role of the operators' group chat (/code operators, then /bind there)


class Administration:
    def __init__(self, deps: WorkflowDeps, messages: Messages) -> None:
        self.d = deps
        self.messages = messages

    async def binding(self, chat_id: int) -> chats.Binding | None:
        return await self.d.db.read(lambda c: chats.binding_of_chat(c, chat_id))

    async def make_code(self, admin: int, purpose: str, role: str | None, unit: str | None) -> str:
        self._admin_only(admin)
        if unit is not None:
            self.d.config.city.unit(unit)  # KeyError: the handler shows the usage
        now = self.d.clock.now()
        code = secrets.token_hex(4).upper()
        expires = now + timedelta(hours=self.d.config.handling.code_ttl_hours)
        await self.d.db.write(lambda c: chats.add_code(c, code, purpose, role, unit, admin, now, expires))
        return code

    async def bind(self, user_id: int, chat_id: int, title: str | None, code: str) -> chats.Binding:
        def tx(c: sqlite3.Connection) -> chats.Binding:
            now = self.d.clock.now()
            found = self._valid_code(c, code, "bind", user_id)
            chats.bind(c, chat_id, found.role or "unit", found.unit, title, user_id, now)
            bound = chats.binding_of_chat(c, chat_id)
            assert bound is not None
            return bound

        return await self.d.write(tx)

    async def register(self, user_id: int, code: str, purpose: str) -> str | None:
        """A liaison, social supervisor or hotline operator registers with their own code; returns the unit
        (liaisons)."""
        def tx(c: sqlite3.Connection) -> str | None:
            now = self.d.clock.now()
            found = self._valid_code(c, code, purpose, user_id)
            if purpose == "liaison":
                chats.add_liaison(c, user_id, found.unit or COORDINATION_ROLE, now)
                return found.unit or COORDINATION_ROLE
            if purpose == OPERATOR:
                chats.add_operator(c, user_id, now)
                return None
            chats.add_social_supervisor(c, user_id, now)
            return None

        return await self.d.write(tx)

    async def bindings(self, admin: int) -> list[chats.Binding]:
        self._admin_only(admin)
        return await self.d.db.read(chats.all_bindings)

    async def operators(self, admin: int) -> list[int]:
        """The registered hotline operators' user ids."""
        self._admin_only(admin)
        return await self.d.db.read(chats.operators)

    async def remove_operator(self, admin: int, user_id: int) -> bool:
        """Undo an operator's registration (False: no such operator)."""
        self._admin_only(admin)
        return await self.d.db.write(lambda c: chats.remove_operator(c, user_id))

    async def unbind(self, admin: int, chat_id: int) -> bool:
        self._admin_only(admin)
        return await self.d.db.write(lambda c: chats.unbind(c, chat_id))

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        now = self.d.clock.now()

        await self.d.write(lambda c: self.messages.follow_migration(c, old_chat_id, new_chat_id, now))

    def _admin_only(self, user_id: int) -> None:
        if user_id not in self.d.config.admins:
            raise Refused("admin.not_admin")

    def _valid_code(self, c: sqlite3.Connection, code: str, purpose: str, user_id: int) -> chats.Code:
        now = self.d.clock.now()
        found = chats.take_code(c, code.strip().upper(), purpose, user_id, now)
        if found is None or found.used_at is not None or found.expires_at <= now:
            raise Refused("admin.code_invalid")
        return found
