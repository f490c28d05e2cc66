"""The resident's intake: a draft moves step by step; confirming turns it into a ticket in one transaction.

Albums. Telegram delivers an album as one update per picture, and the resident gets one acknowledgement for it,
sent by the handler when no picture of the album has come for ``album_settle_s`` (a debounce on PTB's job queue).
What the acknowledgement says comes from the database, not from memory: each picture is stored in
``draft_photos`` with the album's ``media_group_id`` (so the photos an album added are counted from those rows),
and the same transaction adds what the rows cannot tell — pictures over the limit, and whether one's EXIF point
became the location — to the album's pending ``draft_albums`` row. `album_settled` reads the tally and drops the
pending row in one transaction. So a restart between an album's pictures and its acknowledgement loses nothing:
the pictures still to come schedule the acknowledgement again, and it counts the ones from before the restart.
(A restart after the album's last picture loses the scheduled job itself, which lives in memory: the photos are
kept, that album goes unacknowledged, and its pending row goes with the draft or with a redo of the photos.)
"""

from __future__ import annotations

import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain import channels, geo
from bot.domain.intake import (
    DESCRIBE_FIRST_START,
    EDITABLE,
    DescriptionRejected,
    Step,
    clean_description,
    next_step,
)
from bot.domain.lifecycle import OPEN_STATES, TicketState
from bot.domain.numbers import number_for_sequence
from bot.domain.places import PlaceName, match_place
from bot.notices import call_registered, ticket_registered
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.intake_calls import CallSteps
from bot.workflow.intake_photos import PhotoSteps
from bot.workflow.suggestions import Suggestions
from storage import contacts, drafts, outbox, sequences, tickets, users
from storage.records import Draft, Photo, Ticket

TICKET_SEQUENCE = "tickets"
#: What a resident types as a place is kept (and matched) up to this many characters.
MAX_PLACE_TEXT = 200

#: Routes a just-registered ticket inside the transaction that registered it (``Dispatcher.route_registered``).
RouteRegistered = Callable[[sqlite3.Connection, Ticket, datetime], Ticket]


@dataclass(frozen=True)
class TypedPlace:
    """A typed place: `exact` is the place meant (the draft moved on), else the draft kept `text` and the
    resident picks among `candidates` (possibly none) or keeps the text as typed."""

    draft: Draft
    text: str
    exact: str | None
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class Filed:
    """What any channel tells of a new complaint (a resident's draft, an operator's call, an API request, an
    imported row): the category key, the text and where it is."""

    category: str
    description: str
    lat: float | None = None
    lon: float | None = None
    location_source: str = "none"  # gps | exif | place | text | none
    place_key: str | None = None
    place_text: str | None = None


@dataclass(frozen=True)
class Nearby:
    ticket: Ticket
    distance_m: float


def filled_steps(draft: Draft) -> frozenset[Step]:
    """The steps whose field the draft already has (a skipped location counts: the resident answered)."""
    have = {Step.CATEGORY: draft.category is not None, Step.LOCATION: draft.location_source is not None,
            Step.PHOTOS: draft.photo_count > 0, Step.DESCRIPTION: draft.description is not None}
    return frozenset(step for step, ok in have.items() if ok)


