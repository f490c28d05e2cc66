"""Category suggestions for a draft: the city's scorer (bot.domain.suggest) fed with the draft's description and
the zone its location or place lies in, the segmenter's slow first load kept off the event loop."""

from __future__ import annotations

import asyncio

from bot.config import City
from bot.domain.suggest import Suggester
from bot.workflow.common import WorkflowDeps
from storage.records import Draft

#: How many categories the category step offers before "other categories".
SUGGESTED = 3


class Suggestions:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    @property
    def city(self) -> City:
        return self.d.config.city  # read each time: the city may be reloaded

    @property
    def suggester(self) -> Suggester:
        return self.city.suggester()

    async def ready(self) -> Suggester:
        """The scorer with its segmenter loaded (about a second the first time, in a thread)."""
        suggester = self.suggester
        if not suggester.loaded:
            await asyncio.to_thread(suggester.load)
        return suggester

    def zone_of(self, draft: Draft) -> str | None:
        """The district or zone of the draft's named place, or of its point (the highest-priority zone)."""
        if draft.place_key:
            return self.city.place(draft.place_key).unit
        if draft.lat is not None and draft.lon is not None:
            zones = self.city.router().zones_at(draft.lat, draft.lon)
            return zones[0].unit if zones else None
        return None

    async def for_text(self, text: str, zone: str | None = None, limit: int | None = SUGGESTED) -> list[str]:
        suggester = await self.ready()
        return [s.key for s in suggester.rank(text, zone, limit)]

    async def for_draft(self, draft: Draft) -> list[str]:
        """Up to `SUGGESTED` category keys for the draft's description, best first; [] without one."""
        if not draft.description:
            return []
        return await self.for_text(draft.description, self.zone_of(draft))