class Intake(PhotoSteps, CallSteps):
    """The intake's use-cases. Every write goes through here, so the drafts it last wrote are remembered (a
    read-through cache, bounded) and the next update of that resident needs no database read to find its step;
    each write still checks the step against the row in its own transaction, and a restart starts empty.

    On PostgreSQL the cache is off: several instances share the database and the resident's next update may be
    handled by another one (the inbox keeps a chat's updates in order, not in one process), which moves the
    draft on behind this one's back. Validating an entry would cost the same primary-key round trip as reading
    the row, so every update reads it (README, "Several instances")."""

    CACHE_SIZE = 10_000

    def __init__(self, deps: WorkflowDeps, route: RouteRegistered | None = None) -> None:
        """``route`` is the dispatcher's ``route_registered``, called inside the confirming transaction so no
        ticket is registered unrouted; only tests of the intake alone leave it out."""
        self.d = deps
        self._route = route
        self._drafts: OrderedDict[int, Draft | None] = OrderedDict()
        #: Off where other processes may write drafts too (a PostgreSQL database: it has a URL, not a path).
        self.caching = getattr(deps.db, "url", None) is None
        self._place_names: list[PlaceName] | None = None
        self.suggestions = Suggestions(deps)

    def _remember(self, user_id: int, draft: Draft | None) -> Draft | None:
        if not self.caching:
            return draft
        self._drafts[user_id] = draft
        self._drafts.move_to_end(user_id)
        if len(self._drafts) > self.CACHE_SIZE:
            self._drafts.popitem(last=False)
        return draft

    # -- reading -----------------------------------------------------------------------------------------

    async def draft(self, user_id: int) -> Draft | None:
        if user_id in self._drafts:
            self._drafts.move_to_end(user_id)
            return self._drafts[user_id]
        return self._remember(user_id, await self.d.db.read(lambda c: drafts.get(c, user_id)))

    async def draft_photos(self, user_id: int) -> list[Photo]:
        return await self.d.db.read(lambda c: drafts.photos(c, user_id))

    async def nearby_open(self, draft: Draft) -> list[Nearby]:
        """Open tickets of the draft's category near its point, nearest first."""
        if draft.lat is None or draft.lon is None or draft.category is None:
            return []
        radius = self.d.config.intake.duplicate_radius_m
        box = geo.bbox_around(draft.lat, draft.lon, radius)
        found = await self.d.db.read(lambda c: tickets.open_in_box(c, draft.category, box))  # type: ignore[arg-type]
        near = [Nearby(t, geo.haversine_m(draft.lat, draft.lon, t.lat, t.lon)) for t in found
                if t.lat is not None and t.lon is not None]
        return sorted((n for n in near if n.distance_m <= radius), key=lambda n: n.distance_m)[:3]

    # -- writing -----------------------------------------------------------------------------------------

    async def remember_user(self, user_id: int, language: str) -> None:
        """Record who wrote to us and in which language; writing to us also makes them reachable again."""
        now = self.d.clock.now()
        await self.d.db.write(lambda c: users.upsert(c, user_id, language, now))

    async def begin(self, user_id: int, language: str) -> tuple[Draft, bool]:
        """Start a complaint, or resume the one in progress: (draft, resumed)."""
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> tuple[Draft, bool]:
            users.upsert(c, user_id, language, now)
            existing = drafts.get(c, user_id)
            if existing:
                return existing, True
            self._check_daily_limit(c, user_id, now)
            return drafts.create(c, user_id, secrets.token_hex(3), Step.CATEGORY, now), False

        draft, resumed = await self.d.db.write(tx)
        self._remember(user_id, draft)
        return draft, resumed

    async def restart(self, user_id: int, language: str) -> Draft:
        """Throw away the draft in progress and start a new one."""
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Draft:
            users.upsert(c, user_id, language, now)
            self._check_daily_limit(c, user_id, now)
            return drafts.create(c, user_id, secrets.token_hex(3), Step.CATEGORY, now)

        return self._remember(user_id, await self.d.db.write(tx))  # type: ignore[return-value]

    # -- describe-first: a message without /new starts the draft -----------------------------------------

    async def start_with_description(self, user_id: int, language: str, text: str | None) -> Draft:
        """The resident just wrote what is wrong: a draft with that description, asking for the category.
        DescriptionRejected (nothing written) if it is no description."""
        cfg = self.d.config.intake
        cleaned = clean_description(text, cfg.description_min_chars, cfg.description_max_chars)
        return await self._start(user_id, language, Step.DESCRIPTION, description=cleaned)

    async def start_with_point(self, user_id: int, language: str, lat: float, lon: float) -> Draft:
        """The resident just shared a location: a draft there, asking for the description."""
        self._check_point(lat, lon)
        return await self._start(user_id, language, Step.LOCATION, lat=lat, lon=lon, location_source="gps")

    async def start_with_photos(self, user_id: int, language: str, caption: str | None = None) -> Draft:
        """The resident just sent a picture: a draft at the photo step, which then takes the picture. A caption
        that makes a valid description is the description (else it is ignored, as at the photo step)."""
        cfg = self.d.config.intake
        try:
            description = clean_description(caption, cfg.description_min_chars, cfg.description_max_chars)
        except DescriptionRejected:
            return await self._start(user_id, language, Step.PHOTOS)
        return await self._start(user_id, language, Step.PHOTOS, description=description)

    async def _start(self, user_id: int, language: str, filled: Step, **fields: object) -> Draft:
        now = self.d.clock.now()
        step = DESCRIBE_FIRST_START[filled]

        def tx(c: sqlite3.Connection) -> Draft:
            users.upsert(c, user_id, language, now)
            existing = drafts.get(c, user_id)
            if existing is not None:  # one started meanwhile: keep it, the message is not a new complaint
                return existing
            self._check_daily_limit(c, user_id, now)
            draft = drafts.create(c, user_id, secrets.token_hex(3), step, now)
            return drafts.update(c, user_id, now, **fields) if fields else draft

        return self._remember(user_id, await self.d.db.write(tx))  # type: ignore[return-value]

    async def suggested_categories(self, draft: Draft) -> list[str]:
        """The categories most likely meant by the draft's description (and where it is), best first."""
        return await self.suggestions.for_draft(draft)

    async def cancel(self, user_id: int) -> bool:
        def tx(c: sqlite3.Connection) -> bool:
            had = drafts.get(c, user_id) is not None
            drafts.delete(c, user_id)
            return had

        had = await self.d.db.write(tx)
        self._remember(user_id, None)
        return had

    async def choose_category(self, user_id: int, key: str) -> Draft:
        try:
            self.d.config.city.category(key)  # a forged key, before anything is written
        except KeyError:
            raise Refused("intake.stale_button") from None
        return await self._advance(user_id, Step.CATEGORY, category=key)

    async def typed_category(self, user_id: int, text: str) -> Draft | None:
        """A category typed by name (zh or en) or key; None (and nothing written) if it names none."""
        typed = text.strip().casefold()
        for category in self.d.config.city.categories:
            if typed and typed in (category.name_zh.casefold(), category.name_en.casefold(), category.key):
                return await self.choose_category(user_id, category.key)
        return None

    def _check_point(self, lat: float, lon: float) -> None:
        if not geo.valid_coordinates(lat, lon):
            raise Refused("intake.location_impossible")
        if not self.d.config.city.bounds.contains(lat, lon):
            raise Refused("intake.location_outside", city=self.d.config.city.name_zh)

    async def set_point(self, user_id: int, lat: float, lon: float, source: str) -> Draft:
        self._check_point(lat, lon)
        return await self._advance(user_id, Step.LOCATION, lat=lat, lon=lon, location_source=source,
                                   place_key=None, place_text=None)

    async def set_place(self, user_id: int, place_key: str) -> Draft:
        try:
            place = self.d.config.city.place(place_key)
        except KeyError:  # a forged button
            raise Refused("intake.stale_button") from None
        return await self._advance(user_id, Step.LOCATION, lat=place.lat, lon=place.lon, location_source="place",
                                   place_key=place.key, place_text=None)

    async def remember_place_text(self, user_id: int, text: str) -> Draft:
        """Keep what the resident typed while they pick a suggestion or accept it as typed."""
        now = self.d.clock.now()
        return self._remember(user_id, await self.d.db.write(  # type: ignore[return-value]
            lambda c: drafts.update(c, user_id, now, place_text=text)))

    async def typed_place(self, user_id: int, text: str) -> TypedPlace:
        """Match a typed place against the city's places: one meant → the draft is there and moves on; else the
        draft keeps the text while the resident chooses."""
        text = text.strip()[:MAX_PLACE_TEXT]
        match = match_place(text, self.place_names())
        if match.exact:
            return TypedPlace(await self.set_place(user_id, match.exact), text, match.exact, ())
        return TypedPlace(await self.remember_place_text(user_id, text), text, None, match.candidates)

    def place_names(self) -> list[PlaceName]:
        """Every name of every place of the city, built once."""
        if self._place_names is None:
            self._place_names = [PlaceName(p.key, (p.name_zh, p.name_en, *p.aliases))
                                 for p in self.d.config.city.places]
        return self._place_names

    def forget_places(self) -> None:
        """The city was reloaded: build the place names again on next use."""
        self._place_names = None

    async def use_place_text(self, user_id: int) -> Draft:
        draft = await self._current(user_id, Step.LOCATION)
        if not draft.place_text:
            raise Refused("intake.stale_button")
        return await self._advance(user_id, Step.LOCATION, lat=None, lon=None, location_source="text",
                                   place_key=None)

    async def skip_location(self, user_id: int) -> Draft:
        return await self._advance(user_id, Step.LOCATION, lat=None, lon=None, location_source="none",
                                   place_key=None, place_text=None)

    async def photos_done(self, user_id: int) -> Draft:
        return await self._advance(user_id, Step.PHOTOS)

    async def set_description(self, user_id: int, text: str | None) -> Draft:
        cfg = self.d.config.intake
        cleaned = clean_description(text, cfg.description_min_chars, cfg.description_max_chars)
        return await self._advance(user_id, Step.DESCRIPTION, description=cleaned)

    async def edit(self, user_id: int, field: Step) -> Draft:
        """From the summary, reopen one field; changing the photos starts them afresh."""
        if field not in EDITABLE:
            raise Refused("intake.stale_button")
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Draft:
            self._expect(c, user_id, Step.SUMMARY)
            if field is Step.PHOTOS:
                drafts.clear_photos(c, user_id)
            return drafts.update(c, user_id, now, step=field, editing=1)

        return self._remember(user_id, await self.d.db.write(tx))  # type: ignore[return-value]

    async def confirm(self, user_id: int, language: str) -> Ticket:
        """The resident confirmed: number, ticket, photos, first event, follower and confirmation, atomically.
        An operator's call files for the caller instead (:meth:`_confirm_call`)."""
        now = self.d.clock.now()
        city = self.d.config.city

        def tx(c: sqlite3.Connection) -> Ticket:
            draft = self._expect(c, user_id, Step.SUMMARY)
            if draft.is_call:
                ticket = self._confirm_call(c, draft, now)
            else:
                self._check_daily_limit(c, user_id, now)
                ticket = self.register(c, self._filed(draft), reporter_id=user_id, photos=drafts.photos(c, user_id),
                                       actor=("resident", user_id), now=now)
                tickets.follow(c, ticket.id, user_id, now)
            drafts.delete(c, user_id)
            message = (call_registered(self.d.texts, language, ticket, city) if draft.is_call
                       else ticket_registered(self.d.texts, language, ticket, city))
            outbox.add(c, user_id, "message", message, now, ticket_id=ticket.id,
                       dedupe_key=f"t{ticket.id}:registered:{user_id}")
            return ticket

        ticket = await self.d.db.write(tx)
        self._remember(user_id, None)
        self.d.outbox_kick()
        return ticket

    @staticmethod
    def _filed(draft: Draft) -> Filed:
        return Filed(category=draft.category or "", description=draft.description or "", lat=draft.lat,
                     lon=draft.lon, location_source=draft.location_source or "none", place_key=draft.place_key,
                     place_text=draft.place_text if draft.location_source == "text" else None)

    def _confirm_call(self, c: sqlite3.Connection, draft: Draft, now: datetime) -> Ticket:
        """An operator's call becomes the caller's ticket: channel hotline, the hotline's stand-in reporter (no
        follower, no daily limit: an operator files for many callers), the operator as the actor, and the
        caller's phone and name as its contact (seen by operators only)."""
        self.operator_only(c, draft.user_id)
        if draft.caller_phone is None:
            raise Refused("intake.stale_button")
        ticket = self.register(c, self._filed(draft), reporter_id=channels.reporter_for(channels.HOTLINE),
                               photos=drafts.photos(c, draft.user_id), actor=("operator", draft.user_id), now=now,
                               channel=channels.HOTLINE)
        contacts.put(c, contacts.Contact(ticket.id, name=draft.caller_name, phone=draft.caller_phone))
        return ticket

    def register(self, c: sqlite3.Connection, filed: Filed, *, reporter_id: int, photos: Iterable[Photo],
                 actor: tuple[str, int], now: datetime, channel: str = channels.TELEGRAM,
                 channel_client: str | None = None, state: TicketState = TicketState.REGISTERED) -> Ticket:
        """The one way a ticket comes into being, whatever its channel: its number, the ticket, its photos and
        its first event, then routing (inside the caller's transaction). ``actor`` is who filed it (kind, id):
        the resident, the hotline operator, the API client's stand-in or the import."""
        city = self.d.config.city
        category = city.category(filed.category)
        district = city.place(filed.place_key).unit if filed.place_key else None
        number = number_for_sequence(sequences.next_value(c, TICKET_SEQUENCE))
        ticket = tickets.insert(c, tickets.NewTicket(
            number=number, state=state, category=category.key, reporter_id=reporter_id,
            description=filed.description, lat=filed.lat, lon=filed.lon, location_source=filed.location_source,
            place_key=filed.place_key, place_text=filed.place_text, district=district,
            deadline_class=category.deadline_class, channel=channel, channel_client=channel_client,
        ), now)
        tickets.add_photos(c, ticket.id, photos)
        tickets.add_event(c, ticket.id, now, actor_kind=actor[0], actor_id=actor[1], action="registered",
                          to_state=state)
        if self._route is not None and state is TicketState.REGISTERED:
            ticket = self._route(c, ticket, now)
        return ticket

    async def follow_instead(self, user_id: int, number: str) -> Ticket:
        """The resident chose to follow an existing ticket rather than file the same problem again."""
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Ticket:
            self._expect(c, user_id, Step.SUMMARY)
            ticket = tickets.by_number(c, number)
            if ticket is None or ticket.state not in OPEN_STATES:
                raise Refused("intake.stale_button")
            if tickets.follow(c, ticket.id, user_id, now):
                tickets.add_event(c, ticket.id, now, actor_kind="resident", actor_id=user_id, action="followed",
                                  public=False)
            drafts.delete(c, user_id)
            return ticket

        ticket = await self.d.db.write(tx)
        self._remember(user_id, None)
        return ticket

    # -- helpers -----------------------------------------------------------------------------------------

    async def _current(self, user_id: int, step: Step) -> Draft:
        return await self.d.db.read(lambda c: self._expect(c, user_id, step))

    @staticmethod
    def _expect(c: sqlite3.Connection, user_id: int, step: Step) -> Draft:
        draft = drafts.get(c, user_id)
        if draft is None:
            raise Refused("intake.no_draft")
        if draft.step != step:
            raise Refused("intake.stale_button")
        return draft

    async def _advance(self, user_id: int, step: Step, **fields: object) -> Draft:
        """Write `fields` if the draft is at `step`, and move it to the step that follows."""
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Draft:
            draft = self._expect(c, user_id, step)
            after = next_step(step, draft.editing, filled_steps(replace(draft, **fields)))  # type: ignore[arg-type]
            return drafts.update(c, user_id, now, **fields, step=after,
                                 editing=0 if after is Step.SUMMARY else int(draft.editing))

        return self._remember(user_id, await self.d.db.write(tx))  # type: ignore[return-value]

    def _check_daily_limit(self, c: sqlite3.Connection, user_id: int, now: datetime) -> None:
        limit = self.d.config.limits.tickets_per_day
        if tickets.count_by_reporter_since(c, user_id, self.d.local_midnight(now)) >= limit:
            raise Refused("limits.tickets_per_day", limit=limit)
